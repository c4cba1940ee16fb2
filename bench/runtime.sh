#!/usr/bin/env bash
# bench/runtime.sh: Hull's OCI runtime against runc and crun, side by side, on
# one busybox bundle running /bin/true (busybox true).
#
#   bench/runtime.sh            # full: 3 warmups, 30 runs per command
#   bench/runtime.sh --quick    # 1 warmup, 8 runs (a smoke test, noisy)
#   bench/runtime.sh --runs N   # N runs (keep >= 20 for numbers you quote)
#
# Measures, with hyperfine (-N: no shell in between):
#   run                     create+start+wait+delete in one command
#   create / start / delete separately (prepared by hyperfine --prepare with
#                           the same runtime, outside the measured time)
#   the JVM floor           java -version with the launchers' flags, and
#                           hull-runtime --version (CLI framework + AOT cache)
#   the unshare wrapper     crun refuses this host's hybrid cgroup layout
#                           ("cgroups in hybrid mode not supported"), so crun
#                           runs in a private mount namespace without
#                           /sys/fs/cgroup/unified; the wrapper's cost alone is
#                           measured and runc is also measured wrapped.
# Prints medians and ratios (hull/runc, hull/crun); raw hyperfine JSON goes to
# bench/results/ (git-ignored). Needs root. Installs runc, crun, hyperfine and
# busybox-static with apt-get when missing; builds Hull and (re)trains the AOT
# cache (scripts/aot-train) when missing or older than the jar.
# Leaves no containers behind (each runtime gets its own --root in a temp dir,
# deleted with --force at exit).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
runs=30 warmup=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) runs=8 warmup=1 ;;
    --runs) runs=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench/runtime.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || { echo "bench/runtime.sh: needs root (containers)" >&2; exit 1; }

# --- tools ---------------------------------------------------------------
need=()
command -v runc >/dev/null || need+=(runc)
command -v crun >/dev/null || need+=(crun)
command -v hyperfine >/dev/null || need+=(hyperfine)
[[ -x /bin/busybox ]] || need+=(busybox-static)
command -v python3 >/dev/null || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "bench: installing ${need[*]} (apt-get)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# --- Hull build + AOT cache ---------------------------------------------
if [[ ! -f $here/target/hull.jar || ! -x $here/target/hull-executor ]]; then
  echo "bench: building Hull (mvn package)" >&2
  (cd "$here" && mvn -q -B -DskipTests package) >/dev/null
fi
if [[ ! $here/target/hull.aot -nt $here/target/hull.jar || ! $here/target/hull.aot -nt $here/target/lib ]]; then
  echo "bench: training the AOT cache (scripts/aot-train)" >&2
  "$here/scripts/aot-train"
fi

# --- bundle and runtimes --------------------------------------------------
work=$(mktemp -d /tmp/hull-bench.XXXXXX)
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
bundle=$work/bundle
# Hull cold (a JVM per command, AOT cache) and warm (the static client hands
# the command to a resident `hull runtime-server`); same state root.
HULL="env HULL_NO_SERVICE=1 $here/bin/hull-runtime --root $work/hull"
HULLW="env HULL_RUNTIME_SOCKET=$work/warm.sock $here/bin/hull-runtime --root $work/hull"
RUNC="runc --root $work/runc"
# crun in a private mount namespace where /sys/fs/cgroup/unified is unmounted
# (so it sees pure cgroup v1); the host's mounts are untouched.
WRAP="unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec \"\$@\"' sh"
CRUN="$WRAP crun --root $work/crun"
RUNCW="$WRAP runc --root $work/runcw"
ids=(bench bench-run)

cleanup() {
  set +e
  [[ -n ${server_pid:-} ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  for id in "${ids[@]}"; do
    eval "$HULL delete --force $id" >/dev/null 2>&1
    eval "$RUNC delete --force $id" >/dev/null 2>&1
    eval "$RUNCW delete --force $id" >/dev/null 2>&1
    eval "$CRUN delete --force $id" >/dev/null 2>&1
  done
  left=$( { eval "$HULL list -q"; eval "$RUNC list -q"; eval "$RUNCW list -q"; eval "$CRUN list -q"; } 2>/dev/null)
  [[ -n $left ]] && echo "bench: WARNING: containers left behind: $left" >&2
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for a in $(/bin/busybox --list-full); do
  [[ $a == bin/busybox ]] && continue
  mkdir -p "$bundle/rootfs/${a%/*}"
  ln -sf /bin/busybox "$bundle/rootfs/$a"
done
eval "$HULL spec --bundle $bundle"
# terminal off, /bin/true; ociVersion 1.0.2 because crun 1.8.1 rejects
# Hull's default 1.3.0 ("unknown version specified"). Same file for all three.
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["ociVersion"] = "1.0.2"
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=2)
PY

# Helpers for hyperfine --prepare (run without a shell by -N, so a script).
# prep RT PHASE: put container "bench" in the state PHASE's command expects.
{
echo '#!/usr/bin/env bash'
echo 'set -u'
printf 'hull=%q hullw=%q runc=%q runcw=%q crun=%q\n' "$HULL" "$HULLW" "$RUNC" "$RUNCW" "$CRUN"
echo 'rt=$1 phase=$2'
echo 'R=${!rt}'
cat <<EOF
status() { eval "\$R state bench" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null; }
eval "\$R delete --force bench" >/dev/null 2>&1
[[ \$phase == create ]] && exit 0
# start/delete need a created container. Hull (at the time of writing) can lose
# a just-created init (executor exits before the init clears PDEATHSIG), so
# check and retry.
for try in 1 2 3 4 5 6 7 8; do
  eval "\$R create --bundle $bundle bench" >/dev/null || exit 1
  [[ \$(status) == created ]] && break
  echo "prep: \$rt create: container not 'created' after create (try \$try)" >>"$work/prep.log"
  eval "\$R delete --force bench" >/dev/null 2>&1
done
[[ \$phase == start ]] && exit 0
eval "\$R start bench" >/dev/null || exit 1
for i in \$(seq 200); do [[ \$(status) == stopped ]] && exit 0; sleep 0.01; done
exit 1
EOF
} > "$work/prep"
chmod +x "$work/prep"

hf() { # hf NAME [hyperfine args...]
  local name=$1; shift
  hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$results/$stamp-$name.json" "$@" \
    > "$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; echo "bench: $name failed" >&2; exit 1; }
  grep -E '^Benchmark|Time \(mean' "$work/$name.out" | sed 's/^/  /' >&2
}

HULL_RUNTIME_SOCKET=$work/warm.sock "$here/bin/hull" runtime-server 2>"$work/server.log" &
server_pid=$!
for i in $(seq 100); do [[ -S $work/warm.sock ]] && break; sleep 0.1; done
[[ -S $work/warm.sock ]] || { cat "$work/server.log" >&2; echo "bench: runtime-server did not start" >&2; exit 1; }

echo "bench: $runs runs, $warmup warmups; results in $results/$stamp-*.json" >&2
echo "bench: run (create+start+wait+delete of /bin/true)" >&2
hf run \
  -n hull "$HULL run --bundle $bundle bench-run" \
  -n hull-warm "$HULLW run --bundle $bundle bench-run" \
  -n runc "$RUNC run --bundle $bundle bench-run" \
  -n crun "$CRUN run --bundle $bundle bench-run" \
  -n runc-wrapped "$RUNCW run --bundle $bundle bench-run"
for phase in create start delete; do
  case $phase in
    create) cmd="create --bundle $bundle bench" ;;
    start) cmd="start bench" ;;
    delete) cmd="delete bench" ;;
  esac
  echo "bench: $phase" >&2
  hf "$phase" \
    -n hull -p "$work/prep hull $phase" "$HULL $cmd" \
    -n hull-warm -p "$work/prep hullw $phase" "$HULLW $cmd" \
    -n runc -p "$work/prep runc $phase" "$RUNC $cmd" \
    -n crun -p "$work/prep crun $phase" "$CRUN $cmd"
  # hyperfine's last prepare+command leaves "bench" behind; remove it now
  for rt in hull runc crun; do "$work/prep" "$rt" create; done
done

echo "bench: JVM floor and wrapper cost" >&2
J=$JAVA_HOME/bin/java
# The launchers' JVM flags, read from bin/hull-runtime itself.
flags=$(sed -n 's/^flags="\(.*\)"$/\1/p' "$here/bin/hull-runtime")
t=$here/target
hf floor \
  -n "java -version (defaults)" "$J -version" \
  -n "java -version (launcher flags)" "$J $flags -version" \
  -n "hull-runtime --version" "env HULL_NO_SERVICE=1 $here/bin/hull-runtime --version" \
  -n "hull-runtime --version (no AOT cache)" \
     "$J $flags --enable-native-access=ALL-UNNAMED -Dhull.program=hull-runtime -cp $t/hull.jar:$t/lib/* dev.hull.cli.Main --version" \
  -n "hull-runtime state (missing id)" -i "$HULL state no-such-container" \
  -n "unshare wrapper alone" "$WRAP true" \
  -n "true" "true"

# --- report ------------------------------------------------------------------
python3 - "$results" "$stamp" "$runs" <<'PY'
import json, sys, os
results, stamp, runs = sys.argv[1], sys.argv[2], sys.argv[3]
def load(name):
    with open(os.path.join(results, f"{stamp}-{name}.json")) as f:
        return {r["command"]: r for r in json.load(f)["results"]}
ms = lambda r: r["median"] * 1000
print(f"\nMedians in ms ({runs} runs each; hyperfine -N).\n")
print(f"| {'command':<8} | {'hull warm':>9} | {'hull cold':>9} | {'runc':>7} | {'crun*':>7} | {'warm/runc':>9} | {'warm/crun':>9} | {'cold/runc':>9} |")
print(f"|{'-'*10}|{'-'*11}|{'-'*11}|{'-'*9}|{'-'*9}|{'-'*11}|{'-'*11}|{'-'*11}|")
for phase in ["run", "create", "start", "delete"]:
    r = load(phase)
    w, h, rc, cr = ms(r["hull-warm"]), ms(r["hull"]), ms(r["runc"]), ms(r["crun"])
    print(f"| {phase:<8} | {w:9.1f} | {h:9.1f} | {rc:7.1f} | {cr:7.1f} | {w/rc:8.2f}x | {w/cr:8.2f}x | {h/rc:8.1f}x |")
r = load("run")
print(f"\n* crun runs inside the unshare wrapper; runc run wrapped the same way: "
      f"{ms(r['runc-wrapped']):.1f} ms (unwrapped {ms(r['runc']):.1f} ms).")
f = load("floor")
print("\nWhere the time goes (medians, ms):\n")
for name, res in f.items():
    print(f"  {ms(res):8.1f}  {name}")
PY
if [[ -s $work/prep.log ]]; then
  echo
  echo "Note: hull create lost its init $(wc -l < "$work/prep.log") time(s) during preparation (known Hull race)."
fi
