#!/usr/bin/env bash
# Boot Debian's kernel under qemu with the test initramfs, the host's tree
# shared read-only over virtio-9p, and run one plan on one cgroup layout:
#   bash scripts/vm/boot.sh LAYOUT PLAN ENV_FILE LOG
# The serial console is shown as it comes and kept in LOG. Exits 0 only
# when the guest printed its PASS line; a guest that fails, panics or
# outlives MINI_DOCKER_VM_TIMEOUT seconds (default 600) is a failure.
# Needs MINI_DOCKER_VM_KERNEL (a kernel version with /boot/vmlinuz-VERSION),
# MINI_DOCKER_VM_INITRAMFS and MINI_DOCKER_VM_ACCEL (kvm or tcg): see
# scripts/vm/cgroup-tests.sh, which sets them.
set -euo pipefail
layout="${1:?usage: boot.sh LAYOUT PLAN ENV_FILE LOG}"
plan="${2:?}"
env_file="${3:?}"
log="${4:?}"
here="$(cd "$(dirname "$0")" && pwd)"
kver="${MINI_DOCKER_VM_KERNEL:?}"
initramfs="${MINI_DOCKER_VM_INITRAMFS:?}"
accel="${MINI_DOCKER_VM_ACCEL:-tcg}"
# Emulated (TCG) on a busy 2-core machine one layout's plan took 10 min
# (2026-12-02: mini-docker's e2e_cgroups alone 440 s in the guest).
timeout="${MINI_DOCKER_VM_TIMEOUT:-1200}"

for path in "$here" "$plan" "$env_file"; do
  case "$path" in
    (*" "*) echo "vm: $path has a space; the kernel command line cannot carry it" >&2; exit 1 ;;
  esac
done

case "$accel" in
  (kvm) accel_args=(-accel kvm -cpu host) ;;
  (*) accel_args=(-accel tcg,thread=multi -cpu max) ;;
esac
cmdline="console=ttyS0 quiet loglevel=3 panic=-1 md.guest=$here/guest.sh md.layout=$layout md.plan=$plan md.env=$env_file"

start=$SECONDS
set +e
timeout --kill-after=10 "$timeout" qemu-system-x86_64 "${accel_args[@]}" \
  -machine q35 -smp 2 -m 2048 -nodefaults -nographic -no-reboot \
  -serial stdio -monitor none \
  -kernel "/boot/vmlinuz-$kver" -initrd "$initramfs" -append "$cmdline" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  </dev/null 2>&1 | tr -d '\r' | tee "$log"
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "vm: FAIL layout=$layout: the guest did not power off within ${timeout}s (see $log)" >&2
  exit 1
fi
if grep -q "^mini-docker-vm: PASS layout=$layout" "$log"; then
  echo "vm: PASS layout=$layout in ${elapsed}s ($accel)"
  exit 0
fi
verdict="$(grep "^mini-docker-vm: FAIL" "$log" | tail -1)"
echo "vm: FAIL layout=$layout after ${elapsed}s: ${verdict:-the guest never reported (qemu exit $status; see $log)}" >&2
exit 1
