#!/usr/bin/env bash
# A model of the limit of a store and a read next to floe's actual times,
# measured in the same run on this machine (issue: data-path).
#
#   scripts/bench/limit-model.sh                              # 1 KiB, 1 MiB, 100 MiB, max; 3 runs
#   SIZES=1048576,104857600 RUNS=5 scripts/bench/limit-model.sh
#   PROFILE=dev scripts/bench/limit-model.sh                  # no release build (opt-level 2, deps 3)
#   BIN_DIR=$CARGO_TARGET_DIR/debug PROFILE=dev scripts/bench/limit-model.sh   # use built binaries
#
# Builds `floe` and the `limit_model` example (release), starts
# `floe devnet --auto-ports --no-indexer` (4 nodes, 100 shards) in a temp
# directory, and runs the example against its client.yaml: for each size
# floe's store, read and a 1 MiB range read out of the middle (each checked
# byte for byte), each run followed by the unavoidable work for the same
# blob (encode, loopback TCP bytes, verification hashing, fsync into new
# page-cache pages, chain round trips; see client/examples/limit_model.rs),
# then the p50 of RUNS of each and the ratio, with the store's and the read's
# timelines. The load average is printed before and after: other work on
# the machine shows.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
sizes="${SIZES:-1024,1048576,104857600,max}"
runs="${RUNS:-3}"
nodes="${NODES:-4}"
shards="${SHARDS:-100}"
target="${CARGO_TARGET_DIR:-$root/target}"

profile="${PROFILE:-release}"
if [ -n "${BIN_DIR:-}" ]; then
  bin="$BIN_DIR"   # already built: floe and examples/limit_model
elif [ "$profile" = release ]; then
  cargo build --release --locked -q -p floe -p floe-client --bin floe --example limit_model
  bin="$target/release"
else
  cargo build --locked -q -p floe -p floe-client --bin floe --example limit_model
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

echo "# $(date -u '+%F %H:%M') UTC, profile $profile, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
TMPDIR="$dir" "$bin/examples/limit_model" --config "$dir/devnet/client.yaml" --sizes "$sizes" --runs "$runs"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
