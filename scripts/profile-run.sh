#!/usr/bin/env bash
# Where the milliseconds of `run --rm --network none busybox /bin/true` go:
# one run under strace (only the syscalls that mark a phase are stopped at,
# with seccomp-bpf, so the tracing itself costs little), its phases printed
# as a table; then `strace -c` of a whole run. Release build.
#   sudo bash scripts/profile-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "profile-run: needs root: run with sudo" >&2; exit 1; }
command -v strace >/dev/null || { echo "profile-run: needs strace (apt-get install strace)" >&2; exit 1; }
cargo build --release --quiet -p mini-docker
md="$PWD/target/release/mini-docker"
work="$(mktemp -d /tmp/mdprof.XXXXXX)"
root="$(mktemp -d /tmp/mdp.XXXXXX)"
trap 'rm -rf "$work" "$root"' EXIT
bash scripts/make-busybox-image.sh "$work/busybox.tar" >/dev/null
"$md" --root "$root" load -i "$work/busybox.tar" >/dev/null 2>&1
run() { "$md" --root "$root" run --rm --network none busybox /bin/true; }
run && run # warm the page cache
strace -f --seccomp-bpf -ttt -s 200 -o "$work/trace" \
  -e trace=execve,mkdir,rename,clone,clone3,mount,pivot_root,wait4,rmdir,exit_group \
  "$md" --root "$root" run --rm --network none busybox /bin/true
python3 - "$work/trace" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
def at(pattern, after=0.0):
    for line in lines:
        t = float(line.split()[1])
        if t >= after and re.search(pattern, line):
            return t
    raise SystemExit(f"profile-run: no {pattern!r} in the trace")
start = at(r'execve\(')
marks = [
    ("start the program, parse the command line, open the image", r'mkdir\(".*/containers/[0-9a-f]{64}"'),
    ("create: the container's directory, config and state", r'rename\(.*/config\.tmp'),
    ("start: read them back, make the cgroup", r'clone\(.*CLONE_NEW'),
    ("spawn: parent hooks (lo up), the child's cgroup join and mounts", r'pivot_root\('),
    ("after pivot_root: masks, walls (caps, seccomp), exec", r'execve\("/bin/true"'),
    ("the container runs /bin/true and exits", r'wait4.*= [1-9][0-9]*$'),
    ("after the exit: cgroup, state, --rm", r'exit_group\('),
]
last = start
print(f"{'phase':<62} {'ms':>6}")
for name, pattern in marks:
    t = at(pattern, last)
    print(f"{name:<62} {(t - last) * 1000:6.2f}")
    last = t
end = float(lines[-1].split()[1])
print(f"{'(the process exits)':<62} {(end - last) * 1000:6.2f}")
print(f"{'total, under strace':<62} {(end - start) * 1000:6.2f}")
PY
echo
strace -f -c -o "$work/counts" "$md" --root "$root" run --rm --network none busybox /bin/true
head -25 "$work/counts"
