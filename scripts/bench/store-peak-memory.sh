#!/usr/bin/env bash
# Peak resident memory and wall time of `floe store` (the whole CLI process:
# reading the file, encoding, registering, uploading, certifying) on a fresh
# local devnet, for each size and each store buffer (issue: data-path).
#
#   BIN_DIR=$CARGO_TARGET_DIR/debug scripts/bench/store-peak-memory.sh
#   SIZES=100,max BUFFERS=default,1099511627776 RUNS=2 BIN_DIR=... scripts/bench/store-peak-memory.sh
#   STORE_BIN=/path/to/other/floe BIN_DIR=... scripts/bench/store-peak-memory.sh   # another floe's store
#
# SIZES are MiB, or `max` (the devnet's largest blob: 142 MiB at 100 shards).
# BUFFERS are `limits.store_buffer_bytes` values written into a copy of the
# devnet's client.yaml (`default` writes nothing): a buffer larger than the
# blob's slivers encodes the blob whole, once. SPILL_DIR sets
# `limits.store_spill_dir` (a directory that does not exist measures the
# fallback that computes the repair slivers again instead of spilling);
# HTTP2=true|false sets `limits.http2`. The
# devnet runs from BIN_DIR (already built: `cargo build --workspace --locked
# --lib --bins --tests --examples`); STORE_BIN runs the stores (default
# BIN_DIR/floe). The load average is printed with every row: the machine may
# be shared.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
sizes="${SIZES:-100,max}"
buffers="${BUFFERS:-default}"
runs="${RUNS:-1}"
bin="${BIN_DIR:?set BIN_DIR to the directory holding a built floe}"
store_bin="${STORE_BIN:-$bin/floe}"

dir="$(mktemp -d)"
"$bin/floe" devnet --json --auto-ports --no-indexer --nodes 4 --shards 100 \
  --data-dir "$dir/devnet" > "$dir/devnet.out" 2> "$dir/devnet.err" &
devnet=$!
trap 'kill "$devnet" 2>/dev/null || true; wait "$devnet" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 600); do
  grep -q '"ready"' "$dir/devnet.out" 2>/dev/null && break
  kill -0 "$devnet" 2>/dev/null || { cat "$dir/devnet.err"; exit 1; }
  sleep 0.2
done
grep -q '"ready"' "$dir/devnet.out" || { echo "devnet not ready"; cat "$dir/devnet.err"; exit 1; }

# 100 shards: k_p = 34, k_s = 67, symbols of at most 65534 bytes.
max_bytes=$((34 * 67 * 65534))
echo "# $(date -u '+%F %H:%M') UTC, $(nproc) cores, store binary $store_bin"
printf '%-10s %-14s %5s %12s %8s %10s %s\n' size buffer run "peak RSS" "x blob" wall "load (1m 5m 15m)"
for size in ${sizes//,/ }; do
  if [ "$size" = max ]; then bytes=$max_bytes; else bytes=$((size * 1024 * 1024)); fi
  for buffer in ${buffers//,/ }; do
    config="$dir/devnet/client-$buffer.yaml"
    cp "$dir/devnet/client.yaml" "$config"
    limits=""
    if [ "$buffer" != default ]; then
      limits+="  store_buffer_bytes: $buffer"$'\n'
    fi
    if [ -n "${SPILL_DIR:-}" ]; then
      limits+="  store_spill_dir: $SPILL_DIR"$'\n'
    fi
    if [ -n "${HTTP2:-}" ]; then
      limits+="  http2: $HTTP2"$'\n'
    fi
    if [ -n "$limits" ]; then
      printf 'limits:\n%s' "$limits" >> "$config"
    fi
    for run in $(seq 1 "$runs"); do
      file="$dir/blob"
      head -c "$bytes" /dev/urandom > "$file"
      out="$( { /usr/bin/time -v "$store_bin" store --yes --json --config "$config" "$file" >/dev/null; } 2>&1 )" \
        || { echo "store failed:"; grep -v "^	" <<<"$out" | tail -20; exit 1; }
      rss_kib="$(grep 'Maximum resident set size' <<<"$out" | awk '{print $NF}')"
      wall="$(grep 'Elapsed (wall clock)' <<<"$out" | awk '{print $NF}')"
      load="$(cut -d' ' -f1-3 /proc/loadavg)"
      awk -v r="$rss_kib" -v b="$bytes" -v s="$size" -v f="$buffer" -v n="$run" -v w="$wall" -v l="$load" 'BEGIN {
        printf "%-10s %-14s %5d %8.0f MiB %7.2fx %10s %s\n", s, f, n, r/1024, (r*1024)/b, w, l }'
      rm -f "$file"
    done
  done
done
