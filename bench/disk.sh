#!/usr/bin/env bash
# bench/disk.sh: the cost of Hull's sized and encrypted disks, side by side in one run with the
# host's own filesystem and LXC's loop backing store (Debian's lxc: lxc-create -B loop).
#
#   bench/disk.sh               # 512 MiB per transfer, 3 runs per case
#   bench/disk.sh --mib N       # N MiB per transfer
#   bench/disk.sh --runs N
#
# Throughput (GNU dd, bs=1M): a write ending in fsync (conv=fsync), then a read of the same file
# after the page cache is dropped (echo 3 > /proc/sys/vm/drop_caches: this affects the whole
# host's cache while it runs), on
#   host        a directory on the filesystem holding the store (the bench's temp dir)
#   hull        a volume with a disk of its own (hull volume create -o size=): a sparse ext4
#               image on a loop device, written where containers see it (its content dir)
#   hull-enc    the same with encrypt=true (fscrypt v2: AES-256-XTS contents)
#   lxc-loop    an LXC container made with -B loop (its rootfs image mounted by the bench)
# and the time to make one such disk: hull volume create -o size=1g (plain and encrypted) against
# lxc-create -t busybox -B loop --fssize 1G. Medians; ratios against host (throughput) and
# lxc-loop (create). The goals (issue 18): hull ≤ 1.15× host's time, hull-enc ≤ 1.5×.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mib=512
runs=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --mib) mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "bench/disk.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
source "$here/bench/lib.sh"
bench_prepare bench/disk.sh "loop devices, mounts" lxc busybox-static e2fsprogs python3
work=$(mktemp -d /tmp/hull-bench-disk.XXXXXX)
chmod 711 "$work"
lxcpath=$work/lxc
export HULL_HOME=$work/hull-home HULL_STATE=$work/hull-state HULL_NO_SERVICE=1
HULL=$here/bin/hull
cleanup() {
  set +e
  for c in bench-loop bench-made; do lxc-destroy -P "$lxcpath" -n "$c" -f >/dev/null 2>&1; done
  grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  $HULL volume rm -f bench-plain bench-enc >/dev/null 2>&1
  for v in $($HULL volume ls -q 2>/dev/null); do $HULL volume rm -f "$v" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

size=$(( mib * 2 + 256 ))m
head -c 32 /dev/urandom > "$work/key"
$HULL volume create -o size=$size bench-plain >/dev/null
$HULL volume create -o size=$size -o encrypt=true -o key-file="$work/key" bench-enc >/dev/null
declare -A dir
dir[host]=$work/host-dir
mkdir -p "${dir[host]}"
dir[hull]=$($HULL volume inspect -f '{{.Mountpoint}}' bench-plain)
dir[hull-enc]=$($HULL volume inspect -f '{{.Mountpoint}}' bench-enc)
lxc-create -P "$lxcpath" -n bench-loop -t busybox -B loop --fssize "$size" >/dev/null 2>&1 ||
  { echo "bench: lxc-create -B loop failed" >&2; exit 1; }
mkdir -p "$work/lxc-mnt"
mount -o loop "$lxcpath/bench-loop/rootdev" "$work/lxc-mnt"
dir[lxc-loop]=$work/lxc-mnt

# seconds of one dd, from its own report
dd_secs() {
  dd "$@" bs=1M 2>&1 >/dev/null | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) print $(i-1) }'
}
results=$work/results.txt
: > "$results"
# CASE WHAT COMMAND...: the command's wall time, appended to the results
timed() {
  local c=$1 what=$2
  shift 2
  /usr/bin/time -f %e -o "$work/time" "$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; exit 1; }
  echo "$c $what $(tail -1 "$work/time")" >> "$results"
}
cases=(host hull hull-enc lxc-loop)
for r in $(seq "$runs"); do
  for c in "${cases[@]}"; do
    f=${dir[$c]}/bench.bin
    w=$(dd_secs if=/dev/zero of="$f" count="$mib" conv=fsync)
    sync
    echo 3 > /proc/sys/vm/drop_caches
    rd=$(dd_secs if="$f" of=/dev/null)
    rm -f "$f"
    echo "$c write $w" >> "$results"
    echo "$c read $rd" >> "$results"
  done
  timed hull create $HULL volume create -o size=1g "bench-made-$r"
  timed hull-enc create $HULL volume create -o size=1g -o encrypt=true -o key-file="$work/key" "bench-made-enc-$r"
  timed lxc-loop create lxc-create -P "$lxcpath" -n bench-made -t busybox -B loop --fssize 1G
  lxc-destroy -P "$lxcpath" -n bench-made -f >/dev/null 2>&1
done

echo "bench/disk.sh: $mib MiB per transfer, $runs runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
# fscrypt's contents cipher runs in the kernel's crypto API: without its AES-NI driver
# (CONFIG_CRYPTO_AES_NI_INTEL) it is the generic C AES, several times slower
echo "kernel's xts(aes): $(awk '/^name *: xts\(aes\)/ { getline; print $3; exit }' /proc/crypto)"
python3 - "$results" "$mib" <<'EOF'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    c, what, secs = line.split()
    runs[(c, what)].append(float(secs))
mib = int(sys.argv[2])
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"{'case':10} {'write MiB/s':>12} {'read MiB/s':>11} {'write ×host':>12} {'read ×host':>11}")
for c in ["host", "hull", "hull-enc", "lxc-loop"]:
    w, r = med[(c, "write")], med[(c, "read")]
    print(f"{c:10} {mib / w:12.0f} {mib / r:11.0f} {w / med[('host', 'write')]:12.2f} {r / med[('host', 'read')]:11.2f}")
print(f"\n{'create 1 GiB disk':18} {'ms':>8} {'×lxc-loop':>10}")
for c in ["hull", "hull-enc", "lxc-loop"]:
    s = med[(c, "create")]
    print(f"{c:18} {s * 1000:8.0f} {s / med[('lxc-loop', 'create')]:10.2f}")
EOF
