#!/usr/bin/env bash
# bench/network.sh: traffic to a PUBLISHED port (`run -d -p HOST:CONTAINER`),
# Hull against podman (rootful, runc, netavark), side by side in one run, on the
# same busybox image; with the same servers run on the host as the floor.
#
#   bench/network.sh                  # full: 3 rounds, iperf3 10 s, ab 20000 requests
#   bench/network.sh --quick          # a smoke test: 1 round, iperf3 3 s, ab 2000 requests
#   bench/network.sh --rounds R       # median of R rounds (default 3)
#   bench/network.sh --time T         # seconds per iperf3 run (default 10)
#   bench/network.sh --requests N     # ab: N requests per round (default 20000)
#   bench/network.sh --concurrency C  # ab: C at a time (default 16)
#   bench/network.sh --parts LIST     # tcp,reverse,udp,http (comma-separated; default all)
#   bench/network.sh --only LIST      # peers: hull,podman (default both)
#   bench/network.sh --no-floor       # skip the servers on the host (no container)
#   bench/network.sh --addr ADDR      # connect to ADDR (default: see "address" below)
#   bench/network.sh --dir /dev/shm   # stores and temp files under DIR (default /tmp)
#
# Measures, per peer, the client on the host and the server in a container
# (busybox image) reached through the published port:
#   tcp       iperf3 throughput, host -> container: `iperf3 -c ADDR -p HOSTPORT
#             -t T -J`, the receiver's Gbit/s; median of R rounds, each a fresh
#             client run against the same server. The server: the host's own
#             /usr/bin/iperf3 (dynamically linked) with /usr, /lib and /lib64
#             bound in read-only (`-v /usr:/usr:ro -v /usr/lib:/lib:ro -v
#             /usr/lib64:/lib64:ro` here, where /lib and /lib64 are symlinks
#             into /usr), `/usr/bin/iperf3 -s -p 5201`.
#   reverse   the same with -R (container -> host), median of R rounds (a
#             single run of each proved too noisy to compare).
#   udp       `iperf3 -u -b 0 -l 1400` (unlimited rate: the sender floods, so
#             loss is high everywhere; the number is what the receiver got):
#             received Gbit/s and loss %, median of R rounds. A failed run is
#             run again once (iperf3 can end a flooded UDP test with "unable to
#             write to stream socket: Connection refused"); a peer where the
#             first round fails twice is skipped (UDP does not work there).
#   http      connection rate: busybox httpd in the container (`-v DIR:/www:ro
#             busybox httpd -f -p 80 -h /www`) serving a 512-byte index.html;
#             `ab -q -r -n N -c C http://ADDR:HOSTPORT/index.html` (-r: a socket
#             error counts as a failed request instead of ending ab): requests/s,
#             median of R rounds, and failed requests. busybox httpd forks a
#             process per request and every request is a new TCP connection
#             (HTTP/1.0, no keep-alive): this measures the whole path (connect
#             through the DNAT, conntrack, the fork, the response), not only the
#             forwarding. Before each round the script waits while the conntrack
#             table is more than half full (every connection stays in it for
#             120 s in TIME_WAIT). One untimed warm-up of 500 requests per peer.
#   floor     the same iperf3 and busybox httpd (/bin/busybox, the binary the
#             image is made from) as plain processes on the host, no container,
#             no DNAT, the same address: the last column of the table.
#   rules     context only, in the raw numbers: the firewall rules involved,
#             `nft list table ip hull | grep -c dnat` (Hull: fixed rules that
#             look the port up in maps; the maps' elements counted too) and
#             `iptables-save -t nat | grep -c DNAT` (netavark: a chain and rules
#             per container), before the servers started and while they run
#             (the tables are the host's, shared with anything else there).
# Address: 127.0.0.1 when every peer answers there (checked at start, on the
# httpd port of each: this host, podman 4.3.1 with netavark 1.4.0, does), else
# the host's first global IPv4 address (`ip -4 -o addr`, not on hull0, hb-*,
# podman*, cni*, hv*, veth*, docker*, br-*) when every peer answers there; both
# checks are in the raw numbers, the address used in the table's notes.
# Rounds alternate the peers (floor, hull, podman, floor, ...).
# Peers:
#   hull      bin/hull (no ./hull wrapper: that one also checks the sources and
#             builds) with HULL_NO_SERVICE=1 (the CLI's start time is not measured
#             here), HULL_HOME and HULL_STATE in the temp dir: `hull run -d
#             --network bridge -p HOSTPORT:CPORT[/udp]`, the default bridge hull0
#             (10.89.0.0/16), a veth, nftables DNAT (table ip hull), no proxy.
#             Hull's address leases are per HULL_HOME while hull0 is the host's:
#             the script checks that no other network namespace holds the
#             address its containers got (another Hull home on hull0) and
#             warns if one does.
#   podman    podman with --root/--runroot/--tmpdir in the temp dir, CONTAINERS_
#             CONF=bench/podman/containers.conf (cgroupfs, events to a file) and
#             `--runtime runc --ulimit nofile=H:H --ulimit nproc=4096:4096
#             --network bridge` (H: the host's hard nofile limit; see
#             bench/engine.sh for why): its default network `podman`
#             (10.88.0.0/16), netavark, iptables DNAT, no proxy (rootful).
#   image     `hull save --format oci-archive busybox`, `podman load`-ed into
#             the private store: the same image id for both. Fallback: a
#             rootfs of Debian's busybox-static, `podman import`-ed.
# Host ports: the first free ones from 25201 up (not listening, not in the
# host's nftables ruleset or iptables nat table).
# Prints a markdown table (what, hull, podman, hull/podman, floor), writes it
# with the raw numbers to bench/results/network-<stamp>.md (the parsed numbers
# also to bench/results/<stamp>-network.json; git-ignored). Needs root.
# Installs podman, runc, iperf3, apache2-utils (ab), curl, busybox-static with
# apt-get when missing; builds Hull when target/hull.jar is missing.
# At exit (also Ctrl-C): removes every container it made (hull rm -f, then the
# runtime's delete --force, then a kill of what is left in its cgroups; podman
# rm -f), stops the floor servers, unmounts what is left mounted under the temp
# dir, removes it. Containers are named nb<PID>-... Left on the host, as after
# any use of the tools: Hull's hull0 bridge and its table ip hull (this run's
# map elements are removed with its containers); netavark's NETAVARK-* chains
# in iptables and /run/containers/networks (podman0 too, while any podman
# container uses it).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
rounds=3 secs=10 requests=20000 conc=16 parts=tcp,reverse,udp,http only=hull,podman floor=true addr='' tmpbase=/tmp
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) rounds=1 secs=3 requests=2000 ;;
    --rounds) rounds=$2; shift ;;
    --time) secs=$2; shift ;;
    --requests) requests=$2; shift ;;
    --concurrency) conc=$2; shift ;;
    --parts) parts=$2; shift ;;
    --only) only=$2; shift ;;
    --no-floor) floor=false ;;
    --addr) addr=$2; shift ;;
    --dir) tmpbase=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "bench/network.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$rounds" "$secs" "$requests" "$conc"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench/network.sh: not a positive number: $n" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "bench/network.sh: needs root (containers)" >&2; exit 1; }
want() { [[ ,$only, == *,$1,* ]]; }
part() { [[ ,$parts, == *,$1,* ]]; }
for p in ${only//,/ }; do
  case $p in hull|podman) ;; *) echo "bench/network.sh: --only: unknown peer $p (hull, podman)" >&2; exit 2 ;; esac
done
for p in ${parts//,/ }; do
  case $p in tcp|reverse|udp|http) ;; *) echo "bench/network.sh: --parts: unknown part $p (tcp, reverse, udp, http)" >&2; exit 2 ;; esac
done

# --- tools ---------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v iperf3 >/dev/null || need+=(iperf3)
command -v ab >/dev/null || need+=(apache2-utils)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
[[ -x /bin/busybox ]] || need+=(busybox-static)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "bench: installing ${need[*]} (apt-get)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
t=$here/target
if [[ ! -f $t/hull.jar || ! -x $t/hull-executor ]]; then
  echo "bench: building Hull (mvn package)" >&2
  (cd "$here" && mvn -B -ntp -q package -DskipTests) >&2 ||
    { echo "bench: Hull does not build (to bench podman alone: --only podman)" >&2; exit 1; }
fi

# --- temp dir, peers, cleanup ----------------------------------------------
work=$(mktemp -d "$tmpbase/hull-bench-network.XXXXXX")
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
prefix=nb$$   # every container this run makes is named $prefix-...
export HULL_HOME=$work/hull/home HULL_STATE=$work/hull/state
export CONTAINERS_CONF=$here/bench/podman/containers.conf
mkdir -p "$HULL_HOME" "$HULL_STATE" "$work/pod/tmp" "$work/www"
HULLC="env HULL_NO_SERVICE=1 $here/bin/hull"
PODMAN="podman --root $work/pod/root --runroot $work/pod/run --tmpdir $work/pod/tmp --storage-driver overlay"
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
podflags="--runtime runc --ulimit nofile=$nofile:$nofile --ulimit nproc=4096:4096 --network bridge"
kv() { printf '%s\t%s\n' "$1" "$2" >> "$work/kv"; }
: > "$work/kv"
floor_pids=() ports=()

hull_remove_all() { # every Hull container of this run: hull rm -f, then the runtime's delete --force
  local ids
  ids=$($HULLC ps -a -q 2>/dev/null || true)
  if [[ -n $ids ]]; then
    # shellcheck disable=SC2086 # $HULLC: a command line, split on purpose
    echo "$ids" | xargs $HULLC rm -f >/dev/null 2>>"$work/rm-hull.log" || true
  fi
  [[ -n $(find "$HULL_STATE" -mindepth 1 -maxdepth 1 ! -name netns -print -quit) ]] || return 0
  ids=$($HULLC runtime --root "$HULL_STATE" list --format json 2>/dev/null |
    python3 -c 'import json, sys
t = sys.stdin.read().strip()
for c in (json.loads(t) if t else None) or []: print(c["id"])' 2>/dev/null || true)
  if [[ -n $ids ]]; then
    # shellcheck disable=SC2086
    echo "$ids" | xargs -I{} $HULLC runtime --root "$HULL_STATE" delete --force {} >/dev/null 2>>"$work/rm-hull.log" || true
  fi
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
  for p in "${floor_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
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
    $PODMAN rm -f -a -t 0 >/dev/null 2>>"$work/rm-podman.log"
    left=$($PODMAN ps -a -q 2>/dev/null)
    [[ -n $left ]] && echo "bench: WARNING: podman containers left behind: $left" >&2
    # last resort: runc state of containers in the private store (runc keeps it in /run/runc)
    for c in "$work"/pod/root/overlay-containers/*/; do
      [[ -d $c ]] && runc delete --force "$(basename "$c")" >/dev/null 2>&1
    done
  fi
  for p in $(pgrep -x 'conmon|hull-monitor'); do   # monitors that outlived their containers (ours name the temp dir)
    mentions_work "$p" && kill -9 "$p" 2>/dev/null
  done
  # a published port of ours still in Hull's maps, to one of our containers (hull rm failed): drop it
  grep -P '^ip\.hull\.' "$work/kv" | cut -f2 | while read -r ip; do
    for m in tcp-ports udp-ports; do
      for p in "${ports[@]}"; do
        if nft list map ip hull "$m" 2>/dev/null | grep -qE "(^|[{,[:space:]])$p : $ip \."; then
          echo "bench: WARNING: port $p -> $ip was still in Hull's map $m; deleted" >&2
          nft delete element ip hull "$m" "{ $p }" 2>/dev/null
        fi
      done
    done
  done
  umount_under "$work"
  left=$(findmnt -rn -o TARGET | grep -E "^$work(/|$)")
  [[ -n $left ]] && echo "bench: WARNING: mounts left behind: $left" >&2
  left=$(for cg in ${cgs:-}; do [[ -d $cg ]] && echo "$cg"; done)
  [[ -n $left ]] && echo "bench: WARNING: cgroups left behind: $left" >&2
  left=$(for p in $(pgrep -x 'conmon|hull-monitor|iperf3|busybox|httpd'); do mentions_work "$p" && echo "$p"; done)
  [[ -n $left ]] && echo "bench: WARNING: processes left behind: $left" >&2
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- versions -------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
netavark=$(for b in /usr/libexec/podman/netavark /usr/lib/podman/netavark; do [[ -x $b ]] && "$b" --version && break; done 2>/dev/null || echo "netavark ?")
versions="Host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), load average at start $load_start. $("$here/bin/hull" --version 2>/dev/null | head -1 || echo "hull ?") (bin/hull); $(podman --version) with $netavark and $(runc --version | head -1); $(iperf3 --version | head -1 | sed 's/ (.*//'); ab $(ab -V | sed -n 's/.*Version \([^ ]*\).*/\1/p'); $(/bin/busybox | head -1 | sed 's/ multi-call.*//'); $(nft --version | sed 's/ (.*//'); $(iptables --version)."
echo "bench: $versions" >&2
kv versions "$versions"

# --- image: Hull's built-in busybox, the same in podman's store -------------
echo "bench: Hull's built-in busybox image (private HULL_HOME)" >&2
if ! $HULLC run --rm busybox true >"$work/check-hull.log" 2>&1; then
  cat "$work/check-hull.log" >&2
  if want hull; then echo "bench: hull run --rm busybox true failed" >&2; exit 1; fi
fi
hull_image=$($HULLC image inspect busybox 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"])' 2>/dev/null || true)
image_note=""
if want podman; then
  echo "bench: podman: loading the image into a private store" >&2
  pod_img=
  if [[ -n $hull_image ]] && $HULLC save --format oci-archive -o "$work/busybox-oci.tar" busybox 2>"$work/save.log" &&
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
fi
kv image_note "$image_note"

# --- ports, the host's address, firewall rules -------------------------------
taken=$( { nft list ruleset; iptables-save -t nat; } 2>/dev/null)
free_port() { # sets port: the first from $next up that nothing listens on and no rule names
  port=$next
  while ss -Htuan "( sport = :$port )" | grep -q . || grep -qE "(^|[^0-9])$port([^0-9]|$)" <<<"$taken"; do
    port=$((port + 1))
  done
  next=$((port + 1)) ports+=("$port")
}
next=25201
host_addr=$(ip -4 -o addr show scope global | awk '$2 !~ /^(hull0|hb-|podman|cni|hv|veth|docker|br-)/ { sub(/\/.*/, "", $4); print $4; exit }')
kv host_addr "${host_addr:-none}"
rules() { # TAG: the firewall rules involved now (context only)
  kv "rules.$1.hull_dnat" "$(nft list table ip hull 2>/dev/null | grep -c dnat || true)"
  kv "rules.$1.hull_dnat_to" "$(nft list table ip hull 2>/dev/null | grep -c 'dnat ip to' || true)"
  kv "rules.$1.hull_map_elements" "$(for m in tcp-ports udp-ports tcp-addr-ports udp-addr-ports; do nft -j list map ip hull "$m" 2>/dev/null; done |
    python3 -c 'import json, sys
n = 0
for line in sys.stdin:
    for o in json.loads(line).get("nftables", []):
        n += len(o.get("map", {}).get("elem", []))
print(n)' 2>/dev/null || echo 0)"
  kv "rules.$1.iptables_dnat" "$(iptables-save -t nat 2>/dev/null | grep -c DNAT || true)"
  kv "rules.$1.iptables_nat_rules" "$(iptables-save -t nat 2>/dev/null | grep -c '^-A' || true)"
}
rules before

# --- servers ----------------------------------------------------------------
# iperf3 is the host's (dynamically linked): /usr and the library directories bound in read-only
mounts="-v /usr:/usr:ro"
for d in /lib /lib64; do
  [[ -e $d ]] || continue
  if [[ -L $d ]]; then mounts+=" -v $(readlink -f "$d"):$d:ro"; else mounts+=" -v $d:$d:ro"; fi
done
kv mounts "$mounts"
head -c 483 /dev/zero | tr '\0' 'x' | { printf '<html><body>\n'; cat; printf '\n</body></html>\n'; } > "$work/www/index.html"
kv index_bytes "$(stat -c %s "$work/www/index.html")"
engine() { case $1 in hull) echo "$HULLC" ;; podman) echo "$PODMAN" ;; esac; }
run_cmd() { # PEER: its `run -d` command line up to the image
  case $1 in
    hull) echo "$HULLC run -d --network bridge" ;;
    podman) echo "$PODMAN run -d $podflags" ;;
  esac
}
image_of() { case $1 in hull) echo busybox ;; *) echo "$pod_img" ;; esac; }
declare -A tport hport
peers=() failed_peers=()
$floor && peers+=(floor)
want hull && peers+=(hull)
want podman && peers+=(podman)
start_servers() { # PEER: an iperf3 server (tcp + udp) and an httpd, on free host ports
  local v=$1 cmd img
  free_port; tport[$v]=$port
  free_port; hport[$v]=$port
  if [[ $v == floor ]]; then
    iperf3 -s -p "${tport[$v]}" >"$work/floor-iperf3.log" 2>&1 &
    floor_pids+=($!)
    /bin/busybox httpd -f -p "${hport[$v]}" -h "$work/www" >"$work/floor-httpd.log" 2>&1 &
    floor_pids+=($!)
    kv "cmd.floor" "iperf3 -s -p ${tport[$v]}; /bin/busybox httpd -f -p ${hport[$v]} -h $work/www"
    return 0
  fi
  cmd=$(run_cmd "$v") img=$(image_of "$v")
  # shellcheck disable=SC2086 # command lines, split on purpose
  if ! { $cmd --name "$prefix-iperf3" -p "${tport[$v]}:5201" -p "${tport[$v]}:5201/udp" $mounts "$img" \
           /usr/bin/iperf3 -s -p 5201 >"$work/$v-iperf3.id" 2>"$work/$v-run.log" &&
         $cmd --name "$prefix-httpd" -p "${hport[$v]}:80" -v "$work/www:/www:ro" "$img" \
           httpd -f -p 80 -h /www >"$work/$v-httpd.id" 2>>"$work/$v-run.log"; }; then
    echo "bench: $v: run -d -p failed; skipped:" >&2
    tail -5 "$work/$v-run.log" | sed 's/^/  /' >&2
    kv "$v.error" "$(tail -1 "$work/$v-run.log")"
    return 1
  fi
  kv "cmd.$v" "$cmd --name $prefix-iperf3 -p ${tport[$v]}:5201 -p ${tport[$v]}:5201/udp $mounts $img /usr/bin/iperf3 -s -p 5201; $cmd --name $prefix-httpd -p ${hport[$v]}:80 -v $work/www:/www:ro $img httpd -f -p 80 -h /www"
  local e c
  e=$(engine "$v")
  for c in iperf3 httpd; do
    kv "port.$v.$c" "$($e port "$prefix-$c" 2>&1 | tr '\n' ';')"
    kv "ip.$v.$c" "$($e inspect -f '{{.NetworkSettings.IPAddress}}' "$prefix-$c" 2>/dev/null || echo '?')"
  done
}
answers() { # PEER ADDR: its httpd answers on ADDR (up to 10 s for the first try)
  local i
  for i in $(seq "${3:-1}"); do
    [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$2:${hport[$1]}/index.html") == 200 ]] && return 0
    sleep 0.2
  done
  return 1
}
other_netns_with() { # ADDR: network namespaces, other than this run's Hull containers', holding ADDR
  local mine ns ino
  mine=" $(for f in "$HULL_STATE"/netns/*; do [[ -e $f ]] && stat -L -c %i "$f"; done | tr '\n' ' ') "
  { findmnt -rn -t nsfs -o TARGET; for p in $(lsns -t net -n -o PID); do echo "/proc/$p/ns/net"; done; } |
    while read -r ns; do
      ino=$(stat -L -c %i "$ns" 2>/dev/null) || continue
      [[ $mine == *" $ino "* ]] && continue
      if nsenter --net="$ns" ip -4 -o addr show 2>/dev/null | grep -q " inet $1/"; then echo "$ns (netns $ino)"; fi
    done | sort -u -t' ' -k3,3
}

echo "bench: starting the servers: ${peers[*]}" >&2
measured=()
for v in "${peers[@]}"; do
  if start_servers "$v"; then measured+=("$v"); else failed_peers+=("$v"); fi
done
for v in "${measured[@]}"; do   # each answers (anywhere) before the address checks
  answers "$v" 127.0.0.1 50 || answers "$v" "${host_addr:-127.0.0.1}" 5 ||
    echo "bench: WARNING: $v: httpd does not answer on 127.0.0.1:${hport[$v]} or ${host_addr:-?}:${hport[$v]}" >&2
done
if [[ " ${measured[*]} " == *" hull "* ]]; then
  for c in iperf3 httpd; do
    ip=$(grep -P "^ip\.hull\.$c\t" "$work/kv" | cut -f2)
    [[ $ip =~ ^10\. ]] || continue
    clash=$(other_netns_with "$ip")
    if [[ -n $clash ]]; then
      echo "bench: WARNING: hull: $ip (the $c container's) is also held by $clash: another Hull home on hull0; numbers may be off" >&2
      kv "hull.clash.$c" "$ip also in $clash"
    fi
  done
fi
rules running

# --- the address ------------------------------------------------------------
probe=''   # "PEER@ADDR: ok; ..."
for a in 127.0.0.1 ${host_addr:+"$host_addr"}; do
  ok=true
  for v in "${measured[@]}"; do
    if answers "$v" "$a" 3; then r=ok; else r="NO ANSWER"; [[ $v == floor ]] || ok=false; fi
    probe+="${probe:+; }$v@$a: $r"
  done
  if [[ -z $addr ]] && $ok; then addr=$a; fi
done
kv probe "$probe"
echo "bench: published ports answer: $probe" >&2
if [[ -z $addr ]]; then
  echo "bench: no address where every peer answers; pick one with --addr" >&2
  exit 1
fi
kv addr "$addr"
echo "bench: measuring against $addr; ports: $(for v in "${measured[@]}"; do printf '%s tcp+udp %s http %s; ' "$v" "${tport[$v]}" "${hport[$v]}"; done)" >&2

# --- measurement helpers ------------------------------------------------------
cat > "$work/parse.py" <<'PY'
"""iperf FILE LABEL: the summary of an iperf3 -J run; ab FILE LABEL: of an ab run. One JSON object on
stdout, a line for people (LABEL: ...) on stderr."""
import json, re, sys
kind, path, label = sys.argv[1:4]
text = open(path, errors="replace").read()
out = {}
if kind == "iperf":
    try:
        d = json.loads(text[text.index("{"):])
    except ValueError:
        d = {"error": text.strip().splitlines()[-1] if text.strip() else "no output"}
    e = d.get("end", {})
    if d.get("error") or "sum_received" not in e:
        out["error"] = d.get("error", "no result")
    else:
        r, s = e["sum_received"], e.get("sum_sent", {})
        out["gbps"] = r["bits_per_second"] / 1e9
        out["sent_gbps"] = s.get("bits_per_second", 0) / 1e9
        for k in ("retransmits",):
            if k in s:
                out[k] = s[k]
        if "lost_percent" in r:
            out["lost_pct"] = r["lost_percent"]
            out["packets"] = r.get("packets")
        cpu = e.get("cpu_utilization_percent", {})
        out["cpu_client_pct"] = cpu.get("host_total")
        out["cpu_server_pct"] = cpu.get("remote_total")
else:
    def grab(label, conv=float):
        m = re.search(rf"^{label}:\s+([0-9.]+)", text, re.M)
        return conv(m.group(1)) if m else None
    out = {"rps": grab("Requests per second"), "complete": grab("Complete requests", int),
           "failed": grab("Failed requests", int), "non2xx": grab("Non-2xx responses", int) or 0,
           "secs": grab("Time taken for tests")}
    if out["rps"] is None:
        lines = [l for l in text.strip().splitlines() if l.strip()]
        out = {"error": lines[-1] if lines else "no output"}
print(json.dumps(out))
if "error" in out:
    say = "FAILED: " + out["error"]
elif kind == "iperf":
    say = f"{out['gbps']:.2f} Gbit/s"
    if "retransmits" in out:
        say += f", {out['retransmits']} retransmits"
    if "lost_pct" in out:
        say += f" (sent {out['sent_gbps']:.2f}), lost {out['lost_pct']:.1f} %"
else:
    say = f"{out['rps']:,.0f} requests/s, {out['failed']} failed, {out['non2xx']} non-2xx"
print(f"  {label}: {say}", file=sys.stderr)
PY
port_of() { case $2 in http) echo "${hport[$1]}" ;; *) echo "${tport[$1]}" ;; esac; }
iperf() { # PEER TAG ROUND ARGS...: one iperf3 client run; records and prints its summary
  local v=$1 tag=$2 r=$3 f res
  shift 3
  f=$work/iperf-$tag-$v-$r.json
  timeout $((secs + 30)) iperf3 -c "$addr" -p "${tport[$v]}" -t "$secs" -J "$@" >"$f" 2>&1 || true
  res=$(python3 "$work/parse.py" iperf "$f" "$v, round $r")
  kv "$tag.$v.$r" "$res"
  [[ $res != *'"error"'* ]]
}
conntrack_room() { # wait (up to 150 s) while the conntrack table is more than half full
  local max cnt i
  max=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null) || return 0
  for i in $(seq 150); do
    cnt=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
    (( cnt * 2 < max )) && break
    [[ $i == 1 ]] && echo "  (conntrack table $cnt of $max: waiting for TIME_WAIT entries to expire)" >&2
    sleep 1
  done
  echo "$cnt/$max"
}
http() { # PEER ROUND: one ab run
  local v=$1 r=$2 f res ct
  ct=$(conntrack_room)
  f=$work/ab-$v-$r.txt
  timeout 900 ab -q -r -n "$requests" -c "$conc" "http://$addr:${hport[$v]}/index.html" >"$f" 2>&1 || true
  res=$(python3 "$work/parse.py" ab "$f" "$v, round $r")
  kv "http.$v.$r" "$res"
  kv "http.$v.$r.conntrack" "$ct"
}

# --- 1: TCP throughput -------------------------------------------------------
for v in "${measured[@]}"; do   # a short untimed run: the server is up, the path warm
  for i in 1 2 3 4 5; do
    timeout 20 iperf3 -c "$addr" -p "${tport[$v]}" -t 1 >"$work/warm-$v.log" 2>&1 && break
    sleep 1
  done
done
if part tcp; then
  echo "bench: 1/4 TCP host -> container, iperf3 -t $secs, $rounds round(s)" >&2
  for r in $(seq "$rounds"); do
    for v in "${measured[@]}"; do iperf "$v" tcp "$r" || true; done
  done
fi
if part reverse; then
  echo "bench: 2/4 TCP container -> host, iperf3 -R -t $secs, $rounds round(s)" >&2
  for r in $(seq "$rounds"); do
    for v in "${measured[@]}"; do iperf "$v" rev "$r" -R || true; done
  done
fi
# --- 3: UDP ------------------------------------------------------------------
if part udp; then
  echo "bench: 3/4 UDP host -> container, iperf3 -u -b 0 -l 1400 -t $secs, $rounds round(s)" >&2
  udp_skip=""
  for r in $(seq "$rounds"); do
    for v in "${measured[@]}"; do
      [[ " $udp_skip " == *" $v "* ]] && continue
      iperf "$v" udp "$r" -u -b 0 -l 1400 && continue
      # one retry: iperf3 may end a flooded UDP test with "unable to write to stream socket:
      # Connection refused" (its server closed the stream while datagrams were still coming)
      kv "udp.$v.$r.retried" "$(grep -P "^udp\.$v\.$r\t" "$work/kv" | tail -1 | cut -f2)"
      iperf "$v" udp "$r" -u -b 0 -l 1400 && continue
      if [[ $r == 1 ]]; then udp_skip+=" $v"; echo "  $v: UDP does not work; skipped" >&2; fi
    done
  done
fi
# --- 4: connection rate ------------------------------------------------------
if part http; then
  echo "bench: 4/4 HTTP, ab -n $requests -c $conc (busybox httpd, a fork per request), $rounds round(s)" >&2
  for v in "${measured[@]}"; do ab -q -r -n 500 -c "$conc" "http://$addr:${hport[$v]}/index.html" >/dev/null 2>&1 || true; done
  for r in $(seq "$rounds"); do
    for v in "${measured[@]}"; do http "$v" "$r"; done
  done
fi
kv load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -------------------------------------------------------------------
python3 - "$work/kv" "$results" "$stamp" "$rounds" "$secs" "$requests" "$conc" "${failed_peers[*]:-}" <<'PY'
import json, os, statistics, sys
kvfile, results, stamp = sys.argv[1:4]
rounds, secs, requests, conc = map(int, sys.argv[4:8])
failed_peers = sys.argv[8].split()
kv = {}
for line in open(kvfile):
    k, _, v = line.rstrip("\n").partition("\t")
    kv[k] = v
peers = ["floor", "hull", "podman"]

def runs(tag, v):
    out = []
    for r in range(1, rounds + 1):
        if f"{tag}.{v}.{r}" in kv:
            out.append(json.loads(kv[f"{tag}.{v}.{r}"]))
    return out

def med(rs, key):
    xs = [x[key] for x in rs if key in x and x[key] is not None]
    return statistics.median(xs) if xs else None

raw = {"stamp": stamp, "versions": kv.get("versions"), "image": kv.get("image_note"), "address": kv.get("addr"),
       "settings": {"rounds": rounds, "secs": secs, "requests": requests, "concurrency": conc},
       "probe": kv.get("probe"), "load_end": kv.get("load_end")}
data = {}
for tag in ["tcp", "rev", "udp", "http"]:
    for v in peers:
        rs = runs(tag, v)
        if rs:
            data.setdefault(tag, {})[v] = rs
raw["runs"] = data
raw["rules"] = {k[6:]: v for k, v in kv.items() if k.startswith("rules.")}

def f(x, nd=2):
    return "—" if x is None else f"{x:,.{nd}f}"
def ratio(a, b):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}x"
def cell(tag, v, key, nd):
    rs = data.get(tag, {}).get(v)
    if not rs:
        return None, "failed" if v in failed_peers else "—"
    m = med(rs, key)
    bad = sum(1 for x in rs if "error" in x)
    return m, f(m, nd) + (f" ({bad} of {len(rs)} failed)" if bad else "")

rows = []
def row(label, tag, key, nd, show_ratio=True):
    if tag not in data:
        return
    (h, hs), (p, ps), (_, fs) = cell(tag, "hull", key, nd), cell(tag, "podman", key, nd), cell(tag, "floor", key, nd)
    rows.append((label, hs, ps, ratio(h, p) if show_ratio else "—", fs))
n = "1 run" if rounds == 1 else f"median of {rounds}"
row(f"TCP host → container, iperf3 `-t {secs}`, Gbit/s, {n} (higher is better)", "tcp", "gbps", 2)
row(f"TCP container → host, iperf3 `-R -t {secs}`, Gbit/s, {n}", "rev", "gbps", 2)
row(f"UDP host → container, iperf3 `-u -b 0 -l 1400 -t {secs}`, received Gbit/s, {n}", "udp", "gbps", 2)
row(f"UDP: lost datagrams, %, {n} (the sender floods: context)", "udp", "lost_pct", 1, False)
row(f"HTTP: `ab -n {requests} -c {conc}`, busybox httpd (a fork per request, a connection per request), requests/s, {n}", "http", "rps", 0)
if "http" in data:
    def failed(v):
        rs = data["http"].get(v)
        return "—" if not rs else str(sum((x.get("failed") or 0) + (x.get("non2xx") or 0) for x in rs if "error" not in x))
    rows.append((f"HTTP: failed + non-2xx requests, all rounds", failed("hull"), failed("podman"), "—", failed("floor")))

addr = kv.get("addr")
out = [f"Traffic to a published port, Hull vs podman, the same busybox image (`bench/network.sh`, {stamp}).", "",
       "| what | hull | podman | hull/podman | no container (floor) |", "|---|---:|---:|---:|---:|"]
out += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
notes = [f"Client on the host, to {addr}:HOSTPORT ({'loopback' if addr.startswith('127.') else 'the host address'}); "
         f"published ports answered: {kv.get('probe')}. Hull: `hull run -d --network bridge -p HOSTPORT:CPORT` "
         "(hull0, nftables DNAT, no proxy); podman: `--runtime runc --network bridge -p HOSTPORT:CPORT` (netavark, "
         "iptables DNAT, no proxy); floor: the same iperf3 / busybox httpd as host processes, no container, no DNAT.",
         "iperf3 server: the host's /usr/bin/iperf3 with /usr and the library directories bound in read-only "
         f"(`{kv.get('mounts')}`); the number is the receiver's. HTTP: a {kv.get('index_bytes')}-byte index.html, "
         "`ab -q -r`; busybox httpd forks per request and every request is a new connection, so this measures the "
         "whole path (DNAT, conntrack, fork, response), not only the forwarding. Rounds alternate the peers.",
         f"Load average at the end: {kv.get('load_end')} (2 CPUs: client and server share them)."]
for v in failed_peers:
    notes.append(f"{v}: the servers did not start, not measured: {kv.get(v + '.error')}")
for k, v in kv.items():
    if k.startswith("hull.clash."):
        notes.append(f"(!) hull: address clash on hull0: {v}")
if kv.get("image_note"):
    notes.append(kv["image_note"])
notes.append(kv.get("versions", ""))
out += [""] + [f"- {x}" for x in notes if x]

rawmd = ["", "Raw numbers:", ""]
for v in peers:
    if f"cmd.{v}" in kv:
        rawmd.append(f"- {v} servers: `{kv['cmd.' + v]}`")
    for c in ["iperf3", "httpd"]:
        if f"port.{v}.{c}" in kv:
            rawmd.append(f"- {v} {c}: address {kv.get(f'ip.{v}.{c}')}, `port`: {kv[f'port.{v}.{c}']}")
def fmt_iperf(x):
    if "error" in x:
        return "failed: " + x["error"]
    s = f"{x['gbps']:.2f}"
    if "retransmits" in x:
        s += f" ({x['retransmits']} retr)"
    if "lost_pct" in x:
        s += f" (sent {x['sent_gbps']:.2f}, lost {x['lost_pct']:.1f} % of {x['packets']})"
    return s
for tag, name in [("tcp", "TCP host → container, Gbit/s"), ("rev", "TCP container → host (-R), Gbit/s"),
                  ("udp", "UDP received, Gbit/s")]:
    for v, rs in data.get(tag, {}).items():
        cpu = ", ".join(f"{x.get('cpu_client_pct') or 0:.0f}/{x.get('cpu_server_pct') or 0:.0f}" for x in rs if "error" not in x)
        rawmd.append(f"- {name}, {v}: " + ", ".join(fmt_iperf(x) for x in rs) + (f"; CPU % client/server: {cpu}" if cpu else ""))
retried = [f"{k.split('.')[1]} round {k.split('.')[2]} ({json.loads(v).get('error', '?')})"
           for k, v in kv.items() if k.startswith("udp.") and k.endswith(".retried")]
if retried:
    rawmd.append("- UDP runs that failed and were run again (the numbers above are the second try's): " + "; ".join(retried))
for v, rs in data.get("http", {}).items():
    rawmd.append(f"- HTTP {v}: " + "; ".join(
        ("failed: " + x["error"]) if "error" in x else
        f"{x['rps']:,.1f} req/s, {x['complete']} complete, {x['failed']} failed, {x['non2xx']} non-2xx, {x['secs']:.2f} s"
        + f" (conntrack before: {kv.get(f'http.{v}.{i + 1}.conntrack')})" for i, x in enumerate(rs)))
rl = raw["rules"]
for when, name in [("before", "before the servers started"), ("running", "while they ran")]:
    if f"{when}.hull_dnat" in rl:
        rawmd.append(f"- firewall, {name} (host-wide): `nft list table ip hull | grep -c dnat` = "
                     f"{rl[when + '.hull_dnat']} ({rl.get(when + '.hull_dnat_to')} of them `dnat ip to` map lookups, the rest "
                     f"`ct status dnat` matches; map elements: {rl.get(when + '.hull_map_elements')}); "
                     f"`iptables-save -t nat | grep -c DNAT` = {rl[when + '.iptables_dnat']} "
                     f"(nat rules: {rl.get(when + '.iptables_nat_rules')})")
md = "\n".join(out + rawmd) + "\n"
mdpath = os.path.join(results, f"network-{stamp}.md")
with open(mdpath, "w") as fh:
    fh.write(md)
jpath = os.path.join(results, f"{stamp}-network.json")
with open(jpath, "w") as fh:
    json.dump(raw, fh, indent=2)
print("\n" + md)
print(f"(written to {mdpath} and {jpath})")
PY
