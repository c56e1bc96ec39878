#!/usr/bin/env bash
# A Debian 12 virtual machine for workshop attendees without Linux, on a
# Linux or macOS host with QEMU (apt-get install qemu-system-x86 qemu-utils
# genisoimage, or `brew install qemu` on macOS):
#   bash scripts/workshop-vm.sh [DIR]
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

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 qemu=qemu-system-x86_64 machine=(-machine q35) ;;
  arm64 | aarch64) arch=arm64 qemu=qemu-system-aarch64 machine=(-machine virt -bios "$(dirname "$(command -v qemu-system-aarch64)")/../share/qemu/edk2-aarch64-code.fd") ;;
  *) echo "workshop-vm: no Debian cloud image for $(uname -m)" >&2; exit 1 ;;
esac
case "$(uname -s)" in
  Linux) accel=kvm cpu=host ;;
  Darwin) accel=hvf cpu=host ;;
  *) accel=tcg cpu=max ;;
esac
command -v "$qemu" >/dev/null || { echo "workshop-vm: needs $qemu (install QEMU)" >&2; exit 1; }

disk="$dir/disk.qcow2"
if [ ! -e "$disk" ]; then
  base="${DEBIAN_IMAGE:-$dir/debian-12-genericcloud-$arch.qcow2}"
  if [ ! -e "$base" ]; then
    curl -fL -o "$base.part" "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-$arch.qcow2"
    mv "$base.part" "$base"
  fi
  qemu-img create -q -f qcow2 -b "$(cd "$(dirname "$base")" && pwd)/$(basename "$base")" -F qcow2 "$disk" 20G
fi

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
  - su - learner -c 'curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal'
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
