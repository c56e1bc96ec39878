#!/usr/bin/env bash
# Make a small image from Debian's busybox-static with independent tools
# (umoci builds an OCI layout, skopeo saves it as a `docker save` tarball),
# for rooms where no registry is in reach:
#   bash scripts/make-busybox-image.sh busybox.tar
#   sudo mini-docker load -i busybox.tar
set -euo pipefail
out="${1:?usage: make-busybox-image.sh OUTPUT.tar [NAME:TAG]}"
name="${2:-busybox:latest}"
for tool in umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "make-busybox-image: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "make-busybox-image: needs /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umoci init --layout "$work/oci"
umoci new --image "$work/oci:img"
umoci unpack --image "$work/oci:img" "$work/bundle" >/dev/null
rootfs="$work/bundle/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root,var,home}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
umoci repack --image "$work/oci:img" "$work/bundle" >/dev/null
umoci config --image "$work/oci:img" --config.cmd sh --config.env 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --os linux --architecture "$(dpkg --print-architecture 2>/dev/null || echo amd64)"
rm -f "$out"
skopeo --insecure-policy copy --quiet "oci:$work/oci:img" "docker-archive:$out:$name"
echo "made $out ($name)"
