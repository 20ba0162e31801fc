#!/usr/bin/env bash
# Peak resident memory of `floe blob-id` on a random blob (default 256 MiB,
# n = 1000), measured by GNU time, compared with the blob size.
#   scripts/bench/peak-memory.sh [SIZE_MIB] [N_SHARDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mib="${1:-256}"; n="${2:-1000}"
(cd "$root" && cargo build --quiet --release -p floe)
floe="${CARGO_TARGET_DIR:-$root/target}/release/floe"
file="$(mktemp)"; trap 'rm -f "$file"' EXIT
head -c "$((mib * 1024 * 1024))" /dev/urandom > "$file"
out="$( { /usr/bin/time -v "$floe" blob-id --n-shards "$n" "$file" >/dev/null; } 2>&1 )"
rss_kib="$(grep 'Maximum resident set size' <<<"$out" | awk '{print $NF}')"
wall="$(grep 'Elapsed (wall clock)' <<<"$out" | awk '{print $NF}')"
awk -v r="$rss_kib" -v m="$mib" -v w="$wall" -v n="$n" 'BEGIN {
  printf "blob %d MiB, n=%d: peak RSS %.0f MiB = %.2fx the blob size (wall %s)\n", m, n, r/1024, (r/1024)/m, w }'
