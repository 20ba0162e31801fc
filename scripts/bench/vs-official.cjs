#!/usr/bin/env node
// floe vs the official Walrus encoder (@mysten/walrus-wasm, single-threaded
// wasm) on the same inputs in the same run: blob id only, n = 1000.
//
//   scripts/bench/vs-official.sh            (builds floe --release, installs the wasm)
//   node vs-official.cjs --floe target/release/floe [--sizes 1,64] [--n 1000] [--runs 3]
//
// floe is timed as a whole process (`floe blob-id FILE`: start-up, mmap, encode,
// print), the wasm in-process (`compute_metadata` only), best of --runs each.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { BlobEncoder } = require('@mysten/walrus-wasm');

const opt = { floe: null, sizes: [1, 64], n: 1000, runs: 3 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const v = argv[i + 1];
  if (argv[i] === '--floe') opt.floe = v;
  else if (argv[i] === '--sizes') opt.sizes = v.split(',').map(Number);
  else if (argv[i] === '--n') opt.n = Number(v);
  else if (argv[i] === '--runs') opt.runs = Number(v);
  else throw new Error(`unknown argument ${argv[i]}`);
}
if (!opt.floe) throw new Error('--floe PATH is required');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-vs-'));
try {
  console.log(`| blob | n | official wasm (ms) | floe (ms) | speed-up | same id |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const mib of opt.sizes) {
    const size = mib * 1024 * 1024;
    const data = new Uint8Array(size);
    let x = 0x12345678;
    for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; data[i] = x & 0xff; }
    const file = path.join(dir, `blob-${mib}`);
    fs.writeFileSync(file, data);
    let best = Infinity, theirs;
    for (let r = 0; r < opt.runs; r++) {
      const enc = new BlobEncoder(opt.n);
      const t = performance.now();
      const [id] = enc.compute_metadata(data);
      best = Math.min(best, performance.now() - t);
      theirs = Buffer.from(id).toString('base64url');
      enc.free();
    }
    let bestFloe = Infinity, ours;
    for (let r = 0; r < opt.runs; r++) {
      const t = performance.now();
      ours = execFileSync(opt.floe, ['blob-id', '--n-shards', String(opt.n), file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      bestFloe = Math.min(bestFloe, performance.now() - t);
    }
    console.log(`| ${mib} MiB | ${opt.n} | ${best.toFixed(0)} | ${bestFloe.toFixed(0)} | ${(best / bestFloe).toFixed(1)}x | ${ours === theirs ? 'yes' : 'NO'} |`);
    fs.unlinkSync(file);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
