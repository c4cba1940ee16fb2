#!/usr/bin/env bash
# bench/rootless.sh: rootless Hull against rootless podman, as one ordinary user, side by side (issue 19).
#
#   bench/rootless.sh            # N=10 of each
#   bench/rootless.sh N
#
# As root: makes a user (hullbench-PID, useradd's subordinate ranges; removed at exit), installs this
# checkout where the user can read it, and runs every command as that user (runuser, a clean environment,
# XDG_RUNTIME_DIR a 0700 directory of its own). This host's /dev/net/tun is root's alone (0600), so the
# user's commands run in a private mount namespace where a tun node of the script's own (0666, in its
# temp dir) is bound over /dev/net/tun; the host's devices are not touched.
# Measures, per tool: `run --rm busybox true`, `run -d busybox sleep` and `ps` (ms each, the mean of N
# one after the other), and the TCP throughput through a published port (iperf3 of the host, bind-mounted
# into a busybox container, 5 s from the host's loopback): Hull with pasta (its default) and with
# slirp4netns, podman with its default (slirp4netns on Debian 12's podman 4.3).
# (HULL_ROOTLESS_NETWORK is read where the container starts: those runs skip the user's service.)
# Both tools use the same busybox image (Hull's built-in one, saved and loaded into podman).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
n=${1:-10}
[ "$(id -u)" = 0 ] || { echo "bench/rootless.sh: run as root (it makes the user)" >&2; exit 1; }
for b in pasta slirp4netns iperf3 podman newuidmap; do
  command -v "$b" >/dev/null || { echo "bench/rootless.sh: $b is missing (apt-get install passt slirp4netns iperf3 podman uidmap)" >&2; exit 1; }
done
(cd "$here" && mvn -B -ntp -q package -DskipTests)
user=hullbench-$$
tmp=$(mktemp -d /tmp/hull-bench-rootless.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  if id "$user" >/dev/null 2>&1; then
    pkill -KILL -u "$user" || true
    sleep 0.5
    userdel -r "$user" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
useradd -m -d "$tmp/home" -s /bin/sh -K SUB_UID_COUNT=65536 -K SUB_GID_COUNT=65536 "$user"
uid=$(id -u "$user")
mkdir -p "$tmp/install/bin" "$tmp/install/target"
cp "$here"/bin/hull "$here"/bin/hull-userns "$here"/bin/hull-runtime "$tmp/install/bin/"
cp -r "$here"/target/hull.jar "$here"/target/lib "$here"/target/hull-executor "$tmp/install/target/"
chmod -R a+rX "$tmp/install"
mknod -m 666 "$tmp/tun" c 10 200
run_dir=$tmp/run
install -d -m 700 -o "$user" "$run_dir"
# as USER: the tun node bound over /dev/net/tun, a clean environment
as() {
  unshare --mount --propagation private sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$tmp/tun" \
    runuser -u "$user" -- env -i HOME="$tmp/home" USER="$user" LOGNAME="$user" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    XDG_RUNTIME_DIR="$run_dir" ${NET:+HULL_ROOTLESS_NETWORK=$NET HULL_NO_SERVICE=1} "$@"
}
hull() { (cd "$tmp/home" && as "$tmp/install/bin/hull" "$@"); }
podman() { (cd "$tmp/home" && as podman --runtime runc --cgroup-manager cgroupfs --events-backend file "$@"); }
# mean ms of N runs of a command
mean_ms() {
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" >/dev/null; done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / n / 1000000))
}
hull run --rm busybox true >/dev/null # the namespace, the service, the image
hull save -o "$tmp/home/busybox.tar" busybox

podman load -i "$tmp/home/busybox.tar" >/dev/null
podman tag "$(podman images -q | head -n 1)" localhost/busybox >/dev/null 2>&1 || true
podman run --rm localhost/busybox true >/dev/null # podman's pause process
declare -A r
for tool in hull podman; do
  img=busybox
  [ "$tool" = podman ] && img=localhost/busybox
  r[$tool.rm]=$(mean_ms $tool run --rm $img true)
  r[$tool.d]=$(mean_ms $tool run -d $img sleep 1000)
  r[$tool.ps]=$(mean_ms $tool ps)
  $tool rm -f $($tool ps -aq) >/dev/null
done
iperf() { # tool net: Mbit/s through a published port
  local tool=$1 img=busybox port
  [ "$tool" = podman ] && img=localhost/busybox
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
  NET=$2 $tool run -d --name "ip-$$" -p "$port:5201" -v /usr:/usr:ro -v /usr/lib:/lib:ro -v /usr/lib64:/lib64:ro \
    $img /usr/bin/iperf3 -s -p 5201 >/dev/null
  for _ in $(seq 100); do iperf3 -c 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1 && break; sleep 0.2; done
  iperf3 -c 127.0.0.1 -p "$port" -t 5 -f m | awk '/receiver/ {print $(NF-2)}'
  NET=$2 $tool rm -f "ip-$$" >/dev/null
}
r[hull.pasta]=$(iperf hull pasta)
r[hull.slirp]=$(iperf hull slirp4netns)
r[podman.net]=$(iperf podman "")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '%-28s %10s %10s %8s\n' "rootless, mean of $n" hull podman ratio
printf '%-28s %8s ms %7s ms %8s\n' "run --rm busybox true" "${r[hull.rm]}" "${r[podman.rm]}" "$(ratio "${r[hull.rm]}" "${r[podman.rm]}")"
printf '%-28s %8s ms %7s ms %8s\n' "run -d busybox sleep" "${r[hull.d]}" "${r[podman.d]}" "$(ratio "${r[hull.d]}" "${r[podman.d]}")"
printf '%-28s %8s ms %7s ms %8s\n' "ps" "${r[hull.ps]}" "${r[podman.ps]}" "$(ratio "${r[hull.ps]}" "${r[podman.ps]}")"
printf '%-28s %s Mbit/s (hull, pasta); %s Mbit/s (hull, slirp4netns); %s Mbit/s (podman)\n' "iperf3 via -p, 5 s" \
  "${r[hull.pasta]}" "${r[hull.slirp]}" "${r[podman.net]}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
