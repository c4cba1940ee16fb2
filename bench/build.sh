#!/usr/bin/env bash
# bench/build.sh: `hull build` against `buildah bud` (Debian's buildah) and
# docker's legacy builder (DOCKER_BUILDKIT=0, Debian's dockerd), side by side
# in one run, on the same Dockerfile, context and busybox image.
#
#   bench/build.sh               # 5 timed runs per case
#   bench/build.sh --runs N      # N timed runs per case
#   bench/build.sh --only LIST   # peers: hull,hull-warm,buildah,docker (default all)
#
# The Dockerfile has three stages (busybox: no Debian image is reachable
# offline): deps (files made by a RUN), build (COPY --from=deps, COPY of the
# source tree, a RUN that "compiles" it with awk and tars it) and the runtime
# stage (COPY --from=build). Every builder runs its RUN steps with --network
# none and its own store under a temp dir.
# Cases (hyperfine -N, medians):
#   cold     --no-cache: every step runs
#   cached   the same build again: every step from the cache
#   touched  one source file changed before each run (--prepare): the steps
#            from its COPY on run again
# Peers:
#   hull       bin/hull with HULL_NO_SERVICE=1: a JVM per command (AOT cache)
#   hull-warm  bin/hull through a service of its own (hull system service on a
#              private socket): no JVM start
#   buildah    buildah bud, --root/--runroot private, overlay, runc (its default
#              crun refuses hybrid cgroups)
#   docker     docker build (legacy builder) against a dockerd of its own
#              (private data-root, exec-root, socket; its own containerd)
# Results: a table (ms) and hull/best-peer ratios; raw hyperfine JSON in
# bench/results/STAMP-build-CASE.json.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=5
only=hull,hull-warm,buildah,docker
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "bench/build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
want() { [[ ,$only, == *,$1,* ]]; }
source "$here/bench/lib.sh"
bench_prepare bench/build.sh "containers" buildah docker.io hyperfine busybox-static python3
if [[ ! $here/target/hull.aot -nt $here/target/hull.jar || ! $here/target/hull.aot -nt $here/target/lib ]]; then
  echo "bench: training the AOT cache (scripts/aot-train)" >&2 # the hull column's JVM starts with it
  "$here/scripts/aot-train"
fi

work=$(mktemp -d /tmp/hull-bench-build.XXXXXX)
chmod 711 "$work"
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
DOCKER=/usr/bin/docker   # docker.io's CLI (another may be first on PATH)
export HULL_HOME=$work/hull-home HULL_STATE=$work/hull-state
cleanup() {
  set +e
  [[ -n ${service_pid:-} ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  [[ -n ${dockerd_pid:-} ]] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  buildah --root "$work/buildah-root" --runroot "$work/buildah-runroot" rm -a >/dev/null 2>&1
  for pid in $(pgrep -f -- "$work/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the context -----------------------------------------------------------
ctx=$work/ctx
mkdir -p "$ctx/src"
for i in $(seq 1 50); do seq "$i" $((i * 40)) > "$ctx/src/part$i.txt"; done
echo "v1" > "$ctx/src/version.txt"
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox AS deps
RUN mkdir -p /deps && for i in $(seq 1 100); do echo "dep $i" > /deps/d$i; done

FROM busybox AS build
COPY --from=deps /deps /deps
COPY src/ /src/
RUN cd /src && awk '{ s += $1 } END { print "sum", s }' part*.txt > /app.out \
    && cat version.txt >> /app.out && tar -cf /app.tar -C /src .

FROM busybox
COPY --from=build /app.out /app.tar /app/
CMD ["cat", "/app/app.out"]
EOF
touch_cmd="sh -c 'date +%s%N > $ctx/src/version.txt'"

# --- the image, in every store ----------------------------------------------
HULL="env HULL_NO_SERVICE=1 $here/bin/hull"
$HULL save -o "$work/busybox.tar" busybox
BUILDAH="buildah --root $work/buildah-root --runroot $work/buildah-runroot --storage-driver overlay"
if want buildah; then
  $BUILDAH pull -q docker-archive:"$work/busybox.tar" >/dev/null
  $BUILDAH tag "$($BUILDAH images -q | head -1)" busybox >/dev/null
fi
D="$DOCKER -H unix://$work/docker.sock"
if want docker; then
  echo '{}' > "$work/daemon.json"
  dockerd --config-file "$work/daemon.json" --data-root "$work/docker-data" --exec-root "$work/docker-exec" \
    -H "unix://$work/docker.sock" --pidfile "$work/dockerd.pid" --bridge=none --iptables=false \
    --ip6tables=false --ip-masq=false --cgroup-parent /hull-bench-build-docker >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 600); do $D version >/dev/null 2>&1 && break; sleep 0.05; done
  export DOCKER_CONFIG=$work/docker-cli
  $D load -q -i "$work/busybox.tar" >/dev/null
fi
if want hull-warm; then
  HULL_NO_SERVICE=1 "$here/bin/hull" system service --socket "$work/warm.sock" --docker-socket none \
    >"$work/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 300); do [[ -S $work/warm.sock ]] && break; sleep 0.1; done
fi

# --- the commands -------------------------------------------------------------
names=() cold=() cached=()
if want hull; then
  names+=(hull)
  cold+=("$HULL build -q --no-cache --network none -t bench:hull $ctx")
  cached+=("$HULL build -q --network none -t bench:hull $ctx")
fi
if want hull-warm; then
  W="env HULL_RUNTIME_SOCKET=$work/warm.sock $here/bin/hull"
  names+=(hull-warm)
  cold+=("$W build -q --no-cache --network none -t bench:warm $ctx")
  cached+=("$W build -q --network none -t bench:warm $ctx")
fi
if want buildah; then
  names+=(buildah)
  cold+=("$BUILDAH bud -q --runtime /usr/sbin/runc --no-cache --network none --layers -t bench:buildah $ctx")
  cached+=("$BUILDAH bud -q --runtime /usr/sbin/runc --network none --layers -t bench:buildah $ctx")
fi
if want docker; then
  names+=(docker)
  cold+=("env DOCKER_BUILDKIT=0 DOCKER_CONFIG=$work/docker-cli $D build -q --no-cache --network none -t bench:docker $ctx")
  cached+=("env DOCKER_BUILDKIT=0 DOCKER_CONFIG=$work/docker-cli $D build -q --network none -t bench:docker $ctx")
fi
for i in "${!names[@]}"; do # each must work before it is timed
  echo "bench: ${names[$i]}: a first build" >&2
  bash -c "${cached[$i]}" >"$work/first-${names[$i]}.log" 2>&1 || { cat "$work/first-${names[$i]}.log" >&2; exit 1; }
done
hf() { # hf CASE PREPARE COMMANDS...
  local case=$1 prep=$2; shift 2
  local args=(-N --runs "$runs" --export-json "$results/$stamp-build-$case.json" --style basic)
  [[ $case == cached ]] && args+=(--warmup 1)
  [[ -n $prep ]] && args+=(--prepare "$prep")
  local i=0
  for c in "$@"; do args+=(-n "${names[$i]}" "$c"); i=$((i + 1)); done
  echo "bench: $case" >&2
  hyperfine "${args[@]}" >"$work/hf-$case.log" 2>&1 || { cat "$work/hf-$case.log" >&2; exit 1; }
}
hf cold "" "${cold[@]}"
hf cached "" "${cached[@]}"
hf touched "$touch_cmd" "${cached[@]}"

# --- report -----------------------------------------------------------------
python3 - "$results" "$stamp" "$runs" <<'PY'
import json, os, sys
results, stamp, runs = sys.argv[1:4]
cases = [("cold", "cold (--no-cache)"), ("cached", "fully cached rebuild"), ("touched", "one source file changed")]
rows = {}
for key, _ in cases:
    with open(os.path.join(results, f"{stamp}-build-{key}.json")) as f:
        rows[key] = {r["command"]: r["median"] * 1000 for r in json.load(f)["results"]}
names = list(rows["cold"])
peers = [n for n in names if not n.startswith("hull")]
print(f"\nhull build vs peers: medians in ms ({runs} runs each, hyperfine -N); 3-stage Dockerfile, busybox\n")
head = f"| {'case':<24} | " + " | ".join(f"{n:>9}" for n in names)
hulls = [n for n in names if n.startswith("hull")]
if peers:
    head += " | " + " | ".join(f"{h + '/best':>14}" for h in hulls)
print(head + " |")
print("|" + "-" * 26 + "|" + "|".join("-" * 11 for _ in names) + ("|" + "|".join("-" * 16 for _ in hulls) if peers else "") + "|")
for key, label in cases:
    r = rows[key]
    line = f"| {label:<24} | " + " | ".join(f"{r[n]:9.0f}" for n in names)
    if peers:
        best = min(r[p] for p in peers)
        line += " | " + " | ".join(f"{r[h] / best:13.2f}x" for h in hulls)
    print(line + " |")
PY
