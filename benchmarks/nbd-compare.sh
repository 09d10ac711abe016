#!/usr/bin/env bash
# The NBD path: the same fio workloads (fio's nbd ioengine, over libnbd) against dmstack's NBD export
# (a brd RAM disk, org.dmstack.bench.NbdBenchServer) and nbdkit's memory plugin, both on 127.0.0.1,
# one after the other in one run; then both side by side. Then the mixed workload on each server:
# two fio jobs of 4 KiB random writes at queue depth 16 with crc32c verification, beside two small
# probers (org.dmstack.bench.NbdProber) that connect, write 4 KiB, read it back and disconnect, again
# and again; its figure is the tail of fio's completion latency (p99.9 and max), not throughput.
#
# Usage: benchmarks/nbd-compare.sh [OUT_DIR]       (default benchmarks/results/fio)
# Environment:
#   RUNTIME   seconds per measured workload (default 10)
#   WARMUP    seconds of 4 KiB random writes before measuring, per server (default 5)
#   SIZE      size of both disks (default 1G); every byte is written before the reads
#   LAYER     what dmstack exports: brd (default) or linear (dm-linear over brd); the mixed
#             workload always runs on dm-linear over brd
#   DMSTACK_BENCH_CP  class path of the benchmarks module (default: its target/classes and target/lib)
#   JAVA      java binary (default: the JDK 25 scripts/jdk25 finds)
# Needs: fio with the nbd engine and nbdkit (Debian: apt-get install fio nbdkit). Exits 3 without them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$here/results/fio}
RUNTIME=${RUNTIME:-10}
WARMUP=${WARMUP:-5}
SIZE=${SIZE:-1G}
LAYER=${LAYER:-brd}
CP=${DMSTACK_BENCH_CP:-$here/target/classes:$here/target/lib/*}
JAVA=${JAVA:-$("$root/scripts/jdk25")/bin/java}

for tool in fio nbdkit; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "nbd-compare: $tool is not installed (Debian: apt-get install -y fio nbdkit)" >&2
    exit 3
  fi
done
if ! fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*nbd'; then
  echo "nbd-compare: this fio has no nbd ioengine (fio --enghelp does not list it)" >&2
  exit 3
fi

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.log

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "nbd-compare: no free port from $1" >&2
  exit 1
}

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

wait_listening() { # port, log
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then echo "nbd-compare: server died:" >&2; cat "$2" >&2; exit 1; fi
    sleep 0.1
  done
  echo "nbd-compare: server did not listen on $1" >&2; cat "$2" >&2; exit 1
}

# fio NAME URI RW BS QD [extra fio options...]: one measured run, JSON into $out/NAME.json
run_fio() {
  local name=$1 uri=$2 rw=$3 bs=$4 qd=$5
  shift 5
  fio --name="$name" --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" --iodepth="$qd" \
      --numjobs=1 --randrepeat=1 --norandommap "$@" \
      --output-format=json --output="$out/$name.json" >"$out/$name.log" 2>&1 \
    || { echo "nbd-compare: fio $name failed:" >&2; cat "$out/$name.log" >&2; exit 1; }
}

bench_server() { # label uri
  local label=$1 uri=$2
  echo "== $label: $uri"
  # Fill the whole disk (so reads copy real pages on both sides), then warm up.
  run_fio "$label-fill" "$uri" write 1m 4
  run_fio "$label-warmup" "$uri" randwrite 4k 32 --runtime="$WARMUP" --time_based
  local t=(--runtime="$RUNTIME" --time_based)
  run_fio "$label-randread-4k-qd1" "$uri" randread 4k 1 "${t[@]}"
  run_fio "$label-randread-4k-qd32" "$uri" randread 4k 32 "${t[@]}"
  run_fio "$label-randwrite-4k-qd1" "$uri" randwrite 4k 1 "${t[@]}"
  run_fio "$label-randwrite-4k-qd32" "$uri" randwrite 4k 32 "${t[@]}"
  run_fio "$label-read-1m" "$uri" read 1m 1 "${t[@]}"
  run_fio "$label-write-1m" "$uri" write 1m 1 "${t[@]}"
  rm -f "$out/$label-fill.json" "$out/$label-warmup.json"
}

# mixed LABEL PORT EXPORT: the mixed workload, fio JSON into $out/LABEL-mixed-1.json and -2.json
mixed() {
  local label=$1 port=$2 export=$3
  local uri="nbd://127.0.0.1:$port/$export" quarter=$(($(numfmt --from=iec "$SIZE") / 4))
  echo "== $label: mixed workload on $uri"
  local pids=() i
  for i in 1 2; do
    "$JAVA" -cp "$CP" org.dmstack.bench.NbdProber 127.0.0.1 "$port" "$export" $((3 * quarter + (i - 1) * 1048576)) "$RUNTIME" \
      >"$out/$label-prober-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2; do
    fio --name="$label-mixed-$i" --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=16 --numjobs=1 \
        --offset=$(((i - 1) * quarter)) --size="$quarter" --verify=crc32c --verify_backlog=1024 --verify_state_save=0 \
        --runtime="$RUNTIME" --time_based --output-format=json --output="$out/$label-mixed-$i.json" >"$out/$label-mixed-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || { echo "nbd-compare: the mixed workload on $label failed:" >&2; cat "$out/$label"-mixed-*.log "$out/$label"-prober-*.log >&2; exit 1; }
  done
}

# dmstack: brd (or dm-linear over brd) exported by nbd-export.
port=$(free_port 10810)
"$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$CP" \
  org.dmstack.bench.NbdBenchServer "$port" "$SIZE" "$LAYER" >"$out/dmstack-server.log" 2>&1 &
server_pid=$!
wait_listening "$port" "$out/dmstack-server.log"
bench_server dmstack "nbd://127.0.0.1:$port/disk"
stop_server

# dmstack again, for the mixed workload: dm-linear over brd.
port=$(free_port 10810)
"$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$CP" \
  org.dmstack.bench.NbdBenchServer "$port" "$SIZE" linear >"$out/dmstack-mixed-server.log" 2>&1 &
server_pid=$!
wait_listening "$port" "$out/dmstack-mixed-server.log"
mixed dmstack "$port" disk
stop_server

# nbdkit's memory plugin, as shipped (default thread model and threads).
port=$(free_port 10810)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$port" memory "$SIZE" >"$out/nbdkit-server.log" 2>&1 &
server_pid=$!
wait_listening "$port" "$out/nbdkit-server.log"
bench_server nbdkit "nbd://127.0.0.1:$port/"
mixed nbdkit "$port" ""
stop_server

{
  echo "fio $(fio --version | sed 's/^fio-//'), nbdkit $(nbdkit --version | awk '{print $2}'), dmstack export: $LAYER, size $SIZE, ${RUNTIME}s per workload, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$out/about.txt"
cat "$out/about.txt"
"$JAVA" -cp "$CP" org.dmstack.bench.FioResults "$out"
