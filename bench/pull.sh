#!/usr/bin/env bash
# bench/pull.sh: `hull pull` against skopeo+umoci and podman, pulling the same
# multi-layer image from a local registry (loopback, plain HTTP).
#
#   bench/pull.sh                      # full: 1 warmup, 10 runs per command
#   bench/pull.sh --quick              # no warmup, 3 runs (a smoke test, noisy)
#   bench/pull.sh --runs N             # N runs
#   bench/pull.sh --only hull          # only some peers: hull,skopeo,podman
#                                      # (comma-separated; default all three)
#   bench/pull.sh --dir /dev/shm       # temp dir (registry, stores) under DIR
#                                      # instead of /tmp (see docs/benchmarks.md:
#                                      # file creation on this host's ext4 is
#                                      # slow and dominates every peer)
#   bench/pull.sh --serve              # only build and push the image, print
#                                      # the peers' commands, keep the registry
#                                      # up until Ctrl-C (for trying by hand)
#
# The image (built here, ~40 MB of gzip layers, deterministic: fixed seed,
# fixed mtimes, sorted tar entries) has 5 layers: busybox (Debian's
# busybox-static + applet symlinks); ~2500 small files (1-8 KiB, half random
# bytes, half text); 4 big random files; text/random mixed files; and a layer
# of changes (whiteouts, an opaque dir, a replaced big file, symlinks, a
# hardlink, ~200 medium random files). It is written as an OCI layout with
# tar + gzip + python3 and pushed with skopeo to a private docker-registry
# (own config and storage in the temp dir, a free 127.0.0.1 port).
#
# Measures, with hyperfine (-N; --prepare empties the store before every run,
# so each run downloads, verifies and unpacks all 5 layers):
#   hull            HULL_HOME=<tmp> HULL_RUNTIME_SOCKET=<tmp>/hull.sock
#                   bin/hull pull --tls-verify=false IMAGE: warm, through
#                   a service of this build that the bench starts on its own
#                   socket (bin/hull system service --socket <tmp>/hull.sock;
#                   not the host's /run/hull/runtime.sock, which other
#                   builds on the host may retire and restart), stopped at exit
#   hull cold       the same with HULL_NO_SERVICE=1: a JVM of its own (context)
#   skopeo+umoci    sh -c 'skopeo copy --src-tls-verify=false docker://IMAGE
#                   oci:<tmp>/oci:bench && umoci unpack --image <tmp>/oci:bench
#                   <tmp>/bundle'
#   podman          podman --root <tmp> --runroot <tmp> --tmpdir <tmp>
#                   --storage-driver overlay --cgroup-manager cgroupfs
#                   --events-backend file pull --tls-verify=false IMAGE
#                   Podman 4.3 on this host pulls without the last two flags
#                   (it sees no systemd and falls back to cgroupfs and a file
#                   event log by itself); they are spelled out so a host with
#                   systemd/journald behaves the same. --tmpdir keeps podman's
#                   runtime state (events log, alive lock) out of /run/libpod.
#                   A pull mounts nothing; cleanup unmounts anyway.
# Context: the JVM floor (HULL_NO_SERVICE=1 bin/hull --version: a JVM of its own, not the host's
# service; java -version), `skopeo copy`
# alone (download + verify, no unpack) and plain `tar -xzf` of the 5 layer
# blobs into one dir (the host's unpack floor; ignores whiteouts).
# Prints medians and ratios (hull/skopeo+umoci, hull/podman), writes raw
# hyperfine JSON to bench/results/ and a README-ready table to
# bench/results/pull.md (git-ignored). Needs root. Installs skopeo, umoci,
# podman, hyperfine, busybox-static, docker-registry with apt-get when missing;
# builds Hull (and trains its AOT cache) when missing, stale or without `pull`.
# At exit: stops the registry, unmounts whatever podman left mounted under the
# temp dir, removes it.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
runs=10 warmup=1 only=hull,skopeo,podman serve=false tmpbase=/tmp
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) runs=3 warmup=0 ;;
    --runs) runs=$2; shift ;;
    --only) only=$2; shift ;;
    --serve) serve=true ;;
    --dir) tmpbase=$2; shift ;;
    -h|--help) sed -n '2,51p' "$0"; exit 0 ;;
    *) echo "bench/pull.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || { echo "bench/pull.sh: needs root (podman storage, umoci unpack)" >&2; exit 1; }
want() { [[ ,$only, == *,$1,* ]]; }
for p in ${only//,/ }; do
  case $p in hull|skopeo|podman) ;; *) echo "bench/pull.sh: --only: unknown peer $p (hull, skopeo, podman)" >&2; exit 2 ;; esac
done

# --- tools ---------------------------------------------------------------
need=()
command -v skopeo >/dev/null || need+=(skopeo)   # also pushes the image
want skopeo && ! command -v umoci >/dev/null && need+=(umoci)
want podman && ! command -v podman >/dev/null && need+=(podman)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v docker-registry >/dev/null || need+=(docker-registry)
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
hull_build() {
  echo "bench: building Hull (mvn package)" >&2
  (cd "$here" && mvn -B -ntp -q package -DskipTests) >&2 || return 1
}
hull_has_pull() { "$here/bin/hull" pull --help >/dev/null 2>&1; }
if want hull && ! $serve; then
  if [[ ! -f $here/target/hull.jar || ! -x $here/target/hull-executor ]]; then
    hull_build || { echo "bench: Hull does not build (to bench only the peers: --only skopeo,podman)" >&2; exit 1; }
  fi
  if ! hull_has_pull; then
    # a jar from before `hull pull` existed: rebuild once
    hull_build || { echo "bench: Hull does not build (to bench only the peers: --only skopeo,podman)" >&2; exit 1; }
    hull_has_pull || { echo "bench: bin/hull has no 'pull' command on this branch (try --only skopeo,podman)" >&2; exit 1; }
  fi
  if [[ ! $here/target/hull.aot -nt $here/target/hull.jar || ! $here/target/hull.aot -nt $here/target/lib ]]; then
    echo "bench: training the AOT cache (scripts/aot-train)" >&2
    "$here/scripts/aot-train" || echo "bench: WARNING: AOT training failed; Hull runs without the cache" >&2
  fi
fi

# --- temp dir, registry, cleanup ------------------------------------------
work=$(mktemp -d "$tmpbase/hull-bench-pull.XXXXXX")
results=$here/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
PODMAN="podman --root $work/podroot --runroot $work/podrun --tmpdir $work/podtmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"

umount_under() { # unmount everything mounted at or below $1, deepest first
  local m
  for m in $(findmnt -rn -o TARGET | grep -E "^$1(/|$)" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}
cleanup() {
  set +e
  if [[ -n ${reg_pid:-} ]]; then kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; fi
  if [[ -n ${svc_pid:-} ]]; then kill "$svc_pid" 2>/dev/null; wait "$svc_pid" 2>/dev/null; fi
  if [[ -d $work/podroot ]]; then
    $PODMAN system reset -f >/dev/null 2>&1
  fi
  umount_under "$work"
  left=$(findmnt -rn -o TARGET | grep -E "^$work(/|$)")
  [[ -n $left ]] && echo "bench: WARNING: mounts left behind: $left" >&2
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for i in $(seq 100); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/v2/', timeout=1)" 2>/dev/null && break
  kill -0 "$reg_pid" 2>/dev/null || { cat "$work/registry.log" >&2; echo "bench: registry did not start" >&2; exit 1; }
  sleep 0.1
done
image=127.0.0.1:$port/bench/pull:1

# --- the test image ---------------------------------------------------------
echo "bench: building the test image" >&2
layers=$work/layers
mkdir -p "$layers"/{1,2,3,4,5}
# layer 1: busybox
mkdir -p "$layers/1/bin" "$layers/1/etc" "$layers/1/tmp"
cp /bin/busybox "$layers/1/bin/busybox"
for a in $(/bin/busybox --list-full); do
  [[ $a == bin/busybox ]] && continue
  mkdir -p "$layers/1/${a%/*}"
  ln -sf /bin/busybox "$layers/1/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$layers/1/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$layers/1/etc/group"
chmod 1777 "$layers/1/tmp"
# layers 2-5: generated (seeded, so the same bytes on every run of the script)
python3 - "$layers" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(20261123)
words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua container image layer digest "
         "manifest registry snapshot overlay whiteout tar gzip").split()
def text(n):
    out, size = [], 0
    while size < n:
        line = " ".join(rnd.choices(words, k=rnd.randint(4, 14))) + "\n"
        out.append(line); size += len(line)
    return "".join(out).encode()[:n]
def mixed(n):  # alternating 4 KiB chunks of random bytes and text
    b, i = bytearray(), 0
    while len(b) < n:
        b += rnd.randbytes(4096) if i % 2 == 0 else text(4096)
        i += 1
    return bytes(b[:n])
def put(layer, path, data, mode=0o644):
    p = os.path.join(root, layer, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f: f.write(data)
    os.chmod(p, mode)
# 2: many small files
for i in range(2500):
    n = rnd.randint(1024, 8192)
    put("2", f"usr/share/bench/small/d{i % 50:02d}/f{i:04d}", rnd.randbytes(n // 2) + text(n - n // 2))
# 3: a few big random files
for i in range(4):
    put("3", f"opt/bench/big/blob{i}.bin", rnd.randbytes(2_600_000 + i * 100_000))
# 4: mixed random/text files, some executable
for i in range(40):
    put("4", f"usr/lib/bench/lib{i:02d}.so", mixed(256 * 1024), 0o755 if i % 4 == 0 else 0o644)
# 5: changes on top
for i in range(0, 2500, 25):   # whiteouts of 100 small files
    put("5", f"usr/share/bench/small/d{i % 50:02d}/.wh.f{i:04d}", b"")
put("5", "usr/share/bench/small/d07/.wh..wh..opq", b"")   # opaque dir, new content
for i in range(20):
    put("5", f"usr/share/bench/small/d07/g{i:02d}", text(2048))
put("5", "opt/bench/big/blob0.bin", rnd.randbytes(3_000_000))   # replaced big file
for i in range(200):
    put("5", f"var/lib/bench/m{i:03d}.dat", rnd.randbytes(rnd.randint(20_000, 60_000)))
os.symlink("../../opt/bench/big/blob1.bin", os.path.join(root, "5/var/lib/blob1-link"))
os.makedirs(os.path.join(root, "5/usr/bin"))
os.symlink("/bin/busybox", os.path.join(root, "5/usr/bin/bench-sh"))
os.link(os.path.join(root, "5/var/lib/bench/m000.dat"), os.path.join(root, "5/var/lib/bench/m000.hardlink"))
PY
oci=$work/src-oci
mkdir -p "$oci/blobs/sha256"
for l in 1 2 3 4 5; do
  # sorted entries, no "./" entry, root-owned, fixed mtime, no atime/ctime
  (cd "$layers/$l" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
    tar --no-recursion -T - --format=pax --pax-option=delete=atime,delete=ctime \
        --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -cf -) > "$work/layer$l.tar"
  sha256sum "$work/layer$l.tar" | cut -d' ' -f1 > "$work/layer$l.diffid"
  gzip -n -6 -c "$work/layer$l.tar" > "$work/layer$l.tar.gz"
  d=$(sha256sum "$work/layer$l.tar.gz" | cut -d' ' -f1)
  mv "$work/layer$l.tar.gz" "$oci/blobs/sha256/$d"
  echo "$d" > "$work/layer$l.digest"
done
python3 - "$work" "$oci" "$(dpkg --print-architecture 2>/dev/null || echo amd64)" <<'PY'
import hashlib, json, os, sys
work, oci, arch = sys.argv[1:4]
def blob(data, media):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(oci, "blobs", "sha256", d), "wb") as f: f.write(data)
    return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}
read = lambda p: open(os.path.join(work, p)).read().strip()
layers = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
           "digest": "sha256:" + read(f"layer{l}.digest"),
           "size": os.path.getsize(os.path.join(oci, "blobs", "sha256", read(f"layer{l}.digest")))}
          for l in range(1, 6)]
names = ["busybox", "small files", "big files", "mixed files", "changes"]
config = {
    "created": "2023-11-14T22:13:20Z", "architecture": arch, "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": ["/bin/sh"], "WorkingDir": "/"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + read(f"layer{l}.diffid") for l in range(1, 6)]},
    "history": [{"created": "2023-11-14T22:13:20Z", "created_by": f"bench/pull.sh: {n}"} for n in names],
}
cfg = blob(json.dumps(config, indent=2).encode(), "application/vnd.oci.image.config.v1+json")
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": cfg, "layers": layers}
m = blob(json.dumps(manifest, indent=2).encode(), "application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
m["platform"] = {"architecture": arch, "os": "linux"}
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [m]}
json.dump(index, open(os.path.join(oci, "index.json"), "w"), indent=2)
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(oci, "oci-layout"), "w"))
PY
sum() { python3 -c 'import sys; print(sum(map(int, sys.stdin.read().split())))'; }
comp=$(for l in 1 2 3 4 5; do stat -c %s "$oci/blobs/sha256/$(cat "$work/layer$l.digest")"; done | sum)
uncomp=$(stat -c %s "$work"/layer?.tar | sum)
files=$(for l in 1 2 3 4 5; do tar -tf "$work/layer$l.tar"; done | wc -l)
rm -f "$work"/layer?.tar
rm -rf "$layers"
skopeo copy -q --dest-tls-verify=false "oci:$oci:bench" "docker://$image" >&2
mb() { python3 -c "print(f'{$1/1e6:.1f}')"; }
mdigest=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$oci/index.json")
echo "bench: image $image ($mdigest): 5 layers, $(mb "$comp") MB gzip, $(mb "$uncomp") MB tar, $files tar entries" >&2

# --- prepare helper (hyperfine -N runs it without a shell) ------------------
cat > "$work/prep" <<EOF
#!/usr/bin/env bash
# prep PEER: an empty store for PEER (not timed)
set -u
case \$1 in
  hull) rm -rf "$work/hullhome" ;;
  skopeo) rm -rf "$work/oci" "$work/bundle" ;;
  tar) rm -rf "$work/tarx" && mkdir "$work/tarx" ;;
  podman)
    for m in \$(findmnt -rn -o TARGET | grep -E "^$work/pod" | sort -r); do umount "\$m" || umount -l "\$m"; done
    rm -rf "$work/podroot" "$work/podrun" "$work/podtmp" && mkdir -p "$work/podtmp" ;;
esac
EOF
chmod +x "$work/prep"

hf() { # hf NAME [hyperfine args...]
  local name=$1; shift
  hyperfine -N --style basic -w "$warmup" -r "$runs" --export-json "$results/$stamp-pull-$name.json" "$@" \
    > "$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; echo "bench: $name failed" >&2; exit 1; }
  grep -E '^Benchmark|Time \(mean' "$work/$name.out" | sed 's/^/  /' >&2
}

HULL="env HULL_HOME=$work/hullhome HULL_RUNTIME_SOCKET=$work/hull.sock $here/bin/hull pull --tls-verify=false $image"
HULLCOLD="env HULL_HOME=$work/hullhome HULL_NO_SERVICE=1 $here/bin/hull pull --tls-verify=false $image"
SKOPEO="sh -c 'skopeo copy -q --src-tls-verify=false docker://$image oci:$work/oci:bench && umoci unpack --image $work/oci:bench $work/bundle >/dev/null'"
PODMANPULL="$PODMAN pull -q --tls-verify=false $image"
if $serve; then
  echo "bench: registry up at 127.0.0.1:$port (temp dir $work); Ctrl-C stops it and cleans up. Try:" >&2
  echo "  $HULL" >&2
  echo "  $SKOPEO" >&2
  echo "  $PODMANPULL" >&2
  echo "  (before each: $work/prep hull|skopeo|podman)" >&2
  wait "$reg_pid"
  exit 0
fi

# one untimed pull per peer first: fails early, with the tool's own message
echo "bench: checking each peer once" >&2
check() { # check PEER CMD...
  local peer=$1; shift
  "$work/prep" "$peer"
  "$@" >"$work/check-$peer.log" 2>&1 || { cat "$work/check-$peer.log" >&2; echo "bench: $peer pull failed" >&2; exit 1; }
}
if want hull; then
  # the bench's own warm service (this build, own socket; its log in the temp dir)
  HULL_RUNTIME_SOCKET=$work/hull.sock "$here/bin/hull" system service --idle-timeout 0 \
    --socket "$work/hull.sock" >"$work/service.log" 2>&1 </dev/null &
  svc_pid=$!
  for i in $(seq 300); do
    [[ -S $work/hull.sock ]] && break
    kill -0 "$svc_pid" 2>/dev/null || { cat "$work/service.log" >&2; echo "bench: hull's service did not start" >&2; exit 1; }
    sleep 0.1
  done
  [[ -S $work/hull.sock ]] || { cat "$work/service.log" >&2; echo "bench: hull's service did not listen in 30 s" >&2; exit 1; }
  check hull eval "$HULL"
  check hull eval "$HULLCOLD"
fi
want skopeo && check skopeo eval "$SKOPEO"
if want podman; then
  check podman eval "$PODMANPULL"
  n=$(find "$work/podroot/overlay" -mindepth 2 -maxdepth 2 -name diff | wc -l)
  [[ $n == 5 ]] || echo "bench: WARNING: podman stored $n layers, expected 5" >&2
fi
if want skopeo; then
  # sanity: the unpacked rootfs has the changes layer applied
  r=$work/bundle/rootfs
  [[ -x $r/bin/busybox && ! -e $r/usr/share/bench/small/d00/f0000 && -e $r/usr/share/bench/small/d07/g00 && ! -e $r/usr/share/bench/small/d07/f0007 ]] ||
    echo "bench: WARNING: umoci's rootfs does not look as expected" >&2
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $runs runs, $warmup warmups, load average $load; results in $results/$stamp-pull-*.json" >&2
args=()
want hull && args+=(-n hull -p "$work/prep hull" "$HULL")
want hull && args+=(-n "hull cold" -p "$work/prep hull" "$HULLCOLD")
want skopeo && args+=(-n skopeo+umoci -p "$work/prep skopeo" "$SKOPEO")
want podman && args+=(-n podman -p "$work/prep podman" "$PODMANPULL")
echo "bench: pull (download + verify + unpack, empty store each run)" >&2
hf pull "${args[@]}"
# context: the JVM floor, and how much of skopeo+umoci is the download alone
fargs=()
# (hyperfine wants a --prepare for every command or none: "prep none" is a no-op)
want hull && fargs+=(-n "hull --version (cold)" -p "$work/prep none" "env HULL_NO_SERVICE=1 $here/bin/hull --version"
                     -n "java -version" -p "$work/prep none" "$JAVA_HOME/bin/java -version")
want skopeo && fargs+=(-n "skopeo copy alone" -p "$work/prep skopeo" "sh -c 'skopeo copy -q --src-tls-verify=false docker://$image oci:$work/oci:bench'")
blobs=$(for l in 1 2 3 4 5; do printf '%s ' "$oci/blobs/sha256/$(cat "$work/layer$l.digest")"; done)
fargs+=(-n "tar -xzf (5 layers)" -p "$work/prep tar" "sh -c 'for b in $blobs; do tar -xzf \$b -C $work/tarx || exit 1; done'")
if [[ ${#fargs[@]} -gt 0 ]]; then
  echo "bench: context (JVM floor, download alone)" >&2
  hf floor "${fargs[@]}"
fi
for p in podman hull skopeo tar; do "$work/prep" "$p"; done

# --- report ------------------------------------------------------------------
versions="Host: $(nproc) CPUs, kernel $(uname -r), load average at start $load; stores on $(stat -f -c %T "$work") ($tmpbase); skopeo $(skopeo --version | awk '{print $3}'), umoci $(umoci --version | awk '{print $3}'), podman $(podman --version | awk '{print $3}'), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | sed 's/"//g')."
python3 - "$results" "$stamp" "$runs" "$comp" "$uncomp" "$files" "$versions" <<'PY'
import json, os, sys
results, stamp, runs, comp, uncomp, files, versions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
def load(name):
    p = os.path.join(results, f"{stamp}-pull-{name}.json")
    if not os.path.exists(p): return {}
    with open(p) as f:
        return {r["command"]: r for r in json.load(f)["results"]}
ms = lambda r: r["median"] * 1000
r, fl = load("pull"), load("floor")
order = [n for n in ["hull", "hull cold", "skopeo+umoci", "podman"] if n in r]
lines = [f"Pull of a 5-layer image ({comp/1e6:.1f} MB gzip, {uncomp/1e6:.1f} MB unpacked, "
         f"{files} tar entries) from a local registry over loopback HTTP; empty store every run. "
         f"Medians of {runs} runs (hyperfine -N, `bench/pull.sh`).", "",
         "| tool | median (ms) | min (ms) | max (ms) | MB/s (gzip) |", "|---|---|---|---|---|"]
for n in order:
    x = r[n]
    lines.append(f"| {n} | {ms(x):.0f} | {x['min']*1000:.0f} | {x['max']*1000:.0f} | {comp/1e6/x['median']:.1f} |")
if "hull" in r:
    ratios = [f"hull/{n}: {ms(r['hull'])/ms(r[n]):.2f}x" for n in order if n not in ("hull", "hull cold")]
    if ratios: lines += ["", "Ratios (medians): " + ", ".join(ratios) + "."]
if fl:
    lines += ["", "Context (medians): " + ", ".join(f"`{n}` {ms(x):.0f} ms" for n, x in fl.items()) + "."]
lines += ["", versions]
md = "\n".join(lines) + "\n"
with open(os.path.join(results, "pull.md"), "w") as f: f.write(md)
print("\n" + md)
print(f"(written to {os.path.join(results, 'pull.md')})")
PY
