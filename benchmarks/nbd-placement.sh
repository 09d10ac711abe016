#!/usr/bin/env bash
# NBD by where the kernel runs the server: by default 4 KiB random reads and writes, one request
# in flight (fio's nbd ioengine; BS, QD, JOBS and RWS choose others), against dmstack's export of a brd RAM disk with busy
# polling (the default, busy.poll.us 50), the same without it (0), and nbdkit's memory plugin, each
# placed three ways: left to the scheduler (free), server and fio on the same CPU (same: both
# `taskset` to CPU 0), and on two (split: the server on CPU 1, fio on CPU 0). The three servers
# run at once and take turns within each round (the order reversed every other round), so noise
# falls on all of them alike; each line is one round, and the summary gives each server's median
# IOPS and the median of its per-round ratios to nbdkit, with their range.
#
# At queue depth 1 a request's round trip is mostly the two wake-ups between fio and the server:
# on one CPU there are none to another CPU, on two each costs an idle CPU's wake-up, and busy
# polling saves the server's (nbd-server/README.md, "Busy polling"). With more connections than
# CPUs (JOBS=2 on 2 CPUs: two fio threads and two connection threads) the split placement keeps the
# server's copies and the client's apart, which "free" leaves to the scheduler.
#
# Usage: benchmarks/nbd-placement.sh [OUT_DIR]      (default benchmarks/results/placement)
# Environment:
#   ROUNDS   rounds per workload and placement (default 5)
#   RUNTIME  seconds of fio per server per round (default 3)
#   PLACES   which placements, separated by spaces (default "free same split")
#   SIZE     size of each disk (default 1G); every byte is written before measuring
#   BS, QD, JOBS  fio's block size, queue depth per connection and connections (default 4k, 1, 1),
#            e.g. BS=1m QD=4 JOBS=2 RWS="read write" for 1 MiB sequential I/O over two connections
#   RWS      fio's rw modes, separated by spaces (default "randread randwrite")
#   DMSTACK_BENCH_CP, JAVA, AUTOGROUP  as for nbd-compare.sh (autogroup scheduling off for the run by default)
# Needs fio with the nbd engine, nbdkit, taskset (util-linux) and 2 CPUs at least. Exits 3 without them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$here/results/placement}
ROUNDS=${ROUNDS:-5}
RUNTIME=${RUNTIME:-3}
PLACES=${PLACES:-free same split}
SIZE=${SIZE:-1G}
BS=${BS:-4k}
QD=${QD:-1}
JOBS=${JOBS:-1}
RWS=${RWS:-randread randwrite}
# The workload as the summary names it: "4 KiB randread, QD 1", "1 MiB write, QD 4 over 2 connections".
case "$BS" in
  *[kK]) size="${BS%?} KiB" ;;
  *[mM]) size="${BS%?} MiB" ;;
  *) size="$BS B" ;;
esac
depth="QD $QD"
if [ "$JOBS" -gt 1 ]; then depth+=" over $JOBS connections"; fi
CP=${DMSTACK_BENCH_CP:-$here/target/classes:$here/target/lib/*}
JAVA=${JAVA:-$("$root/scripts/jdk25")/bin/java}

for tool in fio nbdkit taskset; do
  command -v "$tool" >/dev/null 2>&1 || { echo "nbd-placement: $tool is not installed (Debian: apt-get install -y fio nbdkit util-linux)" >&2; exit 3; }
done
[ "$(nproc)" -ge 2 ] || { echo "nbd-placement: needs 2 CPUs, this machine has $(nproc)" >&2; exit 3; }
for p in $PLACES; do
  case "$p" in free | same | split) ;; *) echo "nbd-placement: no placement '$p' (free, same, split)" >&2; exit 2 ;; esac
done

mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.terse
servers=(dmstack dmstack-nopoll nbdkit)
me=nbd-placement
. "$here/nbd-servers.sh"
stop_all() {
  for s in "${!pid[@]}"; do stop "$s"; done
  autogroup_restore
}
trap stop_all EXIT
autogroup_off

options=$("$root/scripts/server-jvm-options") # bin/dmstack's; an assignment, so that set -e sees the script fail
mapfile -t server_jvm <<<"$options"
java=("$JAVA" "${server_jvm[@]}" -cp "$CP")
start dmstack disk "${java[@]}" org.dmstack.bench.NbdBenchServer 0 "$SIZE" brd
start dmstack-nopoll disk "${java[@]}" -Ddmstack.nbd.busyPollMicros=0 org.dmstack.bench.NbdBenchServer 0 "$SIZE" brd
start nbdkit "" nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p 0 memory "$SIZE"

# fio_iops NAME URI RW [command prefix...]: one run of RUNTIME s of BS at QD over JOBS connections; prints reads + writes per second
fio_iops() {
  local name=$1 u=$2 rw=$3
  shift 3
  "$@" fio --name="$name" --ioengine=nbd --uri="$u" --rw="$rw" --bs="$BS" --iodepth="$QD" --numjobs="$JOBS" --group_reporting \
      --runtime="$RUNTIME" --time_based --randrepeat=1 --norandommap --output-format=terse --terse-version=3 >"$out/$name.terse" 2>"$out/$name.log" \
    || { echo "nbd-placement: fio $name failed:" >&2; cat "$out/$name.log" >&2; exit 1; }
  awk -F';' '$1 == 3 { printf "%d\n", $8 + $49 }' "$out/$name.terse" # fio also prints "connected" there
}

for s in "${servers[@]}"; do # every byte written, then both kinds of request warmed up
  fio --name=fill --ioengine=nbd --uri="${uri[$s]}" --rw=write --bs=1m --iodepth=4 --output-format=terse >/dev/null 2>&1
  fio --name=warm --ioengine=nbd --uri="${uri[$s]}" --rw=randrw --bs="$BS" --iodepth="$QD" --numjobs="$JOBS" --runtime=3 --time_based --output-format=terse >/dev/null 2>&1
done

echo "NBD, $size, $depth, by placement: ${servers[*]}; $ROUNDS rounds of ${RUNTIME}s, $SIZE, $autogroup, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
results=$out/rounds.txt
: >"$results"
for rw in $RWS; do
  for place in $PLACES; do
    for r in $(seq 1 "$ROUNDS"); do
      order=("${servers[@]}")
      if ((r % 2 == 0)); then order=(nbdkit dmstack-nopoll dmstack); fi
      line="$rw $place r$r"
      for s in "${order[@]}"; do
        case $place in
          free) taskset -a -p -c 0,1 "${pid[$s]}" >/dev/null; prefix=() ;;
          same) taskset -a -p -c 0 "${pid[$s]}" >/dev/null; prefix=(taskset -c 0) ;;
          split) taskset -a -p -c 1 "${pid[$s]}" >/dev/null; prefix=(taskset -c 0) ;;
        esac
        v=$(fio_iops "$s-$rw-$place-r$r" "${uri[$s]}" "$rw" "${prefix[@]}")
        echo "$rw $place $r $s $v" >>"$results"
        line+=" $s=$v"
      done
      echo "$line"
    done
  done
done

# The summary: per workload and placement, each server's median IOPS and its per-round ratio to nbdkit.
echo
echo "| workload | placement | dmstack IOPS | without busy poll | nbdkit | dmstack / nbdkit: median (range) | without busy poll / nbdkit |"
echo "|---|---|---:|---:|---:|---|---|"
awk '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function range(list,   n, a, i, lo, hi) {
    n = split(list, a, " "); lo = a[1]; hi = a[1]
    for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
    return sprintf("%.0f-%.0f%%", 100 * lo, 100 * hi)
  }
  { key = $1 " " $2; iops[key, $3, $4] = $5; if (!(key in seen)) { seen[key] = 1; keys[++k] = key }; rounds[key] = ($3 > rounds[key] ? $3 : rounds[key]) }
  END {
    for (i = 1; i <= k; i++) {
      key = keys[i]; dm = ""; np = ""; nk = ""; rd = ""; rn = ""
      for (r = 1; r <= rounds[key]; r++) {
        dm = dm " " iops[key, r, "dmstack"]; np = np " " iops[key, r, "dmstack-nopoll"]; nk = nk " " iops[key, r, "nbdkit"]
        rd = rd " " iops[key, r, "dmstack"] / iops[key, r, "nbdkit"]; rn = rn " " iops[key, r, "dmstack-nopoll"] / iops[key, r, "nbdkit"]
      }
      split(key, w, " ")
      printf "| %s %s, %s | %s | %d | %d | %d | %.0f%% (%s) | %.0f%% (%s) |\n", size, w[1], depth, w[2], median(dm), median(np), median(nk), 100 * median(rd), range(rd), 100 * median(rn), range(rn)
    }
  }' size="$size" depth="$depth" "$results"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
