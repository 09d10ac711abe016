# Sourced by nbd-compare.sh and nbd-placement.sh: the NBD servers they start and stop. Each server
# listens on port 0 (so that runs beside each other never take each other's port); pid[SERVER] and
# uri[SERVER] say where it runs and how to reach it, its output goes to $out/SERVER-server.log, and
# errors name the script ($me).
declare -A pid uri

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
