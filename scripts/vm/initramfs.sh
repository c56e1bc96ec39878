#!/usr/bin/env bash
# Make the test VM's initramfs: busybox-static, scripts/vm/init as /init,
# and the kernel modules the guest needs (virtio-9p to reach the host's
# tree, overlay for the containers' roots), each after its dependencies.
#   bash scripts/vm/initramfs.sh KERNEL_VERSION OUTPUT.cpio
set -euo pipefail
kver="${1:?usage: initramfs.sh KERNEL_VERSION OUTPUT.cpio}"
out="${2:?usage: initramfs.sh KERNEL_VERSION OUTPUT.cpio}"
here="$(cd "$(dirname "$0")" && pwd)"
MODULES="virtio_pci 9pnet_virtio 9p overlay"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,proc,sys,dev,modules,newroot}
cp /bin/busybox "$work/bin/busybox"
cp "$here/init" "$work/init"

# Append MODULE to the load order after its dependencies, once each.
add_module() {
  local name="$1" dep file
  grep -qx "$name.ko" "$work/modules/order" 2>/dev/null && return 0
  for dep in $(modinfo -k "$kver" -F depends "$name" | tr ',' ' '); do
    add_module "$dep"
  done
  file="$(modinfo -k "$kver" -n "$name")"
  case "$file" in
    (builtin) return 0 ;;
    (*.ko) cp "$file" "$work/modules/$name.ko" ;;
    (*.ko.xz) xz -dc "$file" > "$work/modules/$name.ko" ;;
    (*.ko.zst) zstd -qdc "$file" > "$work/modules/$name.ko" ;;
    (*) echo "initramfs: cannot load module file $file" >&2; exit 1 ;;
  esac
  echo "$name.ko" >> "$work/modules/order"
}
touch "$work/modules/order"
for module in $MODULES; do add_module "$module"; done

(cd "$work" && find . | cpio --quiet -o -H newc) > "$out.part"
mv "$out.part" "$out"
