# bench/lib.sh: what every bench/*.sh does before it measures (sourced; needs $here, the repo).
#
#   bench_prepare SCRIPT WHY PKG...
#     refuses to run unless root (WHY says what for), installs the Debian packages that are
#     missing (apt-get update only when something is), and builds Hull when its jar or executor
#     is missing.

bench_prepare() {
  local script=$1 why=$2
  shift 2
  [[ $(id -u) == 0 ]] || { echo "$script: needs root ($why)" >&2; exit 1; }
  local need=() p
  for p in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || need+=("$p")
  done
  if [[ ${#need[@]} -gt 0 ]]; then
    echo "bench: installing ${need[*]} (apt-get)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [[ ! -f $here/target/hull.jar || ! -x $here/target/hull-executor ]]; then
    echo "bench: building Hull (mvn package)" >&2
    (cd "$here" && mvn -q -B -DskipTests package) >/dev/null
  fi
}
