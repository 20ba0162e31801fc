#!/usr/bin/env python3
"""Prints floe's encode/blob-id time against the RS + Blake2b floor, from the
criterion results of `cargo bench -p floe-core --bench encoding`.

    cargo bench -p floe-core --bench encoding        # (FLOE_BENCH_LARGE=1 adds 256 MiB)
    scripts/bench/encoding-ratios.py [TARGET_DIR]

Reads TARGET_DIR/criterion/encode/*/*/new/estimates.json (median point estimates).
"""
import json
import os
import sys

target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
base = os.path.join(target, "criterion", "encode")


def median_ms(func, label):
    path = os.path.join(base, func, label, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1e6
    except FileNotFoundError:
        return None


labels = sorted({d for f in os.listdir(base) if os.path.isdir(os.path.join(base, f))
                 for d in os.listdir(os.path.join(base, f)) if d != "report"})
print("| blob | floor RS (ms) | floor Blake2b (ms) | floor (ms) | blob id (ms) | ratio | encode+metadata (ms) | ratio |")
print("|---|---|---|---|---|---|---|---|")
for label in labels:
    rs, h = median_ms("floor_reed_solomon", label), median_ms("floor_blake2b", label)
    bid, enc = median_ms("blob_id", label), median_ms("encode_with_metadata", label)
    if None in (rs, h, bid, enc):
        continue
    floor = rs + h
    print(f"| {label} | {rs:.1f} | {h:.1f} | {floor:.1f} | {bid:.1f} | {bid / floor:.2f}x | {enc:.1f} | {enc / floor:.2f}x |")
