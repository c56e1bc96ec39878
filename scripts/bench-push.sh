#!/usr/bin/env bash
# Benchmark (not a test): push an image with one big layer (~90 MB of
# compressed data, like Debian's 91 MB base layer) with mini-docker's
# chapter 10, and the same image with `skopeo copy`, each into a fresh local
# registry. One run each, side by side; prints both times and their ratio.
# Offline: the layer is made by a container here. Needs root.
#   sudo bash scripts/bench-push.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
MEGABYTES="${MEGABYTES:-90}"

for tool in docker-registry skopeo umoci curl bc; do
    command -v "$tool" >/dev/null || { echo "needs $tool (sudo bash scripts/install-deps.sh)" >&2; exit 1; }
done
cargo build --quiet -p ch10-images -p ch04-image-pull
CH10="$PWD/target/debug/ch10-images"
CH04="$PWD/target/debug/ch04-image-pull"

# Short: a container's attach socket (<root>/containers/<64 hex>/attach.sock)
# must fit in the 108 bytes of a unix socket address.
WORK="$(mktemp -d /tmp/mdtbp.XXXXXX)"
PIDS=()
cleanup() {
    "$CH10" --root "$WORK/r" rm -f big >/dev/null 2>&1 || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A registry on a free loopback port, its storage under $WORK/$1; sets PORT.
# (Not in a $(...) subshell: the pid must reach PIDS, so cleanup stops it.)
start_registry() {
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    cat >"$WORK/$1.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/$1
http:
  addr: 127.0.0.1:$PORT
YML
    docker-registry serve "$WORK/$1.yml" >"$WORK/$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
}

echo "== a busybox image (umoci), a container that writes ${MEGABYTES} MB, commit"
bash scripts/make-busybox-image.sh "$WORK/busybox.tar" >/dev/null
# Loaded from an OCI layout, its layer stays gzip: neither tool recompresses.
skopeo --insecure-policy copy --quiet "docker-archive:$WORK/busybox.tar" "oci:$WORK/busybox:busybox:latest"
"$CH04" --root "$WORK/r" load -i "$WORK/busybox" >/dev/null 2>&1
# Mostly incompressible bytes, some text: the blob stays about that big.
"$CH10" --root "$WORK/r" run --name big --storage-driver vfs busybox sh -c \
    "mkdir /data && head -c $((MEGABYTES - 2))m /dev/urandom > /data/random && \
     seq 1 400000 > /data/numbers.txt" >/dev/null
start_registry ours; OURS_PORT="$PORT"
start_registry theirs; THEIRS_PORT="$PORT"
IMAGE="127.0.0.1:$OURS_PORT/bench:latest"
"$CH10" --root "$WORK/r" commit big "$IMAGE" >/dev/null

# Each run starts from cold caches and a quiet disk.
seconds() {
    local start end
    sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N)
    echo "$end - $start" | bc
}

MD=$(seconds "$CH10" --root "$WORK/r" push "$IMAGE")
# skopeo gets the very same blobs, from an OCI layout (no recompression).
skopeo --insecure-policy copy --quiet --src-tls-verify=false "docker://$IMAGE" "oci:$WORK/layout:bench"
SK=$(seconds skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
    "oci:$WORK/layout:bench" "docker://127.0.0.1:$THEIRS_PORT/bench:latest")
SIZE="$(du -sh "$WORK/ours" | cut -f1)"

echo "== results (image: $SIZE in the registry)"
printf 'ch10-images push:   %6.2f s\n' "$MD"
printf 'skopeo copy:        %6.2f s\n' "$SK"
printf 'ratio ch10-images / skopeo: %.2f (target: <= 1)\n' "$(echo "$MD / $SK" | bc -l)"
