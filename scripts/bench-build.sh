#!/usr/bin/env bash
# Benchmark (not a test): the classic builder's cache. A ten-step
# Dockerfile is built cold, then rebuilt with nothing changed (every step
# `Using cache`; target: under one second). Where a dockerd is running,
# the same cold build with its classic builder (DOCKER_BUILDKIT=0) beside
# ours. Offline: the base image is busybox made here. Needs root.
#   sudo bash scripts/bench-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

for tool in skopeo umoci bc; do
    command -v "$tool" >/dev/null || { echo "needs $tool (sudo bash scripts/install-deps.sh)" >&2; exit 1; }
done
cargo build --quiet -p mini-docker --bin mini-docker
MD="$PWD/target/debug/mini-docker"

# Short: a container's attach socket path must fit in 108 bytes.
WORK="$(mktemp -d /tmp/mdtbb.XXXXXX)"
BRIDGE="mdtbb$$"
export MINI_DOCKER_BRIDGE="$BRIDGE" MINI_DOCKER_SUBNET="10.213.$((RANDOM % 200)).0/24"
export MINI_DOCKER_CGROUP_PARENT="mdtbb$$"
cleanup() {
    "$MD" --root "$WORK/r" network prune -f >/dev/null 2>&1 || true
    rmdir "/sys/fs/cgroup/$MINI_DOCKER_CGROUP_PARENT" 2>/dev/null || true
    if [ -n "${DOCKER_TAG:-}" ]; then docker rmi -f "$DOCKER_TAG" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

bash scripts/make-busybox-image.sh "$WORK/busybox.tar" >/dev/null
"$MD" --root "$WORK/r" load -i "$WORK/busybox.tar" >/dev/null 2>&1

mkdir -p "$WORK/ctx/src"
seq 1 20000 >"$WORK/ctx/src/numbers.txt"
echo "hello" >"$WORK/ctx/src/greeting.txt"
cat >"$WORK/ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:latest
ARG GREETING=hi
ENV APP=/app
WORKDIR /app
COPY src/ ./
RUN wc -l numbers.txt > count.txt
RUN echo "$GREETING" > greeting.out
LABEL bench=build
EXPOSE 8080
CMD ["cat", "/app/count.txt"]
DOCKERFILE

seconds() {
    local start end
    start=$(date +%s.%N); "$@" >"$WORK/last.log" 2>&1; end=$(date +%s.%N)
    echo "$end - $start" | bc
}

COLD=$(seconds "$MD" --root "$WORK/r" build -t bench:1 "$WORK/ctx")
CACHED=$(seconds "$MD" --root "$WORK/r" build -t bench:1 "$WORK/ctx")
HITS=$(grep -c -- '---> Using cache' "$WORK/last.log" || true)
echo "mini-docker build, cold:   ${COLD} s"
echo "mini-docker build, cached: ${CACHED} s (${HITS}/9 steps 'Using cache'; target < 1 s)"
[ "$HITS" = 9 ] || { echo "the rebuild did not use the cache for every step:" >&2; cat "$WORK/last.log" >&2; exit 1; }

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    DOCKER_TAG="mdtbb$$:latest"
    docker load -i "$WORK/busybox.tar" >/dev/null
    DOCKER_COLD=$(DOCKER_BUILDKIT=0 seconds docker build --no-cache -t "$DOCKER_TAG" "$WORK/ctx")
    echo "dockerd classic builder, cold: ${DOCKER_COLD} s (ratio $(echo "scale=2; $COLD / $DOCKER_COLD" | bc)x)"
else
    echo "no dockerd here: the cold build runs alone"
fi
