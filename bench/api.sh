#!/usr/bin/env bash
# bench/api.sh: the Docker Engine API served by Hull, by dockerd and by `podman system
# service`, driven by the same docker CLI, side by side in one run: what a docker user,
# docker-compose or Testcontainers waits for.
#
#   bench/api.sh              # 2 warmups, 15 runs per latency row
#   bench/api.sh --runs N     # N runs (hyperfine -r)
#   bench/api.sh --quick      # 1 warmup, 5 runs, 20 containers (a smoke test, noisy)
#
# Rows (each: hull, dockerd, podman; the same busybox image in each, --network none
# everywhere, so no server's network set-up is measured):
#   docker run --rm busybox true        median ms (hyperfine -N)
#   docker ps -a with N containers      median ms (N created containers, default 100); and the
#                                       CLI's floor: ps -a against a stub (python) that answers
#                                       dockerd's very listing at once
#   server CPU per listing              ms of the server process's CPU per GET /containers/json?all=1
#                                       (curl, one keep-alive connection): the server's part alone
#   N x docker run -d ... at once       wall seconds until all N have been started
#   server RSS, idle and with N         MiB: the Hull service's JVM; dockerd + its containerd;
#                                       podman's service (per-container conmon not counted
#                                       for anyone: Hull's monitors and the shims neither)
# The Testcontainers start-to-green row of the issue is left out: Testcontainers needs its
# Ryuk image from Docker Hub, which this host cannot reach (src/test/.../TestcontainersTest
# runs it with Ryuk off, as a test, not a benchmark).
#
# Every server runs in its own root, state dirs and socket under a temp dir (never the
# host's /var/lib/docker, /run/docker.sock, /var/lib/containers, /run/hull), all removed at
# exit. Needs root; installs docker.io, podman, hyperfine, busybox-static with apt-get when
# missing; builds Hull when its jar is missing.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
runs=15 warmup=2 many=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --quick) runs=5 warmup=1 many=20 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "bench/api.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
source "$here/bench/lib.sh"
bench_prepare bench/api.sh "containers" docker.io podman runc hyperfine busybox-static python3

work=$(mktemp -d /tmp/hull-bench-api.XXXXXX)
chmod 711 "$work"
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
DOCKER=/usr/bin/docker # docker.io's CLI, the same client for all three
export DOCKER_CONFIG=$work/docker-cli
SERVERS=(hull dockerd podman)
declare -A SOCK=([hull]=$work/hull-docker.sock [dockerd]=$work/dockerd.sock [podman]=$work/podman.sock)
D() { local s=$1; shift; $DOCKER -H "unix://${SOCK[$s]}" "$@"; }

cleanup() {
  set +e
  for s in "${SERVERS[@]}"; do
    [[ -S ${SOCK[$s]} ]] || continue
    ids=$(D "$s" ps -aq --filter label=hull-bench-api 2>/dev/null)
    [[ -n $ids ]] && D "$s" rm -f $ids >/dev/null 2>&1
  done
  [[ -n ${stub_pid:-} ]] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
  [[ -n ${podman_pid:-} ]] && kill "$podman_pid" 2>/dev/null && wait "$podman_pid" 2>/dev/null
  [[ -n ${dockerd_pid:-} ]] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  [[ -n ${hull_pid:-} ]] && kill "$hull_pid" 2>/dev/null && wait "$hull_pid" 2>/dev/null
  for pid in $(pgrep -f -- "$work/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  for c in hull-bench-api-docker hull-bench-api-podman; do
    for h in /sys/fs/cgroup/*/; do
      [[ -d $h$c && ! -L ${h%/} ]] && find "$h$c" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

await() { # await SERVER PID LOG
  for _ in $(seq 600); do D "$1" version >/dev/null 2>&1 && return 0; kill -0 "$2" 2>/dev/null || break; sleep 0.05; done
  cat "$3" >&2; echo "bench: $1 did not answer on ${SOCK[$1]}" >&2; exit 1
}

# --- the servers --------------------------------------------------------------
export HULL_HOME=$work/hull-home HULL_STATE=$work/hull-state
HULL_NO_SERVICE=1 "$here/bin/hull" save -o "$work/busybox.tar" busybox >/dev/null 2>&1 \
  || { echo "bench: hull save busybox failed" >&2; exit 1; }
HULL_NO_SERVICE=1 "$here/bin/hull" system service --socket "$work/hull.sock" --docker-socket "${SOCK[hull]}" \
  --idle-timeout 0 >"$work/hull.log" 2>&1 &
hull_pid=$!
await hull "$hull_pid" "$work/hull.log"

echo '{}' > "$work/daemon.json"
dockerd --config-file "$work/daemon.json" --data-root "$work/docker-data" --exec-root "$work/docker-exec" \
  -H "unix://${SOCK[dockerd]}" --pidfile "$work/dockerd.pid" --cgroup-parent /hull-bench-api-docker \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
await dockerd "$dockerd_pid" "$work/dockerd.log"

printf '[engine]\nvolume_path = "%s/podman-volumes"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' "$work" \
  > "$work/containers.conf"
CONTAINERS_CONF=$work/containers.conf podman --root "$work/podman-root" --runroot "$work/podman-runroot" \
  --tmpdir "$work/podman-tmp" --network-config-dir "$work/podman-net" --storage-driver overlay --runtime runc \
  system service --time 0 "unix://${SOCK[podman]}" >"$work/podman.log" 2>&1 &
podman_pid=$!
await podman "$podman_pid" "$work/podman.log"

for s in dockerd podman; do D "$s" load -i "$work/busybox.tar" >/dev/null; done
# podman names a loaded image localhost/busybox; docker.io/library/busybox everywhere else
D podman tag localhost/busybox:latest docker.io/library/busybox:latest >/dev/null 2>&1 || true
RUNARGS="--network none --label hull-bench-api=1 --ulimit nofile=20000:20000 --ulimit nproc=4096:4096"
for s in "${SERVERS[@]}"; do
  D "$s" run --rm $RUNARGS busybox true || { echo "bench: docker run through $s fails" >&2; exit 1; }
done

rss() { # rss PID...: the processes' resident MiB, summed
  local kb=0
  for p in "$@"; do
    [[ -r /proc/$p/status ]] && kb=$((kb + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status")))
  done
  echo $((kb / 1024))
}
server_pids() {
  case $1 in
    hull) echo "$hull_pid" ;;
    dockerd) echo "$dockerd_pid $(pgrep -f -- "containerd.*$work/docker-exec" | tr '\n' ' ')" ;;
    podman) echo "$podman_pid" ;;
  esac
}
declare -A IDLE WITH STARTALL
for s in "${SERVERS[@]}"; do IDLE[$s]=$(rss $(server_pids "$s")); done

# --- latency: run --rm ----------------------------------------------------------
echo "bench: docker run --rm busybox true ($runs runs, $warmup warmups)" >&2
args=()
for s in "${SERVERS[@]}"; do args+=(-n "$s" "$DOCKER -H unix://${SOCK[$s]} run --rm $RUNARGS busybox true"); done
hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$results/$stamp-api-run.json" "${args[@]}" \
  >"$work/run.out" 2>&1 || { cat "$work/run.out" >&2; exit 1; }

# --- many containers: N at once, then ps -a with N --------------------------------
for s in "${SERVERS[@]}"; do
  echo "bench: $many x docker run -d through $s, at once" >&2
  t0=$(date +%s%N)
  jobs=()
  for i in $(seq "$many"); do
    D "$s" run -d $RUNARGS busybox sleep 3600 >/dev/null 2>>"$work/many-$s.err" &
    jobs+=($!)
  done
  wait "${jobs[@]}" || true # these only: the servers are this shell's background jobs too
  STARTALL[$s]=$(( ($(date +%s%N) - t0) / 1000000 ))
  up=$(D "$s" ps -q --filter label=hull-bench-api | wc -l)
  [[ $up -ge $many ]] || { cat "$work/many-$s.err" >&2; echo "bench: only $up of $many run through $s" >&2; exit 1; }
  WITH[$s]=$(rss $(server_pids "$s"))
done
echo "bench: docker ps -a with $many containers" >&2
curl -s --unix-socket "${SOCK[dockerd]}" "http://x/v1.41/containers/json?all=1" > "$work/dockerd-list.json"
python3 - "$work/stub.sock" "$work/dockerd-list.json" >"$work/stub.log" 2>&1 <<'PY' &
import http.server, socketserver, sys
body = open(sys.argv[2], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def address_string(self): return "stub"
    def answer(self, b, t):
        self.send_response(200); self.send_header("Content-Type", t); self.send_header("Api-Version", "1.41")
        self.send_header("Content-Length", str(len(b))); self.end_headers()
        if self.command != "HEAD": self.wfile.write(b)
    def do_HEAD(self): self.answer(b"", "text/plain")
    def do_GET(self):
        self.answer(body, "application/json") if "/containers/json" in self.path else self.answer(b"OK", "text/plain")
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer): daemon_threads = True
S(sys.argv[1], H).serve_forever()
PY
stub_pid=$!
for _ in $(seq 100); do [[ -S $work/stub.sock ]] && break; sleep 0.05; done
args=()
for s in "${SERVERS[@]}"; do args+=(-n "$s" "$DOCKER -H unix://${SOCK[$s]} ps -a"); done
args+=(-n floor "$DOCKER -H unix://$work/stub.sock ps -a")
hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$results/$stamp-api-ps.json" "${args[@]}" \
  >"$work/ps.out" 2>&1 || { cat "$work/ps.out" >&2; exit 1; }

# --- server side: CPU per listing --------------------------------------------------
# The docker CLI's own work is most of a `docker ps` (its start, its table): this row is the
# servers' alone, the CPU time (user + system, from /proc) their process spends per GET
# /containers/json?all=1 over one keep-alive connection (curl), after 50 to warm up.
cpu_ms() { # cpu_ms SERVER N: ms of the server process's CPU per listing request
  local s=$1 n=$2 pid args=() a b
  pid=${3:-$(server_pids "$s" | cut -d' ' -f1)}
  for _ in $(seq "$n"); do args+=(-o /dev/null "http://x/v1.41/containers/json?all=1"); done
  ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'; }
  a=$(ticks)
  curl -s --unix-socket "${SOCK[$s]}" "${args[@]}"
  b=$(ticks)
  awk -v d=$((b - a)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", d * 1000 / hz / n}'
}
declare -A LISTCPU
for s in "${SERVERS[@]}"; do
  echo "bench: server CPU per GET /containers/json?all=1 through $s" >&2
  cpu_ms "$s" 50 >/dev/null
  LISTCPU[$s]=$(cpu_ms "$s" $((runs * 20)))
done

# --- report ---------------------------------------------------------------------
python3 - "$results" "$stamp" "$many" "${STARTALL[hull]}" "${STARTALL[dockerd]}" "${STARTALL[podman]}" \
  "${IDLE[hull]}" "${IDLE[dockerd]}" "${IDLE[podman]}" "${WITH[hull]}" "${WITH[dockerd]}" "${WITH[podman]}" \
  "$($DOCKER version --format '{{.Client.Version}}' 2>/dev/null)" \
  "${LISTCPU[hull]}" "${LISTCPU[dockerd]}" "${LISTCPU[podman]}" <<'PY'
import json, os, sys
results, stamp, many = sys.argv[1], sys.argv[2], sys.argv[3]
start = [int(x) / 1000 for x in sys.argv[4:7]]
idle = [int(x) for x in sys.argv[7:10]]
with_ = [int(x) for x in sys.argv[10:13]]
client = sys.argv[13]
listcpu = [float(x) for x in sys.argv[14:17]]
def med(key):
    with open(os.path.join(results, f"{stamp}-api-{key}.json")) as f:
        r = {x["command"]: x["median"] * 1000 for x in json.load(f)["results"]}
    return [r["hull"], r["dockerd"], r["podman"]] + ([r["floor"]] if "floor" in r else [])
rows = [("`docker run --rm busybox true`, median ms", med("run"), "%.1f"),
        (f"`docker ps -a` with {many} containers, median ms", med("ps")[:3], "%.1f"),
        (f"server CPU per GET /containers/json?all=1 ({many} containers), ms", listcpu, "%.2f"),
        (f"{many} x `docker run -d` at once, s until all started", start, "%.2f"),
        ("server RSS idle, MiB", idle, "%d"),
        (f"server RSS with {many} containers, MiB", with_, "%d")]
print(f"\nThe same docker CLI ({client}) against each server's API; --network none everywhere.\n")
print("| | hull | dockerd | podman service | hull/dockerd | hull/podman |")
print("|---|---|---|---|---|---|")
for label, (h, d, p), fmt in rows:
    cells = " | ".join(fmt % v for v in (h, d, p))
    print(f"| {label} | {cells} | {h / d:.2f}x | {h / p:.2f}x |")
floor = med("ps")[3]
print(f"\nThe docker CLI's floor for `docker ps -a` (a stub answering dockerd's listing of {many} at once):"
      f" {floor:.1f} ms median, i.e. {floor / med('ps')[1]:.2f}x dockerd's.")
PY
