#!/usr/bin/env bash
# Two builds of dmstack's NBD driver (the client side) against each other, paired: one nbdkit
# memory plugin (1 GiB) on 127.0.0.1 is filled once, then NbdDriverLoad from each class path
# keeps it busy with the same workload for ROUNDS rounds, A and B taking turns (the order reversed
# every other round), so noise from the rest of the machine falls on both builds alike. Prints per
# round each build's IOPS and the ratio B/A, then the medians and each build's CPU time per
# request (the client process's, every thread).
#
# Usage: BASE_CP=CLASSPATH benchmarks/nbd-driver-ab.sh RW BS DEPTH [ROUNDS] [RUNTIME]
#   RW is read or write (sequential), DEPTH the requests in flight over all connections.
#   e.g. git worktree add /tmp/base main && (cd /tmp/base && scripts/mvn -B -q -o package -pl benchmarks -am -DskipTests)
#        BASE_CP='/tmp/base/benchmarks/target/classes:/tmp/base/benchmarks/target/lib/*' benchmarks/nbd-driver-ab.sh write 1m 8
# Environment: BASE_CP (A, required), NEW_CP (B, default: this tree's benchmarks build), JAVA,
# CONNECTIONS (NBD connections of the device, default 1), SIZE (nbdkit's disk, default 1G), FILL
# (seconds of 1 MiB writes that fill it first, default 6: enough for 1 GiB here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[ $# -ge 3 ] || { echo "usage: BASE_CP=CLASSPATH $0 RW BS DEPTH [ROUNDS] [RUNTIME]" >&2; exit 2; }
rw=$1 bs=$2 depth=$3 rounds=${4:-6} runtime=${5:-3} connections=${CONNECTIONS:-1} size=${SIZE:-1G} fill=${FILL:-6}
: "${BASE_CP:?BASE_CP: the class path of the build to compare against (its benchmarks/target/classes and lib/*)}"
NEW_CP=${NEW_CP:-$here/target/classes:$here/target/lib/*}
JAVA=${JAVA:-$("$root/scripts/jdk25")/bin/java}
for tool in nbdkit python3; do command -v "$tool" >/dev/null || { echo "nbd-driver-ab: $tool is not installed" >&2; exit 3; }; done
log=$(mktemp -d)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p 0 memory "$size" >"$log/nbdkit.log" 2>&1 & nbdkit=$!
trap 'kill $nbdkit 2>/dev/null || true; rm -rf "$log"' EXIT
for _ in $(seq 1 300); do
  port=$(ss -Hltnp | awk -v p="pid=$nbdkit," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "nbd-driver-ab: nbdkit does not listen:" >&2; cat "$log/nbdkit.log" >&2; exit 1; }
uri=nbd://127.0.0.1:$port/
load() { # CLASSPATH RW BS DEPTH SECONDS
  "$JAVA" -cp "$1" org.dmstack.bench.NbdDriverLoad "$uri" "$2" "$3" "$4" "$5" "$connections" 2>"$log/err" \
    || { echo "nbd-driver-ab: NbdDriverLoad failed:" >&2; cat "$log/err" >&2; exit 1; }
}
# nbdkit allocates its pages on first write: a run over fresh pages measures that, not the client.
load "$NEW_CP" write 1m 8 "$fill" >/dev/null
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(A B); else order=(B A); fi
  for s in "${order[@]}"; do
    if [ $s = A ]; then cp=$BASE_CP; else cp=$NEW_CP; fi
    echo "$r $s $(load "$cp" "$rw" "$bs" "$depth" "$runtime")"
  done
done | tee "$log/rounds" >/dev/null
python3 - "$log/rounds" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r, s, rest = line.split(None, 2)
    runs.setdefault(int(r), {})[s] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
for r in sorted(runs):
    a, b = runs[r]["A"], runs[r]["B"]
    print(f"A {a['iops']:9.0f}  B {b['iops']:9.0f}  B/A {b['iops'] / a['iops']:5.2f}")
ratios = [runs[r]["B"]["iops"] / runs[r]["A"]["iops"] for r in runs]
print(f"median B/A {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}), B faster in {sum(x > 1 for x in ratios)} of {len(ratios)}")
print("client CPU per request, median: A %.1f us, B %.1f us" % tuple(statistics.median(runs[r][s]["cpu_us"] for r in runs) for s in "AB"))
PY
