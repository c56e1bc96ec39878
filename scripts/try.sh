#!/usr/bin/env bash
# The one command that sets up and runs a container:
#   sudo bash scripts/try.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/install-deps.sh
cargo build --quiet --bin ch01-namespaces
exec target/debug/ch01-namespaces --hostname box /bin/sh -c 'echo "hello from $(hostname), I am PID $$"; ps -e'
