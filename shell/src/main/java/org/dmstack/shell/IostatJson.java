package org.dmstack.shell;

import java.io.PrintStream;
import java.util.List;
import org.dmstack.shell.Iostat.Host;
import org.dmstack.shell.IostatFigures.Cpu;
import org.dmstack.shell.IostatFigures.Disk;
import org.dmstack.shell.IostatFigures.Report;

/**
 * iostat's {@code -o JSON}, byte for byte as sysstat 12.6 writes it (common.c's print_gal_header,
 * iostat.c's write_json_*): one "sysstat" object with the host, and every report an element of
 * "statistics", written as it is made, tabs for indentation, two places for every figure whatever
 * --dec or --human say.
 */
final class IostatJson implements IostatWriter {
    private final PrintStream out;
    private final String unit;
    private final int factor;
    private final boolean extended, brief;

    /** @param unit "kB" or "MB", {@code factor} sectors to one of it */
    IostatJson(PrintStream out, String unit, int factor, boolean extended, boolean brief) {
        this.out = out;
        this.unit = unit;
        this.factor = factor;
        this.extended = extended;
        this.brief = brief;
    }

    @Override
    public void start(Host host, String date) {
        out.print("{\"sysstat\": {\n\t\"hosts\": [\n\t\t{\n"
                + "\t\t\t\"nodename\": \"" + host.nodename() + "\",\n"
                + "\t\t\t\"sysname\": \"" + host.sysname() + "\",\n"
                + "\t\t\t\"release\": \"" + host.release() + "\",\n"
                + "\t\t\t\"machine\": \"" + host.machine() + "\",\n"
                + "\t\t\t\"number-of-cpus\": " + host.cpus() + ",\n"
                + "\t\t\t\"date\": \"" + date + "\",\n"
                + "\t\t\t\"statistics\": [\n");
    }

    @Override
    public void report(Report report) {
        out.print("\t\t\t\t{\n");
        if (report.timestamp() != null) out.print("\t\t\t\t\t\"timestamp\": \"" + report.timestamp() + "\",\n");
        if (report.cpu() != null) {
            Cpu c = report.cpu();
            out.print("\t\t\t\t\t\"avg-cpu\":  {\"user\": " + f(c.user()) + ", \"nice\": " + f(c.nice()) + ", \"system\": " + f(c.system())
                    + ", \"iowait\": " + f(c.iowait()) + ", \"steal\": " + f(c.steal()) + ", \"idle\": " + f(c.idle()) + "}");
            out.print(report.disks() != null ? ",\n" : "\n");
        }
        if (report.disks() != null) disks(report.disks());
        out.print("\t\t\t\t}");
    }

    private void disks(List<Disk> disks) {
        out.print("\t\t\t\t\t\"disk\": [\n");
        String separator = "";
        for (Disk d : disks) {
            out.print(separator + "\t\t\t\t\t\t{\"disk_device\": \"" + d.name() + "\", " + (extended ? extended(d) : basic(d)) + "}");
            separator = ",\n";
        }
        out.print("\n\t\t\t\t\t]\n");
    }

    private String basic(Disk d) {
        String u = unit;
        return "\"tps\": " + f(d.tps()) + ", \"" + u + "_read/s\": " + f(d.rSecPerS() / factor) + ", \"" + u + "_wrtn/s\": " + f(d.wSecPerS() / factor)
                + ", \"" + u + "_dscd/s\": " + f(d.dSecPerS() / factor) + ", \"" + u + "_read\": " + d.rdSec() / factor + ", \"" + u + "_wrtn\": "
                + d.wrSec() / factor + ", \"" + u + "_dscd\": " + d.dcSec() / factor;
    }

    private String extended(Disk d) {
        String u = unit;
        if (brief) {
            return "\"tps\": " + f(d.tps()) + ", \"" + u + "/s\": " + f((d.rSecPerS() + d.wSecPerS() + d.dSecPerS()) / factor) + ", \"rqm/s\": "
                    + f(d.rqmPerS()) + ", \"await\": " + f(d.await()) + ", \"areq-sz\": " + f(d.arqSz() / 2) + ", \"aqu-sz\": " + f(d.aquSz())
                    + ", \"util\": " + f(d.util());
        }
        return "\"r/s\": " + f(d.rPerS()) + ", \"w/s\": " + f(d.wPerS()) + ", \"d/s\": " + f(d.dPerS()) + ", \"f/s\": " + f(d.fPerS())
                + ", \"r" + u + "/s\": " + f(d.rSecPerS() / factor) + ", \"w" + u + "/s\": " + f(d.wSecPerS() / factor) + ", \"d" + u + "/s\": "
                + f(d.dSecPerS() / factor)
                + ", \"rrqm/s\": " + f(d.rrqmPerS()) + ", \"wrqm/s\": " + f(d.wrqmPerS()) + ", \"drqm/s\": " + f(d.drqmPerS())
                + ", \"rrqm\": " + f(d.rrqmPc()) + ", \"wrqm\": " + f(d.wrqmPc()) + ", \"drqm\": " + f(d.drqmPc())
                + ", \"r_await\": " + f(d.rAwait()) + ", \"w_await\": " + f(d.wAwait()) + ", \"d_await\": " + f(d.dAwait()) + ", \"f_await\": "
                + f(d.fAwait())
                + ", \"rareq-sz\": " + f(d.rArqSz() / 2) + ", \"wareq-sz\": " + f(d.wArqSz() / 2) + ", \"dareq-sz\": " + f(d.dArqSz() / 2)
                + ", \"aqu-sz\": " + f(d.aquSz()) + ", \"util\": " + f(d.util());
    }

    @Override
    public void between() {
        out.print(",");
    }

    @Override
    public void end() {
        out.print("\t\t\t]\n\t\t}\n\t]\n}}\n");
    }

    private static String f(double v) {
        return IostatText.format(2, v);
    }
}
