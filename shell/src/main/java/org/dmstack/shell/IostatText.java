package org.dmstack.shell;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import org.dmstack.shell.Iostat.Host;
import org.dmstack.shell.IostatFigures.Cpu;
import org.dmstack.shell.IostatFigures.Disk;
import org.dmstack.shell.IostatFigures.Report;

/**
 * iostat's plain reports, byte for byte as sysstat 12.6 prints them (iostat.c's write_plain_*,
 * common.c's cprintf_*): the basic and extended device reports and their short forms (-s), the
 * device name at the end (--pretty), values with their units (--human: sectors and kilobytes as
 * "12.0k", "1.5M", shares with "%"), and the number of decimal places (--dec).
 */
final class IostatText implements IostatWriter {
    private static final int SECTORS = 0, KILOBYTES = 2, NONE = -1;
    private static final char[] UNITS = {'s', 'B', 'k', 'M', 'G', 'T', 'P', '?'};

    private final PrintStream out;
    private final String unit;
    private final int factor;
    private final boolean extended, brief, pretty, human, compact;
    private final int decimals;

    /**
     * @param unit "kB" or "MB", {@code factor} sectors to one of it
     * @param decimals --dec's 0, 1 or 2; -1 when not given
     */
    IostatText(PrintStream out, String unit, int factor, boolean extended, boolean brief, boolean pretty, boolean human, boolean compact,
            int decimals) {
        this.out = out;
        this.unit = unit;
        this.factor = factor;
        this.extended = extended;
        this.brief = brief;
        this.pretty = pretty;
        this.human = human;
        this.compact = compact;
        this.decimals = decimals;
    }

    @Override
    public void start(Host host, String date) {
        out.print(host.sysname() + " " + host.release() + " (" + host.nodename() + ") \t" + date + " \t_" + host.machine() + "_\t(" + host.cpus()
                + " CPU)\n\n");
    }

    @Override
    public void report(Report report) {
        if (report.timestamp() != null) out.print(report.timestamp() + "\n");
        if (report.cpu() != null) cpu(report.cpu());
        if (report.disks() != null) {
            // With the name at the end, the extended report comes in four parts, one per kind of I/O.
            int first = pretty && extended && !brief && !compact ? 1 : 0, last = first == 1 ? 4 : 0;
            for (int part = first; part <= last; part++) {
                header(part);
                for (Disk d : report.disks()) disk(d, part);
                if (part > 0 && part < last) out.print("\n");
            }
        }
        out.print("\n");
    }

    private void cpu(Cpu c) {
        StringBuilder line = new StringBuilder("       ");
        for (double v : new double[] {c.user(), c.nice(), c.system(), c.iowait(), c.steal(), c.idle()}) percent(line, 7, 2, v);
        out.print("avg-cpu:  %user   %nice %system %iowait  %steal   %idle\n" + line + "\n\n");
    }

    private void header(int part) {
        StringBuilder h = new StringBuilder(pretty ? "" : "Device       ");
        // iostat's spc: the space that kB and MB get and blocks and sectors do not.
        String u = unit, s = " ";
        if (extended && brief) {
            h.append("      tps     ").append(s).append(u).append("/s    rqm/s   await  areq-sz  aqu-sz  %util");
        } else if (extended) {
            if (part == 1 || part == 0) h.append("     r/s    ").append(s).append('r').append(u).append("/s   rrqm/s  %rrqm r_await rareq-sz");
            if (part == 2 || part == 0) h.append("     w/s    ").append(s).append('w').append(u).append("/s   wrqm/s  %wrqm w_await wareq-sz");
            if (part == 3 || part == 0) h.append("     d/s    ").append(s).append('d').append(u).append("/s   drqm/s  %drqm d_await dareq-sz");
            if (part == 4 || part == 0) h.append("     f/s f_await  aqu-sz  %util");
        } else if (brief) {
            h.append("      tps   ").append(s).append(u).append("_read/s    ").append(s).append(u).append("_w+d/s   ")
                    .append(s).append(u).append("_read    ").append(s).append(u).append("_w+d");
        } else {
            h.append("      tps   ").append(s).append(u).append("_read/s   ").append(s).append(u).append("_wrtn/s   ")
                    .append(s).append(u).append("_dscd/s   ").append(s).append(u).append("_read   ").append(s).append(u).append("_wrtn   ")
                    .append(s).append(u).append("_dscd");
        }
        if (pretty) h.append(" Device");
        out.print(h + "\n");
    }

    private void disk(Disk d, int part) {
        StringBuilder line = new StringBuilder();
        if (!pretty) line.append(String.format("%-13s", d.name()));
        int sectorUnit = human ? SECTORS : NONE, kbUnit = human ? KILOBYTES : NONE;
        if (extended && brief) {
            fixed(line, NONE, 8, 2, d.tps());
            fixed(line, sectorUnit, 9, 2, sectors(d.rSecPerS() + d.wSecPerS() + d.dSecPerS()));
            fixed(line, NONE, 8, 2, d.rqmPerS());
            fixed(line, NONE, 7, 2, d.await());
            fixed(line, kbUnit, 8, 2, d.arqSz() / 2);
            fixed(line, NONE, 7, 2, d.aquSz());
            percent(line, 6, 2, d.util());
        } else if (extended) {
            if (part == 1 || part == 0) group(line, d.rPerS(), d.rSecPerS(), d.rrqmPerS(), d.rrqmPc(), d.rAwait(), d.rArqSz());
            if (part == 2 || part == 0) group(line, d.wPerS(), d.wSecPerS(), d.wrqmPerS(), d.wrqmPc(), d.wAwait(), d.wArqSz());
            if (part == 3 || part == 0) group(line, d.dPerS(), d.dSecPerS(), d.drqmPerS(), d.drqmPc(), d.dAwait(), d.dArqSz());
            if (part == 4 || part == 0) {
                fixed(line, NONE, 7, 2, d.fPerS());
                fixed(line, NONE, 7, 2, d.fAwait());
                fixed(line, NONE, 7, 2, d.aquSz());
                percent(line, 6, 2, d.util());
            }
        } else {
            fixed(line, NONE, 8, 2, d.tps());
            if (brief) {
                fixed(line, sectorUnit, 12, 2, sectors(d.rSecPerS()));
                fixed(line, sectorUnit, 12, 2, sectors(d.wSecPerS() + d.dSecPerS()));
                whole(line, sectorUnit, 10, d.rdSec());
                whole(line, sectorUnit, 10, d.wrSec() + d.dcSec());
            } else {
                fixed(line, sectorUnit, 12, 2, sectors(d.rSecPerS()));
                fixed(line, sectorUnit, 12, 2, sectors(d.wSecPerS()));
                fixed(line, sectorUnit, 12, 2, sectors(d.dSecPerS()));
                whole(line, sectorUnit, 10, d.rdSec());
                whole(line, sectorUnit, 10, d.wrSec());
                whole(line, sectorUnit, 10, d.dcSec());
            }
        }
        if (pretty) line.append(' ').append(d.name());
        out.print(line + "\n");
    }

    /** r/s rkB/s rrqm/s %rrqm r_await rareq-sz, or the same for writes or discards. */
    private void group(StringBuilder line, double ios, double sectorsPerS, double merges, double mergedPc, double await, double arqSz) {
        fixed(line, NONE, 7, 2, ios);
        fixed(line, human ? SECTORS : NONE, 9, 2, sectors(sectorsPerS));
        fixed(line, NONE, 8, 2, merges);
        percent(line, 6, 2, mergedPc);
        fixed(line, NONE, 7, 2, await);
        // In kB whatever the unit, as iostat prints areq-sz.
        fixed(line, human ? KILOBYTES : NONE, 8, 2, arqSz / 2);
    }

    /** Sectors in the report's unit, or left in sectors for --human to scale. */
    private double sectors(double sectors) {
        return human ? sectors : sectors / factor;
    }

    /** Totals: whole units (sectors divided, the remainder dropped), or scaled with --human. */
    private void whole(StringBuilder line, int unit, int width, long sectors) {
        if (unit == NONE) line.append(String.format(" %" + width + "d", sectors / factor));
        else scaled(line, unit, width, sectors);
    }

    /** cprintf_f: " %*.*f", with --dec's places where the column has places at all, or scaled with a unit. */
    private void fixed(StringBuilder line, int unit, int width, int places, double v) {
        if (unit != NONE) {
            scaled(line, unit, width, v);
            return;
        }
        line.append(' ').append(pad(width, format(places > 0 && decimals >= 0 ? decimals : places, v)));
    }

    /** cprintf_pc: a share, with a percent sign (and one place fewer) under --human. */
    private void percent(StringBuilder line, int width, int places, double v) {
        if (places > 0 && decimals >= 0) places = decimals;
        if (human) {
            width = Math.max(4, width) - 1;
            if (places > 1) places--;
        }
        line.append(' ').append(pad(width, format(places, v)));
        if (human) line.append('%');
    }

    /** cprintf_unit: sectors shown as kilobytes, scaled by 1024 while they reach it, one place (none with --dec=0), then the unit's letter. */
    private void scaled(StringBuilder line, int unit, int width, double v) {
        width = Math.max(4, width);
        if (unit == SECTORS) {
            v /= 2;
            unit = KILOBYTES;
        }
        while (v >= 1024) {
            v /= 1024;
            unit++;
        }
        line.append(' ').append(pad(width - 1, format(decimals != 0 ? 1 : 0, v))).append(UNITS[Math.min(unit, UNITS.length - 1)]);
    }

    private static String pad(int width, String s) {
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }

    /** printf's %.Nf: the exact binary value rounded half to even, as glibc does. */
    static String format(int places, double v) {
        return new BigDecimal(v).setScale(places, RoundingMode.HALF_EVEN).toPlainString();
    }
}
