# libnbd (python3-libnbd) against a dmstack server, its own checks off (strict mode 0) so it sends
# what a careless or hostile client would, while it still checks every reply the server sends.
# Each line printed: what was asked, then OK or the errno the server answered. Usage: PORT
import errno
import sys

import nbd

base = "nbd://127.0.0.1:%s" % sys.argv[1]


def attempt(what, f):
    try:
        f()
        print(what, "OK")
    except nbd.Error as e:
        print(what, errno.errorcode.get(e.errnum, e.errnum))


def handle(**settings):
    h = nbd.NBD()
    for name, value in settings.items():
        getattr(h, "set_" + name)(value)
    return h


# Option haggling, one option at a time.
h = handle(opt_mode=True, full_info=True)
h.connect_uri(base)
exports = []
h.opt_list(lambda name, description: exports.append(name))
print("exports", " ".join(exports))
h.set_export_name("nope")
attempt("info nope", h.opt_info)
h.set_export_name("pmem")
attempt("info pmem", h.opt_info)
print("pmem", h.get_size(), [h.get_block_size(i) for i in range(3)], h.get_canonical_export_name(), h.get_export_description())
contexts = []
attempt("list contexts", lambda: h.opt_list_meta_context(lambda c: contexts.append(c)))
print("contexts", contexts)
h.set_export_name("disk")
h.add_meta_context("base:allocation")
attempt("go disk", h.opt_go)
print("structured", h.get_structured_replies_negotiated(), "base:allocation", h.can_meta_context("base:allocation"))

# Transmission with libnbd's checks off.
h.set_strict_mode(0)
size = h.get_size()
attempt("read unaligned", lambda: h.pread(100, 1))
attempt("read past the end", lambda: h.pread(1024, size - 512))
attempt("read of nothing", lambda: h.pread(0, 0))
attempt("read with an unknown flag", lambda: h.pread(512, 0, 0x40))
attempt("read 64 KiB unfragmented", lambda: h.pread(65536, 0, nbd.CMD_FLAG_DF))
attempt("read 32 MiB + 512", lambda: h.pread((32 << 20) + 512, 0))
attempt("write past the end", lambda: h.pwrite(bytearray(1024), size - 512))
attempt("write with FUA not offered", lambda: h.pwrite(bytearray(512), 0, nbd.CMD_FLAG_FUA))
attempt("trim 4 GiB - 512", lambda: h.trim(0xFFFFFE00, 0))
attempt("fast zero not offered", lambda: h.zero(512, 0, nbd.CMD_FLAG_FAST_ZERO))
attempt("cache", lambda: h.cache(512, 0))
attempt("block status past the end", lambda: h.block_status(1024, size - 512, lambda m, o, e, err: 0))
extents = []
attempt("block status", lambda: h.block_status(size, 0, lambda m, o, e, err: extents.append((m, o, list(e))) or 0))
print("extents", extents)
h.pwrite(b"\x5a" * 4096, 4096)
print("write then read", h.pread(4096, 4096) == b"\x5a" * 4096)
h.shutdown()

# Without structured replies, without asking for block sizes.
h = handle(request_structured_replies=False, request_block_size=False)
h.connect_uri(base + "/disk")
h.set_strict_mode(0)
print("simple: structured", h.get_structured_replies_negotiated())
attempt("simple: read unaligned", lambda: h.pread(100, 1))
attempt("simple: read", lambda: h.pread(4096, 0))
h.shutdown()

# Newstyle without "fixed", so NBD_OPT_EXPORT_NAME and its 124 zero bytes.
h = handle(handshake_flags=0)
h.connect_uri(base + "/disk")
print("unfixed:", h.get_protocol(), h.get_size())
attempt("unfixed: read", lambda: h.pread(4096, 4096))
h.shutdown()

# A read-only export.
h = handle()
h.connect_uri(base + "/ro")
h.set_strict_mode(0)
attempt("ro: write", lambda: h.pwrite(bytearray(512), 0))
attempt("ro: trim", lambda: h.trim(512, 0))
attempt("ro: zero", lambda: h.zero(512, 0))
h.shutdown()
