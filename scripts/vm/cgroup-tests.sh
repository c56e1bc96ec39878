#!/usr/bin/env bash
# Chapter 2's end-to-end tests on every cgroup layout: this host's (by the
# ordinary `cargo test`), and here a pure cgroup v2 and a pure cgroup v1
# kernel, Debian's own, booted by qemu (scripts/vm/boot.sh):
#   sudo bash scripts/vm/cgroup-tests.sh [v2] [v1]
# KVM is used when /dev/kvm works, software emulation otherwise (about a
# minute a layout). Without qemu or the kernel it skips loudly; with
# CI=true it fails instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
layouts=("$@")
[ ${#layouts[@]} -gt 0 ] || layouts=(v2 v1)
out="$PWD/target/vm"
mkdir -p "$out"

missing() {
  if [ "${CI:-}" = true ]; then
    echo "vm: $1 -- CI=true, so this fails instead of skipping" >&2
    exit 1
  fi
  echo
  echo "!!! SKIPPED the cgroup VM tests: $1 !!!"
  echo
  exit 0
}

[ "$(id -u)" = 0 ] || missing "needs root (run with sudo)"
command -v qemu-system-x86_64 >/dev/null || missing "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
[ -x /bin/busybox ] || missing "needs /bin/busybox (apt-get install busybox-static)"
# The newest kernel with both its image and its modules installed.
kver=""
for dir in $(ls -d /lib/modules/*/ 2>/dev/null | sort -V); do
  version="$(basename "$dir")"
  [ -r "/boot/vmlinuz-$version" ] && [ -e "$dir/modules.dep" ] && kver="$version"
done
[ -n "$kver" ] || missing "needs Debian's kernel (apt-get install linux-image-amd64)"

echo "== vm: building the test binaries"
cargo build --quiet -p ch02-cgroups -p mini-docker
executable() { # the test binary of cargo's test target $1
  grep "\"name\":\"$1\"" | grep -o '"executable":"[^"]*"' | cut -d'"' -f4
}
built="$(cargo test --quiet --no-run --message-format=json \
  -p ch02-cgroups --test e2e -p mini-docker --test e2e_cgroups)"
ch02="$(executable e2e <<<"$built")"
md="$(executable e2e_cgroups <<<"$built")"
[ -x "$ch02" ] && [ -x "$md" ] || { echo "vm: could not find the test binaries" >&2; exit 1; }

echo "== vm: the busybox image and the initramfs for $kver"
[ -s "$out/busybox.tar" ] || bash scripts/make-busybox-image.sh "$out/busybox.tar" >/dev/null
bash scripts/vm/initramfs.sh "$kver" "$out/initramfs-$kver.cpio"
cat > "$out/cgroup-tests.env" <<ENV
CH02_E2E=$ch02
MINI_DOCKER_E2E_CGROUPS=$md
MINI_DOCKER_TEST_BUSYBOX_TAR=$out/busybox.tar
ENV

# KVM when it really works: a nested /dev/kvm may exist and still fail.
accel="${MINI_DOCKER_VM_ACCEL:-}"
if [ -z "$accel" ]; then
  accel=tcg
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    if timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -nographic \
      -no-reboot -serial stdio -monitor none -kernel "/boot/vmlinuz-$kver" \
      -initrd "$out/initramfs-$kver.cpio" -append "console=ttyS0 quiet panic=-1 md.probe=1" \
      </dev/null 2>/dev/null | grep -q "mini-docker-vm: probe ok"; then
      accel=kvm
    else
      echo "vm: /dev/kvm is here but a KVM guest does not boot: software emulation (TCG)"
    fi
  fi
fi

# The plan the guests run: the tests, or (for the book) scripts/vm/book-sessions.sh.
plan="$(realpath "${MINI_DOCKER_VM_PLAN:-scripts/vm/cgroup-plan.sh}")"
export MINI_DOCKER_VM_KERNEL="$kver" MINI_DOCKER_VM_INITRAMFS="$out/initramfs-$kver.cpio"
export MINI_DOCKER_VM_ACCEL="$accel"
failed=""
for layout in "${layouts[@]}"; do
  echo "== vm: cgroup $layout, kernel $kver ($accel)"
  bash scripts/vm/boot.sh "$layout" "$plan" "$out/cgroup-tests.env" \
    "$out/console-$layout.log" || failed="$failed $layout"
done
if [ -n "$failed" ]; then
  echo "vm: the cgroup tests FAILED on:$failed (consoles in $out/console-*.log)" >&2
  exit 1
fi
echo "vm: the cgroup tests passed on: ${layouts[*]}"
