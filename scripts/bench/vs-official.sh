#!/usr/bin/env bash
# Builds floe (release), installs the official encoder into the cache and runs
# vs-official.cjs. Extra arguments go to the node script (e.g. --sizes 1,64).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${FLOE_CACHE_DIR:-$HOME/.cache/floe}/conformance-npm"
mkdir -p "$cache"
if [ ! -d "$cache/node_modules/@mysten/walrus-wasm" ]; then
  cp "$root/scripts/conformance/package.json" "$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error)
fi
(cd "$root" && cargo build --quiet --release -p floe)
NODE_PATH="$cache/node_modules" node "$here/vs-official.cjs" \
  --floe "${CARGO_TARGET_DIR:-$root/target}/release/floe" "$@"
