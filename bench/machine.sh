#!/usr/bin/env bash
# bench/machine.sh: what a machine snapshot and clone cost, reflink against sparse copies, in one run.
#
#   bench/machine.sh               # a 1 GiB payload per machine, 3 runs per case
#   bench/machine.sh --mib N       # N MiB of payload
#   bench/machine.sh --runs N
#
# Two Hull stores side by side: the host's ext4 (the bench's temp dir: no reflinks, so Hull copies
# sparse) and a loop-mounted XFS made with reflink=1 (Hull reflinks with FICLONE). The debian:12
# template is built once (mmdebstrap) and loaded into the second store (hull save | hull load). In each
# store two stopped machines that wrote the payload (dd from /dev/urandom inside, then stopped):
#   plain   its writes in the overlay's upper layer (a tree of files)
#   disk    made with --disk 2g (a 2 GiB sparse ext4 image holding the same)
# Timed (wall clock of the whole command, a cold JVM included; medians):
#   snapshot      hull machine snapshot (stopped)        snapshot-run  the same of the running plain machine
#   clone         hull machine clone (then removed)      restore       hull machine restore
#   cp-sparse     cp -a --sparse=always of the same tree or image (coreutils reflinks on XFS by itself)
#   cp-reflink    cp -a --reflink=always (XFS)
#   baseline      hull machine snapshots (a cold JVM and the machine's lookup: what every command pays)
# Hull syncs each copy (syncfs) before it reports it done; cp does not.
# and the space each snapshot takes on the host (df's used before and after, after a sync).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mib=1024
runs=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --mib) mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "bench/machine.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
source "$here/bench/lib.sh"
bench_prepare bench/machine.sh "loop devices, mounts, machines" mmdebstrap xfsprogs e2fsprogs python3
work=$(mktemp -d /tmp/hull-bench-machine.XXXXXX)
chmod 711 "$work"
HULL=$here/bin/hull
export HULL_NO_SERVICE=1
stores=(ext4 xfs)
cleanup() {
  set +e
  for s in "${stores[@]}"; do
    for m in $(HULL_HOME=$work/$s/home HULL_STATE=$work/$s/state $HULL machine ls --format json 2>/dev/null |
        sed 's/.*"Name":"\([^"]*\)".*/\1/'); do
      HULL_HOME=$work/$s/home HULL_STATE=$work/$s/state $HULL machine rm -f "$m" >/dev/null 2>&1
    done
  done
  grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/ext4" "$work/xfs"
truncate -s $(( mib * 8 + 8192 ))M "$work/xfs.img"
mkfs.xfs -q -m reflink=1 "$work/xfs.img"
mount -o loop "$work/xfs.img" "$work/xfs"
# the store's commands: hs STORE ARGS... (hull ARGS in that store)
hs() {
  local s=$1
  shift
  HULL_HOME=$work/$s/home HULL_STATE=$work/$s/state "$HULL" "$@"
}
# the same as a command line for /usr/bin/time (which runs programs, not functions)
hc() { echo env "HULL_HOME=$work/$1/home" "HULL_STATE=$work/$1/state" "$HULL"; }
echo "bench: building the debian:12 template (mmdebstrap, once)" >&2
hs ext4 machine create bm-plain --network none >/dev/null
hs ext4 save -o "$work/template.tar" hull.local/machine/debian:12
hs xfs load -q -i "$work/template.tar" >/dev/null
rm -f "$work/template.tar"
hs xfs machine create bm-plain --network none >/dev/null
for s in "${stores[@]}"; do
  hs "$s" machine create bm-disk --network none --disk 2g >/dev/null
  for k in plain disk; do
    hs "$s" machine start "bm-$k" >/dev/null
    hs "$s" machine exec "bm-$k" dd if=/dev/urandom of=/root/payload bs=1M count="$mib" status=none
    hs "$s" machine stop "bm-$k" >/dev/null
  done
done

results=$work/results.txt
: > "$results"
# STORE CASE COMMAND...: the command's wall time (s), appended to the results
timed() {
  local s=$1 c=$2
  shift 2
  /usr/bin/time -f %e -o "$work/time" "$@" >/dev/null 2>"$work/err" || { echo "bench: $* failed:" >&2; cat "$work/err" >&2; exit 1; }
  echo "$s $c $(tail -1 "$work/time")" >> "$results"
}
used() { sync; df -B1 --output=used "$1" | tail -1; }
dir_of() { hs "$1" machine inspect "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Machine"].get("DiskImage") or "")'; }
for s in "${stores[@]}"; do
  id=$(hs "$s" machine inspect bm-plain | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
  upper=$work/$s/home/containers/$id/upper
  image=$(dir_of "$s" bm-disk)
  for r in $(seq "$runs"); do
    timed "$s" baseline $(hc "$s") machine snapshots bm-plain
    for k in plain disk; do
      before=$(used "$work/$s")
      timed "$s" "snapshot-$k" $(hc "$s") machine snapshot "bm-$k" "s$r"
      echo "$s space-$k $(( $(used "$work/$s") - before ))" >> "$results"
      timed "$s" "restore-$k" $(hc "$s") machine restore "bm-$k" "s$r"
      timed "$s" "clone-$k" $(hc "$s") machine clone "bm-$k" "bm-$k-c$r"
      hs "$s" machine rm -f "bm-$k-c$r" >/dev/null
      hs "$s" machine snapshot rm "bm-$k" "s$r" >/dev/null
    done
    timed "$s" cp-sparse-plain cp -a --sparse=always "$upper" "$work/$s/cp-plain"
    timed "$s" cp-sparse-disk cp -a --sparse=always "$image" "$work/$s/cp-disk"
    rm -rf "$work/$s/cp-plain" "$work/$s/cp-disk"
    if [[ $s == xfs ]]; then
      timed "$s" cp-reflink-plain cp -a --reflink=always "$upper" "$work/$s/cp-plain"
      timed "$s" cp-reflink-disk cp -a --reflink=always "$image" "$work/$s/cp-disk"
      rm -rf "$work/$s/cp-plain" "$work/$s/cp-disk"
    fi
  done
  hs "$s" machine start bm-plain >/dev/null
  for r in $(seq "$runs"); do
    timed "$s" snapshot-run-plain $(hc "$s") machine snapshot bm-plain "run$r"
    hs "$s" machine snapshot rm bm-plain "run$r" >/dev/null
  done
  hs "$s" machine stop bm-plain >/dev/null
done

echo "bench/machine.sh: $mib MiB payload, $runs runs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
python3 - "$results" "$mib" <<'EOF'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    s, c, v = line.split()
    runs[(s, c)].append(float(v))
med = {k: statistics.median(v) for k, v in runs.items()}
def ms(s, c):
    v = med.get((s, c))
    if v is None:
        return f"{'-':>8}"
    return f"{v * 1000:8.0f}" if v > 0 else f"{'<10':>8}"  # time(1) reports hundredths
print(f"{'ms (medians)':24} {'ext4 (sparse)':>14} {'xfs (reflink)':>14} {'ext4 / xfs':>11}")
print(f"{'baseline':24} {ms('ext4', 'baseline'):>14} {ms('xfs', 'baseline'):>14}")
for k in ["plain", "disk"]:
    for c in ["snapshot", "restore", "clone", "cp-sparse", "cp-reflink"]:
        key = f"{c}-{k}"
        e, x = med.get(("ext4", key)), med.get(("xfs", key))
        ratio = f"{e / x:11.1f}" if e and x else f"{'-':>11}"
        print(f"{key:24} {ms('ext4', key):>14} {ms('xfs', key):>14} {ratio}")
print(f"{'snapshot-run-plain':24} {ms('ext4', 'snapshot-run-plain'):>14} {ms('xfs', 'snapshot-run-plain'):>14}")
print(f"\n{'host space per snapshot':24} {'ext4 MiB':>14} {'xfs MiB':>14}")
for k in ["plain", "disk"]:
    e, x = med[("ext4", f"space-{k}")], med[("xfs", f"space-{k}")]
    print(f"{k:24} {e / 2**20:14.1f} {x / 2**20:14.1f}")
EOF
