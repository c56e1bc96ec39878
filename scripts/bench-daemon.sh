#!/usr/bin/env bash
# The daemon's costs, side by side (issue 16's Performance section): one
# `run --rm --network none busybox true` in-process, through mini-dockerd
# (with mini-docker -H and with docker -H), and through dockerd if one is
# installed; `docker ps` with 20 running containers; the daemon's resident
# memory idle and with 20 containers. Prints figures; it is not a test.
#   sudo bash scripts/bench-daemon.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "bench-daemon: needs root: run with sudo" >&2; exit 1; }
# MINI_DOCKER_BENCH_PROFILE=debug measures the debug build (no rebuild in release).
profile="${MINI_DOCKER_BENCH_PROFILE:-release}"
if [ "$profile" = release ]; then cargo build --release --quiet -p mini-docker --bins; fi
md="$PWD/target/$profile/mini-docker"
mdd="$PWD/target/$profile/mini-dockerd"

work="$(mktemp -d /tmp/mdbench.XXXXXX)"
root="$(mktemp -d /tmp/mdb.XXXXXX)" # short: attach sockets must fit in 108 bytes
sock="$root/d.sock"
export MINI_DOCKER_BRIDGE=mdbench1 MINI_DOCKER_SUBNET=10.198.0.0/24 MINI_DOCKER_CGROUP_PARENT=mdbench-daemon
daemon_pid=""
cleanup() {
  "$md" --root "$root" ps -aq 2>/dev/null | xargs -r "$md" --root "$root" rm -f >/dev/null 2>&1 || true
  "$md" --root "$root" network prune -f >/dev/null 2>&1 || true
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  for c in /sys/fs/cgroup/mdbench-daemon /sys/fs/cgroup/*/mdbench-daemon; do rmdir "$c" 2>/dev/null || true; done
  rm -rf "$work" "$root"
}
trap cleanup EXIT

bash scripts/make-busybox-image.sh "$work/busybox.tar" >/dev/null
"$md" --root "$root" load -i "$work/busybox.tar" >/dev/null 2>&1
"$mdd" -H "unix://$sock" --data-root "$root" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

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
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# The proportional set (Pss): each shared page counted once in all, split
# between the processes that map it.
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }

# The two paths of the ratio are timed in turn, round after round, not one
# after the other: a run leaves work to the kernel after it has returned (a
# namespace's and a cgroup's teardown) and to the daemon (the exit's events),
# and the runs of a series pay for the series before them. Timed in turn,
# both paths pay alike.
in_process() { "$md" --root "$root" run --rm --network none busybox true; }
through_md() { "$md" -H "unix://$sock" run --rm --network none busybox true; }
paths="in_process through_md"
for _ in $(seq "$runs"); do
  for path in $paths; do
    start=$(date +%s%N)
    "$path" >/dev/null 2>&1
    echo "$path $(( ($(date +%s%N) - start) / 1000 ))" >>"$work/times"
  done
done
# median_of PATH: the median (ms) of PATH's times
median_of() {
  awk -v p="$1" '$1 == p {print $2}' "$work/times" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}
in_process=$(median_of in_process)
through_md=$(median_of through_md)
echo "run --rm --network none busybox true (median of $runs, in turn, ms)"
printf '  %-34s %8s\n' "mini-docker (in-process)" "$in_process" "mini-docker -H mini-dockerd" "$through_md"
if command -v docker >/dev/null; then
  printf '  %-34s %8s\n' "docker -H mini-dockerd" "$(median_ms docker -H "unix://$sock" run --rm --network none busybox true)"
fi
if [ -S /var/run/docker.sock ] && docker -H unix:///var/run/docker.sock image inspect busybox >/dev/null 2>&1; then
  printf '  %-34s %8s\n' "docker -> dockerd" "$(median_ms docker -H unix:///var/run/docker.sock run --rm --network none busybox true)"
else
  printf '  %-34s %8s\n' "docker -> dockerd" "(no dockerd with busybox here)"
fi
awk -v a="$in_process" -v b="$through_md" 'BEGIN { printf "  daemon / in-process: %.2fx (target <= 1.3x)\n", b / a }'

idle=$(rss_kb "$daemon_pid")
# The spawner, the daemon's copy that forks each start: its pages are
# mostly the daemon's, shared, but its resident set is counted apart.
spawner_pid=$(pgrep -P "$daemon_pid" -x md-spawner || true)
spawner_idle=$([ -n "$spawner_pid" ] && rss_kb "$spawner_pid" || echo 0)
both_pss=$(( $(pss_kb "$daemon_pid") + $([ -n "$spawner_pid" ] && pss_kb "$spawner_pid" || echo 0) ))
for i in $(seq 20); do "$md" -H "unix://$sock" run -d --network none --name "bench$i" busybox sleep 1000 >/dev/null; done
echo "with 20 running containers (median of $runs, ms)"
printf '  %-34s %8s\n' "mini-docker -H ps" "$(median_ms "$md" -H "unix://$sock" ps)"
command -v docker >/dev/null && printf '  %-34s %8s\n' "docker -H ps" "$(median_ms docker -H "unix://$sock" ps)"
busy=$(rss_kb "$daemon_pid")
echo "mini-dockerd resident memory"
printf '  %-34s %8s\n' "idle (MB)" "$(awk -v k="$idle" 'BEGIN {printf "%.1f", k / 1024}')" "with 20 containers (MB)" "$(awk -v k="$busy" 'BEGIN {printf "%.1f", k / 1024}')"
printf '  %-34s %8s\n' "the spawner, idle (MB)" "$(awk -v k="$spawner_idle" 'BEGIN {printf "%.1f", k / 1024}')"
printf '  %-34s %8s\n' "both, proportional (Pss), idle (MB)" "$(awk -v k="$both_pss" 'BEGIN {printf "%.1f", k / 1024}')"
echo "  (dockerd 74 MB + containerd 38 MB idle, measured 2026-12-01; target under 10 MB idle)"
