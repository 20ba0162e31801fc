#!/usr/bin/env bash
# Store and read throughput/latency on a fresh local devnet, with the share
# of encoding, chain and network in each operation (issue: client-devnet).
#
#   scripts/bench/devnet-store-read.sh                    # 1 KiB, 1 MiB, 100 MiB
#   SIZES=1024,1048576 RUNS=10 scripts/bench/devnet-store-read.sh
#   PROFILE=dev scripts/bench/devnet-store-read.sh        # skip the release build
#
# It builds `floe` and the `devnet_bench` example, starts
# `floe devnet --auto-ports --no-indexer` (4 nodes, 100 shards) in a temp
# directory, runs the example against its client.yaml and stops the devnet.
# Every store pays real WAL, every read is checked byte for byte.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
profile="${PROFILE:-release}"
sizes="${SIZES:-1024,1048576,104857600}"
runs="${RUNS:-5}"
nodes="${NODES:-4}"
shards="${SHARDS:-100}"
target="${CARGO_TARGET_DIR:-$root/target}"

if [ "$profile" = release ]; then
  cargo build --release -q -p floe -p floe-client --bin floe --example devnet_bench
  bin="$target/release"
else
  cargo build -q -p floe -p floe-client --bin floe --example devnet_bench
  bin="$target/debug"
fi

dir="$(mktemp -d)"
"$bin/floe" devnet --json --auto-ports --no-indexer --nodes "$nodes" --shards "$shards" \
  --data-dir "$dir/devnet" > "$dir/devnet.out" 2> "$dir/devnet.err" &
devnet=$!
trap 'kill "$devnet" 2>/dev/null || true; wait "$devnet" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 600); do
  grep -q '"ready"' "$dir/devnet.out" 2>/dev/null && break
  kill -0 "$devnet" 2>/dev/null || { cat "$dir/devnet.err"; exit 1; }
  sleep 0.2
done
grep -q '"ready"' "$dir/devnet.out" || { echo "devnet not ready"; cat "$dir/devnet.err"; exit 1; }

echo "# $(date -u +%F) $(nproc) cores, profile $profile, $nodes nodes, $shards shards, $runs runs per size"
"$bin/examples/devnet_bench" --config "$dir/devnet/client.yaml" --sizes "$sizes" --runs "$runs"
