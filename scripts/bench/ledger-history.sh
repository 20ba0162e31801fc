#!/usr/bin/env bash
# Ledger start-up time and peak resident memory against history length.
#
# For each history length H (transactions; default "1000 10000 50000") a fresh
# ledger receives H transactions that keep the live state the same size
# (`ledger/examples/history_bench.rs load`), and exits without a clean-stop
# compaction; then opening it (snapshot + log tail) is measured with GNU time.
# With compaction, start-up time and RSS stay flat as H grows; the archive on
# disk grows with H.
#   scripts/bench/ledger-history.sh [H ...]
#   PROFILE=dev scripts/bench/ledger-history.sh [H ...]
# Not run in CI; numbers from a loaded machine mean nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# PROFILE=dev uses the workspace's optimised dev build (what `cargo build
# --workspace --examples` made) instead of compiling a release build.
if [ "${PROFILE:-release}" = dev ]; then
  (cd "$root" && cargo build --quiet --workspace --examples)
  bench="${CARGO_TARGET_DIR:-$root/target}/debug/examples/history_bench"
else
  (cd "$root" && cargo build --quiet --release -p floe-ledger --example history_bench)
  bench="${CARGO_TARGET_DIR:-$root/target}/release/examples/history_bench"
fi
lengths=("$@"); [ ${#lengths[@]} -gt 0 ] || lengths=(1000 10000 50000)
for h in "${lengths[@]}"; do
  dir="$(mktemp -d)"
  "$bench" load "$dir" "$h"
  out="$( { /usr/bin/time -v "$bench" open "$dir"; } 2>&1 )"
  rss_kib="$(grep 'Maximum resident set size' <<<"$out" | awk '{print $NF}')"
  opened="$(grep '^opened' <<<"$out")"
  size() { du -sk "$1" 2>/dev/null | awk '{print $1}'; }
  printf 'history %7d tx: peak RSS %6.1f MiB; log %s KiB, snapshot %s KiB, archive %s KiB; %s\n' \
    "$h" "$(awk -v r="$rss_kib" 'BEGIN {print r/1024}')" "$(size "$dir/ledger.wal")" \
    "$(size "$dir/snapshot.bcs")" "$(size "$dir/archive")" "$opened"
  rm -rf "$dir"
done
