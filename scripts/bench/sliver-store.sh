#!/usr/bin/env bash
# Sliver-store engine comparison for the storage node (issue 6): writes 1 GiB of
# slivers of realistic sizes durably, reopens, reads back and verifies, for
# redb, fjall and one-file-per-sliver. See node/examples/sliver_store_bench.rs.
#
#   scripts/bench/sliver-store.sh [TOTAL_MIB] [DIR]
set -euo pipefail
TOTAL_MIB="${1:-1024}"
DIR="${2:-${TMPDIR:-/tmp}/floe-sliver-bench}"
cd "$(dirname "$0")/../.."
cargo build --release -q -p floe-node --features bench-engines --example sliver_store_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/sliver_store_bench"
for every in 1 16; do
  for engine in redb fjall files; do
    "$BIN" --engine "$engine" --total-mib "$TOTAL_MIB" --commit-every "$every" --dir "$DIR/$engine"
  done
done
# Concurrent writers, one durable commit per sliver each (concurrent PUTs).
for engine in redb fjall files; do
  "$BIN" --engine "$engine" --total-mib "$TOTAL_MIB" --threads 2 --dir "$DIR/$engine"
done
