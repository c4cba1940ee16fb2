#!/usr/bin/env bash
# bench/run.sh: `hull run --rm busybox true` cold (a JVM per command) and warm
# (bin/hull hands the command to Hull's service, which the first command starts), against
# `podman run --rm busybox true`, with hyperfine.
#
#   bench/run.sh                 # 3 warmups, 30 runs each
#   bench/run.sh --runs N        # N runs (keep >= 20 for numbers you quote)
#   bench/run.sh --quick         # 1 warmup, 8 runs (a smoke test, noisy)
#   bench/run.sh --dir /dev/shm  # stores (HULL_HOME, HULL_STATE, podman's) there
#                                # instead of /tmp
#   bench/run.sh --no-podman     # Hull only
#   bench/run.sh --nice          # run everything (server included) at nice -20:
#                                # on a shared, loaded machine it measures the
#                                # tools rather than the other tenants
#
# Each tool gets its own store in a temp dir (deleted at exit) holding the same
# busybox image: Hull's built-in one, saved and loaded into podman. Podman runs
# with --network none, as Hull does here (a container gets its own loopback only;
# podman's default network set-up alone costs ~250 ms here), runc, cgroupfs and
# file events (no systemd here): on a cgroup v1/hybrid host crun refuses the
# layout; podman's default rlimits (nofile, nproc) can be above this host's hard
# limits, so they are set to 1024 explicitly.
# Prints medians, means and min; raw JSON goes to bench/results/ (git-ignored).
# Needs root. Installs hyperfine, podman, runc, busybox-static when missing;
# builds Hull and (re)trains the AOT cache (scripts/aot-train) when needed.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
runs=30 warmup=3 dir=/tmp podman=true nice=
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) runs=8 warmup=1 ;;
    --runs) runs=$2; shift ;;
    --dir) dir=$2; shift ;;
    --no-podman) podman=false ;;
    --nice) nice="nice -n -20" ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || { echo "bench/run.sh: needs root (containers)" >&2; exit 1; }

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[[ -x /bin/busybox ]] || need+=(busybox-static)
command -v python3 >/dev/null || need+=(python3)
if $podman; then
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
fi
if [[ ${#need[@]} -gt 0 ]]; then
  echo "bench: installing ${need[*]} (apt-get)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
if [[ ! -f $here/target/hull.jar || ! -x $here/target/hull-executor ]]; then
  echo "bench: building Hull (mvn package)" >&2
  (cd "$here" && mvn -q -B -DskipTests package) >/dev/null
fi
if [[ ! $here/target/hull.aot -nt $here/target/hull.jar || ! $here/target/hull.aot -nt $here/target/lib ]]; then
  echo "bench: training the AOT cache (scripts/aot-train)" >&2
  "$here/scripts/aot-train"
fi

work=$(mktemp -d "$dir/hull-bench-run.XXXXXX")
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
export HULL_HOME=$work/home HULL_STATE=$work/state
sock=$work/warm.sock
HULL_COLD_CMD="env HULL_NO_SERVICE=1 $here/bin/hull run --rm --network none busybox true"
HULL_WARM_CMD="env HULL_RUNTIME_SOCKET=$sock $here/bin/hull run --rm --network none busybox true"
P="podman --root $work/podman/root --runroot $work/podman/run --tmpdir $work/podman/tmp --storage-driver overlay"
P="$P --cgroup-manager cgroupfs --events-backend file --runtime runc"
PODMAN_CMD="$P run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 busybox true"

cleanup() {
  set +e
  [[ -n ${server_pid:-} ]] && kill "$server_pid" 2>/dev/null
  left=$(HULL_NO_SERVICE=1 "$here/bin/hull" ps -aq 2>/dev/null)
  [[ -n $left ]] && echo "bench: WARNING: containers left behind: $left" >&2
  if $podman; then
    $P rm -af >/dev/null 2>&1
    $P system reset -f >/dev/null 2>&1
    grep -F " $work/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The image: Hull's built-in busybox (made on first use), the same for podman.
HULL_NO_SERVICE=1 "$here/bin/hull" run --rm busybox true
if $podman; then
  HULL_NO_SERVICE=1 "$here/bin/hull" save -o "$work/busybox.tar" busybox
  $P load -i "$work/busybox.tar" >/dev/null 2>&1
  $PODMAN_CMD || { echo "bench: podman cannot run busybox here" >&2; exit 1; }
fi

# As a new user runs it: no service yet, default settings. The first command runs in its own
# JVM and starts the service in the background (reported on its own, not in the table); the
# service's log goes next to its socket.
first_start=$(date +%s%N)
HULL_RUNTIME_SOCKET=$sock $nice "$here/bin/hull" run --rm --network none busybox true  # $nice: the service inherits it
first_ms=$(( ($(date +%s%N) - first_start) / 1000000 ))
for i in $(seq 300); do HULL_RUNTIME_SOCKET=$sock "$here/bin/hull" version 2>/dev/null | grep -q "Service: *pid" && break; sleep 0.1; done
ready_ms=$(( ($(date +%s%N) - first_start) / 1000000 ))
server_pid=$(HULL_RUNTIME_SOCKET=$sock "$here/bin/hull" version --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Engine"]["Service"]["Pid"])') \
  || { cat "$sock.log" >&2; echo "bench: the service did not start" >&2; exit 1; }
echo "bench: first command (no service yet): ${first_ms} ms; service answering after ${ready_ms} ms" >&2

args=(-n "hull (cold JVM)" "$HULL_COLD_CMD" -n "hull (warm)" "$HULL_WARM_CMD")
# (warm: the service the first command started by itself)
$podman && args+=(-n podman "$PODMAN_CMD")
echo "bench: $runs runs, $warmup warmups, stores in $dir; results in $results/$stamp-run.json" >&2
$nice hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$results/$stamp-run.json" "${args[@]}" \
  > "$work/run.out" 2>&1 || { cat "$work/run.out" >&2; echo "bench: hyperfine failed" >&2; exit 1; }
python3 - "$results/$stamp-run.json" "$dir" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
print("| `run --rm busybox true`, ms (stores in %s) | median | mean | min |" % sys.argv[2])
print("|---|---|---|---|")
med = {}
for r in res:
    t = sorted(r["times"])
    med[r["command"]] = r["median"] * 1e3
    print("| %s | %.1f | %.1f | %.1f |" % (r["command"], r["median"] * 1e3, r["mean"] * 1e3, t[0] * 1e3))
w = med.get("hull (warm)")
for other in ("hull (cold JVM)", "podman"):
    if w and other in med:
        print("\nhull (warm) / %s: %.2fx" % (other, w / med[other]))
PY
echo
echo "First command with no service running (runs in its own JVM, starts the service): ${first_ms} ms;"
echo "the service answered ${ready_ms} ms after that command began."
