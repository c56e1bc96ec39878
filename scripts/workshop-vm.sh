#!/usr/bin/env bash
# A Debian 12 virtual machine for workshop attendees without Linux, on a
# Linux or macOS host with QEMU (apt-get install qemu-system-x86 qemu-utils
# genisoimage, or `brew install qemu` on macOS):
#   bash scripts/workshop-vm.sh [DIR]
#   MINI_DOCKER_VM_ARCH=arm64 bash scripts/workshop-vm.sh DIR   # an arm64 guest
#   MINI_DOCKER_VM_STANDALONE=1 bash scripts/workshop-vm.sh DIR # one self-contained disk
# The first run downloads Debian's official cloud image (or uses
# $DEBIAN_IMAGE if it is already on disk, e.g. from the instructor's USB
# stick), makes a cloud-init seed (user `learner`, password `mini-docker`,
# your ssh key if you have one, Rust, the packages the tests need, and the
# subordinate ids chapter 8's --userns-remap uses), and
# boots it with 2 CPUs and 4 GiB. Then, from a second terminal:
#   ssh -p 2222 learner@127.0.0.1
#   scp -P 2222 -r . learner@127.0.0.1:mini-docker    # this repository
# Later runs boot the same disk again; delete DIR to start over.
set -euo pipefail
dir="${1:-$HOME/mini-docker-vm}"
mkdir -p "$dir"

# The guest's architecture: this machine's, or MINI_DOCKER_VM_ARCH=amd64|arm64
# (an instructor preparing arm64 disks for Apple-silicon laptops on an
# x86-64 one, or the reverse: emulated, so slower, but the same disk).
host_arch="$(uname -m)"
case "$host_arch" in x86_64) host_arch=amd64 ;; aarch64) host_arch=arm64 ;; esac
arch="${MINI_DOCKER_VM_ARCH:-$host_arch}"
# UEFI firmware for arm64 guests: Homebrew's, or Debian's qemu-efi-aarch64.
aarch64_firmware() {
  for fd in "$(dirname "$(command -v qemu-system-aarch64)")/../share/qemu/edk2-aarch64-code.fd" \
    /usr/share/qemu-efi-aarch64/QEMU_EFI.fd /usr/share/AAVMF/AAVMF_CODE.fd; do
    [ -r "$fd" ] && { echo "$fd"; return; }
  done
  echo "workshop-vm: no UEFI firmware for arm64 (apt-get install qemu-efi-aarch64)" >&2
  exit 1
}
case "$arch" in
  amd64) qemu=qemu-system-x86_64 ;;
  arm64) qemu=qemu-system-aarch64 ;;
  *) echo "workshop-vm: no Debian cloud image for $arch (amd64 or arm64)" >&2; exit 1 ;;
esac
command -v "$qemu" >/dev/null || { echo "workshop-vm: needs $qemu (install QEMU)" >&2; exit 1; }
case "$arch" in
  amd64) machine=(-machine q35) ;;
  arm64) machine=(-machine virt -bios "$(aarch64_firmware)") ;;
esac
if [ "$arch" != "$host_arch" ]; then
  accel=tcg cpu=max  # another architecture: emulated
else
  case "$(uname -s)" in
    Linux) accel=kvm cpu=host ;;
    Darwin) accel=hvf cpu=host ;;
    *) accel=tcg cpu=max ;;
  esac
fi

# The disk: an overlay on Debian's image that names it by a RELATIVE path,
# so DIR can be copied or moved as a whole (a USB stick, another laptop);
# or, with MINI_DOCKER_VM_STANDALONE=1 or a $DEBIAN_IMAGE outside DIR, one
# standalone disk with nothing behind it (`qemu-img convert`).
disk="$dir/disk.qcow2"
if [ ! -e "$disk" ]; then
  name="debian-12-genericcloud-$arch.qcow2"
  base="${DEBIAN_IMAGE:-$dir/$name}"
  if [ ! -e "$base" ]; then
    curl -fL -o "$base.part" "https://cloud.debian.org/images/cloud/bookworm/latest/$name"
    mv "$base.part" "$base"
  fi
  if [ "${MINI_DOCKER_VM_STANDALONE:-}" = 1 ] || [ "$(cd "$(dirname "$base")" && pwd)" != "$(cd "$dir" && pwd)" ]; then
    qemu-img convert -q -O qcow2 "$base" "$disk"
    qemu-img resize -q "$disk" 20G
  else
    (cd "$dir" && qemu-img create -q -f qcow2 -b "$(basename "$base")" -F qcow2 disk.qcow2 20G)
  fi
fi

rust_version="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$(dirname "$0")/../Cargo.toml" 2>/dev/null || true)"
rust_version="${rust_version:-1.80}"
seed="$dir/seed.iso"
if [ ! -e "$seed" ]; then
  mkdir -p "$dir/seed"
  key="$(cat "$HOME"/.ssh/id_ed25519.pub "$HOME"/.ssh/id_rsa.pub 2>/dev/null | head -1 || true)"
  echo "instance-id: mini-docker-workshop" > "$dir/seed/meta-data"
  cat > "$dir/seed/user-data" <<EOF
#cloud-config
hostname: workshop
users:
  - name: learner
    groups: [sudo]
    shell: /bin/bash
    sudo: ALL=(ALL) NOPASSWD:ALL
    lock_passwd: false
    plain_text_passwd: mini-docker
    ssh_authorized_keys: [${key:+"$key"}]
ssh_pwauth: true
packages: [build-essential, git, curl, busybox-static, docker-registry, umoci, skopeo, iptables, iproute2, runc, pkg-config]
runcmd:
  # Rust from rustup, not Debian 12's rustc 1.63: the workspace needs $rust_version.
  - su - learner -c 'curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable'
  - su - learner -c '. ~/.cargo/env && rustc --version'
  - sh -c 'echo mini-docker:231072:65536 | tee -a /etc/subuid /etc/subgid'   # for --userns-remap (chapter 8)
EOF
  if command -v cloud-localds >/dev/null; then
    cloud-localds "$seed" "$dir/seed/user-data" "$dir/seed/meta-data"
  elif command -v hdiutil >/dev/null; then
    hdiutil makehybrid -quiet -iso -joliet -default-volume-name cidata -o "$seed" "$dir/seed"
  else
    genisoimage -quiet -output "$seed" -volid cidata -joliet -rock "$dir/seed/user-data" "$dir/seed/meta-data"
  fi
fi

echo "workshop-vm: booting; log in with: ssh -p 2222 learner@127.0.0.1 (password mini-docker)"
exec "$qemu" "${machine[@]}" -accel "$accel" -cpu "$cpu" -smp 2 -m 4096 -nographic \
  -drive "file=$disk,if=virtio" -drive "file=$seed,if=virtio,format=raw,readonly=on" \
  -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:2222-:22"
