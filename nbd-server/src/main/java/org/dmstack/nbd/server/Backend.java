package org.dmstack.nbd.server;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The storage behind an export, as a plugin is to nbdkit: what it is (size, block sizes, write
 * cache) apart from what it does (read, write, flush, trim, write zeroes). The server checks
 * every request before it gets here: in range, aligned to {@link #minBlockSize}, never a write
 * to a read-only export, FUA only when {@link #writeCache} offered it.
 *
 * <p>Every operation ends by calling its {@link Done} once, on any thread, possibly before it
 * returns; or it returns false, having done nothing and calling nothing, when this backend has
 * been withdrawn (its device went away). The server then holds the request until a backend for
 * the export is there again, so a request never fails because of a hot swap it arrived during.
 * A request the backend had started when it was withdrawn, and could not finish, ends with
 * {@link #WITHDRAWN}: it is held and given again to the backend that returns. A backend never
 * acknowledges a write it did not do.
 */
public interface Backend {
    /**
     * The error a request ends with when this backend was withdrawn under it and it was not
     * done (its device went away first): the server holds it and gives it again, whole, to the
     * backend that returns, as Linux's nbd client sends its requests in flight again after a
     * reconnect. A write may then have been partly done once; the client was told nothing yet.
     */
    int WITHDRAWN = -1;

    /**
     * A client chose this export and its session begins: nbd-server opens the export's file for
     * each client, once the export is chosen, and keeps it open until the client goes, so storage
     * that counts its openers (a block device: a mapped device is busy for {@code dmsetup remove}
     * while open) counts each connection, each of a client's multi-conn connections too. Returns
     * what gives that open back, called once, however the session ends. The default holds nothing.
     *
     * @param client who opens it, for a person: "nbd client 127.0.0.1:40312"
     */
    default Opened open(String client) {
        return () -> {};
    }

    /** One client's open of a backend ({@link #open}). */
    @FunctionalInterface
    interface Opened {
        /** The session is over: the open is given back. */
        void close();
    }

    /** What NBD_OPT_LIST and NBD_INFO_DESCRIPTION show a person, e.g. "ram0 (1:0)". */
    String description();

    /** Bytes, a multiple of {@link #minBlockSize}. */
    long size();

    /** The alignment and smallest size of every request: a power of two from 512 to 64 KiB. */
    int minBlockSize();

    /** The size clients should use to avoid read-modify-write: a power of two, at least the minimum. */
    int preferredBlockSize();

    /** Whether completed writes may sit in a volatile cache: then clients are offered FLUSH and FUA. */
    boolean writeCache();

    /**
     * Whether the storage takes no writes now (a disk made read-only, as Linux's set_disk_ro):
     * the export is then read-only whatever its configuration says (NBD_FLAG_READ_ONLY to
     * clients that connect meanwhile, EPERM for a write), as a write(2) to such a disk fails.
     */
    default boolean readOnly() {
        return false;
    }

    /**
     * Reads {@code into.byteSize()} bytes at {@code offset} into {@code into}. Called from the
     * thread that reads the client's requests: it must not wait for the storage, only start it.
     */
    boolean read(long offset, MemorySegment into, Done done);

    /**
     * Reads in place, without a copy: adds to {@code into}, in order, the storage's own memory of
     * {@code length} bytes at {@code offset}, pinned until {@link #unpin}, and returns true; the
     * server sends the reply straight from it, then unpins. Until then the backend must keep that
     * memory the data it was, or the data of a write racing this read: never reuse it for
     * anything else, whatever is trimmed or withdrawn meanwhile. Returns false, having added and
     * pinned nothing, when it cannot (withdrawn, or storage that is not memory): the server then
     * reads with {@link #read}. Called from the request reader; must not wait.
     */
    default boolean pinForRead(long offset, long length, List<ByteBuffer> into) {
        return false;
    }

    /** Gives back one successful {@link #pinForRead}, once its reply is out or dropped. */
    default void unpin() {}

    /**
     * Where the data is, as lseek(2)'s SEEK_HOLE: the first byte from {@code offset} on, and
     * before {@code end}, that is in a hole (reads as zeros and holds no storage); {@code end}
     * when there is none. With {@code 0 <= offset < end <= size()}. The default, for storage that
     * cannot tell, is none: everything is data, which is always a true answer (NBD's
     * base:allocation then reports flags 0, as qemu-nbd does over a block device). Called from
     * the request reader: no waiting, nothing allocated.
     */
    default long seekHole(long offset, long end) {
        return end;
    }

    /** As lseek(2)'s SEEK_DATA: the first byte from {@code offset} on, and before {@code end}, that is data; {@code end} when none. See {@link #seekHole}. */
    default long seekData(long offset, long end) {
        return offset;
    }

    /** Writes {@code from} at {@code offset}, durably before {@code done} when {@code fua}. Must not wait, as {@link #read}. */
    boolean write(long offset, MemorySegment from, boolean fua, Done done);

    /** Makes every completed write durable. May wait (the server calls it on a thread of its own). */
    boolean flush(Done done);

    /** A hint that the range is not needed; reads of it may return anything after. May wait. */
    boolean trim(long offset, long length, boolean fua, Done done);

    /** Zeroes the range; with {@code noHole}, without deallocating it. May wait. */
    boolean writeZeroes(long offset, long length, boolean fua, boolean noHole, Done done);

    /** How an operation ends. */
    @FunctionalInterface
    interface Done {
        /**
         * @param error 0, the protocol's error number ({@code Nbd.EIO}, {@code Nbd.EINVAL}...), or {@link #WITHDRAWN}
         * @param message for a failure, a sentence the client is shown (with structured replies); else null
         */
        void done(int error, String message);
    }
}
