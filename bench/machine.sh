#!/usr/bin/env bash
# bench/machine.sh: what a machine costs against podman and LXC on the same Debian 12 root, and what
# a snapshot and a clone cost, in one run.
#
#   bench/machine.sh               # every part below
#   bench/machine.sh --boot        # parts: --boot, --create, --density [N], --snapshots (several may be given)
#   bench/machine.sh --boot --runs 10 --density 50
#   bench/machine.sh --snapshots --mib N --runs N
#   bench/machine.sh --template T.tar   # the template from `hull save hull.local/machine/debian:12`, not built
#
# The root: Hull's debian:12 template (mmdebstrap, built once in the bench's store: systemd, dbus,
# iproute2, openssh-server...), and for podman and LXC its one layer unpacked (hull save) into a
# directory that each of them overlays (podman --rootfs DIR:O, LXC's overlay:DIR:DELTA): all three
# boot the same files, each machine writing to its own upper layer. No network for any of them
# (hull --network none, podman --network none, LXC's "empty" network). Hull's commands go to its
# service (warm; the first command starts it), cold rows say so.
#   --boot      a machine made once and booted once (its first boot makes its ssh host keys: not
#               counted), then RUNS boots (default 10) round-robin over hull, hull --privileged,
#               podman (run --systemd=always --rootfs, --ulimit nofile=20000 nproc=4096) and LXC
#               (lxc-start -d, a config written here: debian.common.conf, lxc.signal.halt
#               SIGRTMIN+3): from the start command until `systemctl is-system-running --wait`,
#               through each one's exec (hull machine exec, podman exec, lxc-attach), says running or
#               degraded (polled until systemd's bus answers). Also systemd's own userspace time
#               (systemd-analyze time), the start command alone and the stop.
#   --create    RUNS creates from the cached template: hull machine create (warm and cold), podman
#               create --rootfs DIR:O, lxc-copy -s -B overlay (a snapshot clone of a stopped container
#               on the directory: what Hull makes) and lxc-copy (a full copy, LXC's default).
#   --density N N idle machines (default 50) of each, booted to running, one kind at a time: the drop of
#               the host's MemAvailable (median of 10 readings over 2 s, before start and after all
#               booted and 5 s settled) per machine, the machines' memory cgroups (usage, summed),
#               and the Pss of the process above each init (hull-monitor, conmon, LXC's monitor).
#   --snapshots snapshot, restore and clone of stopped machines that wrote a payload, below.
#
# --snapshots: two Hull stores side by side: the host's ext4 (the bench's temp dir: no reflinks, so Hull copies
# sparse) and a loop-mounted XFS made with reflink=1 (Hull reflinks with FICLONE). The debian:12
# template is built once (mmdebstrap) and loaded into the second store (hull save | hull load). In each
# store two stopped machines that wrote the payload (dd from /dev/urandom inside, then stopped):
#   plain   its writes in the overlay's upper layer (a tree of files)
#   disk    made with --disk 2g (a 2 GiB sparse ext4 image holding the same; MIB+1 GiB when --mib is larger)
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
runs=
parts=()
density=50
template=
while [[ $# -gt 0 ]]; do
  case $1 in
    --boot|--create|--snapshots) parts+=("${1#--}"); shift ;;
    --density) parts+=(density); if [[ ${2:-} =~ ^[0-9]+$ ]]; then density=$2; shift; fi; shift ;;
    --mib) mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --template) template=$2; shift 2 ;;
    *) echo "bench/machine.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ ${#parts[@]} -gt 0 ]] || parts=(boot create density snapshots)
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }
source "$here/bench/lib.sh"
bench_prepare bench/machine.sh "loop devices, mounts, machines" mmdebstrap xfsprogs e2fsprogs python3 lxc podman runc
work=$(mktemp -d /tmp/hull-bench-machine.XXXXXX)
chmod 711 "$work"
HULL=$here/bin/hull
export HULL_NO_SERVICE=1
stores=(ext4 xfs)
sock=$work/warm.sock
lxcpath=$work/lxc
P=(podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp" --storage-driver overlay
  --cgroup-manager cgroupfs --events-backend file --runtime runc)
cleanup() {
  set +e
  for c in $(lxc-ls -P "$lxcpath" 2>/dev/null); do lxc-stop -P "$lxcpath" -n "$c" -k >/dev/null 2>&1; lxc-destroy -P "$lxcpath" -n "$c" -f >/dev/null 2>&1; done
  if [[ -d $work/podman ]]; then
    "${P[@]}" rm -af -t 1 >/dev/null 2>&1
    "${P[@]}" system reset -f >/dev/null 2>&1
  fi
  for s in "${stores[@]}"; do
    for m in $(HULL_HOME=$work/$s/home HULL_STATE=$work/$s/state $HULL machine ls --format json 2>/dev/null |
        sed 's/.*"Name":"\([^"]*\)".*/\1/'); do
      HULL_HOME=$work/$s/home HULL_STATE=$work/$s/state $HULL machine rm -f "$m" >/dev/null 2>&1
    done
  done
  [[ -n ${service_pid:-} ]] && kill "$service_pid" 2>/dev/null
  [[ -n ${inotify:-} ]] && sysctl -q -w fs.inotify.max_user_instances="$inotify"
  grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/ext4" "$lxcpath"
# the store's commands: hs STORE ARGS... (hull ARGS in that store, a JVM per command)
hs() {
  local s=$1
  shift
  HULL_HOME=$work/$s/home HULL_STATE=$work/$s/state "$HULL" "$@"
}
# hull ARGS... through the ext4 store's service (warm)
hw() { env -u HULL_NO_SERVICE HULL_RUNTIME_SOCKET="$sock" HULL_HOME="$work/ext4/home" HULL_STATE="$work/ext4/state" "$HULL" "$@"; }
if [[ -n $template ]]; then
  hs ext4 load -q -i "$template" >/dev/null
else
  echo "bench: building the debian:12 template (mmdebstrap, once)" >&2
fi
hs ext4 machine create bm-template --network none >/dev/null
echo "bench: $(uptime)" >&2

# --- boot, create, density: Hull, podman and LXC on the same root ---
lines=$work/lines.txt    # PART CASE VALUE, one measurement a line
: > "$lines"
failed=$work/failed.txt  # what a degraded boot had failed
: > "$failed"
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
# until systemd in the machine says running or degraded, asked through EXEC... (its exec command);
# 1 after 5 minutes
booted() {
  local s i end=$(( $(date +%s) + 300 ))
  while [[ $(date +%s) -lt $end ]]; do
    s=$(timeout 60 "$@" systemctl is-system-running --wait 2>/dev/null) || true
    case $s in
      running) return 0 ;;
      degraded) "$@" systemctl --failed --no-legend --plain 2>/dev/null | sed 's/^/degraded: /' >> "$failed"; return 0 ;;
    esac
    sleep 0.05
  done
  echo "bench: $* did not reach running in 5 minutes (last: $s)" >&2
  return 1
}
# systemd's own boot time, ms: "Startup finished in 923ms (userspace)"
userspace() {
  "$@" systemd-analyze time 2>/dev/null | sed -n 's/.*Startup finished in \([0-9.]*\)\(m\?s\) (userspace).*/\1 \2/p' |
    awk '{ printf "%d\n", ($2 == "ms") ? $1 : $1 * 1000 }'
}
rootfs=$work/rootfs
prepare_peers() {
  [[ -d $rootfs ]] && return
  echo "bench: the template's layer unpacked for podman and LXC" >&2
  mkdir -p "$rootfs" "$work/podman"
  hs ext4 save -o "$work/template.tar" hull.local/machine/debian:12
  local layer
  layer=$(python3 -c 'import json,sys,tarfile; t=tarfile.open(sys.argv[1]); print(json.load(t.extractfile("manifest.json"))[0]["Layers"][0])' "$work/template.tar")
  tar -xOf "$work/template.tar" "$layer" | tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C "$rootfs"
  rm -f "$work/template.tar"
  # the service for the warm rows: the first warm command starts it
  hw version >/dev/null
  local i
  for i in $(seq 300); do hw version 2>/dev/null | grep -q "Service: *pid" && break; sleep 0.1; done
  service_pid=$(hw version --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Engine"]["Service"]["Pid"])')
}
# an LXC container NAME over the root: overlay (a delta of its own) or dir (the root itself)
lxc_config() {
  local name=$1 how=$2
  mkdir -p "$lxcpath/$name"
  local root="dir:$rootfs"
  if [[ $how == dir ]]; then  # lxc-copy wants a source's root under its own directory: a copy
    cp -a "$rootfs" "$lxcpath/$name/rootfs"
    root="dir:$lxcpath/$name/rootfs"
  elif [[ $how == overlay ]]; then
    mkdir -p "$lxcpath/$name/delta0"
    root="overlay:$rootfs:$lxcpath/$name/delta0"
  fi
  cat > "$lxcpath/$name/config" <<EOF
lxc.include = /usr/share/lxc/config/debian.common.conf
lxc.arch = linux64
lxc.uts.name = $name
lxc.rootfs.path = $root
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.signal.halt = SIGRTMIN+3
EOF
}
pm_create() {
  "${P[@]}" create --name "$1" --systemd=always --network none --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
    --rootfs "$rootfs:O" /sbin/init >/dev/null
}
# KIND NAME: made (not started), started, asked, stopped
make_one() {
  case $1 in
    hull) hw machine create "$2" --network none >/dev/null ;;
    hull-priv) hw machine create "$2" --network none --privileged >/dev/null ;;
    podman) pm_create "$2" ;;
    lxc) lxc_config "$2" overlay ;;
  esac
}
start_one() {
  case $1 in
    hull|hull-priv) hw machine start "$2" >/dev/null ;;
    podman) "${P[@]}" start "$2" >/dev/null ;;
    lxc) lxc-start -P "$lxcpath" -n "$2" -d ;;
  esac
}
exec_of() {
  case $1 in
    hull|hull-priv) echo env -u HULL_NO_SERVICE HULL_RUNTIME_SOCKET="$sock" HULL_HOME="$work/ext4/home" \
      HULL_STATE="$work/ext4/state" "$HULL" machine exec "$2" ;;
    podman) echo "${P[*]}" exec "$2" ;;
    lxc) echo lxc-attach -P "$lxcpath" -n "$2" -- ;;
  esac
}
stop_one() {
  case $1 in
    hull|hull-priv) hw machine stop "$2" >/dev/null ;;
    podman) "${P[@]}" stop -t 30 "$2" >/dev/null ;;
    lxc) lxc-stop -P "$lxcpath" -n "$2" -t 30 ;;
  esac
}
rm_one() {
  case $1 in
    hull|hull-priv) hw machine rm -f "$2" >/dev/null ;;
    podman) "${P[@]}" rm -f "$2" >/dev/null ;;
    lxc) lxc-destroy -P "$lxcpath" -n "$2" -f >/dev/null ;;
  esac
}
kinds=(hull hull-priv podman lxc)

part_boot() {
  local r=${runs:-10} k t0 t1 t2 t3
  prepare_peers
  for k in "${kinds[@]}"; do
    make_one "$k" "bb-$k"
    start_one "$k" "bb-$k"   # the first boot (ssh host keys): not counted
    booted $(exec_of "$k" "bb-$k") || exit 1
    stop_one "$k" "bb-$k"
  done
  echo "bench: boot: $r runs of ${kinds[*]}, round-robin" >&2
  for i in $(seq "$r"); do
    for k in "${kinds[@]}"; do
      t0=$(now)
      start_one "$k" "bb-$k"
      t1=$(now)
      booted $(exec_of "$k" "bb-$k") || exit 1
      t2=$(now)
      echo "boot $k $(ms "$t0" "$t2")" >> "$lines"
      echo "start-cmd $k $(ms "$t0" "$t1")" >> "$lines"
      echo "userspace $k $(userspace $(exec_of "$k" "bb-$k"))" >> "$lines"
      t3=$(now)
      stop_one "$k" "bb-$k"
      echo "stop $k $(ms "$t3" "$(now)")" >> "$lines"
    done
    echo "load $i $(cut -d' ' -f1 /proc/loadavg)" >> "$lines"
  done
  for k in "${kinds[@]}"; do rm_one "$k" "bb-$k"; done
}

part_create() {
  local r=${runs:-10} t0
  prepare_peers
  lxc_config bc-base dir
  echo "bench: create: $r runs" >&2
  for i in $(seq "$r"); do
    t0=$(now); hw machine create "bc-w$i" --network none >/dev/null; echo "create hull $(ms "$t0" "$(now)")" >> "$lines"
    t0=$(now); hs ext4 machine create "bc-c$i" --network none >/dev/null; echo "create hull-cold $(ms "$t0" "$(now)")" >> "$lines"
    t0=$(now); pm_create "bc-p$i"; echo "create podman $(ms "$t0" "$(now)")" >> "$lines"
    t0=$(now); lxc-copy -P "$lxcpath" -n bc-base -N "bc-s$i" -s -B overlay >/dev/null; echo "create lxc-copy-snapshot $(ms "$t0" "$(now)")" >> "$lines"
    t0=$(now); lxc-copy -P "$lxcpath" -n bc-base -N "bc-f$i" >/dev/null; echo "create lxc-copy-full $(ms "$t0" "$(now)")" >> "$lines"
    hw machine rm -f "bc-w$i" "bc-c$i" >/dev/null
    "${P[@]}" rm -f "bc-p$i" >/dev/null
    lxc-destroy -P "$lxcpath" -n "bc-s$i" -f >/dev/null
    lxc-destroy -P "$lxcpath" -n "bc-f$i" -f >/dev/null
  done
  echo "load create $(cut -d' ' -f1 /proc/loadavg)" >> "$lines"
}

# MemAvailable, KiB: the median of 10 readings over 2 s, and their spread
avail() {
  local i
  for i in $(seq 10); do awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; sleep 0.2; done |
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] - v[1] }'
}
# the pid of KIND NAME's init
init_pid() {
  case $1 in
    hull|hull-priv) hw machine inspect "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])' ;;
    podman) "${P[@]}" inspect -f '{{.State.Pid}}' "$2" ;;
    lxc) lxc-info -P "$lxcpath" -n "$2" -p -H ;;
  esac
}
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# the memory cgroup's usage of a pid, KiB (v1; the cgroup2 file on a pure v2 host)
cg_mem() {
  local path
  path=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$1/cgroup")
  path=${path%/init.scope}  # systemd moved itself into a child (LXC's writable cgroup): the machine's is its parent
  if [[ -n $path ]]; then
    echo $(( $(cat "/sys/fs/cgroup/memory$path/memory.usage_in_bytes") / 1024 ))
  else
    path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup")
    path=${path%/init.scope}
    echo $(( $(cat "/sys/fs/cgroup$path/memory.current") / 1024 ))
  fi
}
part_density() {
  local n=$density k i t0 before after pid
  prepare_peers
  # every machine's systemd makes inotify instances, counted against host root's (a user namespace's are its
  # owner's too): Debian's 128 stops the 20th machine or so ("Failed to create inotify object"), as LXC's
  # documentation warns. Raised for the run, put back after.
  inotify=$(sysctl -n fs.inotify.max_user_instances)
  if [[ $inotify -lt $(( n * 16 + 256 )) ]]; then
    echo "bench: fs.inotify.max_user_instances $inotify -> $(( n * 16 + 256 )) for the run" >&2
    sysctl -q -w fs.inotify.max_user_instances=$(( n * 16 + 256 ))
  fi
  for k in hull podman lxc; do
    echo "bench: density: $n idle $k machines" >&2
    for i in $(seq "$n"); do make_one "$k" "bd-$k-$i"; done
    sync
    before=$(avail)
    t0=$(now)
    for i in $(seq "$n"); do start_one "$k" "bd-$k-$i"; done
    for i in $(seq "$n"); do booted $(exec_of "$k" "bd-$k-$i") || echo "density-unbooted $k 1" >> "$lines"; done
    echo "density-boot-all $k $(ms "$t0" "$(now)")" >> "$lines"
    sleep 5   # settled: what runs after multi-user.target (a timer's first run) has run
    after=$(avail)
    echo "density-drop $k $(( ${before% *} - ${after% *} ))" >> "$lines"
    echo "density-spread $k $(( ${before#* } + ${after#* } ))" >> "$lines"
    local mon=0 cg=0
    for i in $(seq "$n"); do
      pid=$(init_pid "$k" "bd-$k-$i")
      mon=$(( mon + $(pss "$(awk '{ print $4 }' "/proc/$pid/stat")") ))
      cg=$(( cg + $(cg_mem "$pid") ))
    done
    echo "density-monitor-pss $k $mon" >> "$lines"
    echo "density-cgroup $k $cg" >> "$lines"
    echo "density-load $k $(cut -d' ' -f1 /proc/loadavg)" >> "$lines"
    for i in $(seq "$n"); do stop_one "$k" "bd-$k-$i" & done
    wait
    for i in $(seq "$n"); do rm_one "$k" "bd-$k-$i"; done
  done
}

report() {
  python3 - "$lines" "$density" "$failed" <<'EOF'
import statistics, sys
from collections import defaultdict
v = defaultdict(list)
loads = []
for line in open(sys.argv[1]):
    part, case, val = line.split()
    if part == "load":
        loads.append(float(val))
        continue
    v[(part, case)].append(float(val))
def med(p, c):
    x = v.get((p, c))
    return statistics.median(x) if x else None
def cell(x, fmt="{:.0f}"):
    return "-" if x is None else fmt.format(x)
kinds = ["hull", "hull-priv", "podman", "lxc"]
if any(p == "boot" for p, _ in v):
    n = len(v[("boot", "hull")])
    print(f"\nboot to running, {n} runs round-robin, ms (medians; min-max); load {min(loads):.1f}-{max(loads):.1f}")
    print(f"{'':28}" + "".join(f"{k:>16}" for k in kinds))
    for p, what in [("boot", "start -> running"), ("start-cmd", "start command"), ("userspace", "systemd userspace"),
                    ("stop", "stop")]:
        print(f"{what:28}" + "".join(f"{cell(med(p, k)):>16}" for k in kinds))
    print(f"{'boot min-max':28}" + "".join(
        f"{'%.0f-%.0f' % (min(v[('boot', k)]), max(v[('boot', k)])):>16}" for k in kinds))
    for k in ["hull", "hull-priv"]:
        print(f"{k} / podman {med('boot', k) / med('boot', 'podman'):.2f}x, / lxc {med('boot', k) / med('boot', 'lxc'):.2f}x")
if any(p == "create" for p, _ in v):
    cs = ["hull", "hull-cold", "podman", "lxc-copy-snapshot", "lxc-copy-full"]
    print(f"\ncreate from the cached template, ms (medians of {len(v[('create', 'hull')])})")
    for c in cs:
        print(f"{c:28}{cell(med('create', c)):>10}")
if any(p.startswith("density") for p, _ in v):
    n = int(sys.argv[2])
    ks = ["hull", "podman", "lxc"]
    print(f"\ndensity: {n} idle machines of each, per machine, KiB")
    print(f"{'':34}" + "".join(f"{k:>12}" for k in ks))
    rows = [("density-drop", "MemAvailable drop"), ("density-spread", "(readings' spread)"),
            ("density-cgroup", "memory cgroup usage"), ("density-monitor-pss", "monitor Pss")]
    for p, what in rows:
        print(f"{what:34}" + "".join(f"{cell(med(p, k) / n if med(p, k) is not None else None):>12}" for k in ks))
    print(f"{'all booted after, s':34}" + "".join(f"{cell(med('density-boot-all', k) / 1000, '{:.1f}'):>12}" for k in ks))
    print(f"{'load after':34}" + "".join(f"{cell(med('density-load', k), '{:.1f}'):>12}" for k in ks))
    print(f"{'not running after 5 min':34}" + "".join(f"{len(v.get(('density-unbooted', k), [])):>12}" for k in ks))
fails = open(sys.argv[3]).read().strip()
if fails:
    print("\nfailed units in degraded boots:\n" + fails)
EOF
}

want boot && part_boot
want create && part_create
want density && part_density
if ! want snapshots; then
  echo "bench/machine.sh: ${parts[*]}; $(uptime); kernel $(uname -r)"
  report
  exit 0
fi

# --- snapshots: Hull's reflink and sparse copies ---
runs=${runs:-3}
mkdir -p "$work/xfs"
truncate -s $(( mib * 8 + 8192 ))M "$work/xfs.img"
mkfs.xfs -q -m reflink=1 "$work/xfs.img"
mount -o loop "$work/xfs.img" "$work/xfs"
# the same as a command line for /usr/bin/time (which runs programs, not functions)
hc() { echo env "HULL_HOME=$work/$1/home" "HULL_STATE=$work/$1/state" "$HULL"; }
hs ext4 machine create bm-plain --network none >/dev/null
hs ext4 save -o "$work/template.tar" hull.local/machine/debian:12
hs xfs load -q -i "$work/template.tar" >/dev/null
rm -f "$work/template.tar"
hs xfs machine create bm-plain --network none >/dev/null
disk_mib=$(( mib + 1024 > 2048 ? mib + 1024 : 2048 ))  # 2 GiB, or room for a larger payload (--mib 2048)
for s in "${stores[@]}"; do
  hs "$s" machine create bm-disk --network none --disk "${disk_mib}m" >/dev/null
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
if [[ ${#parts[@]} -gt 1 ]]; then report; fi
