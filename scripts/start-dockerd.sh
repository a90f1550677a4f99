#!/usr/bin/env bash
# Starts a Docker engine for understudy's Docker runtime tests, or reuses one that
# already answers. Idempotent; waits for the engine's socket with a deadline.
#
#   ./scripts/start-dockerd.sh            # start (as root) or reuse; prints the socket
#   DOCKERD_LOG=/tmp/dockerd.log DOCKERD_DATA_ROOT=/var/lib/docker ./scripts/start-dockerd.sh
#
# The engine runs with flags that work in unprivileged CI sandboxes: no iptables
# rules (understudy publishes ports on 127.0.0.1 only, through docker-proxy), the
# vfs storage driver unless overlay2 works. The pid of a started engine is written
# to $DOCKERD_PIDFILE so the caller can stop exactly that process.
set -euo pipefail

socket="${DOCKER_HOST:-unix:///var/run/docker.sock}"
socket="${socket#unix://}"
log="${DOCKERD_LOG:-/tmp/understudy-dockerd.log}"
data_root="${DOCKERD_DATA_ROOT:-/var/lib/docker}"
pidfile="${DOCKERD_PIDFILE:-/tmp/understudy-dockerd.pid}"
deadline_seconds="${DOCKERD_START_DEADLINE:-60}"

answers() {
  curl -sf --max-time 2 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1
}

if answers; then
  echo "start-dockerd.sh: engine already answers on $socket"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-dockerd.sh: dockerd is not installed (apt-get install docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "start-dockerd.sh: starting dockerd needs root" >&2
  exit 1
fi

driver="${DOCKERD_STORAGE_DRIVER:-}"
if [ -z "$driver" ]; then
  # overlay2 when this kernel lets us mount an overlay here, else vfs.
  probe="$(mktemp -d)"
  mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" \
      "$probe/m" >/dev/null 2>&1; then
    umount "$probe/m"
    driver=overlay2
  else
    driver=vfs
  fi
  rm -rf "$probe"
fi

mkdir -p "$data_root" "$(dirname "$socket")"
setsid dockerd --host "unix://$socket" --data-root "$data_root" --storage-driver "$driver" \
  --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=true \
  --pidfile "$pidfile.engine" >"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"

for _ in $(seq 1 $((deadline_seconds * 10))); do
  if answers; then
    echo "start-dockerd.sh: dockerd (pid $pid, storage $driver) answers on $socket; log: $log"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-dockerd.sh: dockerd exited; the end of its log ($log):" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "start-dockerd.sh: dockerd did not answer on $socket within ${deadline_seconds}s; log: $log" >&2
tail -n 30 "$log" >&2
exit 1
