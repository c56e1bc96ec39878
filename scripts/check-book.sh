#!/usr/bin/env bash
# The book cannot drift from the code:
#   sudo bash scripts/check-book.sh
# 1. every {{#include}} resolves to a non-empty listing of at most 40 lines
#    (mdbook only warns about a renamed anchor or a moved file);
# 2. the book builds (each chapter's pictures drawn by svgbob), no page keeps
#    a raw `{{#` directive, and every page opened in headless Chromium has
#    no broken picture (`book-check pages`);
# 3. every shell session (book/sessions/*.console) is replayed against the
#    built binaries, as root, in namespaces of its own, and must match
#    (`cargo test -p book-check`; one session: `book-check replay FILE`).
# test.sh calls it after building the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --quiet -p book-check
check=target/debug/book-check

echo "== every include resolves to a listing of at most 40 lines"
"$check" includes book

echo "== the book builds, with no directive left raw"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mdbook build book --dest-dir "$out" 2> "$out.log" || { cat "$out.log" >&2; exit 1; }
if grep -q -E '^\[?(ERROR|WARN)' "$out.log"; then
  grep -E 'ERROR|WARN' "$out.log" >&2
  echo "check-book: mdbook complained (above)" >&2
  exit 1
fi
rm -f "$out.log"
raw="$(grep -l -F '{{#' -r "$out" --include='*.html' || true)"
if [ -n "$raw" ]; then
  echo "check-book: raw {{# directives left in: $raw" >&2
  exit 1
fi

echo "== every page renders in headless Chromium: no broken picture, no raw {{#"
if command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
  "$check" pages "$out"
elif [ "${CI:-}" = true ]; then
  echo "check-book: needs chromium to open the pages (apt-get install chromium)" >&2
  exit 1
else
  echo "!!! SKIPPED the rendered-page check: no chromium (apt-get install chromium) !!!" >&2
fi

echo "== every session replays (book/sessions), and the checks themselves fail when they should"
# The replays run the built binaries: build them all first.
cargo build --quiet --workspace --bins
if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then echo "check-book: replaying the sessions needs root" >&2; exit 1; fi
  echo "!!! SKIPPED the session replay: needs root (sudo bash scripts/check-book.sh) !!!" >&2
  cargo test --quiet -p book-check --test includes
  exit 0
fi
cargo test --quiet -p book-check
