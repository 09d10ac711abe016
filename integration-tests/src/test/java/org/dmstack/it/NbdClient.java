package org.dmstack.it;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The smallest NBD client that tells acknowledged writes from the rest: fixed newstyle handshake,
 * NBD_OPT_GO, then one request at a time with simple replies (proto.md). A test that kills the
 * server needs to know exactly which requests it answered, so nothing here is pipelined.
 */
final class NbdClient implements AutoCloseable {
    static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3;
    static final int CMD_FLAG_FUA = 1;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final long size;
    private long handle;

    NbdClient(String host, int port, String export) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), 5000);
        socket.setSoTimeout(30_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
        if (in.readLong() != 0x4e42444d41474943L || in.readLong() != 0x49484156454F5054L) throw new IOException("not an NBD newstyle server");
        in.readUnsignedShort(); // handshake flags
        out.writeInt(1 | 2); // NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        out.writeLong(0x49484156454F5054L);
        out.writeInt(7); // NBD_OPT_GO
        out.writeInt(4 + name.length + 2);
        out.writeInt(name.length);
        out.write(name);
        out.writeShort(0);
        out.flush();
        long exportSize = -1;
        while (true) {
            if (in.readLong() != 0x3e889045565a9L) throw new IOException("bad option reply magic");
            in.readInt();
            int type = in.readInt();
            byte[] data = new byte[in.readInt()];
            in.readFully(data);
            if (type == 1) break; // NBD_REP_ACK
            if ((type & 0x80000000) != 0) throw new IOException("NBD_OPT_GO refused: " + Integer.toHexString(type) + " " + new String(data, StandardCharsets.UTF_8));
            if (type == 3 && data.length >= 12 && data[0] == 0 && data[1] == 0) { // NBD_REP_INFO, NBD_INFO_EXPORT
                exportSize = ByteBuffer.wrap(data, 2, 8).getLong();
            }
        }
        size = exportSize;
    }

    long size() {
        return size;
    }

    /** Sends one request and waits for its reply; returns the NBD error (0 is success). */
    int request(int type, int flags, long offset, byte[] data, int length) throws IOException {
        long h = ++handle;
        out.writeInt(0x25609513);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(h);
        out.writeLong(offset);
        out.writeInt(type == CMD_WRITE ? data.length : length);
        if (type == CMD_WRITE) out.write(data);
        out.flush();
        if (in.readInt() != 0x67446698) throw new IOException("bad reply magic");
        int error = in.readInt();
        if (in.readLong() != h) throw new IOException("reply for another handle");
        if (type == CMD_READ && error == 0) in.readFully(data, 0, length);
        return error;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
