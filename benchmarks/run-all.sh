#!/usr/bin/env bash
# The full benchmark run: builds the benchmarks module, runs the NBD comparison (fio against
# dmstack's export, nbdkit's memory plugin and qemu-nbd) and every JMH benchmark and probe, and writes the
# report (report.md, chart.png, results.json) into benchmarks/results/ (or OUT).
#
# Usage: benchmarks/run-all.sh [--no-build] [--no-nbd] [--only REGEX]
# Environment: OUT (default benchmarks/results); ROUNDS/RUNTIME/WARMUP/SIZE for the NBD part (see nbd-compare.sh);
# FORKS=N measures the paired ratios in N fresh JVMs each (default 1; each fork takes the ~13 minutes of one).
# Takes about 25 minutes on 2 cores. Without fio, nbdkit or qemu-nbd the NBD part is left out, and the report says so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${OUT:-$here/results}
build=1
nbd=1
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --no-nbd) nbd=0 ;;
    --only) only=(--only "$2"); shift ;;
    *) echo "usage: benchmarks/run-all.sh [--no-build] [--no-nbd] [--only REGEX]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$build" = 1 ]; then
  echo "== building (scripts/mvn -pl benchmarks -am package -DskipTests)"
  "$root/scripts/mvn" -B -q -pl benchmarks -am package -DskipTests
fi
JAVA=$("$root/scripts/jdk25")/bin/java
CP="$here/target/classes:$here/target/lib/*"
mkdir -p "$out"

fio_args=()
if [ "$nbd" = 1 ]; then
  echo "== NBD: fio against dmstack, nbdkit and qemu-nbd"
  status=0
  JAVA="$JAVA" DMSTACK_BENCH_CP="$CP" "$here/nbd-compare.sh" "$out/fio" || status=$?
  if [ "$status" = 0 ]; then
    fio_args=(--fio "$out/fio")
  elif [ "$status" = 3 ]; then
    echo "== NBD comparison skipped (fio with the nbd engine, nbdkit or qemu-nbd is missing)"
  else
    exit "$status"
  fi
fi

echo "== JMH benchmarks, force census and scale probe"
# The DAX copy routines compiled apart, for the paired ratios run in this JVM (DaxBench says why).
"$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Djava.awt.headless=true "-Ddmstack.bench.forks=${FORKS:-1}" \
  -XX:CompileCommand=quiet '-XX:CompileCommand=dontinline,org.dmstack.memory.Memory::copy*' \
  -cp "$CP" org.dmstack.bench.RunAll --full --out "$out" "${fio_args[@]}" "${only[@]}"
