#!/usr/bin/env bash
# The one command that sets up and runs a container from an image:
#   sudo bash scripts/try.sh
# It pulls busybox from Docker Hub (or $MINI_DOCKER_REGISTRY_MIRROR) when a
# registry is in reach; otherwise it makes a small local image from Debian's
# busybox-static and loads it, so it also works in a room with no registry.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "try: needs root: run with sudo" >&2; exit 1; }
started=$(date +%s)
# Only what running a container needs: no test tools, no mdbook.
bash scripts/install-deps.sh --run
echo "== building mini-docker (in-process engine only: no daemon, a shorter build)"
cargo build --quiet -p mini-docker --no-default-features
md="$PWD/target/debug/mini-docker"

if ! "$md" images | awk '{print $1}' | grep -qx busybox; then
  echo "== getting the busybox image"
  if ! timeout 60 "$md" pull busybox; then
    echo "== no registry in reach: making busybox from Debian's busybox-static instead"
    tar="$(mktemp -d)/busybox.tar"
    bash scripts/make-busybox-image.sh "$tar"
    "$md" load -i "$tar"
  fi
fi

echo "== mini-docker run --rm busybox ..."
"$md" run --rm --hostname box busybox sh -c 'echo "hello from $(hostname): I am PID $$ and I see:"; ps'
echo "== time to the first container: $(( $(date +%s) - started )) s"
cat <<'TXT'

Next: an interactive shell in a container, with every step explained:
  sudo target/debug/mini-docker --explain run -it --rm busybox sh
and the book: read book/src/, or build it (cargo install mdbook; mdbook serve book).
The daemon and the tests: sudo bash scripts/test.sh.
TXT
