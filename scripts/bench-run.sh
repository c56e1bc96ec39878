#!/usr/bin/env bash
# Start-up time of a container, mini-docker vs runc (and crun where the host
# allows it), on the same busybox rootfs; and the memory of a detached
# container's supervisor. Prints figures; it is not a test.
#   sudo bash scripts/bench-run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "bench-run: needs root: run with sudo" >&2; exit 1; }
cargo build --release --quiet -p mini-docker
md="$PWD/target/release/mini-docker"

work="$(mktemp -d /tmp/mdbench.XXXXXX)"
# A short state root: a container's attach socket, <root>/containers/<64 hex>/attach.sock,
# must fit in the 108 bytes of a unix socket's address.
root="$(mktemp -d /tmp/mdb.XXXXXX)"
cleanup() {
  "$md" --root "$root" rm -f bench-sleeper bench-sleeper2 >/dev/null 2>&1 || true
  "$md" --root "$root" network prune -f >/dev/null 2>&1 || true
  runc delete -f bench-runc >/dev/null 2>&1 || true
  rm -rf "$work" "$root"
}
trap cleanup EXIT

bash scripts/make-busybox-image.sh "$work/busybox.tar" >/dev/null
"$md" --root "$root" load -i "$work/busybox.tar" >/dev/null 2>&1

# The same rootfs as an OCI runtime bundle, for runc and crun.
skopeo --insecure-policy copy --quiet "docker-archive:$work/busybox.tar" "oci:$work/oci:img"
umoci unpack --image "$work/oci:img" "$work/bundle" >/dev/null
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"]["args"] = ["/bin/true"]
config["process"]["terminal"] = False
json.dump(config, open(path, "w"))
PY

network_flag=""
"$md" run --help | grep -q -- '--network' && network_flag="--network none"

# median of the wall times (ms) of running "$@" $runs times
median_ms() {
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}

# The default network of this benchmark's own root: a bridge and subnet of
# its own, so that a mini-docker installed on the host is not touched.
export MINI_DOCKER_BRIDGE=mdbench0 MINI_DOCKER_SUBNET=10.199.0.0/24
# The first bridged run makes the bridge and the network's iptables rules,
# once per network: not what each container costs.
"$md" --root "$root" run --rm busybox /bin/true >/dev/null

# The three are timed in turn, round after round, so that the other load
# of the machine weighs on each of them alike.
md_none() { "$md" --root "$root" run --rm $network_flag busybox /bin/true; }
md_bridged() { "$md" --root "$root" run --rm busybox /bin/true; }
runc_run() { runc run -b "$work/bundle" bench-runc; }
# interleaved FILE CMD...: $runs rounds of each CMD; wall times (us) as "CMD TIME" lines
interleaved() {
  local file="$1"; shift
  for _ in $(seq "$runs"); do
    for command in "$@"; do
      local start end
      start=$(date +%s%N)
      "$command" >/dev/null 2>&1
      end=$(date +%s%N)
      echo "$command $(( (end - start) / 1000 ))" >>"$file"
    done
  done
}
# median_of FILE CMD: the median (ms) of CMD's times in FILE
median_of() {
  awk -v c="$2" '$1 == c {print $2}' "$1" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}

echo "runs per tool: $runs, in turn (median wall time of one container running /bin/true)"
interleaved "$work/times" md_none md_bridged runc_run
md_ms=$(median_of "$work/times" md_none)
bridged_ms=$(median_of "$work/times" md_bridged)
runc_ms=$(median_of "$work/times" runc_run)
echo "mini-docker run --rm $network_flag busybox /bin/true: ${md_ms} ms (cgroup + overlay + pivot_root included)"
echo "mini-docker run --rm busybox /bin/true (default bridge):  ${bridged_ms} ms (veth, address, route, lease)"
echo "runc run (same rootfs, no image handling):             ${runc_ms} ms"
awk -v a="$md_ms" -v b="$runc_ms" 'BEGIN { printf "ratio mini-docker / runc: %.2f (target: at most 0.50)\n", a / b }'
awk -v a="$bridged_ms" -v b="$md_ms" 'BEGIN { printf "ratio bridged / --network none: %.2f (target: at most 1.50)\n", a / b }'
awk -v a="$bridged_ms" -v b="$runc_ms" 'BEGIN { printf "ratio bridged / runc: %.2f (target: at most 1.00)\n", a / b }'
if crun run -b "$work/bundle" bench-crun >/dev/null 2>&1; then
  crun_ms=$(median_ms crun run -b "$work/bundle" bench-crun)
  echo "crun run (same rootfs):                                ${crun_ms} ms"
else
  echo "crun run: refused on this host ($(crun run -b "$work/bundle" bench-crun 2>&1 | head -1))"
fi

# Two detached containers: the second supervisor's private memory is what
# each further container costs (the binary's pages are shared between them).
"$md" --root "$root" run -d --network none --name bench-sleeper busybox sleep 60 >/dev/null
"$md" --root "$root" run -d --network none --name bench-sleeper2 busybox sleep 60 >/dev/null
supervisor_of() {
  local dir
  dir=$(ls -d "$root"/containers/"$("$md" --root "$root" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')")
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisor_pid"])' "$dir/state.json"
}
supervisor=$(supervisor_of bench-sleeper2)
rss=$(awk '/^Rss:/ {print $2}' "/proc/$supervisor/smaps_rollup")
private=$(awk '/^Private_(Clean|Dirty):/ {n += $2} END {print n}' "/proc/$supervisor/smaps_rollup")
echo "supervisor of a detached container: resident ${rss} KiB, of which private ${private} KiB (target: under 2048 KiB)"
echo "  (the rest: pages of the mini-docker binary and libc, shared by every supervisor on the host)"
