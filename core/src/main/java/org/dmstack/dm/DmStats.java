package org.dmstack.dm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.dmstack.block.BioOp;

/**
 * device-mapper statistics (dm-stats.c): regions of a mapped device, each cut into areas of
 * {@code step} sectors, counting the bios that touch them, driven by the {@code @stats_*}
 * messages that dmstats sends (Documentation/admin-guide/device-mapper/statistics.rst).
 *
 * <pre>
 * &#64;stats_create &lt;range&gt; &lt;step&gt; [&lt;number_of_optional_arguments&gt; &lt;optional_arguments&gt;...] [&lt;program_id&gt; [&lt;aux_data&gt;]]
 *     range: "-" (the whole device) or START+LENGTH; step: AREA_SIZE or /NUMBER_OF_AREAS;
 *     optional arguments: precise_timestamps, histogram:n1,n2,...; answers the region id
 * &#64;stats_delete &lt;region_id&gt;       &#64;stats_clear &lt;region_id&gt;       &#64;stats_set_aux &lt;region_id&gt; &lt;aux_data&gt;
 * &#64;stats_list [&lt;program_id&gt;]      &#64;stats_print[_clear] &lt;region_id&gt; [&lt;starting_line&gt; &lt;number_of_lines&gt;]
 * </pre>
 *
 * <p>Each dm_io is counted as dm_io_acct counts it: the part of a bio that dm maps as one (a bio
 * split at a target's or a stripe chunk's end is several, each with its own sector and length),
 * from when dm starts it to when its last clone has ended; a discard counts as a write; an empty
 * flush, and the flush before a PREFLUSH write's data, have no sectors and are not counted; a
 * part the target killed is not counted. Without regions the bio path reads one volatile field
 * and does nothing else. With regions, each area keeps its counters under its own monitor:
 * regions are asked for, and Linux's per-CPU counters would cost the same memory per thread.
 *
 * <p>Merges are counted as Linux 6.1 computes them, {@code bi_sector == (last_sector &&
 * same_direction)}: the sector is compared with a truth value, so only an I/O at sector 0 or 1
 * can count as merged (dm_stats_account_io; the last position starts as ULLONG_MAX and UINT_MAX,
 * and is one here, where Linux keeps one per CPU).
 */
final class DmStats {
    private static final int READ = 0, WRITE = 1;
    private static final int MAX_HISTOGRAM = 4096;

    private final LongSupplier jiffies;
    private final LongSupplier nanos;
    private volatile Region[] regions = new Region[0];
    private volatile long lastSector = -1; // ULLONG_MAX
    private volatile int lastDir = -1; // UINT_MAX: neither READ nor WRITE

    DmStats(LongSupplier jiffies, LongSupplier nanos) {
        this.jiffies = jiffies;
        this.nanos = nanos;
    }

    // ---- the bio path ----

    /** What a counted bio carries from its start to its end (dm_stats_aux). */
    static final class Aux {
        final Region[] regions;
        final int dir;
        final long sector;
        final long sectors;
        final boolean merged;
        final long startJiffies;
        final long startNanos;

        Aux(Region[] regions, int dir, long sector, long sectors, boolean merged, long startJiffies, long startNanos) {
            this.regions = regions;
            this.dir = dir;
            this.sector = sector;
            this.sectors = sectors;
            this.merged = merged;
            this.startJiffies = startJiffies;
            this.startNanos = startNanos;
        }
    }

    /**
     * dm_stats_account_io at the start of a dm_io of {@code op} over {@code sectors} from
     * {@code sector}: null when nothing is counted (no regions, no sectors).
     */
    Aux start(BioOp op, long sector, long sectors) {
        Region[] rs = regions;
        if (rs.length == 0 || op == BioOp.FLUSH || sectors == 0) return null;
        int dir = op == BioOp.READ ? READ : WRITE;
        // 6.1: bi_sector == (last->last_sector && ((bi_rw == WRITE) == (last->last_rw == WRITE))).
        long truth = lastSector != 0 && ((dir == WRITE) == (lastDir == WRITE)) ? 1 : 0;
        boolean merged = sector == truth;
        lastSector = sector + sectors;
        lastDir = dir;
        Aux aux = new Aux(rs, dir, sector, sectors, merged, jiffies.getAsLong(), preciseIn(rs) ? nanos.getAsLong() : 0);
        for (Region r : rs) r.account(aux, false, aux.startJiffies, 0, 0);
        return aux;
    }

    /** Takes back a start whose dm_io was never mapped (its target killed it): it leaves the areas' in-flight counts, uncounted. */
    void cancel(Aux aux) {
        long now = jiffies.getAsLong();
        for (Region r : aux.regions) r.account(aux, true, now, -1, -1);
    }

    /** dm_stats_account_io at the end, on the regions the bio started in. */
    void end(Aux aux) {
        long now = jiffies.getAsLong();
        long durationNanos = preciseIn(aux.regions) ? nanos.getAsLong() - aux.startNanos : 0;
        for (Region r : aux.regions) r.account(aux, true, now, now - aux.startJiffies, durationNanos);
    }

    private static boolean preciseIn(Region[] rs) {
        for (Region r : rs) if (r.precise) return true;
        return false;
    }

    // ---- messages ----

    /**
     * Handles an {@code @stats_*} message (dm_stats_message).
     *
     * @return the answer ("" when there is none), or null for a message that is not one of these
     *     (dm core then hands it to the target)
     * @throws TargetException the errno's words and why ("Invalid argument (Invalid parameters
     *     for message @stats_create)"), having changed nothing
     */
    synchronized String message(List<String> argv, long deviceSectors) throws TargetException {
        String cmd = argv.get(0).toLowerCase(Locale.ROOT);
        return switch (cmd) {
            case "@stats_create" -> create(argv, deviceSectors);
            case "@stats_delete" -> {
                argc(argv, 2, 2);
                remove(find(argv, id(argv, 1)));
                yield "";
            }
            case "@stats_clear" -> {
                argc(argv, 2, 2);
                find(argv, id(argv, 1)).clear(0, Long.MAX_VALUE, jiffies.getAsLong(), nanos.getAsLong());
                yield "";
            }
            case "@stats_list" -> {
                argc(argv, 1, 2);
                StringBuilder out = new StringBuilder();
                for (Region r : regions) if (argv.size() == 1 || argv.get(1).equals(r.programId)) out.append(r.listLine()).append('\n');
                yield out.toString();
            }
            case "@stats_print", "@stats_print_clear" -> print(argv, cmd.equals("@stats_print_clear"));
            case "@stats_set_aux" -> {
                argc(argv, 3, 3);
                find(argv, id(argv, 1)).auxData = argv.get(2);
                yield "";
            }
            default -> null;
        };
    }

    private String create(List<String> argv, long deviceSectors) throws TargetException {
        if (argv.size() < 3) throw invalid(argv);
        long start;
        long len;
        String range = argv.get(1);
        if (range.equals("-")) {
            start = 0;
            len = Math.max(1, deviceSectors);
        } else {
            int plus = range.indexOf('+');
            if (plus < 0) throw invalid(argv);
            start = unsigned(argv, range.substring(0, plus));
            len = unsigned(argv, range.substring(plus + 1));
        }
        long end = start + len;
        if (len <= 0 || end < start) throw invalid(argv);
        String stepArg = argv.get(2);
        long step;
        if (stepArg.startsWith("/")) {
            long divisor = unsigned(argv, stepArg.substring(1));
            if (divisor == 0) throw invalid(argv);
            step = Math.max(1, (len + divisor - 1) / divisor);
        } else {
            step = unsigned(argv, stepArg);
            if (step == 0) throw invalid(argv);
        }
        int i = 3;
        boolean precise = false;
        long[] histogram = new long[0];
        if (i < argv.size() && argv.get(i).matches("\\d+")) {
            long features = unsigned(argv, argv.get(i++));
            for (long f = 0; f < features; f++) {
                if (i >= argv.size()) throw invalid(argv);
                String a = argv.get(i++);
                if (a.equalsIgnoreCase("precise_timestamps")) {
                    precise = true;
                } else if (a.regionMatches(true, 0, "histogram:", 0, 10) && histogram.length == 0) {
                    histogram = parseHistogram(argv, a.substring(10));
                } else {
                    throw invalid(argv);
                }
            }
        }
        String programId = i < argv.size() ? argv.get(i++) : "-";
        String auxData = i < argv.size() ? argv.get(i++) : "-";
        if (i != argv.size()) throw invalid(argv);
        long entries = (len + step - 1) / step;
        if (entries > Integer.MAX_VALUE - 8) throw new TargetException("Cannot allocate memory (" + entries + " areas)");
        // The lowest id not in use, as dm_stats_create finds it.
        Region[] rs = regions;
        int id = 0;
        for (Region r : rs) {
            if (r.id == id) id++;
            else if (r.id > id) break;
        }
        Region region = new Region(id, start, end, step, (int) entries, precise, histogram, programId, auxData);
        List<Region> next = new ArrayList<>(Arrays.asList(rs));
        next.add(region);
        next.sort((a, b) -> Integer.compare(a.id, b.id));
        regions = next.toArray(new Region[0]);
        return Integer.toString(id);
    }

    private static long[] parseHistogram(List<String> argv, String text) throws TargetException {
        String[] parts = text.split(",", -1);
        if (parts.length > MAX_HISTOGRAM) throw invalid(argv);
        long[] bounds = new long[parts.length];
        long last = 0;
        for (int k = 0; k < parts.length; k++) {
            long v = unsigned(argv, parts[k]);
            if (v <= last) throw invalid(argv);
            bounds[k] = last = v;
        }
        return bounds;
    }

    private String print(List<String> argv, boolean clear) throws TargetException {
        if (argv.size() != 2 && argv.size() != 4) throw invalid(argv);
        Region r = find(argv, id(argv, 1));
        long first = 0;
        long count = Long.MAX_VALUE;
        if (argv.size() == 4) {
            if (!argv.get(2).equals("-")) first = unsigned(argv, argv.get(2));
            if (!argv.get(3).equals("-")) count = unsigned(argv, argv.get(3));
        }
        long last = first + count < first ? r.entries : Math.min(r.entries, first + count);
        first = Math.min(first, last);
        long nowJiffies = jiffies.getAsLong();
        long nowNanos = nanos.getAsLong();
        String out = r.print((int) first, (int) last, nowJiffies, nowNanos);
        if (clear) r.clear(first, last, nowJiffies, nowNanos);
        return out;
    }

    private void remove(Region r) {
        List<Region> next = new ArrayList<>(Arrays.asList(regions));
        next.remove(r);
        regions = next.toArray(new Region[0]);
    }

    private Region find(List<String> argv, int id) throws TargetException {
        for (Region r : regions) if (r.id == id) return r;
        throw new TargetException("No such file or directory (no region " + id + ")");
    }

    private static int id(List<String> argv, int i) throws TargetException {
        long v = unsigned(argv, argv.get(i));
        if (v > Integer.MAX_VALUE) throw invalid(argv);
        return (int) v;
    }

    private static void argc(List<String> argv, int min, int max) throws TargetException {
        if (argv.size() < min || argv.size() > max) throw invalid(argv);
    }

    private static long unsigned(List<String> argv, String s) throws TargetException {
        if (!s.matches("\\d{1,19}")) throw invalid(argv);
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw invalid(argv);
        }
    }

    private static TargetException invalid(List<String> argv) {
        return new TargetException("Invalid argument (Invalid parameters for message " + argv.get(0) + ")");
    }

    // ---- regions and areas ----

    /** A region (struct dm_stat): its areas and what @stats_list says of it. */
    static final class Region {
        final int id;
        final long start;
        final long end;
        final long step;
        final int entries;
        final boolean precise;
        final long[] histogram;
        final String programId;
        volatile String auxData;
        private final Area[] areas;

        Region(int id, long start, long end, long step, int entries, boolean precise, long[] histogram, String programId, String auxData) {
            this.id = id;
            this.start = start;
            this.end = end;
            this.step = step;
            this.entries = entries;
            this.precise = precise;
            this.histogram = histogram;
            this.programId = programId;
            this.auxData = auxData;
            this.areas = new Area[entries];
            for (int i = 0; i < entries; i++) areas[i] = new Area(histogram.length);
        }

        String listLine() {
            StringBuilder s = new StringBuilder();
            s.append(id).append(": ").append(start).append('+').append(end - start).append(' ').append(step)
                    .append(' ').append(programId).append(' ').append(auxData);
            if (precise) s.append(" precise_timestamps");
            if (histogram.length > 0) {
                s.append(" histogram:");
                for (int i = 0; i < histogram.length; i++) s.append(i == 0 ? "" : ",").append(histogram[i]);
            }
            return s.toString();
        }

        /** __dm_stat_bio: each area the bio touches counts the part of it that falls there. */
        void account(Aux aux, boolean end, long nowJiffies, long durationJiffies, long durationNanos) {
            long bioEnd = aux.sector + aux.sectors;
            if (bioEnd <= start || aux.sector >= this.end) return;
            long rel = Math.max(aux.sector, start) - start;
            long todo = Math.min(bioEnd, this.end) - Math.max(aux.sector, start);
            int entry = (int) (rel / step);
            long offset = rel % step;
            long now = precise ? (end ? aux.startNanos + durationNanos : aux.startNanos) : nowJiffies;
            long duration = precise ? durationNanos : durationJiffies;
            while (todo > 0) {
                long fragment = Math.min(todo, step - offset);
                areas[entry].account(aux.dir, fragment, aux.merged, end, now, duration, histogram);
                todo -= fragment;
                entry++;
                offset = 0;
            }
        }

        String print(int first, int last, long nowJiffies, long nowNanos) {
            StringBuilder out = new StringBuilder();
            long now = precise ? nowNanos : nowJiffies;
            for (int x = first; x < last; x++) {
                long areaStart = start + step * x;
                long[] v = areas[x].read(now);
                // "%llu+%llu": the area's start and the step, even for a shorter last area.
                out.append(areaStart).append('+').append(step);
                for (long c : v) out.append(' ').append(c);
                long[] h = areas[x].histogram();
                for (int i = 0; i < h.length; i++) out.append(i == 0 ? ' ' : ':').append(h[i]);
                out.append('\n');
            }
            return out.toString();
        }

        void clear(long first, long last, long nowJiffies, long nowNanos) {
            long now = precise ? nowNanos : nowJiffies;
            for (long x = first; x < Math.min(last, entries); x++) areas[(int) x].clear(now);
        }
    }

    /** One step-sized area (dm_stat_shared plus its counters). Times in jiffies, or ns when precise. */
    static final class Area {
        private final long[] ios = new long[2];
        private final long[] merges = new long[2];
        private final long[] sectors = new long[2];
        private final long[] ticks = new long[2];
        private final long[] ioTicks = new long[2];
        private final int[] inFlight = new int[2];
        private long ioTicksTotal;
        private long timeInQueue;
        private long stamp;
        private final long[] histogram;

        Area(int boundaries) {
            histogram = new long[boundaries == 0 ? 0 : boundaries + 1];
        }

        synchronized void account(int dir, long len, boolean merged, boolean end, long now, long duration, long[] bounds) {
            round(now);
            if (!end) {
                inFlight[dir]++;
                return;
            }
            inFlight[dir]--;
            if (duration < 0) return; // cancelled: never mapped
            sectors[dir] += len;
            ios[dir]++;
            if (merged) merges[dir]++;
            ticks[dir] += duration;
            if (histogram.length > 0) {
                // The number of boundaries not above the duration: the bucket it falls in.
                int lo = 0;
                while (lo < bounds.length && bounds[lo] <= duration) lo++;
                histogram[lo]++;
            }
        }

        /** dm_stat_round: the time since the stamp was busy if anything was in flight. */
        private void round(long now) {
            long difference = now - stamp;
            if (difference <= 0) {
                stamp = Math.max(stamp, now);
                return;
            }
            if (inFlight[READ] > 0) ioTicks[READ] += difference;
            if (inFlight[WRITE] > 0) ioTicks[WRITE] += difference;
            int n = inFlight[READ] + inFlight[WRITE];
            if (n > 0) {
                ioTicksTotal += difference;
                timeInQueue += n * difference;
            }
            stamp = now;
        }

        /** The 13 counters of @stats_print, in its order. */
        synchronized long[] read(long now) {
            round(now);
            return new long[] {ios[READ], merges[READ], sectors[READ], ticks[READ],
                ios[WRITE], merges[WRITE], sectors[WRITE], ticks[WRITE],
                inFlight[READ] + inFlight[WRITE], ioTicksTotal, timeInQueue, ioTicks[READ], ioTicks[WRITE]};
        }

        synchronized long[] histogram() {
            return histogram.clone();
        }

        /**
         * __dm_stat_clear: every counter but the in-flight ones, as of {@code now} (the time an
         * I/O in flight was busy before it is cleared with the rest: dm_stat_round first).
         */
        synchronized void clear(long now) {
            round(now);
            Arrays.fill(ios, 0);
            Arrays.fill(merges, 0);
            Arrays.fill(sectors, 0);
            Arrays.fill(ticks, 0);
            Arrays.fill(ioTicks, 0);
            ioTicksTotal = 0;
            timeInQueue = 0;
            Arrays.fill(histogram, 0);
        }
    }
}
