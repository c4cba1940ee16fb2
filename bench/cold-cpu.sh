#!/usr/bin/env bash
# bench/cold-cpu.sh [--runs N] TREE...: CPU (user+sys, bash's time: getrusage) of cold hull-runtime calls
# (HULL_NO_SERVICE=1: a JVM per call, AOT cache as built and trained in each TREE) for --version, state of a
# missing id, and a busybox container's create, state, start, kill and delete. Medians of N runs (default 15),
# the TREEs interleaved call by call, so a loaded host weighs on each alike. CPU, not wall time: the host may be
# shared. Each TREE must be built and trained (mvn -DskipTests package && scripts/aot-train). Needs root.
# Example: compare a checkout of the previous commit with this one:
#   git worktree add /tmp/before HEAD~1 && (cd /tmp/before && mvn -q -DskipTests package && scripts/aot-train)
#   bench/cold-cpu.sh /tmp/before .
set -euo pipefail
runs=15
if [[ ${1:-} == --runs ]]; then runs=$2; shift 2; fi
(( $# )) || { sed -n '2,8p' "$0" >&2; exit 2; }
[[ -x /bin/busybox ]] || { echo "cold-cpu: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
export HULL_NO_SERVICE=1
trees=()
for t in "$@"; do trees+=("$(cd "$t" && pwd)"); done
work=$(mktemp -d /tmp/hull-cold-cpu.XXXXXX)
cleanup() {
  for i in "${!trees[@]}"; do
    for id in $("${trees[$i]}/bin/hull-runtime" --root "$work/root$i" list -q 2>/dev/null); do
      "${trees[$i]}/bin/hull-runtime" --root "$work/root$i" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT

# a rootfs with busybox as /bin/sleep, and a config.json running it (terminal off)
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/sleep"
"${trees[0]}/bin/hull-runtime" spec --bundle "$bundle"
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sleep", "1000"]
json.dump(c, open(p, "w"), indent=2)
PY

TIMEFORMAT="%3U %3S"
# cpu LABEL TREE-INDEX ARGS...: one call, its CPU ms appended to $work/LABEL.TREE-INDEX
cpu() {
  local label=$1 i=$2
  shift 2
  local t
  t=$( { time "${trees[$i]}/bin/hull-runtime" --root "$work/root$i" "$@" >/dev/null 2>"$work/err"; } 2>&1 ) || {
    [[ $label == state-missing ]] || { echo "cold-cpu: ${trees[$i]}: $* failed: $(cat "$work/err")" >&2; exit 1; }
  }
  awk '{printf "%.0f\n", ($1 + $2) * 1000}' <<<"$t" >>"$work/$label.$i"
}
labels=(version state-missing create state start kill delete)
for n in $(seq "$runs"); do
  for i in "${!trees[@]}"; do
    id=cold-$$-$n
    cpu version "$i" --version
    cpu state-missing "$i" state no-such-container
    cpu create "$i" create --bundle "$bundle" "$id"
    cpu state "$i" state "$id"
    cpu start "$i" start "$id"
    cpu kill "$i" kill "$id" KILL
    for _ in $(seq 100); do
      "${trees[$i]}/bin/hull-runtime" --root "$work/root$i" state "$id" 2>/dev/null | grep -q '"stopped"' && break
      sleep 0.1
    done
    cpu delete "$i" delete "$id"
  done
done
median() { sort -n "$1" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
printf '%-14s' "CPU ms"
for t in "${trees[@]}"; do printf ' %12s' "$(basename "$t")"; done
echo
for l in "${labels[@]}"; do
  printf '%-14s' "$l"
  for i in "${!trees[@]}"; do printf ' %12s' "$(median "$work/$l.$i")"; done
  echo
done
echo "(medians of $runs runs each; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
