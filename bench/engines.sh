#!/usr/bin/env bash
# bench/engines.sh: Hull's OCI runtime under real engines, against runc and
# crun in the same engine, side by side: what an operator waits for.
#
#   bench/engines.sh            # 2 warmups, 10 runs per command
#   bench/engines.sh --runs N   # N runs (hyperfine -r)
#
# Rows (each: Hull warm, runc, crun as the engine's runtime):
#   ctr run --rm ... true               containerd 1.6 + its runc shim (--runc-binary)
#   ctr task exec ... true              into a running container
#   podman run --rm --network none ... true     (podman 4.3, conmon)
#   podman exec ... true
#   docker run --rm --network none ... true     (dockerd 20.10 --add-runtime)
#   docker exec ... true
# The CRI pod start row (crictl runp+create+start) is left out: crictl is not
# packaged in Debian 12 and is not built here; the CRI path is tested by
# src/test/cri/dev/hull/engines/ContainerdCriTest.java.
#
# Hull warm = bin/hull-runtime with a `hull runtime-server` of this script's own
# listening on HULL_RUNTIME_SOCKET (the static client, no JVM per call).
# crun refuses this host's hybrid cgroup layout, so (as in bench/runtime.sh) it
# runs in a private mount namespace without /sys/fs/cgroup/unified; runc is not
# wrapped. Every engine runs in its own root, state dirs and socket under a temp
# dir (never the host's /run/containerd, /var/lib/docker, ...), all removed at
# exit. Prints medians (ms) and the ratios hull/runc, hull/crun. Needs root;
# installs containerd, runc, crun, podman, docker.io, hyperfine with apt-get
# when missing; builds Hull when its jar is missing.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
runs=10 warmup=2
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "bench/engines.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
source "$here/bench/lib.sh"
bench_prepare bench/engines.sh "containers" containerd runc crun podman docker.io hyperfine busybox-static python3

work=$(mktemp -d /tmp/hull-bench-engines.XXXXXX)
chmod 711 "$work"
results=$here/bench/results
mkdir -p "$results" "$work/bin"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
ns=hull-bench
DOCKER=/usr/bin/docker   # docker.io's CLI (another may be first on PATH)

cleanup() {
  set +e
  if [[ -S $work/docker.sock ]]; then
    $DOCKER -H "unix://$work/docker.sock" rm -f bench-hull bench-runc bench-crun >/dev/null 2>&1
  fi
  [[ -n ${dockerd_pid:-} ]] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  if [[ -n ${containerd_pid:-} ]]; then
    for t in bench-hull bench-runc bench-crun; do
      ctr -a "$work/containerd.sock" -n $ns task kill -s KILL $t >/dev/null 2>&1
      ctr -a "$work/containerd.sock" -n $ns task delete -f $t >/dev/null 2>&1
      ctr -a "$work/containerd.sock" -n $ns containers rm $t >/dev/null 2>&1
    done
    kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
  fi
  [[ -n ${podman_ok:-} ]] && P rm -a -f -t 0 >/dev/null 2>&1 && P system reset -f >/dev/null 2>&1
  [[ -n ${server_pid:-} ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  # shims and conmons of ours that outlived their engine
  for pid in $(pgrep -f -- "$work/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  for c in $ns hull-bench-docker hull-bench-podman $([[ -z ${had_libpod:-} ]] && echo libpod_parent); do
    for h in /sys/fs/cgroup/*/; do
      [[ -d $h$c && ! -L ${h%/} ]] && find "$h$c" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- runtimes: the paths the engines are given ----------------------------
cat > "$work/bin/hull" <<EOF
#!/bin/sh
HULL_RUNTIME_SOCKET=$work/runtime.sock exec $here/bin/hull-runtime "\$@"
EOF
cat > "$work/bin/runc" <<'EOF'
#!/bin/sh
exec /usr/sbin/runc "$@"
EOF
cat > "$work/bin/crun" <<'EOF'
#!/bin/sh
exec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun "$@"' sh "$@"
EOF
chmod +x "$work/bin/"*
RTS=(hull runc crun)

HULL_NO_SERVICE=1 "$here/bin/hull" runtime-server --socket "$work/runtime.sock" --docker-socket none 2>"$work/server.log" &
server_pid=$!
for i in $(seq 200); do [[ -S $work/runtime.sock ]] && break; sleep 0.05; done
[[ -S $work/runtime.sock ]] || { cat "$work/server.log" >&2; echo "bench: runtime-server did not start" >&2; exit 1; }
HULL_NO_SERVICE=1 HULL_HOME=$work/hull-home "$here/bin/hull" save -o "$work/busybox.tar" busybox >/dev/null 2>&1 \
  || { echo "bench: hull save busybox failed" >&2; exit 1; }

hf() { # hf NAME [hyperfine args...]
  local name=$1; shift
  hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$results/$stamp-engines-$name.json" "$@" \
    > "$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; echo "bench: $name failed" >&2; exit 1; }
  grep -E '^Benchmark|Time \(mean' "$work/$name.out" | sed 's/^/  /' >&2
}

# --- containerd -------------------------------------------------------------
cat > "$work/containerd.toml" <<EOF
version = 2
root = "$work/containerd-root"
state = "$work/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[debug]
  address = "$work/containerd-debug.sock"
[metrics]
  address = ""
EOF
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
for i in $(seq 200); do ctr -a "$work/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.05; done
CTR="ctr -a $work/containerd.sock -n $ns"
$CTR images import "$work/busybox.tar" >/dev/null
img=docker.io/library/busybox:latest
echo "bench: $runs runs, $warmup warmups; results in $results/$stamp-engines-*.json" >&2
echo "bench: ctr run --rm true" >&2
args=()
for rt in "${RTS[@]}"; do
  rtargs="--runtime io.containerd.runc.v2 --runc-binary $work/bin/$rt --runc-root $work/runc-root-$rt --fifo-dir $work/fifo"
  args+=(-n "$rt" "$CTR run --rm $rtargs $img bench-run-$rt true")
  $CTR run -d $rtargs $img bench-$rt sleep 100000 >/dev/null
done
hf ctr-run "${args[@]}"
echo "bench: ctr task exec true" >&2
args=()
for rt in "${RTS[@]}"; do args+=(-n "$rt" "$CTR task exec --exec-id x --fifo-dir $work/fifo bench-$rt true"); done
hf ctr-exec "${args[@]}"

# --- podman -----------------------------------------------------------------
printf '[engine]\nvolume_path = "%s/podman-volumes"\n' "$work" > "$work/containers.conf"
P() {
  CONTAINERS_CONF=$work/containers.conf podman --root "$work/podman-root" --runroot "$work/podman-runroot" \
    --tmpdir "$work/podman-tmp" --network-config-dir "$work/podman-net" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file "$@"
}
podman_ok=1
[[ -d /sys/fs/cgroup/memory/libpod_parent ]] && had_libpod=1
P load -i "$work/busybox.tar" >/dev/null 2>&1
PODMAN="env CONTAINERS_CONF=$work/containers.conf podman --root $work/podman-root --runroot $work/podman-runroot --tmpdir $work/podman-tmp --network-config-dir $work/podman-net --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"
PRUN="--network none --cgroup-parent /hull-bench-podman --ulimit nofile=20000:20000 --ulimit nproc=4096:4096"
echo "bench: podman run --rm --network none true" >&2
args=()
for rt in "${RTS[@]}"; do
  args+=(-n "$rt" "$PODMAN run --rm --runtime $work/bin/$rt $PRUN localhost/busybox:latest true")
  P run -d --name bench-$rt --runtime "$work/bin/$rt" $PRUN localhost/busybox:latest sleep 100000 >/dev/null
done
hf podman-run "${args[@]}"
echo "bench: podman exec true" >&2
args=()
for rt in "${RTS[@]}"; do args+=(-n "$rt" "$PODMAN exec bench-$rt true"); done
hf podman-exec "${args[@]}"

# --- docker -----------------------------------------------------------------
echo '{}' > "$work/daemon.json"
dockerd --config-file "$work/daemon.json" --data-root "$work/docker-data" --exec-root "$work/docker-exec" \
  -H "unix://$work/docker.sock" --pidfile "$work/dockerd.pid" --containerd "$work/containerd.sock" \
  --containerd-namespace hull-bench-docker --containerd-plugins-namespace hull-bench-docker-plugins \
  --cgroup-parent /hull-bench-docker --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  --add-runtime hull="$work/bin/hull" --add-runtime test-runc="$work/bin/runc" --add-runtime test-crun="$work/bin/crun" \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
D="$DOCKER -H unix://$work/docker.sock"
for i in $(seq 600); do $D version >/dev/null 2>&1 && break; sleep 0.05; done
export DOCKER_CONFIG=$work/docker-cli
$D load -i "$work/busybox.tar" >/dev/null
echo "bench: docker run --rm --network none true" >&2
args=()
for rt in "${RTS[@]}"; do
  name=$rt; [[ $rt == hull ]] || name=test-$rt
  args+=(-n "$rt" "$D run --rm --runtime $name --network none busybox true")
  $D run -d --name bench-$rt --runtime "$name" --network none busybox sleep 100000 >/dev/null
done
hf docker-run "${args[@]}"
echo "bench: docker exec true" >&2
args=()
for rt in "${RTS[@]}"; do args+=(-n "$rt" "$D exec bench-$rt true"); done
hf docker-exec "${args[@]}"

# --- report -----------------------------------------------------------------
python3 - "$results" "$stamp" "$runs" <<'PY'
import json, sys, os
results, stamp, runs = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [("ctr-run", "ctr run --rm ... true"), ("ctr-exec", "ctr task exec ... true"),
        ("podman-run", "podman run --rm --network none ... true"), ("podman-exec", "podman exec ... true"),
        ("docker-run", "docker run --rm --network none ... true"), ("docker-exec", "docker exec ... true")]
print(f"\nMedians in ms ({runs} runs each; hyperfine -N). Hull = warm (runtime-server); crun* in the unshare wrapper.\n")
print(f"| {'engine command':<40} | {'hull':>7} | {'runc':>7} | {'crun*':>7} | {'hull/runc':>9} | {'hull/crun':>9} |")
print(f"|{'-'*42}|{'-'*9}|{'-'*9}|{'-'*9}|{'-'*11}|{'-'*11}|")
for key, label in rows:
    with open(os.path.join(results, f"{stamp}-engines-{key}.json")) as f:
        r = {x["command"]: x["median"] * 1000 for x in json.load(f)["results"]}
    h, rc, cr = r["hull"], r["runc"], r["crun"]
    print(f"| {label:<40} | {h:7.1f} | {rc:7.1f} | {cr:7.1f} | {h/rc:8.2f}x | {h/cr:8.2f}x |")
print(f"| {'crictl runp+create+start (CRI)':<40} | {'-':>7} | {'-':>7} | {'-':>7} | {'-':>9} | {'-':>9} |")
print("\n(the CRI row is not measured: no crictl here)")
PY
