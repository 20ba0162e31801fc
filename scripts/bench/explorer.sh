#!/usr/bin/env bash
# Explorer benchmark: p50/p99 of every page over HTTP (explorer -> indexer
# API -> Postgres -> HTML) against an index of many blobs. Starts its own
# Postgres cluster in a temp dir (needs PostgreSQL installed).
#
#   scripts/bench/explorer.sh                    # 100k blobs, 200 requests per page
#   scripts/bench/explorer.sh --blobs 1000000    # the indexer benchmark's size
set -euo pipefail
cd "$(dirname "$0")/../.."
# The dev profile is optimised in this workspace (opt-level 2, deps 3).
cargo run -p floe-explorer --example explorer_bench -- "$@"
