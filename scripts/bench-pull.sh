#!/usr/bin/env bash
# Benchmark (not a test): pull and unpack a large image with mini-docker, and
# with `skopeo copy` + `umoci unpack`, from a local registry. Prints both
# times and their ratio. Needs root and the Debian mirror (for debootstrap).
#   sudo bash scripts/bench-pull.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SUITE="${SUITE:-bookworm}"

command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
for tool in docker-registry skopeo umoci; do
    command -v "$tool" >/dev/null || { echo "needs $tool (sudo bash scripts/install-deps.sh)" >&2; exit 1; }
done
cargo build --quiet -p mini-docker
MINI_DOCKER="$PWD/target/debug/mini-docker"

WORK="$(mktemp -d /tmp/mdtest-bench.XXXXXX)"
REGISTRY_PID=""
cleanup() {
    if [ -n "$REGISTRY_PID" ]; then
        kill "$REGISTRY_PID" 2>/dev/null || true
        wait "$REGISTRY_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building a Debian $SUITE minbase image (debootstrap, umoci)"
debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; exit 1; }
umoci init --layout "$WORK/oci"
umoci new --image "$WORK/oci:bench"
umoci unpack --image "$WORK/oci:bench" "$WORK/bundle" >/dev/null
cp -a "$WORK/rootfs/." "$WORK/bundle/rootfs/"
umoci repack --image "$WORK/oci:bench" "$WORK/bundle"
rm -rf "$WORK/bundle" "$WORK/rootfs"

echo "== starting a registry on 127.0.0.1 and pushing the image"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/registry.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$WORK/oci:bench" "docker://127.0.0.1:$PORT/bench:latest"
IMAGE="127.0.0.1:$PORT/bench:latest"
SIZE="$(du -sh "$WORK/storage" | cut -f1)"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }

sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
MD=$(seconds "$MINI_DOCKER" --root "$WORK/md-root" pull "$IMAGE")
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
SK=$(seconds bash -c "skopeo --insecure-policy copy --quiet --src-tls-verify=false docker://$IMAGE oci:$WORK/pulled:bench && umoci unpack --image $WORK/pulled:bench $WORK/unpacked")

echo "== results (image: $SIZE in the registry)"
printf 'mini-docker pull:            %6.2f s\n' "$MD"
printf 'skopeo copy + umoci unpack:  %6.2f s\n' "$SK"
printf 'ratio mini-docker / skopeo+umoci: %.2f (target: <= 1)\n' "$(echo "$MD / $SK" | bc -l)"
