package org.dmstack.shell;

import java.util.List;
import org.dmstack.block.DiskStats.Snapshot;

/**
 * What iostat computes for one report, before any of it is printed: the CPU shares and each
 * device's rates and averages, as sysstat 12.6's iostat.c and common.c compute them (S_VALUE,
 * compute_ext_disk_stats, write_ext_stat), so that the plain and the JSON forms print the same
 * figures.
 */
final class IostatFigures {
    private IostatFigures() {}

    /** One report: its timestamp (with -t), the CPU shares (with the CPU report) and the devices (with the device report). */
    record Report(String timestamp, Cpu cpu, List<Disk> disks) {}

    /** avg-cpu: shares of the interval's CPU time, in percent; system includes hard and soft interrupts. */
    record Cpu(double user, double nice, double system, double iowait, double steal, double idle) {
        /** From two samples of /proc/stat's cpu line (user nice system idle iowait irq softirq steal). */
        static Cpu of(long[] p, long[] c) {
            long total = 0;
            for (int i = 0; i < 8; i++) total += c[i] - p[i];
            double t = Math.max(1, total);
            return new Cpu((c[0] - p[0]) / t * 100, (c[1] - p[1]) / t * 100, (c[2] - p[2] + c[5] - p[5] + c[6] - p[6]) / t * 100,
                    (c[4] - p[4]) / t * 100, (c[7] - p[7]) / t * 100, c[3] < p[3] ? 0 : (c[3] - p[3]) / t * 100);
        }
    }

    /**
     * One device over an interval. Rates are per second; sector figures are in 512-byte sectors
     * (the writers divide by the unit); request sizes ({@code *ArqSz}) are in sectors per request;
     * waits in milliseconds; {@code util} in percent.
     *
     * @param rdSec sectors read in the interval (the basic report's totals), and so on
     */
    record Disk(String name,
            double tps, double rSecPerS, double wSecPerS, double dSecPerS, long rdSec, long wrSec, long dcSec,
            double rPerS, double wPerS, double dPerS, double fPerS,
            double rrqmPerS, double wrqmPerS, double drqmPerS, double rrqmPc, double wrqmPc, double drqmPc,
            double rAwait, double wAwait, double dAwait, double fAwait,
            double rArqSz, double wArqSz, double dArqSz, double aquSz, double util,
            double await, double arqSz, double rqmPerS) {

        /**
         * {@code now} against {@code before} over {@code itv} hundredths of a second. Flushes are
         * counted among the writes by the kernel, so tps is reads, writes and discards.
         */
        static Disk of(String name, long itv, Snapshot now, Snapshot before) {
            Snapshot i = now, j = before;
            long rIos = i.readIos() - j.readIos(), wIos = i.writeIos() - j.writeIos(), dIos = i.discardIos() - j.discardIos();
            long fIos = i.flushIos() - j.flushIos();
            long rMerges = i.readMerges() - j.readMerges(), wMerges = i.writeMerges() - j.writeMerges();
            long dMerges = i.discardMerges() - j.discardMerges();
            long rSec = i.readSectors() - j.readSectors(), wSec = i.writeSectors() - j.writeSectors();
            long dSec = i.discardSectors() - j.discardSectors();
            // Times are unsigned 32-bit in the stat file: a difference wraps as iostat's does.
            long rTicks = u32(i.readTicks() - j.readTicks()), wTicks = u32(i.writeTicks() - j.writeTicks());
            long dTicks = u32(i.discardTicks() - j.discardTicks()), fTicks = u32(i.flushTicks() - j.flushTicks());
            long ios = rIos + wIos + dIos;
            return new Disk(name,
                    rate(ios, itv), rate(rSec, itv), rate(wSec, itv), rate(dSec, itv), rSec, wSec, dSec,
                    rate(rIos, itv), rate(wIos, itv), rate(dIos, itv), rate(fIos, itv),
                    rate(rMerges, itv), rate(wMerges, itv), rate(dMerges, itv),
                    share(rMerges, rIos), share(wMerges, wIos), share(dMerges, dIos),
                    per(rTicks, rIos), per(wTicks, wIos), per(dTicks, dIos), per(fTicks, fIos),
                    per(rSec, rIos), per(wSec, wIos), per(dSec, dIos),
                    rate(u32(i.timeInQueue() - j.timeInQueue()), itv) / 1000.0, rate(u32(i.ioTicks() - j.ioTicks()), itv) / 10.0,
                    per(rTicks + wTicks + dTicks, ios), per(rSec + wSec + dSec, ios), rate(rMerges + wMerges + dMerges, itv));
        }

        /**
         * Whether {@code now} looks like a device removed and made again since {@code before}
         * (fewer I/Os and no counter of sectors that grew), so that it counts from zero.
         */
        static boolean restarted(Snapshot now, Snapshot before) {
            return total(now) < total(before)
                    && (before.readSectors() == 0 || now.readSectors() < before.readSectors())
                    && (before.writeSectors() == 0 || now.writeSectors() < before.writeSectors())
                    && (before.discardSectors() == 0 || now.discardSectors() < before.discardSectors());
        }

        /** Whether the device did any I/O at all (flushes included). */
        static boolean used(Snapshot s) {
            return total(s) != 0;
        }

        static boolean idleBetween(Snapshot now, Snapshot before) {
            return now.readIos() == before.readIos() && now.writeIos() == before.writeIos() && now.discardIos() == before.discardIos()
                    && now.flushIos() == before.flushIos();
        }

        private static long total(Snapshot s) {
            return s.readIos() + s.writeIos() + s.discardIos() + s.flushIos();
        }
    }

    /** S_VALUE: a change per second, over an interval in hundredths of a second. */
    private static double rate(long change, long itv) {
        return (double) change / itv * 100;
    }

    private static double per(long amount, long ios) {
        return ios == 0 ? 0.0 : amount / (double) ios;
    }

    private static double share(long merges, long ios) {
        return merges + ios == 0 ? 0.0 : (double) merges / (merges + ios) * 100;
    }

    private static long u32(long difference) {
        return difference & 0xffffffffL;
    }
}
