#!/usr/bin/env bash
# bench/engine.sh: the `hull` engine against podman (rootful, runc), side by
# side in one run, on the same busybox image.
#
#   bench/engine.sh                  # full: 20 runs, 3 rounds of 100, 200 idle
#   bench/engine.sh --quick          # a smoke test: 5 runs, 1 round of 20, 20 idle
#   bench/engine.sh --runs N         # run --rm latency: N timed runs per command
#   bench/engine.sh --warmup N       # ... after N untimed ones (default 2)
#   bench/engine.sh --count N        # parallel start: N containers (default 100)
#   bench/engine.sh --parallel P     # ... P launched at once (default: all N)
#   bench/engine.sh --rounds R       # ... median of R rounds (default 3)
#   bench/engine.sh --idle N         # idle memory: N containers (default 200)
#   bench/engine.sh --parts LIST     # latency,parallel,idle (comma-separated)
#   bench/engine.sh --only LIST      # peers: hull,podman (default both)
#   bench/engine.sh --no-bridge      # skip the podman default-network context run
#   bench/engine.sh --no-train       # never (re)train Hull's AOT cache
#   bench/engine.sh --dir /dev/shm   # stores and temp files under DIR (default /tmp)
#   HULL_WARM=1 bench/engine.sh      # also Hull warm (see below); 0: never
#
# Measures:
#   latency   `run --rm IMAGE true`, hyperfine -N: median, p90, hull/podman.
#   parallel  N x `run -d --name NAME IMAGE sleep 3600` started at once with
#             xargs -P (each returns once its container runs); the time from
#             the first launch until all have returned, then a check that N
#             are running; median of R rounds; then `rm -f` of all, untimed.
#   idle      N x `run -d IMAGE sleep 3600`, 8 launched at a time (untimed);
#             then the monitors' memory (Rss and Pss from
#             /proc/PID/smaps_rollup, summed, divided by the number of
#             running containers): processes named hull-monitor for Hull,
#             conmon for podman, new since before the launch and the parent
#             of a container's main process (`inspect -f {{.State.Pid}}`;
#             failing that, naming the bench's temp dir, else all new ones:
#             the report says which); the drop of MemAvailable
#             (/proc/meminfo, median of 10 readings over 2 s, before and
#             after; their spread is the noise shown) per container, which
#             also counts the kernel's cost
#             (namespaces, cgroups, mounts, page tables, the containers' own
#             processes); and the growth of the kernel's Slab + KernelStack +
#             PageTables per container (less disturbed by other processes on
#             the host than MemAvailable). Every other new process is listed
#             by name in the raw numbers.
#   context   podman `run --rm` on its default bridge network (netavark),
#             when that works on the host (skipped cleanly when not). Netavark
#             keeps its NETAVARK_* firewall chains and /run/containers/networks
#             on the host afterwards (podman's own, shared state).
# Hull cold with 100 at once is 100 JVMs at once: several GB of RAM for a
# moment, and CPU-bound on a small host.
# Peers:
#   hull      bin/hull (no ./hull wrapper: that one also checks the sources
#             and builds) with HULL_NO_SERVICE=1: a JVM per command, with the AOT
#             cache when it is fresh. HULL_HOME and HULL_STATE in the temp dir.
#             Hull's built-in `busybox` image is made there on first use.
#   hull warm a resident `hull runtime-server` (socket in the temp dir,
#             HULL_RUNTIME_SOCKET); measured when bin/hull has a client mode
#             (the launcher mentions `--client`, as bin/hull-runtime does) or
#             with HULL_WARM=1. Without a client mode it is the same as cold
#             (the script says so). Start command: start_warm_server below.
#   podman    podman with --root/--runroot/--tmpdir in the temp dir (the
#             host's /var/lib/containers is not touched), CONTAINERS_CONF=
#             bench/podman/containers.conf (cgroupfs, events to a file) and
#             `--runtime runc --ulimit nofile=H:H --ulimit nproc=4096:4096
#             --network none` (H: the host's hard nofile limit). This host's
#             root lacks CAP_SYS_RESOURCE, so podman's default rlimits
#             (nofile 1048576, ...) fail with EPERM; crun refuses the hybrid
#             cgroup layout ("cgroups in hybrid mode not supported").
#   image     `hull save --format oci-archive busybox`, `podman load`-ed into
#             the private store: the same image id for both. Fallback: a
#             rootfs of Debian's busybox-static, `podman import`-ed.
# Prints a markdown table (what, hull, podman, hull/podman), writes it with
# the raw numbers to bench/results/engine-<stamp>.md (raw hyperfine JSON and
# everything else in bench/results/<stamp>-engine*.json; git-ignored). Needs
# root. Installs podman, hyperfine, busybox-static with apt-get when missing;
# builds Hull when target/hull.jar is missing; trains the AOT cache when stale.
# At exit (also Ctrl-C): removes every container it made (hull rm -f, then the
# runtime's delete --force, then a kill of what is left in its cgroups;
# podman rm -f), stops the warm server, unmounts what podman left mounted
# under the temp dir, removes it. Containers are named eb<PID>-...
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
runs=20 warmup=2 count=100 parallel='' rounds=3 idle=200 idle_parallel=8
parts=latency,parallel,idle only=hull,podman bridge=true train=true tmpbase=/tmp
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) runs=5 warmup=1 count=20 rounds=1 idle=20 ;;
    --runs) runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --count) count=$2; shift ;;
    --parallel) parallel=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --idle) idle=$2; shift ;;
    --parts) parts=$2; shift ;;
    --only) only=$2; shift ;;
    --no-bridge) bridge=false ;;
    --no-train) train=false ;;
    --dir) tmpbase=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "bench/engine.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
parallel=${parallel:-$count}
for n in "$runs" "$warmup" "$count" "$parallel" "$rounds" "$idle"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "bench/engine.sh: not a number: $n" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "bench/engine.sh: needs root (containers)" >&2; exit 1; }
want() { [[ ,$only, == *,$1,* ]]; }
part() { [[ ,$parts, == *,$1,* ]]; }
for p in ${only//,/ }; do
  case $p in hull|podman) ;; *) echo "bench/engine.sh: --only: unknown peer $p (hull, podman)" >&2; exit 2 ;; esac
done
for p in ${parts//,/ }; do
  case $p in latency|parallel|idle) ;; *) echo "bench/engine.sh: --parts: unknown part $p (latency, parallel, idle)" >&2; exit 2 ;; esac
done

# --- tools ---------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v python3 >/dev/null || need+=(python3)
[[ -x /bin/busybox ]] || need+=(busybox-static)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "bench: installing ${need[*]} (apt-get)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# --- Hull build + AOT cache ---------------------------------------------
t=$here/target
if [[ ! -f $t/hull.jar || ! -x $t/hull-executor ]]; then
  echo "bench: building Hull (mvn package)" >&2
  (cd "$here" && mvn -B -ntp -q package -DskipTests) >&2 ||
    { echo "bench: Hull does not build (to bench podman alone: --only podman)" >&2; exit 1; }
fi
if [[ ! $t/hull.aot -nt $t/hull.jar || ! $t/hull.aot -nt $t/lib ]] && want hull; then
  if $train; then
    echo "bench: training the AOT cache (scripts/aot-train)" >&2
    "$here/scripts/aot-train" || echo "bench: WARNING: AOT training failed; Hull runs without the cache" >&2
  fi
fi
if [[ $t/hull.aot -nt $t/hull.jar && $t/hull.aot -nt $t/lib ]]; then aot=fresh; else aot="stale: not used"; fi
[[ $aot == fresh ]] || ! want hull || echo "bench: WARNING: Hull's AOT cache is missing or older than the jar: cold numbers are without it" >&2

# --- temp dir, peers, cleanup ----------------------------------------------
work=$(mktemp -d "$tmpbase/hull-bench-engine.XXXXXX")
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
prefix=eb$$   # every container this run makes is named $prefix-...
export HULL_HOME=$work/hull/home HULL_STATE=$work/hull/state
export CONTAINERS_CONF=$here/bench/podman/containers.conf
mkdir -p "$HULL_HOME" "$HULL_STATE" "$work/pod/tmp"
HULLC="env HULL_NO_SERVICE=1 $here/bin/hull"
HULLW="env HULL_RUNTIME_SOCKET=$work/warm.sock $here/bin/hull"
PODMAN="podman --root $work/pod/root --runroot $work/pod/run --tmpdir $work/pod/tmp --storage-driver overlay"
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
podbase="--runtime runc --ulimit nofile=$nofile:$nofile --ulimit nproc=4096:4096"
podflags="$podbase --network none"
kv() { printf '%s\t%s\n' "$1" "$2" >> "$work/kv"; }
: > "$work/kv"

# hull ps / rm: being built; until they are there, Hull's own runtime (same
# state directory) lists and deletes the containers.
hull_ps=false hull_rm=false
runtime_ids() { # ids of every container in Hull's state (running or not)
  $HULLC runtime --root "$HULL_STATE" list --format json 2>/dev/null |
    python3 -c 'import json, sys
t = sys.stdin.read().strip()
for c in (json.loads(t) if t else None) or []: print(c["id"])' 2>/dev/null || true
}
hull_running() { # how many Hull containers run
  if $hull_ps; then
    $HULLC ps -q | grep -c . || true
  else
    $HULLC runtime --root "$HULL_STATE" list --format json 2>/dev/null |
      python3 -c 'import json, sys
t = sys.stdin.read().strip()
print(sum(1 for c in (json.loads(t) if t else None) or [] if c.get("status") == "running"))' 2>/dev/null || echo 0
  fi
}
hull_remove_all() { # every Hull container of this run, untimed
  local ids
  if $hull_ps; then ids=$($HULLC ps -a -q 2>/dev/null || true); else ids=$(runtime_ids); fi
  if [[ -n $ids ]] && $hull_rm; then
    # shellcheck disable=SC2086 # $HULLC: a command line, split on purpose
    echo "$ids" | xargs -n 50 $HULLC rm -f >/dev/null 2>>"$work/rm-hull.log" || true
  fi
  [[ -n $(find "$HULL_STATE" -mindepth 1 -maxdepth 1 -print -quit) ]] || return 0
  ids=$(runtime_ids)   # what hull rm left (or all, without hull rm)
  if [[ -n $ids ]]; then
    # shellcheck disable=SC2086
    echo "$ids" | xargs -P 4 -I{} $HULLC runtime --root "$HULL_STATE" delete --force {} >/dev/null 2>>"$work/rm-hull.log" || true
  fi
}
pod_remove_all() {
  $PODMAN rm -f -a -t 0 >/dev/null 2>>"$work/rm-podman.log" || true
}
hull_cgroups() { # this run's Hull container cgroups (all controllers): /hull/ID, ID from the private store
  local d
  for d in "$HULL_STATE"/* "$HULL_HOME"/containers/*; do
    [[ -d $d ]] && find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/hull/${d##*/}" 2>/dev/null
  done | sort -u -r
}
mentions_work() { # PID: its command line or environment names the temp dir
  { tr '\0' '\n' < "/proc/$1/cmdline"; tr '\0' '\n' < "/proc/$1/environ"; } 2>/dev/null | grep -qF "$work"
}
umount_under() { # unmount everything mounted at or below $1, deepest first
  local m
  for m in $(findmnt -rn -o TARGET | grep -E "^$1(/|$)" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}
cleanup() {
  set +e
  trap '' INT TERM
  echo "bench: cleaning up" >&2
  if [[ -n $(find "$HULL_STATE" "$HULL_HOME/containers" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null) ]]; then
    hull_remove_all
    # last resort: whatever still runs in this run's Hull cgroups
    cgs=$(hull_cgroups)
    for cg in $cgs; do
      [[ -f $cg/cgroup.procs ]] && xargs -r kill -9 < "$cg/cgroup.procs" 2>/dev/null
    done
    sleep 0.2
    for cg in $cgs; do rmdir "$cg" 2>/dev/null; done
  fi
  if [[ -d $work/pod/root ]]; then
    pod_remove_all
    left=$($PODMAN ps -a -q 2>/dev/null)
    [[ -n $left ]] && echo "bench: WARNING: podman containers left behind: $left" >&2
    # last resort: runc state of containers in the private store (runc keeps it in /run/runc)
    for c in "$work"/pod/root/overlay-containers/*/; do
      [[ -d $c ]] && runc delete --force "$(basename "$c")" >/dev/null 2>&1
    done
  fi
  if [[ -n ${server_pid:-} ]]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  # monitors that outlived their containers (ours only: they name the temp dir, as conmon does)
  for p in $(pgrep -x 'conmon|hull-monitor'); do
    mentions_work "$p" && kill -9 "$p" 2>/dev/null
  done
  umount_under "$work"
  left=$(findmnt -rn -o TARGET | grep -E "^$work(/|$)")
  [[ -n $left ]] && echo "bench: WARNING: mounts left behind: $left" >&2
  left=$(for cg in ${cgs:-}; do [[ -d $cg ]] && echo "$cg"; done)
  [[ -n $left ]] && echo "bench: WARNING: cgroups left behind: $left" >&2
  left=$(for p in $(pgrep -x 'conmon|hull-monitor|sleep'); do mentions_work "$p" && echo "$p"; done)
  [[ -n $left ]] && echo "bench: WARNING: processes left behind: $left" >&2
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- memory probe (python: /proc scans) ------------------------------------
cat > "$work/mem.py" <<'PY'
"""snap FILE: MemAvailable, kernel counters, every pid's name.
diff FILE COMM WORK PIDS: what is new since; the monitors are the COMM processes that are the parents of
the containers' main processes (PIDS: a file, one pid a line), else those naming WORK, else all new ones."""
import json, os, statistics, sys, time

KERNEL = ("Slab", "SUnreclaim", "KernelStack", "PageTables", "Shmem")

def meminfo():
    with open("/proc/meminfo") as f:
        return {k: int(v.split()[0]) for k, _, v in (l.partition(":") for l in f)}

def avail():  # MemAvailable: median and spread of 10 readings over 2 s; kernel counters: the last
    xs = []
    for _ in range(10):
        m = meminfo()
        xs.append(m["MemAvailable"])
        time.sleep(0.2)
    return {"avail_kb": int(statistics.median(xs)), "spread_kb": max(xs) - min(xs),
            "kernel_kb": {k: m.get(k, 0) for k in KERNEL}}

def procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    out[d] = f.read().strip()
            except OSError:
                pass
    return out

def rollup(pid):  # None for a zombie or a process gone meanwhile
    r = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Rss", "Pss"):
                    r[k] = int(v.split()[0])
    except (OSError, ValueError):
        return None
    return r if "Rss" in r else None

def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return None

def mentions(pid, work):
    for name in ("cmdline", "environ"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                if work.encode() in f.read():
                    return True
        except OSError:
            pass
    return False

cmd = sys.argv[1]
if cmd == "snap":
    json.dump(dict(avail(), procs=procs()), open(sys.argv[2], "w"))
elif cmd == "diff":
    before = json.load(open(sys.argv[2]))
    comm, work = sys.argv[3], sys.argv[4]
    inits = {l.strip() for l in open(sys.argv[5]) if l.strip() not in ("", "0")}
    parents = {ppid(p) for p in inits}
    after = avail()
    me = str(os.getpid())
    new = {p: c for p, c in procs().items() if p not in before["procs"] and p != me}
    by_comm, mons = {}, []
    for p, c in new.items():
        r = rollup(p)
        if r is None:
            continue
        a = by_comm.setdefault(c, {"count": 0, "rss_kb": 0, "pss_kb": 0})
        a["count"] += 1; a["rss_kb"] += r["Rss"]; a["pss_kb"] += r["Pss"]
        if c == comm:
            mons.append((p, r))
    how, ours = "parent of a container's main process", [m for m in mons if m[0] in parents]
    if not ours:
        how, ours = "names the bench's temp dir", [m for m in mons if mentions(m[0], work)]
    if not ours:
        how, ours = "all new ones (none matched)", mons
    print(json.dumps({
        "avail_before_kb": before["avail_kb"], "avail_after_kb": after["avail_kb"],
        "avail_spread_kb": max(before["spread_kb"], after["spread_kb"]),
        "kernel_delta_kb": {k: after["kernel_kb"][k] - before["kernel_kb"][k] for k in KERNEL},
        "monitor_comm": comm, "monitors": len(ours), "monitors_matched_by": how, "container_pids": len(inits),
        "monitors_other": len(mons) - len(ours),
        "monitor_rss_kb": sum(m[1]["Rss"] for m in ours), "monitor_pss_kb": sum(m[1]["Pss"] for m in ours),
        "new_processes_by_name": dict(sorted(by_comm.items(), key=lambda kv: -kv[1]["count"])),
    }))
PY
mem() { python3 "$work/mem.py" "$@"; }

# --- versions ---------------------------------------------------------------
load=$(cut -d' ' -f1-3 /proc/loadavg)
hull_version=$("$here/bin/hull" --version 2>/dev/null | head -1 || echo "?")
java_version=$("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | sed 's/"//g')
versions="Host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), load average at start $load; stores on $(stat -f -c %T "$work") ($tmpbase). $hull_version (bin/hull, AOT cache $aot), $java_version; $(podman --version) with $(runc --version | head -1) and $(conmon --version 2>/dev/null | head -1 || echo conmon ?), $(hyperfine --version)."
echo "bench: $versions" >&2
kv versions "$versions"

# --- Hull: built-in image, CLI surface, warm server -------------------------
image_note=""
if want hull || want podman; then
  echo "bench: Hull's built-in busybox image (private HULL_HOME)" >&2
  if ! $HULLC run --rm busybox true >"$work/check-hull.log" 2>&1; then
    cat "$work/check-hull.log" >&2
    if want hull; then echo "bench: hull run --rm busybox true failed" >&2; exit 1; fi
  fi
  hull_image=$($HULLC image inspect busybox 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"])' 2>/dev/null || true)
fi
if want hull; then
  $HULLC ps --help >/dev/null 2>&1 && hull_ps=true
  $HULLC rm --help >/dev/null 2>&1 && hull_rm=true
  $hull_ps || echo "bench: NOTE: no 'hull ps' yet: containers are counted with 'hull runtime list'" >&2
  $hull_rm || echo "bench: NOTE: no 'hull rm' yet: containers are removed with 'hull runtime delete --force'" >&2
  kv hull.ps "$hull_ps"; kv hull.rm "$hull_rm"
fi
client_mode=false
grep -q -e '--client' "$here/bin/hull" && client_mode=true
case ${HULL_WARM:-auto} in
  auto) warm=$client_mode ;;
  1|true|yes) warm=true ;;
  *) warm=false ;;
esac
want hull || warm=false
# The warm server. Today `hull runtime-server` serves hull-runtime commands
# and bin/hull has no client mode; when the launcher gets one (or a
# `hull system service`), adjust the command here.
start_warm_server() {
  HULL_NO_SERVICE=1 HULL_RUNTIME_SOCKET=$work/warm.sock "$here/bin/hull" runtime-server --socket "$work/warm.sock" \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do [[ -S $work/warm.sock ]] && return 0; sleep 0.1; done
  cat "$work/server.log" >&2
  return 1
}
if $warm; then
  $client_mode || echo "bench: WARNING: HULL_WARM=1 but bin/hull has no client mode: 'hull warm' starts a JVM per command like cold" >&2
  if start_warm_server; then
    kv hull.warm_client_mode "$client_mode"
  else
    echo "bench: WARNING: the warm server did not start; hull warm skipped" >&2
    warm=false
  fi
fi
hull_variants=()
want hull && hull_variants+=(hull)
$warm && hull_variants+=(hull-warm)

# --- podman: private store, the same image ---------------------------------
if want podman; then
  echo "bench: podman: loading the image into a private store" >&2
  pod_img=
  if [[ -n ${hull_image:-} ]] && $HULLC save --format oci-archive -o "$work/busybox-oci.tar" busybox 2>"$work/save.log" &&
     $PODMAN load -q -i "$work/busybox-oci.tar" >"$work/load.log" 2>&1; then
    pod_img=${hull_image#sha256:}
    if $PODMAN image exists "$pod_img"; then
      image_note="Image: Hull's built-in busybox ($hull_image), \`hull save --format oci-archive\` + \`podman load\`: the same image id in both stores."
    else
      pod_img=
    fi
  fi
  if [[ -z $pod_img ]]; then
    cat "$work/save.log" "$work/load.log" 2>/dev/null >&2
    echo "bench: WARNING: hull save | podman load did not work; podman imports a busybox-static rootfs" >&2
    r=$work/rootfs
    mkdir -p "$r/bin" "$r/etc" "$r/tmp"
    cp /bin/busybox "$r/bin/busybox"
    for a in $(/bin/busybox --list-full); do
      [[ $a == bin/busybox ]] && continue
      mkdir -p "$r/${a%/*}"
      ln -sf /bin/busybox "$r/$a"
    done
    chmod 1777 "$r/tmp"
    tar -C "$r" --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .
    $PODMAN import -q --change 'CMD ["sh"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$work/rootfs.tar" localhost/bench-busybox:latest >/dev/null
    pod_img=localhost/bench-busybox:latest
    image_note="Image: Hull's built-in busybox for Hull; for podman, Debian's busybox-static (/bin/busybox + applet links) \`podman import\`-ed (same binary, different image)."
  fi
  echo "bench: podman image $pod_img" >&2
  if ! eval "$PODMAN run --rm $podflags $pod_img true" >"$work/check-podman.log" 2>&1; then
    cat "$work/check-podman.log" >&2
    echo "bench: podman run --rm ... true failed" >&2
    exit 1
  fi
fi
kv image_note "$image_note"

run_cmd() { # VARIANT: its `run` command line (a string: no shell, hyperfine -N splits it)
  case $1 in
    hull) echo "$HULLC run --network none" ;;
    hull-warm) echo "$HULLW run --network none" ;;
    podman) echo "$PODMAN run $podflags" ;;
    podman-bridge) echo "$PODMAN run $podbase" ;;
  esac
}
image_of() { case $1 in hull*) echo busybox ;; *) echo "$pod_img" ;; esac; }
running() { case $1 in hull*) hull_running ;; *) $PODMAN ps -q | grep -c . || true ;; esac; }
remove_all() { case $1 in hull*) hull_remove_all ;; *) pod_remove_all ;; esac; }
main_pids() { # VARIANT: the main (init) pid of every running container (ps -q, then inspect)
  local engine ids
  case $1 in
    hull*) $hull_ps || return 0; engine=$HULLC ;;
    *) engine=$PODMAN ;;
  esac
  ids=$($engine ps -q 2>/dev/null) || return 0
  [[ -n $ids ]] || return 0
  # shellcheck disable=SC2086 # ids: one a word
  $engine inspect -f '{{.State.Pid}}' $ids 2>/dev/null || true
}
errors() { # LOG: the most frequent error lines (no stack frames)
  grep -v -E '^[[:space:]]+(at |\.\.\. [0-9]+ more)' "$1" | sort | uniq -c | sort -rn | head -"${2:-5}"
}
launch() { # VARIANT NAME-PREFIX N P: N x run -d ... sleep 3600, P at a time; exit status of xargs
  local cmd img
  cmd=$(run_cmd "$1") img=$(image_of "$1")
  # shellcheck disable=SC2086 # $cmd: a command line, split on purpose (xargs runs it without a shell)
  seq 1 "$3" | xargs -P "$4" -I{} $cmd -d --name "$2-{}" "$img" sleep 3600 >/dev/null 2>>"$work/launch-$1.log"
}

variants=("${hull_variants[@]}")
want podman && variants+=(podman)

# --- 1: run --rm latency ------------------------------------------------------
latency() { # VARIANT
  local v=$1 cmd
  cmd="$(run_cmd "$v") --rm $(image_of "$v") true"
  # one untimed run first: fails early, with the tool's own message
  if ! eval "$cmd" >"$work/check-$v.log" 2>&1; then
    echo "bench: $v: '$cmd' failed; skipped:" >&2
    tail -5 "$work/check-$v.log" | sed 's/^/  /' >&2
    kv "lat.$v.error" "$(tail -1 "$work/check-$v.log")"
    return 0
  fi
  local json=$results/$stamp-engine-run-$v.json
  if hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$json" -n "$v" "$cmd" >"$work/hf-$v.out" 2>&1; then
    grep -E 'Time \(mean|Range' "$work/hf-$v.out" | sed "s/^/  $v: /" >&2
    kv "lat.$v.json" "$json"
  else
    tail -5 "$work/hf-$v.out" >&2
    echo "bench: $v: hyperfine failed; skipped" >&2
    kv "lat.$v.error" "$(grep -m1 -i error "$work/hf-$v.out" || tail -1 "$work/hf-$v.out")"
  fi
}
if part latency; then
  echo "bench: 1/3 run --rm busybox true: $runs runs, $warmup warmups each" >&2
  for v in "${variants[@]}"; do latency "$v"; done
  if want podman && $bridge; then
    echo "bench: context: podman on its default bridge network" >&2
    latency podman-bridge
    pod_remove_all
  fi
fi

# --- 2: N x run -d at once ----------------------------------------------------
if part parallel; then
  echo "bench: 2/3 $count x run -d, $parallel at a time, $rounds round(s)" >&2
  for r in $(seq 1 "$rounds"); do
    for v in "${variants[@]}"; do   # alternate peers round by round
      remove_all "$v"
      rc=0
      t0=$(date +%s%N)
      launch "$v" "$prefix-$v-r$r" "$count" "$parallel" || rc=$?
      t1=$(date +%s%N)
      n=$(running "$v")
      s=$(python3 -c "print(f'{($t1 - $t0) / 1e9:.3f}')")
      echo "  $v round $r: ${s} s, $n of $count running$([[ $rc == 0 ]] || echo ", some launches failed (xargs exit $rc; see below)")" >&2
      kv "par.$v.$r.s" "$s"; kv "par.$v.$r.running" "$n"; kv "par.$v.$r.rc" "$rc"
      remove_all "$v"
    done
  done
  for v in "${variants[@]}"; do
    if [[ -s $work/launch-$v.log ]]; then
      echo "bench: $v: launch errors ($(wc -l < "$work/launch-$v.log") lines), the most frequent:" >&2
      errors "$work/launch-$v.log" | sed 's/^/  /' >&2
      kv "par.$v.errors" "$(errors "$work/launch-$v.log" 3 | tr '\n' ';')"
      : > "$work/launch-$v.log"
    fi
  done
fi

# --- 3: idle memory -------------------------------------------------------------
if part idle; then
  echo "bench: 3/3 $idle idle containers (sleep 3600), $idle_parallel launched at a time" >&2
  idle_variants=()
  want hull && idle_variants+=(hull)   # monitors are the same cold or warm
  want podman && idle_variants+=(podman)
  for v in "${idle_variants[@]}"; do
    case $v in hull) comm=hull-monitor ;; *) comm=conmon ;; esac
    remove_all "$v"
    sleep 2
    mem snap "$work/idle-$v.before"
    rc=0
    launch "$v" "$prefix-$v-idle" "$idle" "$idle_parallel" || rc=$?
    sleep 3   # let them settle (podman's conmon double-forks, cleanup processes exit)
    n=$(running "$v")
    main_pids "$v" > "$work/idle-$v.pids"
    sleep 1
    mem diff "$work/idle-$v.before" "$comm" "$work" "$work/idle-$v.pids" > "$work/idle-$v.json"
    kv "idle.$v.json" "$work/idle-$v.json"; kv "idle.$v.running" "$n"; kv "idle.$v.rc" "$rc"
    if [[ -n ${server_pid:-} ]] && [[ $v == hull ]]; then
      kv idle.server_rss_kb "$(awk '/^Rss:/ {print $2}' "/proc/$server_pid/smaps_rollup" 2>/dev/null)"
    fi
    python3 - "$work/idle-$v.json" "$v" "$n" "$idle" <<'PY' >&2
import json, sys
d, v, n, idle = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
drop = d["avail_before_kb"] - d["avail_after_kb"]
print(f"  {v}: {n} of {idle} running; {d['monitors']} {d['monitor_comm']} processes, "
      f"Rss {d['monitor_rss_kb']} KiB, Pss {d['monitor_pss_kb']} KiB in all; MemAvailable drop {drop} KiB "
      f"(spread {d['avail_spread_kb']} KiB); kernel Slab {d['kernel_delta_kb']['Slab']:+} KiB")
print("  new processes: " + ", ".join(f"{c} x{a['count']}" for c, a in d["new_processes_by_name"].items()))
PY
    if [[ -s $work/launch-$v.log ]]; then
      echo "bench: $v: launch errors, the most frequent:" >&2
      errors "$work/launch-$v.log" | sed 's/^/  /' >&2
      kv "idle.$v.errors" "$(errors "$work/launch-$v.log" 3 | tr '\n' ';')"
      : > "$work/launch-$v.log"
    fi
    remove_all "$v"
  done
fi

# --- report -------------------------------------------------------------------
python3 - "$work/kv" "$results" "$stamp" "$runs" "$warmup" "$count" "$parallel" "$rounds" "$idle" <<'PY'
import json, os, statistics, sys
kvfile, results, stamp = sys.argv[1:4]
runs, warmup, count, parallel, rounds, idle = map(int, sys.argv[4:10])
kv = {}
for line in open(kvfile):
    k, _, v = line.rstrip("\n").partition("\t")
    kv[k] = v
raw = {"stamp": stamp, "versions": kv.get("versions"), "image": kv.get("image_note"),
       "settings": {"runs": runs, "warmup": warmup, "count": count, "parallel": parallel,
                    "rounds": rounds, "idle": idle}}

def p90(xs):
    xs = sorted(xs)
    return xs[max(0, -(-9 * len(xs) // 10) - 1)]   # nearest rank

lat = {}
for v in ["hull", "hull-warm", "podman", "podman-bridge"]:
    if f"lat.{v}.json" in kv:
        r = json.load(open(kv[f"lat.{v}.json"]))["results"][0]
        ts = [t * 1000 for t in r["times"]]
        lat[v] = {"median_ms": statistics.median(ts), "p90_ms": p90(ts), "times_ms": [round(t, 2) for t in ts]}
    elif f"lat.{v}.error" in kv:
        lat[v] = {"error": kv[f"lat.{v}.error"]}
raw["latency"] = lat

par = {}
for v in ["hull", "hull-warm", "podman"]:
    rs = []
    for r in range(1, rounds + 1):
        if f"par.{v}.{r}.s" in kv:
            rs.append({"s": float(kv[f"par.{v}.{r}.s"]), "running": int(kv[f"par.{v}.{r}.running"] or 0),
                       "xargs_exit": int(kv[f"par.{v}.{r}.rc"])})
    if rs:
        ok = all(x["running"] == count and x["xargs_exit"] == 0 for x in rs)
        par[v] = {"rounds": rs, "median_s": statistics.median(x["s"] for x in rs), "all_ok": ok,
                  "errors": kv.get(f"par.{v}.errors")}
raw["parallel"] = par

idl = {}
for v in ["hull", "podman"]:
    if f"idle.{v}.json" in kv:
        d = json.load(open(kv[f"idle.{v}.json"]))
        d["running"] = int(kv[f"idle.{v}.running"] or 0)
        d["xargs_exit"] = int(kv[f"idle.{v}.rc"])
        d["errors"] = kv.get(f"idle.{v}.errors")
        idl[v] = d
if "idle.server_rss_kb" in kv:
    raw["warm_server_rss_kb"] = kv["idle.server_rss_kb"]
raw["idle"] = idl

def f(x, nd=0):
    return "—" if x is None else f"{x:,.{nd}f}"
def ratio(a, b):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}x"
def get(d, *ks):
    for k in ks:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d

rows = []
label = {"hull": "cold JVM", "hull-warm": "warm server"}
hv = [v for v in ["hull", "hull-warm"] if v in lat or v in par] or ["hull"]
for v in hv:
    for stat, name in [("median_ms", "median"), ("p90_ms", "p90")]:
        if v in lat or "podman" in lat:
            h, p = get(lat, v, stat), get(lat, "podman", stat)
            rows.append((f"`run --rm busybox true`, {name}, ms (hull: {label[v]})", f(h, 1), f(p, 1), ratio(h, p)))
for v in hv:
    if v in par or "podman" in par:
        h, p = get(par, v, "median_s"), get(par, "podman", "median_s")
        mark = lambda peer: "" if get(par, peer, "all_ok") in (True, None) else " (!)"
        rows.append((f"{count} × `run -d … sleep 3600`, {parallel} at once, until all run: median of {rounds}, s (hull: {label[v]})",
                     f(h, 2) + mark(v), f(p, 2) + mark("podman"), ratio(h, p)))
if idl:
    def per(v, key):  # per running container
        d = idl.get(v)
        if not d:
            return None
        n = d["running"] or idle
        if key == "drop":
            return (d["avail_before_kb"] - d["avail_after_kb"]) / n
        if key == "kernel":
            k = d["kernel_delta_kb"]
            return (k["Slab"] + k["KernelStack"] + k["PageTables"]) / n
        return d[key] / n if d["monitors"] else None
    def noise(v):
        d = idl.get(v)
        return f" ± {d['avail_spread_kb'] / (d['running'] or idle):,.0f}" if d else ""
    names = f"{get(idl, 'hull', 'monitor_comm') or 'hull-monitor'} / {get(idl, 'podman', 'monitor_comm') or 'conmon'}"
    for key, name in [("monitor_rss_kb", f"monitor Rss per container, KiB ({names})"),
                      ("monitor_pss_kb", "monitor Pss per container, KiB"),
                      ("drop", "MemAvailable drop per container, KiB"),
                      ("kernel", "kernel Slab+KernelStack+PageTables growth per container, KiB")]:
        h, p = per("hull", key), per("podman", key)
        hs, ps = f(h), f(p)
        if key == "drop":
            hs, ps = (hs + noise("hull") if h is not None else hs), (ps + noise("podman") if p is not None else ps)
        rows.append((f"{idle} idle containers: {name}", hs, ps, ratio(h, p)))
if "podman-bridge" in lat:
    p = get(lat, "podman-bridge", "median_ms")
    rows.append(("context: podman `run --rm … true` on its default bridge network, median, ms", "—",
                 f(p, 1) if p is not None else "failed (skipped)", "—"))

out = [f"Hull vs podman, the same busybox image (`bench/engine.sh`, {stamp}).", "",
       "| what | hull | podman | hull/podman |", "|---|---:|---:|---:|"]
out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
notes = []
if any(get(par, v, "all_ok") is False for v in par):
    notes.append("(!) some launches failed or not all containers were running afterwards: see the raw numbers.")
for v in ["hull", "hull-warm", "podman", "podman-bridge"]:
    if get(lat, v, "error"):
        notes.append(f"{v} `run --rm` failed, not measured: {lat[v]['error']}")
if idl.get("hull") and not idl["hull"]["monitors"]:
    notes.append("Hull: no `hull-monitor` processes appeared for the idle containers (none per container yet?); "
                 "the MemAvailable drop still counts what they cost.")
for v, d in idl.items():
    drop = d["avail_before_kb"] - d["avail_after_kb"]
    other = {c: a for c, a in d["new_processes_by_name"].items() if c not in (d["monitor_comm"], "sleep")}
    other_rss = sum(a["rss_kb"] for a in other.values())
    if drop < 0 or other_rss > 10 * 1024:
        notes.append(f"{v}: the MemAvailable row is disturbed: " + (f"MemAvailable rose by {-drop} KiB; " if drop < 0 else "")
                     + f"other processes came up meanwhile (Rss {other_rss} KiB: "
                     + ", ".join(f"{c} ×{a['count']}" for c, a in other.items()) + ").")
    if d["running"] != idle:
        notes.append(f"{v}: {d['running']} of {idle} idle containers were running at the measurement.")
    if d["monitors"] and d["monitors_matched_by"].startswith("all"):
        notes.append(f"{v}: no {d['monitor_comm']} process was the parent of a container's main process (or named "
                     "the temp dir): all new ones were counted.")
notes.append(f"Latency: hyperfine -N, {runs} runs after {warmup} warmups; p90 by nearest rank. Podman: "
             "`--runtime runc --ulimit nofile=H:H --ulimit nproc=4096:4096 --network none`, private --root/--runroot, "
             "cgroupfs; Hull: `--network none` too. Parallel: xargs -P; wall time from the first launch "
             "until the last `run -d` returned. Idle memory: Rss/Pss from /proc/PID/smaps_rollup of the monitors, "
             "MemAvailable before/after (median of 10 readings over 2 s each; ± their spread per container): "
             "noisy if anything else runs on the host.")
if kv.get("image_note"):
    notes.append(kv["image_note"])
if "warm_server_rss_kb" in raw:
    notes.append(f"Hull warm: the resident server's Rss was {raw['warm_server_rss_kb']} KiB (a fixed cost, not per container).")
if kv.get("hull.warm_client_mode") == "false":
    notes.append("Hull warm: bin/hull had no client mode, so 'warm' rows ran a JVM per command like cold.")
if kv.get("hull.ps") == "false" or kv.get("hull.rm") == "false":
    notes.append("Hull: `hull ps`/`hull rm` not available; counted and removed through `hull runtime list/delete`.")
notes.append(kv.get("versions", ""))
out += [""] + [f"- {n}" for n in notes if n]

rawmd = ["", "Raw numbers:", ""]
for v, d in lat.items():
    if "times_ms" in d:
        rawmd.append(f"- `run --rm` {v}, ms: " + ", ".join(f"{t:.1f}" for t in d["times_ms"]))
for v, d in par.items():
    rawmd.append(f"- {count} × `run -d` {v}: " + "; ".join(
        f"round {i + 1}: {x['s']:.2f} s, {x['running']} running, xargs exit {x['xargs_exit']}" for i, x in enumerate(d["rounds"]))
        + (f"; errors: {d['errors']}" if d.get("errors") else ""))
for v, d in idl.items():
    others = ", ".join(f"{c} ×{a['count']} (Rss {a['rss_kb']} KiB, Pss {a['pss_kb']} KiB)"
                       for c, a in d["new_processes_by_name"].items())
    rawmd.append(f"- idle {v}: {d['running']} running; {d['monitors']} {d['monitor_comm']} "
                 f"(Rss {d['monitor_rss_kb']} KiB, Pss {d['monitor_pss_kb']} KiB in all); MemAvailable "
                 f"{d['avail_before_kb']} → {d['avail_after_kb']} KiB (spread {d['avail_spread_kb']} KiB); kernel growth, KiB: "
                 + ", ".join(f"{k} {x}" for k, x in d["kernel_delta_kb"].items())
                 + f"; new processes: {others or 'none'}"
                 + (f"; errors: {d['errors']}" if d.get("errors") else ""))
md = "\n".join(out + rawmd) + "\n"
mdpath = os.path.join(results, f"engine-{stamp}.md")
with open(mdpath, "w") as fh:
    fh.write(md)
with open(os.path.join(results, f"{stamp}-engine.json"), "w") as fh:
    json.dump(raw, fh, indent=2)
print("\n" + md)
print(f"(written to {mdpath} and {os.path.join(results, stamp + '-engine.json')})")
PY
