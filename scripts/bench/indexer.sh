#!/usr/bin/env bash
# Indexer benchmark: committer ingest rate vs raw COPY of the same rows, and
# p50/p99 of the main explorer API queries with every blob indexed. Starts
# its own Postgres cluster in a temp dir (needs PostgreSQL installed).
#
#   scripts/bench/indexer.sh                 # 1M events / 1M blobs
#   scripts/bench/indexer.sh --events 100000 # quicker
set -euo pipefail
cd "$(dirname "$0")/../.."
# The dev profile is optimised in this workspace (opt-level 2, deps 3).
cargo run -p floe-indexer --example indexer_bench -- "$@"
