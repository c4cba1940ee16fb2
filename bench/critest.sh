#!/usr/bin/env bash
# bench/critest.sh: Kubernetes' CRI conformance suite (critest, from kubernetes-sigs/cri-tools) against
# containerd's CRI plugin, once with runc and once with hull-runtime (warm: the service it starts itself;
# and cold with --cold), in one run, on the same containerd, images and host. Reports what passed and
# how long the suite took, and the ratio.
#
#   bench/critest.sh CRI_TOOLS_CHECKOUT [--cold] [--focus REGEX]
#
# CRI_TOOLS_CHECKOUT: a git checkout of https://github.com/kubernetes-sigs/cri-tools (critest is not a
# Debian package; it is built here at tag v1.29.0, the newest Debian 12's Go 1.19 builds, from its own
# vendored sources: no network but Debian's archive). The images critest pulls are small stand-ins built
# by ../shared/tools/files/images (a static pause, busybox, an httpd stand-in, cri-tools' test images),
# served by Debian's docker-registry on 127.0.0.1:5055, which containerd's mirrors point at
# (../shared/tools/README.md says how they were made). Everything lives under /tmp/hull-critest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
src=${1:?usage: bench/critest.sh CRI_TOOLS_CHECKOUT [--cold] [--focus REGEX]}
shift
cold=0 focus=()
while (($#)); do
  case $1 in
    --cold) cold=1 ;;
    --focus) focus=(--ginkgo.focus "$2"); shift ;;
    *) echo "bench/critest.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
files=$here/../shared/tools/files
[[ -d $files/images ]] || { echo "bench/critest.sh: $files (../shared/tools/files) is missing" >&2; exit 1; }
bench_prepare bench/critest.sh "containerd runs pods as root" golang-go containerd runc docker-registry skopeo \
  containernetworking-plugins gcc libc6-dev python3 bc curl
w=/tmp/hull-critest
mkdir -p "$w"

# critest and crictl, built once per checkout
if [[ ! -x $w/bin/critest ]]; then
  echo "bench: building critest v1.29.0 from $src (a few minutes)" >&2
  rm -rf "$w/cri-tools" && git clone -q "$src" "$w/cri-tools"
  (cd "$w/cri-tools" && git checkout -q v1.29.0 &&
    GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 go test -c -trimpath \
      -ldflags '-X github.com/kubernetes-sigs/cri-tools/pkg/version.Version=1.29.0' -o "$w/bin/critest" ./cmd/critest)
fi

# the stand-in images, in a registry of our own (the scripts write under /tmp/tools)
if ! curl -sf http://127.0.0.1:5055/v2/pause/tags/list >/dev/null 2>&1; then
  img=/tmp/tools/images
  mkdir -p "$img/bbdeb" /tmp/tools/registry/data
  for c in pause nnp minihttpd pgrep; do gcc -static -O2 -o "$img/$c" "$files/images/$c.c"; done
  (cd "$img/bbdeb" && rm -f busybox_*.deb && apt-get download busybox 2>/dev/null && dpkg-deb -x busybox_*.deb x)
  (cd "$img" && python3 "$files/images/mkimages.py" >/dev/null)
  (setsid docker-registry serve "$files/images/registry-config.yml" > "$w/registry.log" 2>&1 &)
  for _ in $(seq 50); do curl -sf http://127.0.0.1:5055/v2/ >/dev/null && break; sleep 0.2; done
  bash "$files/images/push.sh" >/dev/null
fi

# containerd's config: runc (the control) and hull (hull-runtime with a service socket of its own)
mkdir -p "$w/cni" && cp "$files/cni/10-crit.conflist" "$w/cni/"
sed -i "s#/tmp/tools/cni/ipam#$w/ipam#" "$w/cni/10-crit.conflist"
cat > "$w/hull-runtime" <<EOF
#!/bin/sh
export HULL_RUNTIME_SOCKET=$w/hull-svc/runtime.sock
exec $here/bin/hull-runtime "\$@"
EOF
cat > "$w/hull-cold" <<EOF
#!/bin/sh
export HULL_NO_SERVICE=1 HULL_RUNTIME_SOCKET=$w/none.sock
exec $here/bin/hull-runtime "\$@"
EOF
chmod +x "$w/hull-runtime" "$w/hull-cold"
mkdir -p "$w/hull-svc"
config() { # name binary
  local c=$w/ctrd-$1
  rm -rf "$c" && mkdir -p "$c" && cp -r "$files/containerd/certs.d" "$c/"
  cat > "$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$c/sock"
[ttrpc]
  address = "$c/sock.ttrpc"
[debug]
  address = "$c/debug.sock"
  level = "warn"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$c/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    restrict_oom_score_adj = true  # root lacks CAP_SYS_RESOURCE on some hosts
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "rt"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rt]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rt.options]
          BinaryName = "$2"
          Root = "$c/rt-root"
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$w/cni"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$c/certs.d"
EOF
}

run() { # name binary: prints "passed failed seconds"
  config "$1" "$2"
  local c=$w/ctrd-$1 pid
  containerd --config "$c/config.toml" > "$c/containerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [[ -S $c/sock ]] && break; sleep 0.1; done
  local t0 t1
  t0=$(date +%s.%N)
  "$w/bin/critest" --runtime-endpoint "unix://$c/sock" --image-endpoint "unix://$c/sock" --ginkgo.no-color \
    "${focus[@]}" > "$w/critest-$1.log" 2>&1 || true
  t1=$(date +%s.%N)
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  local line
  line=$(grep -E '^(SUCCESS|FAIL)! -- ' "$w/critest-$1.log" | tail -1)
  local passed failed
  passed=$(sed -E 's/.* ([0-9]+) Passed.*/\1/' <<<"$line")
  failed=$(sed -E 's/.*\| ([0-9]+) Failed.*/\1/' <<<"$line")
  echo "$passed $failed $(echo "$t1 - $t0" | bc)"
}

echo "critest v1.29.0 against containerd $(containerd --version | awk '{print $3}'), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
read -r rp rf rs < <(run runc /usr/sbin/runc)
read -r hp hf hs < <(run hull "$w/hull-runtime")
printf '| runtime | passed | failed | suite (s) | vs runc |\n|---|---|---|---|---|\n'
printf '| runc %s | %s | %s | %.0f | 1.00x |\n' "$(runc --version | awk 'NR==1{print $3}')" "$rp" "$rf" "$rs"
printf '| hull-runtime (warm) | %s | %s | %.0f | %.2fx |\n' "$hp" "$hf" "$hs" "$(echo "$hs / $rs" | bc -l)"
if ((cold)); then
  read -r cp cf cs < <(run hull-cold "$w/hull-cold")
  printf '| hull-runtime (cold, HULL_NO_SERVICE=1) | %s | %s | %.0f | %.2fx |\n' "$cp" "$cf" "$cs" "$(echo "$cs / $rs" | bc -l)"
fi
pkill -f -- "--socket $w/hull-svc/runtime.sock" || true  # the service the warm runs started
grep -h '^  \[FAIL\]' "$w"/critest-*.log | sort | uniq -c | sed 's/^/failed: /' || true
echo "logs: $w/critest-*.log"
