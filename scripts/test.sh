#!/usr/bin/env bash
# The one command that sets up and runs every test:
#   sudo bash scripts/test.sh
# Unit tests need no privileges; end-to-end tests need root and a real
# kernel. With CI=true a test whose preconditions are missing fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/install-deps.sh

echo "== the code is formatted (rustfmt.toml)"
cargo fmt --all --check
echo "== clippy finds nothing (an allow says why, where one is needed)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== build"
cargo build --workspace --all-targets --quiet

echo "== unit and end-to-end tests"
# The exercises are checked below: against the untouched stubs they fail on purpose.
# book-check's tests (the session replays) run with the book, below.
cargo test --workspace --exclude exercises --exclude book-check --quiet --no-fail-fast

echo "== the end-to-end tests again, every command through a mini-dockerd of each test's own"
MINI_DOCKER_TEST_MODE=daemon cargo test -p mini-docker --tests --quiet --no-fail-fast

echo "== chapter 2 on pure cgroup v2 and pure v1 kernels, booted by qemu"
bash scripts/vm/cgroup-tests.sh
echo "== chapter 2's v2 and v1 sessions, run again in the same guests, against their transcripts"
MINI_DOCKER_VM_PLAN=scripts/vm/book-sessions.sh bash scripts/vm/cgroup-tests.sh
for layout in v2 v1; do
  cargo run --quiet -p book-check -- recorded "target/vm/console-$layout.log" book/sessions/vm/ch02-"$layout"*.console
done

echo "== every exercise is sound: its tests pass against the chapter code and fail against the stub"
cargo run --quiet -p exercises --bin exercise -- verify

echo "== the book: includes resolve, listings fit, it builds, its sessions replay"
bash scripts/check-book.sh

echo "== nothing of ours is left on the host"
cargo test -p testkit --test leftovers --quiet -- --include-ignored
