#!/usr/bin/env bash
# Start-up time of a container, mini-docker vs runc and crun, on the same
# busybox rootfs; and the memory of a detached container's supervisor (our
# shim) beside conmon's. Prints figures; it is not a test. Release build.
#   sudo bash scripts/bench-run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "bench-run: needs root: run with sudo" >&2; exit 1; }
cargo build --release --quiet -p mini-docker
# The shim linked statically: no libc.so mapped, so only the few pages of
# libc it uses are resident (about 1 MiB less than linked dynamically).
cargo rustc --release --quiet -p mini-docker --bin mini-docker-shim -- -C target-feature=+crt-static
md="$PWD/target/release/mini-docker"

work="$(mktemp -d /tmp/mdbench.XXXXXX)"
# A short state root: a container's attach socket, <root>/containers/<64 hex>/attach.sock,
# must fit in the 108 bytes of a unix socket's address.
root="$(mktemp -d /tmp/mdb.XXXXXX)"
# The same state root on a tmpfs, to tell the disk's share apart.
tmproot="$(mktemp -d /tmp/mdt.XXXXXX)"
cleanup() {
  mountpoint -q "$tmproot" && umount "$tmproot"
  rmdir "$tmproot" 2>/dev/null || true
  "$md" --root "$root" rm -f bench-sleeper bench-sleeper2 >/dev/null 2>&1 || true
  "$md" --root "$root" network prune -f >/dev/null 2>&1 || true
  runc delete -f bench-runc >/dev/null 2>&1 || true
  runc delete -f bench-conmon >/dev/null 2>&1 || true
  [ -s "$work/conmon.pid" ] && kill "$(cat "$work/conmon.pid")" 2>/dev/null || true
  rm -rf "$work" "$root"
}
trap cleanup EXIT

bash scripts/make-busybox-image.sh "$work/busybox.tar" >/dev/null
"$md" --root "$root" load -i "$work/busybox.tar" >/dev/null 2>&1
mount -t tmpfs -o size=256m,mode=0700 mdbench-tmpfs "$tmproot"
"$md" --root "$tmproot" load -i "$work/busybox.tar" >/dev/null 2>&1

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
# The same bundle with a command that stays, for conmon's memory.
cp -a "$work/bundle" "$work/bundle-sleep"
python3 - "$work/bundle-sleep/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"]["args"] = ["/bin/sleep", "60"]
json.dump(config, open(path, "w"))
PY

network_flag=""
"$md" run --help | grep -q -- '--network' && network_flag="--network none"

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
md_tmpfs() { "$md" --root "$tmproot" run --rm $network_flag busybox /bin/true; }
runc_run() { runc run -b "$work/bundle" bench-runc; }
# crun 1.8 refuses hybrid-cgroup hosts (v1 controllers with a v2 tree at
# /sys/fs/cgroup/unified); there it runs in a mount namespace of its own
# without that tree, and the wrapper's own time is measured apart.
if crun run -b "$work/bundle" bench-crun >/dev/null 2>&1; then
  crun_run() { crun run -b "$work/bundle" bench-crun; }
  crun_wrapper() { true; }
  crun_how="crun run"
else
  crun_run() { unshare -m --propagation private sh -c "umount /sys/fs/cgroup/unified && exec crun run -b '$work/bundle' bench-crun"; }
  crun_wrapper() { unshare -m --propagation private sh -c "umount /sys/fs/cgroup/unified && exec true"; }
  crun_how="unshare -m … crun run"
fi
# The first move of a process into a cgroup waits for an RCU grace period
# (7-28 ms here, see book chapter 2), but one that follows another move
# within a grace period passes at once. So each tool is timed in the same
# state of the kernel: after a pause (as when a user types `run`; the
# headline figures), and back to back (as a script starting many).
# after_pause FILE CMD...: $runs rounds of the CMDs in turn, each after a
# pause; wall times (us) as "CMD TIME" lines
after_pause() {
  local file="$1"; shift
  for _ in $(seq "$runs"); do
    for command in "$@"; do
      sleep 0.2
      time_once "$file" "$command"
    done
  done
}
# back_to_back FILE CMD...: $runs runs of each CMD in a row
back_to_back() {
  local file="$1"; shift
  for command in "$@"; do
    for _ in $(seq "$runs"); do time_once "$file" "$command"; done
  done
}
time_once() {
  local start end
  start=$(date +%s%N)
  "$2" >/dev/null 2>&1
  end=$(date +%s%N)
  echo "$2 $(( (end - start) / 1000 ))" >>"$1"
}
# median_of FILE CMD: the median (ms) of CMD's times in FILE
median_of() {
  awk -v c="$2" '$1 == c {print $2}' "$1" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}
# report FILE: the medians of one way of timing, and the ratios
report() {
  local md_ms tmpfs_ms bridged_ms runc_ms crun_ms wrapper_ms crun_net
  md_ms=$(median_of "$1" md_none)
  tmpfs_ms=$(median_of "$1" md_tmpfs)
  bridged_ms=$(median_of "$1" md_bridged)
  runc_ms=$(median_of "$1" runc_run)
  crun_ms=$(median_of "$1" crun_run)
  wrapper_ms=$(median_of "$1" crun_wrapper)
  crun_net=$(awk -v a="$crun_ms" -v b="$wrapper_ms" 'BEGIN { printf "%.1f", a - b }')
  echo "  mini-docker run --rm $network_flag busybox /bin/true: ${md_ms} ms (cgroup + overlay + pivot_root included)"
  echo "  the same, its state root on a tmpfs:                   ${tmpfs_ms} ms (the others: $state_fs)"
  echo "  mini-docker run --rm busybox /bin/true (default bridge):  ${bridged_ms} ms (veth, address, route, lease)"
  echo "  runc run (same rootfs, no image handling):             ${runc_ms} ms"
  echo "  $crun_how (same rootfs):                 ${crun_ms} ms, of which the wrapper ${wrapper_ms} ms: crun ${crun_net} ms"
  awk -v a="$md_ms" -v b="$runc_ms" 'BEGIN { printf "  ratio mini-docker / runc: %.2f (target: at most 0.50)\n", a / b }'
  awk -v a="$md_ms" -v b="$crun_net" 'BEGIN { printf "  ratio mini-docker / crun: %.2f (target: at most 0.75)\n", a / b }'
  awk -v a="$bridged_ms" -v b="$md_ms" 'BEGIN { printf "  ratio bridged / --network none: %.2f (target: at most 1.50)\n", a / b }'
  awk -v a="$bridged_ms" -v b="$runc_ms" 'BEGIN { printf "  ratio bridged / runc: %.2f (target: at most 1.00)\n", a / b }'
}

# What the state root's filesystem costs: the same runs with it on a tmpfs
# (book chapter 5, "Where the milliseconds go").
state_fs=$(findmnt -n -o FSTYPE -T "$root")
tools="md_none md_tmpfs md_bridged runc_run crun_run crun_wrapper"
echo "runs per tool: $runs (median wall time of one container running /bin/true; release build)"
echo "each after a pause of 0.2 s, the tools in turn:"
after_pause "$work/paused" $tools
report "$work/paused"
echo "back to back, $runs runs of each tool in a row:"
back_to_back "$work/in-a-row" $tools
report "$work/in-a-row"

# CPU time rather than wall time: what the other load of the machine
# changes least (perf's task-clock, all processes of the command).
if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
  export work
  cpu_ms() { perf stat -r "$runs" -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {printf "%.1f", $1}'; }
  md_cpu=$(cpu_ms "$md" --root "$root" run --rm $network_flag busybox /bin/true)
  crun_cpu=$(cpu_ms bash -c "$(declare -f crun_run); crun_run")
  wrapper_cpu=$(cpu_ms bash -c "$(declare -f crun_wrapper); crun_wrapper")
  echo "CPU time (perf task-clock, mean of $runs): mini-docker ${md_cpu} ms, crun ${crun_cpu} ms of which the wrapper ${wrapper_cpu} ms"
  awk -v a="$md_cpu" -v b="$crun_cpu" -v w="$wrapper_cpu" 'BEGIN { printf "ratio of CPU time mini-docker / crun: %.2f\n", a / (b - w) }'
fi

# memory PID: "VmRSS KiB, private KiB" of a process
memory() {
  local rss private
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status")
  private=$(awk '/^Private_(Clean|Dirty):/ {n += $2} END {print n}' "/proc/$1/smaps_rollup")
  echo "resident ${rss} KiB, of which private ${private} KiB"
}

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
echo "supervisor of a detached container ($(basename "$(readlink "/proc/$supervisor/exe")")): $(memory "$supervisor") (target: resident under 2048 KiB)"

# conmon supervising runc's container of the same rootfs, as Podman runs it:
# conmon runs `runc create`, then `runc start` lets the container go.
if command -v conmon >/dev/null; then
  mkdir -p "$work/exits" "$work/sockets"
  conmon -c bench-conmon -u bench-conmon -n bench-conmon -r "$(command -v runc)" \
    -b "$work/bundle-sleep" -p "$work/container.pid" -P "$work/conmon.pid" \
    -l "k8s-file:$work/conmon.log" --exit-dir "$work/exits" --socket-dir-path "$work/sockets" >/dev/null 2>&1
  # conmon has runc create the container in the background: wait for it.
  for _ in $(seq 100); do [ -s "$work/container.pid" ] && break; sleep 0.05; done
  runc start bench-conmon
  sleep 0.2
  echo "conmon $(conmon --version | awk 'NR == 1 {print $3}') of a runc container, for comparison:  $(memory "$(cat "$work/conmon.pid")")"
else
  echo "conmon: not installed (apt-get install conmon) — no figure to compare with"
fi
echo "  (resident counts the pages of the program and libc, shared by every copy on the host)"
