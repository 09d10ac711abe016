#!/usr/bin/env bash
# Two builds of dmstack's NBD export against each other, paired, with nbdkit's memory plugin beside
# them: the three servers (NbdBenchServer on a 1 GiB brd disk from each class path, and nbdkit) run at
# once, each is filled and warmed up, then fio runs one workload against A, B and nbdkit in turn for
# ROUNDS rounds (the order reversed every other round), so noise from the rest of the machine falls
# on both builds alike. Prints per round the IOPS and the ratios B/A, A/nbdkit, B/nbdkit, then
# their medians and each server's CPU time per request (utime + stime from /proc/PID/stat, over
# the round; exact whatever the load, unlike IOPS).
#
# Usage: BASE_CP=CLASSPATH benchmarks/nbd-ab.sh OUT_DIR RW BS QD [ROUNDS] [RUNTIME]
#   e.g. git worktree add /tmp/base main && (cd /tmp/base && scripts/mvn -B -q -o verify -pl benchmarks -am -DskipTests)
#        BASE_CP='/tmp/base/benchmarks/target/classes:/tmp/base/benchmarks/target/lib/*' benchmarks/nbd-ab.sh /tmp/ab read 1m 8
# Environment: BASE_CP (A, required), NEW_CP (B, default: this tree's benchmarks build), FIRST (A or
# B: whose disk is filled first, default A; swap it to see what memory placement does), JAVA,
# A_OPTS and B_OPTS (more JVM options for A's and B's server: with BASE_CP the same build as
# NEW_CP, a system property on against off, e.g. B_OPTS=-Ddmstack.nbd.pinMin=8192), JOBS (fio jobs,
# one connection each, QD requests in flight on each; default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[ $# -ge 4 ] || { echo "usage: BASE_CP=CLASSPATH $0 OUT_DIR RW BS QD [ROUNDS] [RUNTIME]" >&2; exit 2; }
out=$1 rw=$2 bs=$3 qd=$4 rounds=${5:-6} runtime=${6:-2} jobs=${JOBS:-1}
: "${BASE_CP:?BASE_CP: the class path of the build to compare against (its benchmarks/target/classes and lib/*)}"
NEW_CP=${NEW_CP:-$here/target/classes:$here/target/lib/*}
JAVA=${JAVA:-$("$root/scripts/jdk25")/bin/java}
for tool in fio nbdkit python3; do command -v "$tool" >/dev/null || { echo "nbd-ab: $tool is not installed" >&2; exit 3; }; done
mkdir -p "$out"
# The JVM options of bin/dmstack, as nbd-compare.sh runs the server.
options=$("$root/scripts/server-jvm-options") # an assignment, so that set -e sees the script fail
mapfile -t server <<<"$options"
declare -A pid uri
"$JAVA" "${server[@]}" ${A_OPTS:-} -cp "$BASE_CP" org.dmstack.bench.NbdBenchServer 0 1G brd >"$out/A-server.log" 2>&1 & pid[A]=$!
"$JAVA" "${server[@]}" ${B_OPTS:-} -cp "$NEW_CP" org.dmstack.bench.NbdBenchServer 0 1G brd >"$out/B-server.log" 2>&1 & pid[B]=$!
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p 0 memory 1G >"$out/K-server.log" 2>&1 & pid[K]=$!
trap 'kill "${pid[@]}" 2>/dev/null || true' EXIT
for s in A B K; do
  for _ in $(seq 1 300); do
    port=$(ss -Hltnp | awk -v p="pid=${pid[$s]}," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
    [ -n "$port" ] && break
    kill -0 "${pid[$s]}" 2>/dev/null || { echo "nbd-ab: server $s died:" >&2; cat "$out/$s-server.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "nbd-ab: server $s does not listen" >&2; exit 1; }
  if [ $s = K ]; then uri[$s]=nbd://127.0.0.1:$port/; else uri[$s]=nbd://127.0.0.1:$port/disk; fi
done
run() { # NAME SERVER RW BS QD [RUNTIME]
  fio --name="$1" --ioengine=nbd --uri="${uri[$2]}" --rw="$3" --bs="$4" --iodepth="$5" --numjobs="$jobs" --group_reporting --randrepeat=1 \
      --norandommap ${6:+--runtime=$6 --time_based} --output-format=json --output="$out/$1.json" >"$out/$1.log" 2>&1 \
    || { echo "nbd-ab: fio $1 failed:" >&2; cat "$out/$1.log" >&2; exit 1; }
}
if [ "${FIRST:-A}" = B ]; then fill=(B A K); else fill=(A B K); fi
for s in "${fill[@]}"; do run "$s-fill" $s write 1m 4; run "$s-warmup" $s randrw 4k 32 3; run "$s-warmup-1m" $s rw 1m 8 3; done
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(A B K); else order=(K B A); fi
  for s in "${order[@]}"; do
    c0=$(cpu "${pid[$s]}")
    run "$s-$r" $s "$rw" "$bs" "$qd" "$runtime"
    echo $(($(cpu "${pid[$s]}") - c0)) >"$out/$s-$r.ticks"
  done
done
python3 - "$out" "$rounds" "$(getconf CLK_TCK)" <<'PY'
import json, statistics, sys
out, rounds, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def job(name): return json.load(open(f"{out}/{name}.json"))["jobs"][0]
def iops(name): j = job(name); return j["read"]["iops"] + j["write"]["iops"]
def cpu_us(name):
    j = job(name); ios = j["read"]["total_ios"] + j["write"]["total_ios"]
    return int(open(f"{out}/{name}.ticks").read()) * 1e6 / hz / ios
rows = [[iops(f"{s}-{r}") for s in "ABK"] for r in range(1, rounds + 1)]
for a, b, k in rows: print(f"A {a:9.0f}  B {b:9.0f}  nbdkit {k:9.0f}  B/A {b/a:5.2f}  A/nbdkit {a/k:5.2f}  B/nbdkit {b/k:5.2f}")
def line(label, xs): return f"{label} {statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"
print("median " + ", ".join([line("B/A", [b / a for a, b, k in rows]), line("A/nbdkit", [a / k for a, b, k in rows]), line("B/nbdkit", [b / k for a, b, k in rows])]))
print("server CPU per request, median: A %.1f us, B %.1f us, nbdkit %.1f us" % tuple(statistics.median(cpu_us(f"{s}-{r}") for r in range(1, rounds + 1)) for s in "ABK"))
PY
