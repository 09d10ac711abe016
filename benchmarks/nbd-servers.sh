# Sourced by nbd-compare.sh and nbd-placement.sh: the NBD servers they start and stop, and how the
# kernel schedules the run. Each server
# listens on port 0 (so that runs beside each other never take each other's port); pid[SERVER] and
# uri[SERVER] say where it runs and how to reach it, its output goes to $out/SERVER-server.log, and
# errors name the script ($me).
declare -A pid uri

# The kernel's autogroup scheduling (kernel.sched_autogroup_enabled). Every process a script starts
# shares its session, so autogroup schedules them all as one group; on this machine's kernel (6.18)
# fio then waited up to 300 ms for a CPU, against any server (benchmarks/README.md, round 14).
# AUTOGROUP=off (the default) turns it off for the run when it can (root); keep leaves it.
# autogroup_off does that and sets $autogroup, for the script's header; autogroup_restore, from the
# exit trap, gives the setting back.
AUTOGROUP=${AUTOGROUP:-off}
case "$AUTOGROUP" in
  off | keep) ;;
  *) echo "$me: AUTOGROUP=$AUTOGROUP: off or keep" >&2; exit 2 ;;
esac
autogroup_file=/proc/sys/kernel/sched_autogroup_enabled
autogroup_was=$(cat "$autogroup_file" 2>/dev/null || echo none)
autogroup_off() {
  if [ "$AUTOGROUP" = off ] && [ "$autogroup_was" = 1 ] && ! echo 0 2>/dev/null >"$autogroup_file"; then
    echo "$me: cannot turn autogroup scheduling off (not root?); measuring with it on" >&2
  fi
  case "$(cat "$autogroup_file" 2>/dev/null || echo none)" in
    0) autogroup="autogroup off" ;;
    1) autogroup="autogroup on" ;;
    *) autogroup="no autogroup" ;;
  esac
}
autogroup_restore() {
  [ "$autogroup_was" != 1 ] || echo 1 2>/dev/null >"$autogroup_file" || true
}

# listen_port PID: the TCP port PID listens on, from /proc; nothing while it does not listen yet.
listen_port() {
  local f inodes=" " hex
  for f in /proc/"$1"/fd/*; do
    f=$(readlink "$f" 2>/dev/null) || continue
    case "$f" in socket:*) inodes+="${f//[^0-9]/} " ;; esac
  done
  hex=$(awk -v inodes="$inodes" '$4 == "0A" && index(inodes, " " $10 " ") { split($2, a, ":"); print a[2]; exit }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [ -n "$hex" ] && echo $((16#$hex))
}

# start SERVER EXPORT COMMAND...: starts a server (listening on port 0) and waits until it listens.
start() {
  local server=$1 export=$2 port
  shift 2
  "$@" >"$out/$server-server.log" 2>&1 &
  pid[$server]=$!
  for _ in $(seq 1 300); do
    if port=$(listen_port "${pid[$server]}"); then
      uri[$server]="nbd://127.0.0.1:$port/$export"
      return 0
    fi
    if ! kill -0 "${pid[$server]}" 2>/dev/null; then echo "$me: $server died:" >&2; cat "$out/$server-server.log" >&2; exit 1; fi
    sleep 0.1
  done
  echo "$me: $server does not listen" >&2; cat "$out/$server-server.log" >&2; exit 1
}

# stop SERVER: stops it and waits for it to end.
stop() {
  if [ -n "${pid[$1]:-}" ]; then
    kill "${pid[$1]}" 2>/dev/null || true
    wait "${pid[$1]}" 2>/dev/null || true
    unset "pid[$1]"
  fi
}
