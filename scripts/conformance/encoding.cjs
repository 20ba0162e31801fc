#!/usr/bin/env node
// floe conformance: compare floe's blob ids and all 2n sliver hashes with the
// official Walrus encoder (@mysten/walrus-wasm) on random (size, n) cases.
//
// Usage: node encoding.cjs --floe PATH/TO/floe [--cases 50] [--seed 1]
//                          [--max-size BYTES] [--budget-seconds 150]
// Needs NODE_PATH (or a node_modules next to it) holding @mysten/walrus-wasm;
// `scripts/conformance/run` installs it into a cache directory and sets that.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { BlobEncoder } = require('@mysten/walrus-wasm');

function args() {
  const a = { cases: 50, seed: 1, maxSize: 4 << 20, budget: 150, floe: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--floe': a.floe = v; i++; break;
      case '--cases': a.cases = Number(v); i++; break;
      case '--seed': a.seed = Number(v); i++; break;
      case '--max-size': a.maxSize = Number(v); i++; break;
      case '--budget-seconds': a.budget = Number(v); i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.floe) throw new Error('--floe PATH is required');
  return a;
}

// xorshift32: deterministic cases from a seed, reproducible from the log line.
function rng(seed) {
  let x = (seed >>> 0) || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

// Shard counts: the edges, a log-uniform spread, and Walrus's 1000.
function pickN(r, i) {
  const fixed = [4, 5, 6, 7, 10, 13, 1000];
  if (i < fixed.length) return fixed[i];
  return Math.min(1000, Math.max(4, Math.round(Math.exp(Math.log(4) + r() * (Math.log(1000) - Math.log(4))))));
}

// Sizes: edges around the symbol grid plus log-uniform sizes up to maxSize.
function pickSize(r, n, i, maxSize) {
  const f = Math.floor((n - 1) / 3);
  const grid = (n - 2 * f) * (n - f);
  const edges = [0, 1, 2, grid - 1, grid, grid + 1, 2 * grid + 1];
  if (i === 6) return maxSize - 12345; // one multi-MiB blob at n = 1000
  if (i % 4 === 0) return edges[Math.floor(r() * edges.length)];
  return Math.floor(Math.exp(r() * Math.log(maxSize + 1))) - 1;
}

function sliverBcsLen(len) {
  let uleb = 1;
  for (let v = len; v >= 128; v = Math.floor(v / 128)) uleb++;
  return uleb + len + 4; // uleb(len) data | symbol_size u16 | index u16
}

function officialHashes(data, n) {
  const f = Math.floor((n - 1) / 3);
  const kp = n - 2 * f, ks = n - f;
  let sym = Math.ceil(Math.max(data.length, 1) / (kp * ks));
  sym += sym % 2;
  const prim = Array.from({ length: n }, () => new Uint8Array(sliverBcsLen(ks * sym)));
  const sec = Array.from({ length: n }, () => new Uint8Array(sliverBcsLen(kp * sym)));
  const enc = new BlobEncoder(n);
  try {
    const [metadata] = enc.encode(data, prim, sec);
    const hex = (node) => (node && node.Digest ? Buffer.from(node.Digest).toString('hex') : 'empty');
    return {
      blobId: Buffer.from(metadata.blob_id).toString('base64url'),
      hashes: metadata.metadata.V1.hashes.map((h) => [hex(h.primary_hash), hex(h.secondary_hash)]),
    };
  } finally {
    enc.free();
  }
}

function main() {
  const a = args();
  const r = rng(a.seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-conformance-'));
  const started = Date.now();
  let failures = 0, done = 0;
  try {
    for (let i = 0; i < a.cases; i++) {
      const n = pickN(r, i);
      const f = Math.floor((n - 1) / 3);
      const maxBlob = (n - 2 * f) * (n - f) * 65534;
      let size = pickSize(r, n, i, a.maxSize);
      if (size > maxBlob) {
        // Both encoders must refuse a blob one byte over the maximum for n.
        const over = new Uint8Array(maxBlob + 1);
        const file = path.join(dir, `over-${i}.bin`);
        fs.writeFileSync(file, over);
        let theirsRejected = false, oursRejected = false;
        try { officialHashes(over, n); } catch (e) { theirsRejected = /too large/.test(String(e)); }
        try {
          execFileSync(a.floe, ['blob-id', '--json', '--n-shards', String(n), file], { stdio: 'pipe' });
        } catch (e) { oursRejected = /maximum blob size/.test(String(e.stderr)); }
        fs.unlinkSync(file);
        done++;
        const line = `case ${i}: n=${n} size=${maxBlob + 1} (one byte over the maximum)`;
        if (theirsRejected && oursRejected) console.log(`ok   ${line}: both reject`);
        else { failures++; console.log(`FAIL ${line}: official rejects=${theirsRejected}, floe rejects=${oursRejected}`); }
        size = maxBlob; // and the largest blob must agree
      }
      const data = new Uint8Array(size);
      for (let b = 0; b < size; b += 4) {
        const w = (r() * 4294967296) >>> 0;
        for (let k = 0; k < 4 && b + k < size; k++) data[b + k] = (w >>> (8 * k)) & 0xff;
      }
      const file = path.join(dir, `case-${i}.bin`);
      fs.writeFileSync(file, data);
      const t0 = Date.now();
      const theirs = officialHashes(data, n);
      const t1 = Date.now();
      const ours = JSON.parse(execFileSync(a.floe,
        ['blob-id', '--json', '--sliver-hashes', '--n-shards', String(n), file], { maxBuffer: 1 << 28 }));
      const t2 = Date.now();
      const problems = [];
      if (ours.blob_id !== theirs.blobId) problems.push(`blob id ${ours.blob_id} != official ${theirs.blobId}`);
      if (ours.sliver_pair_hashes.length !== n) problems.push(`${ours.sliver_pair_hashes.length} pair hashes, expected ${n}`);
      let bad = 0;
      for (let p = 0; p < n; p++) {
        const [op, os_] = ours.sliver_pair_hashes[p] || [];
        const [tp, ts] = theirs.hashes[p];
        if (op !== tp) bad++;
        if (os_ !== ts) bad++;
      }
      if (bad) problems.push(`${bad} of ${2 * n} sliver hashes differ`);
      fs.unlinkSync(file);
      done++;
      const line = `case ${i}: n=${n} size=${size} official ${t1 - t0} ms, floe ${t2 - t1} ms`;
      if (problems.length) { failures++; console.log(`FAIL ${line}: ${problems.join('; ')}`); }
      else console.log(`ok   ${line} ${ours.blob_id}`);
      if ((Date.now() - started) / 1000 > a.budget && done >= 50) break;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${done} cases (seed ${a.seed}), ${failures} failed, ${secs} s; each compared the blob id and all 2n sliver hashes`);
  process.exit(failures || done < Math.min(50, a.cases) ? 1 : 0);
}

main();
