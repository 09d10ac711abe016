# A real NBD client (libnbd) that stays connected and does what its standard input says:
# "read" reads the first 4 KiB and prints "read ok" or "read failed: ERRNO"; "quit" disconnects
# (NBD_CMD_DISC) and prints "disconnected". It prints "connected" once the export is open.
import errno
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
print("connected", flush=True)
for line in sys.stdin:
    word = line.strip()
    if word == "read":
        try:
            h.pread(4096, 0)
            print("read ok", flush=True)
        except nbd.Error as e:
            print("read failed: " + errno.errorcode.get(e.errno, str(e.errno)), flush=True)
    elif word == "quit":
        h.shutdown()
        print("disconnected", flush=True)
        break
