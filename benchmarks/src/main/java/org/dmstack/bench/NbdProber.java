package org.dmstack.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A small write/read prober for the mixed NBD workload: again and again, a new connection
 * (handshake, NBD_OPT_GO), a 4 KiB WRITE of a fresh pattern, a READ of it back, a comparison,
 * NBD_CMD_DISC — as a health check or a second application would come and go beside a long
 * running client. Exits 1 on the first mismatch or error.
 *
 * <pre>
 * java -cp ... org.dmstack.bench.NbdProber HOST PORT EXPORT OFFSET SECONDS [WARMUP_SECONDS [INTERVAL_MS]]
 * </pre>
 *
 * <p>Back to back by default (INTERVAL_MS 0): a closed loop, so a faster server gets more probes
 * and the prober itself takes more CPU. With INTERVAL_MS, a probe starts every INTERVAL_MS
 * milliseconds (or as soon as the one before ends, when that takes longer), the same offered
 * load on every server, as a health check probes.
 *
 * It probes for WARMUP_SECONDS (default 0) first, then prints "ready" and probes for SECONDS:
 * the mixed workload starts fio only once both probers are ready, so what fio measures is the
 * server under the probers' connections, not the probers' own JVMs starting and compiling on
 * the same cores.
 */
public final class NbdProber {
    private static final long NBDMAGIC = 0x4e42444d41474943L;
    private static final long IHAVEOPT = 0x49484156454F5054L;
    private static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    private static final int OPT_GO = 7, REP_ACK = 1, REP_INFO = 3;
    private static final int REQUEST_MAGIC = 0x25609513, SIMPLE_REPLY_MAGIC = 0x67446698;
    private static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2;
    private static final int BLOCK = 4096;

    private NbdProber() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 5 || args.length > 7) {
            System.err.println("usage: NbdProber HOST PORT EXPORT OFFSET SECONDS [WARMUP_SECONDS [INTERVAL_MS]]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String export = args[2];
        long offset = Long.parseLong(args[3]);
        long seconds = Long.parseLong(args[4]);
        long warmup = args.length > 5 ? Long.parseLong(args[5]) : 0;
        long interval = args.length > 6 ? Long.parseLong(args[6]) * 1_000_000L : 0;
        long warm = probeFor(warmup, interval, host, port, export, offset, 0);
        System.out.println("ready after " + warm + " probes");
        System.out.flush();
        long probes = probeFor(seconds, interval, host, port, export, offset, warm) - warm;
        System.out.println("probes " + probes + " (after " + warm + " to warm up), all read back what they wrote");
    }

    /** Probes for {@code seconds}, one every {@code intervalNanos} (0: back to back); returns the number of probes made so far. */
    private static long probeFor(long seconds, long intervalNanos, String host, int port, String export, long offset, long probes)
            throws IOException, InterruptedException {
        long now = System.nanoTime(), end = now + seconds * 1_000_000_000L, next = now;
        while ((now = System.nanoTime()) < end) {
            if (next - now > 0) {
                Thread.sleep(Duration.ofNanos(next - now));
                continue;
            }
            probe(host, port, export, offset, (byte) probes);
            probes++;
            next = Math.max(next + intervalNanos, now);
        }
        return probes;
    }

    private static void probe(String host, int port, String export, long offset, byte fill) throws IOException {
        try (Socket s = new Socket(host, port)) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) throw new IOException("not an NBD server");
            in.readUnsignedShort();
            out.writeInt(3); // FIXED_NEWSTYLE | NO_ZEROES
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            out.writeLong(IHAVEOPT);
            out.writeInt(OPT_GO);
            out.writeInt(4 + name.length + 2);
            out.writeInt(name.length);
            out.write(name);
            out.writeShort(0);
            out.flush();
            while (true) {
                if (in.readLong() != OPTION_REPLY_MAGIC) throw new IOException("bad option reply");
                in.readInt();
                int type = in.readInt();
                in.skipNBytes(in.readInt());
                if (type == REP_ACK) break;
                if (type != REP_INFO) throw new IOException("NBD_OPT_GO refused: 0x" + Integer.toHexString(type));
            }
            byte[] data = new byte[BLOCK];
            Arrays.fill(data, fill);
            request(out, CMD_WRITE, 1, offset, data);
            reply(in, 1, null);
            byte[] back = new byte[BLOCK];
            request(out, CMD_READ, 2, offset, null);
            reply(in, 2, back);
            if (!Arrays.equals(data, back)) throw new IOException("read back other data than was written at " + offset);
            request(out, CMD_DISC, 3, 0, null);
        }
    }

    private static void request(DataOutputStream out, int type, long handle, long offset, byte[] payload) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt(type == CMD_DISC ? 0 : BLOCK);
        if (payload != null) out.write(payload);
        out.flush();
    }

    private static void reply(DataInputStream in, long handle, byte[] data) throws IOException {
        if (in.readInt() != SIMPLE_REPLY_MAGIC) throw new IOException("bad reply magic");
        int error = in.readInt();
        if (in.readLong() != handle) throw new IOException("reply to another request");
        if (error != 0) throw new IOException("error " + error);
        if (data != null) in.readFully(data);
    }
}
