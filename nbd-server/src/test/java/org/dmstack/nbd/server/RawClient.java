package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongToIntFunction;
import org.dmstack.nbd.protocol.Nbd;

/** A client that speaks NBD byte by byte, so tests can say exactly what goes on the wire. */
public final class RawClient implements AutoCloseable {
    /** A safety net so a broken server fails a test instead of hanging it; not a timing assertion. */
    private static final int SO_TIMEOUT_MS = 60_000;

    public final Socket socket;
    public final DataInputStream in;
    public final DataOutputStream out;
    public int handshakeFlags;
    public long size;
    public int transmissionFlags;
    public Map<Integer, byte[]> infos = new HashMap<>();

    public RawClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(SO_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /** Connects and reads the server's greeting. */
    public static RawClient connect(int port) throws IOException {
        RawClient c = new RawClient(port);
        assertEquals(Nbd.NBDMAGIC, c.in.readLong(), "NBDMAGIC");
        assertEquals(Nbd.IHAVEOPT, c.in.readLong(), "IHAVEOPT");
        c.handshakeFlags = c.in.readUnsignedShort();
        return c;
    }

    /** Connects and sends fixed-newstyle client flags (with NO_ZEROES). */
    public static RawClient negotiate(int port) throws IOException {
        RawClient c = connect(port);
        c.clientFlags(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
        return c;
    }

    /** Connects and enters transmission on {@code export} with NBD_OPT_GO. */
    public static RawClient open(int port, String export) throws IOException {
        RawClient c = negotiate(port);
        OptReply r = c.go(export);
        assertEquals(Nbd.REP_ACK, r.type(), () -> "GO " + export + ": " + r);
        return c;
    }

    /** Connects, negotiates structured replies (NBD_OPT_STRUCTURED_REPLY), and enters transmission on {@code export}. */
    public static RawClient openStructured(int port, String export) throws IOException {
        RawClient c = negotiate(port);
        c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
        assertEquals(Nbd.REP_ACK, c.optReply().type(), "NBD_OPT_STRUCTURED_REPLY");
        OptReply r = c.go(export);
        assertEquals(Nbd.REP_ACK, r.type(), () -> "GO " + export + ": " + r);
        return c;
    }

    public void clientFlags(int flags) throws IOException {
        out.writeInt(flags);
        out.flush();
    }

    public void option(int option, byte[] data) throws IOException {
        out.writeLong(Nbd.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    public record OptReply(int option, int type, byte[] data) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "option " + option + " reply " + Integer.toHexString(type) + " " + (type < 0 ? text() : data.length + " bytes");
        }
    }

    public OptReply optReply() throws IOException {
        assertEquals(Nbd.OPTION_REPLY_MAGIC, in.readLong(), "option reply magic");
        int option = in.readInt();
        int type = in.readInt();
        int length = in.readInt();
        byte[] data = new byte[length];
        in.readFully(data);
        return new OptReply(option, type, data);
    }

    public static byte[] infoRequest(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) b.putShort((short) i);
        return b.array();
    }

    /** NBD_OPT_INFO or GO; collects the NBD_REP_INFO replies and returns the final one. */
    public OptReply info(int option, String name, int... infos) throws IOException {
        option(option, infoRequest(name, infos));
        this.infos.clear();
        while (true) {
            OptReply r = optReply();
            if (r.type() != Nbd.REP_INFO) return r;
            ByteBuffer b = ByteBuffer.wrap(r.data());
            int type = b.getShort() & 0xffff;
            byte[] rest = new byte[b.remaining()];
            b.get(rest);
            this.infos.put(type, rest);
            if (type == Nbd.INFO_EXPORT) {
                ByteBuffer e = ByteBuffer.wrap(rest);
                size = e.getLong();
                transmissionFlags = e.getShort() & 0xffff;
            }
        }
    }

    public OptReply go(String name) throws IOException {
        return info(Nbd.OPT_GO, name, Nbd.INFO_BLOCK_SIZE);
    }

    public int[] blockSize() {
        ByteBuffer b = ByteBuffer.wrap(infos.get(Nbd.INFO_BLOCK_SIZE));
        return new int[] {b.getInt(), b.getInt(), b.getInt()};
    }

    /** The data of NBD_OPT_LIST_META_CONTEXT or NBD_OPT_SET_META_CONTEXT: the export name, then the queries. */
    public static byte[] metaContextRequest(String export, String... queries) {
        byte[] n = export.getBytes(StandardCharsets.UTF_8);
        int length = 4 + n.length + 4;
        for (String q : queries) length += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        ByteBuffer b = ByteBuffer.allocate(length).putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }

    // Transmission

    public void request(int flags, int type, long handle, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) out.write(payload);
        out.flush();
    }

    public record Reply(int error, long handle, byte[] data) {}

    /** A simple reply; {@code readLength} bytes of data follow when the error is 0. */
    public Reply simpleReply(int readLength) throws IOException {
        assertEquals(Nbd.SIMPLE_REPLY_MAGIC, in.readInt(), "simple reply magic");
        int error = in.readInt();
        long handle = in.readLong();
        byte[] data = new byte[error == 0 ? readLength : 0];
        in.readFully(data);
        return new Reply(error, handle, data);
    }

    /** A simple reply whose data length depends on which request it answers. */
    public Reply simpleReply(LongToIntFunction readLengthOfHandle) throws IOException {
        assertEquals(Nbd.SIMPLE_REPLY_MAGIC, in.readInt(), "simple reply magic");
        int error = in.readInt();
        long handle = in.readLong();
        byte[] data = new byte[error == 0 ? readLengthOfHandle.applyAsInt(handle) : 0];
        in.readFully(data);
        return new Reply(error, handle, data);
    }

    /** Reads a simple reply to a command without data. */
    public Reply reply() throws IOException {
        return simpleReply(0);
    }

    public Reply read(long handle, long offset, int length) throws IOException {
        request(0, Nbd.CMD_READ, handle, offset, length, null);
        return simpleReply(length);
    }

    public Reply write(long handle, long offset, byte[] data) throws IOException {
        request(0, Nbd.CMD_WRITE, handle, offset, data.length, data);
        return reply();
    }

    public record Chunk(int flags, int type, long handle, byte[] payload) {
        public int error() {
            return ByteBuffer.wrap(payload).getInt();
        }

        public String message() {
            ByteBuffer b = ByteBuffer.wrap(payload);
            b.getInt();
            int n = b.getShort() & 0xffff;
            return new String(payload, 6, n, StandardCharsets.UTF_8);
        }
    }

    /** Reads the next chunk and checks it is the one and final NBD_REPLY_TYPE_OFFSET_DATA chunk of {@code handle}: {@code data} at {@code offset}. */
    public void assertOffsetData(long handle, long offset, byte[] data) throws IOException {
        Chunk chunk = chunk();
        assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, chunk.type(), "chunk type");
        assertEquals(Nbd.REPLY_FLAG_DONE, chunk.flags(), "the only chunk: DONE");
        assertEquals(handle, chunk.handle(), "handle");
        assertEquals(offset, ByteBuffer.wrap(chunk.payload()).getLong(), "offset");
        assertArrayEquals(data, Arrays.copyOfRange(chunk.payload(), 8, chunk.payload().length), "data");
    }

    /** A structured reply chunk (or a simple reply, returned as a chunk of type -1). */
    public Chunk chunk() throws IOException {
        int magic = in.readInt();
        if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long handle = in.readLong();
            return new Chunk(Nbd.REPLY_FLAG_DONE, -1, handle, ByteBuffer.allocate(6).putInt(error).array());
        }
        assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, magic, "structured reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long handle = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return new Chunk(flags, type, handle, payload);
    }

    /** True when the server has closed the connection (the next read sees end of stream). */
    public boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    public void disconnect() throws IOException {
        request(0, Nbd.CMD_DISC, 0, 0, 0, null);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
