package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the request reader corks before it writes: bounded in bytes, whatever the replies are made of. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RepliesTest {
    @Test
    void largeRepliesWithoutPayloadAreCorkedWithinTheByteBound() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel server = listener.accept()) {
            Thread drain = Thread.ofVirtual().start(() -> {
                ByteBuffer b = ByteBuffer.allocate(1 << 20);
                try {
                    while (client.read(b.clear()) >= 0) {
                        // the client takes everything
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            Replies replies = new Replies(new Wire(server), true, Runnable::run);
            replies.cork();
            long most = 0;
            for (int i = 0; i < 200; i++) {
                replies.whole(ByteBuffer.allocate(32 << 10), null); // a BLOCK_STATUS reply of 4096 descriptors is all head
                most = Math.max(most, replies.corkedNow());
            }
            assertTrue(most < Replies.MAX_CORKED_BYTES, "at most " + Replies.MAX_CORKED_BYTES + " bytes corked, not "
                    + Replies.MAX_CORKED_BUFFERS + " such replies: " + most);
            client.close();
            drain.join();
        }
    }
}
