#!/usr/bin/env bash
# Starts and stops a CNCF distribution registry (Debian's docker-registry) on a free loopback port,
# for trying the binaries by hand or from a shell-driven test:
#
#   scripts/registry.sh start DIR   # data in DIR/data, address in DIR/addr, pid in DIR/pid
#   scripts/registry.sh stop DIR
#
# The Go end-to-end tests start their own registries (test/registrytest) and do not need this.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}

die() {
  echo "registry.sh: $*" >&2
  exit 1
}

# ensure_registry installs docker-registry when it is missing, as on a fresh CI machine.
ensure_registry() {
  if command -v docker-registry >/dev/null 2>&1; then
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "registry.sh: docker-registry is not installed; installing the Debian package" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y docker-registry; then
    $sudo apt-get update
    $sudo apt-get install -y docker-registry
  fi
  command -v docker-registry >/dev/null 2>&1 || die "docker-registry is still not on PATH after installing it"
}

# listening PORT succeeds when something accepts connections on 127.0.0.1:PORT.
listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port prints a loopback port nothing listens on. Distribution cannot listen on port 0 and
# report the port it got, so the port is chosen here; start retries if another process takes it
# in between.
free_port() {
  local port tries
  if command -v python3 >/dev/null 2>&1 &&
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) &&
    [[ $port =~ ^[0-9]+$ ]]; then
    echo "$port"
    return
  fi
  for tries in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! listening "$port"; then
      echo "$port"
      return
    fi
  done
  die "found no free port after $tries tries"
}

# v2_status prints the HTTP status of GET /v2/ on 127.0.0.1:PORT ("" when there is no answer).
v2_status() {
  local line
  line=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$1" >&3
    read -r -t 2 status_line <&3 || true
    echo "${status_line:-}"
  ) || true
  # "HTTP/1.0 200 OK"
  line=${line#* }
  echo "${line%% *}"
}

write_config() {
  local dir=$1 port=$2
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF
}

# alive PID succeeds when PID is a running docker-registry (not a recycled pid).
alive() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'docker-registry'
}

# running PID succeeds while PID exists and has not exited (a zombie has).
running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

start() {
  local dir=$1
  ensure_registry
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then
    die "a registry started from $dir is already running (pid $(cat "$dir/pid")); stop it first: $0 stop $dir"
  fi
  local attempt port pid status=""
  for attempt in 1 2 3; do
    port=$(free_port)
    write_config "$dir" "$port"
    # REGISTRY_* variables would override the generated configuration.
    env -i PATH="$PATH" HOME="$dir" nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      if ! running "$pid"; then
        break
      fi
      status=$(v2_status "$port")
      if [ "$status" = 200 ]; then
        echo "127.0.0.1:$port" >"$dir/addr"
        echo "$pid" >"$dir/pid"
        echo "registry.sh: registry on 127.0.0.1:$port (pid $pid, data in $dir/data)" >&2
        return 0
      fi
      sleep 0.1
    done
    if running "$pid"; then
      kill "$pid" 2>/dev/null || true
      die "registry (pid $pid) did not answer GET http://127.0.0.1:$port/v2/ with 200 within 10 s (last status: ${status:-none}); log: $(cat "$dir/registry.log")"
    fi
    echo "registry.sh: registry exited on port $port (attempt $attempt); log:" >&2
    cat "$dir/registry.log" >&2
  done
  die "docker-registry did not start after $attempt attempts; see $dir/registry.log"
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || die "no $dir/pid: no registry was started from $dir"
  pid=$(cat "$dir/pid")
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 1 50); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "registry.sh: pid $pid ignored SIGTERM for 5 s; killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/pid" "$dir/addr"
}

[ $# -eq 2 ] || usage
case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
