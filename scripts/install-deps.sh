#!/usr/bin/env bash
# Install what building and testing mini-docker needs on Debian or Ubuntu.
# Safe to run again: it only installs what is missing.
#   install-deps.sh         everything the tests and the book need
#   install-deps.sh --run   only what building mini-docker and running a
#                           container needs (scripts/try.sh): no registry,
#                           reference runtimes, VM kernels or mdbook
set -euo pipefail
only_run=false
[ "${1:-}" = --run ] && only_run=true

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: needs root: run with sudo" >&2
    exit 1
  fi
}

# Debian packages the tests use:
#   busybox-static   the userland of our test images
#   docker-registry  a real OCI registry on 127.0.0.1 for pull tests
#   umoci, skopeo    independent tools that build and copy test images
#   iptables, iproute2  networking (chapter 6)
#   runc, crun       the reference runtimes the benchmarks compare against
#   conmon           the supervisor bench-run.sh compares our shim's memory with
#   util-linux, procps  unshare, nsenter (chapter 11's nodes), setpriv, ps
PACKAGES="busybox-static docker-registry umoci skopeo iptables iproute2 runc crun conmon util-linux procps ca-certificates gcc pkg-config"
# Running a container: the offline busybox image (busybox-static, umoci,
# skopeo), the bridge (iptables, iproute2), a linker for cargo (gcc).
$only_run && PACKAGES="busybox-static umoci skopeo iptables iproute2 util-linux procps ca-certificates gcc"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  need_root
  echo "install-deps: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The cgroup tests' virtual machines (scripts/vm): Debian's own kernel,
# booted by qemu with a pure cgroup v2 or v1 layout. Debian names the
# kernel package linux-image-amd64 (Ubuntu: linux-image-generic).
VM_PACKAGES="qemu-system-x86 linux-image-amd64"
case "$(dpkg --print-architecture 2>/dev/null)" in
  amd64) ;;
  *) VM_PACKAGES="" ;; # the VM tests boot an x86-64 kernel only
esac
$only_run && VM_PACKAGES=""
missing=""
for p in $VM_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  need_root
  echo "install-deps: installing$missing (the cgroup tests' VMs)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || echo "install-deps: could not install$missing: scripts/vm/cgroup-tests.sh will say so" >&2
fi

# Rust: the workspace's rust-version or newer. Debian 12's rustc (1.63) is
# too old, so the toolchain comes from rustup: Debian's `rustup` package
# where there is one (Debian 13, Ubuntu 24.04), else rustup's installer.
export PATH="$HOME/.cargo/bin:$PATH"
need_rust="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$(dirname "$0")/../Cargo.toml")"
rust_ok() {
  local have
  have="$(rustc --version 2>/dev/null | cut -d' ' -f2)"
  [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$need_rust" "$have" | sort -V | head -1)" = "$need_rust" ]
}
if ! rust_ok; then
  echo "install-deps: Rust $need_rust or newer is needed (found: $(rustc --version 2>/dev/null || echo none)); installing it with rustup"
  if ! command -v rustup >/dev/null 2>&1; then
    if apt-cache show rustup >/dev/null 2>&1; then
      need_root
      apt-get install -y -qq --no-install-recommends rustup >/dev/null
    else
      curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
    fi
  fi
  rustup toolchain install stable --profile minimal
  rustup default stable
  rust_ok || { echo "install-deps: still no Rust $need_rust: $(rustc --version)" >&2; exit 1; }
fi
# The tests check the format (rustfmt) and clippy's lints; rustup's minimal
# profile has neither.
if ! $only_run; then
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
fi
if ! $only_run && ! command -v mdbook >/dev/null 2>&1; then
  echo "install-deps: building mdbook from crates.io (a few minutes, once)"
  cargo install mdbook --locked --version '^0.4' --quiet
fi
# The book's pictures: svgbob's preprocessor for mdbook 0.4.
if ! $only_run && ! command -v mdbook-svgbob >/dev/null 2>&1; then
  echo "install-deps: building mdbook-svgbob from crates.io (once)"
  cargo install mdbook-svgbob --locked --version '^0.2' --quiet
fi
# check-book.sh opens every built page in headless Chromium.
if ! $only_run && ! command -v chromium >/dev/null 2>&1; then
  need_root
  echo "install-deps: installing chromium (the book's rendered-page check)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# The real clients of mini-dockerd in the end-to-end tests: the `docker`
# CLI (only the CLI: its daemon is never started) and docker-py.
if ! command -v docker >/dev/null 2>&1; then
  need_root
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -qq --no-install-recommends docker-cli >/dev/null 2>&1; then
    # Older releases ship the CLI only inside docker.io: keep its daemon
    # from being started by the package's scripts.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
fi
if ! python3 -c 'import docker' >/dev/null 2>&1; then
  need_root
  echo "install-deps: installing docker-py (pip install docker)"
  command -v pip3 >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  python3 -m pip install --quiet docker 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages docker
fi
