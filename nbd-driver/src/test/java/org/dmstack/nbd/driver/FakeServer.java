package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few lines of NBD server for the tests that need a server to misbehave: it negotiates like a
 * real one (or like an old one that knows only NBD_OPT_EXPORT_NAME), then hands each request to
 * {@code transmission}, which answers as it likes.
 */
final class FakeServer implements AutoCloseable {
    /** What a connection does after the handshake; {@code number} counts connections from 0. */
    interface Transmission {
        void serve(int number, SocketChannel ch, byte[] disk) throws IOException;
    }

    final byte[] disk;
    final boolean knowsGo;
    final int flags;
    /** Whether it agrees to structured replies (NBD_OPT_STRUCTURED_REPLY). */
    volatile boolean structured;
    /** When set, NBD_OPT_GO is refused with NBD_REP_ERR_POLICY and this message. */
    volatile String refusal;
    /** When set, the data of the NBD_REP_INFO replies NBD_OPT_GO gets before its ACK, instead of the truth. */
    volatile List<ByteBuffer> infos;
    final AtomicInteger connections = new AtomicInteger();
    /** The options clients sent, in order, over all connections. */
    final List<Integer> options = new CopyOnWriteArrayList<>();
    private final ServerSocketChannel listener;
    private final Transmission transmission;

    FakeServer(int size, boolean knowsGo, int flags, Transmission transmission) throws IOException {
        this.disk = new byte[size];
        this.knowsGo = knowsGo;
        this.flags = flags;
        this.transmission = transmission;
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().start(this::accept);
    }

    String uri() throws IOException {
        return "nbd://127.0.0.1:" + ((InetSocketAddress) listener.getLocalAddress()).getPort() + "/disk";
    }

    private void accept() {
        try {
            while (true) {
                SocketChannel ch = listener.accept();
                int n = connections.getAndIncrement();
                Thread.ofVirtual().start(() -> {
                    try (ch) {
                        handshake(ch);
                        transmission.serve(n, ch, disk);
                    } catch (IOException e) {
                        // the client went away
                    }
                });
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void handshake(SocketChannel ch) throws IOException {
        Wire.writeFully(ch, ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip());
        Wire.read(ch, 4);
        while (true) {
            ByteBuffer h = Wire.read(ch, 16);
            h.getLong();
            int option = h.getInt();
            options.add(option);
            Wire.read(ch, h.getInt());
            if (option == OPT_EXPORT_NAME) {
                Wire.writeFully(ch, ByteBuffer.allocate(10).putLong(disk.length).putShort((short) (FLAG_HAS_FLAGS | flags)).flip());
                return;
            }
            if (option == OPT_GO && refusal != null) {
                reply(ch, option, REP_ERR_POLICY, ByteBuffer.wrap(refusal.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                continue;
            }
            if (option == OPT_GO && knowsGo) {
                List<ByteBuffer> lies = infos;
                if (lies != null) {
                    for (ByteBuffer info : lies) reply(ch, option, REP_INFO, info.duplicate());
                    reply(ch, option, REP_ACK, ByteBuffer.allocate(0));
                    return; // transmission, for a client that believed them; one that did not hangs up
                }
                reply(ch, option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(disk.length)
                        .putShort((short) (FLAG_HAS_FLAGS | flags)).flip());
                reply(ch, option, REP_ACK, ByteBuffer.allocate(0));
                return;
            }
            if (option == OPT_STRUCTURED_REPLY && structured) reply(ch, option, REP_ACK, ByteBuffer.allocate(0));
            else reply(ch, option, REP_ERR_UNSUP, ByteBuffer.allocate(0));
        }
    }

    private static void reply(SocketChannel ch, int option, int type, ByteBuffer data) throws IOException {
        Wire.writeFully(ch, ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(data.remaining()).flip(), data);
    }

    /** One request as the client sent it. */
    record Req(int type, long handle, long offset, int length, byte[] payload) {}

    static Req readRequest(SocketChannel ch) throws IOException {
        ByteBuffer h = Wire.read(ch, REQUEST_SIZE);
        h.getInt();
        h.getShort();
        int type = h.getShort();
        long handle = h.getLong();
        long offset = h.getLong();
        int length = h.getInt();
        byte[] payload = type == CMD_WRITE ? Wire.read(ch, length).array() : null;
        return new Req(type, handle, offset, length, payload);
    }

    /** A simple reply's header. */
    static ByteBuffer simpleReply(int magic, int error, long handle) {
        return ByteBuffer.allocate(SIMPLE_REPLY_SIZE).putInt(magic).putInt(error).putLong(handle).flip();
    }

    /** A structured reply chunk's header. */
    static ByteBuffer chunk(int flags, int type, long handle, int length) {
        return ByteBuffer.allocate(CHUNK_HEADER_SIZE).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(handle).putInt(length).flip();
    }

    /** Serves requests correctly, as a real server would, with simple replies. */
    static void serveCorrectly(SocketChannel ch, byte[] disk) throws IOException {
        serveCorrectly(ch, disk, false);
    }

    /** Serves requests correctly; with {@code structured}, a READ's data comes as one NBD_REPLY_TYPE_OFFSET_DATA chunk. */
    static void serveCorrectly(SocketChannel ch, byte[] disk, boolean structured) throws IOException {
        while (true) {
            Req r = readRequest(ch);
            if (r.type() == CMD_DISC) return;
            if (r.type() == CMD_WRITE) System.arraycopy(r.payload(), 0, disk, (int) r.offset(), r.length());
            ByteBuffer data = r.type() == CMD_READ ? ByteBuffer.wrap(disk, (int) r.offset(), r.length()) : ByteBuffer.allocate(0);
            if (structured && r.type() == CMD_READ) {
                Wire.writeFully(ch, chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, r.handle(), 8 + r.length()),
                        ByteBuffer.allocate(8).putLong(r.offset()).flip(), data);
            } else {
                Wire.writeFully(ch, simpleReply(SIMPLE_REPLY_MAGIC, 0, r.handle()), data);
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
