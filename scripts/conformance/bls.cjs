#!/usr/bin/env node
// floe conformance: BLS12-381 min-pk keys, signatures, aggregates, proofs of
// possession and certificates against the official implementation
// (@mysten/walrus-wasm 0.3.0, i.e. fastcrypto compiled to wasm).
//
// The wasm package exports only bls12381_min_pk_verify(sig, pk, msg),
// bls12381_min_pk_aggregate([sig...]) and
// bls12381_min_pk_verify_aggregate([pk...], msg, sig); it cannot sign. So:
//   1. floe -> official: floe's example prints keys, signatures, an
//      aggregate, a proof of possession and a certificate; every item is
//      verified here with the wasm functions, the wasm aggregate must equal
//      floe's byte for byte, and the message bytes are rebuilt here from the
//      layout in Walrus's messages.move (contracts/walrus/docs/msg_formats.txt)
//      and compared.
//   2. official -> floe: the wasm side aggregates floe's signatures, the
//      known-answer signatures in core/tests/data/bls-min-pk.json (made by
//      the official code) and subsets of both; floe's example reads that on
//      stdin, verifies everything and must reproduce every aggregate.
//
// Usage:
//   node scripts/conformance/bls.cjs --root REPO [--seed HEX32] [--keys N]
//                                    [--floe-json FILE]
// Without --floe-json the script runs
//   cargo run --quiet -p floe-core --example bls_conformance -- emit ...
// itself; with it, it checks a JSON file produced by that command. Needs
// NODE_PATH (or a node_modules next to it) holding @mysten/walrus-wasm, as
// `scripts/conformance/run` sets up. Exits non-zero on any mismatch.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const wasm = require('@mysten/walrus-wasm');

function args() {
  const a = { root: null, seed: null, keys: 5, floeJson: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--root': a.root = v; i++; break;
      case '--seed': a.seed = v; i++; break;
      case '--keys': a.keys = Number(v); i++; break;
      case '--floe-json': a.floeJson = v; i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.root) a.root = path.resolve(__dirname, '..', '..');
  if (!a.seed) a.seed = crypto.randomBytes(32).toString('hex');
  return a;
}

const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');
const equal = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

let failures = 0;
let checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) {
    failures++;
    console.error(`MISMATCH ${what}`);
  }
}

function verify(sig, pk, msg) {
  try {
    return wasm.bls12381_min_pk_verify(sig, pk, msg) === true;
  } catch (e) {
    return false;
  }
}

function verifyAggregate(pks, msg, sig) {
  try {
    return wasm.bls12381_min_pk_verify_aggregate(pks.map((p) => Array.from(p)), msg, sig) === true;
  } catch (e) {
    return false;
  }
}

function aggregate(sigs) {
  return Uint8Array.from(wasm.bls12381_min_pk_aggregate(sigs.map((s) => Array.from(s))));
}

function u32le(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function cargoExample(root, argsList, input) {
  return execFileSync(
    'cargo',
    ['run', '--quiet', '-p', 'floe-core', '--example', 'bls_conformance', '--', ...argsList],
    { cwd: root, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
  );
}

function floeToOfficial(floe) {
  const msg = hex(floe.msg);
  const pks = floe.pks.map(hex);
  const sigs = floe.sigs.map(hex);
  const agg = hex(floe.agg);
  pks.forEach((pk, i) => {
    check(verify(sigs[i], pk, msg), `floe signature ${i} does not verify with wasm`);
    const tampered = Uint8Array.from([...msg, 1]);
    check(!verify(sigs[i], pk, tampered), `wasm accepts floe signature ${i} on a tampered message`);
  });
  check(!verify(sigs[0], pks[1], msg), 'wasm accepts a signature under the wrong key');
  check(equal(aggregate(sigs), agg), 'wasm aggregate differs from floe aggregate');
  check(verifyAggregate(pks, msg, agg), 'floe aggregate does not verify with wasm');
  check(!verifyAggregate(pks.slice(1), msg, agg), 'wasm accepts floe aggregate with a key missing');

  // Proof of possession: rebuild the message from the layout in Walrus's
  // messages.move: type 0 || version 0 || app 3 || epoch u32 LE || address || pk.
  const pop = floe.pop;
  const expected = Buffer.concat([
    Buffer.from([0, 0, 3]), u32le(pop.epoch), Buffer.from(pop.sui_address, 'hex'), Buffer.from(pop.pk, 'hex'),
  ]);
  check(equal(expected, hex(pop.message)), 'proof-of-possession message bytes differ from the layout');
  check(verify(hex(pop.signature), hex(pop.pk), expected), 'proof of possession does not verify with wasm');

  // Certificate over a deletable storage confirmation:
  // type 1 || 0 || 3 || epoch || blob id || 0x01 || object id.
  const cert = floe.certificate;
  const certMsg = Buffer.concat([
    Buffer.from([1, 0, 3]), u32le(cert.epoch), Buffer.from(cert.blob_id, 'hex'),
    Buffer.from([1]), Buffer.from(cert.object_id, 'hex'),
  ]);
  check(equal(certMsg, hex(cert.message)), 'confirmation message bytes differ from the layout');
  check(
    verifyAggregate(cert.signer_pks.map(hex), certMsg, hex(cert.signature)),
    'certificate aggregate does not verify with wasm',
  );
  return { msg, pks, sigs };
}

function officialSets(root, floeParts) {
  const sets = [];
  const push = (name, msg, pks, sigs) => {
    sets.push({
      name,
      msg: toHex(msg),
      pks: pks.map(toHex),
      sigs: sigs.map(toHex),
      agg: toHex(aggregate(sigs)),
    });
  };
  push('wasm aggregate of floe signatures', floeParts.msg, floeParts.pks, floeParts.sigs);
  push('wasm aggregate of two floe signatures', floeParts.msg, floeParts.pks.slice(0, 2), floeParts.sigs.slice(0, 2));
  const vectorsPath = path.join(root, 'core', 'tests', 'data', 'bls-min-pk.json');
  const v = JSON.parse(fs.readFileSync(vectorsPath, 'utf8'));
  const vmsg = hex(v.msg);
  const vpks = v.pks.map(hex);
  const vsigs = v.sigs.map(hex);
  check(equal(aggregate(vsigs), hex(v.agg)), 'wasm aggregate differs from the stored official vector');
  push('official vector signatures', vmsg, vpks, vsigs);
  push('official vector, first signature', vmsg, vpks.slice(0, 1), vsigs.slice(0, 1));
  push('official vector, last two', vmsg, vpks.slice(-2), vsigs.slice(-2));
  return { sets };
}

function main() {
  const a = args();
  const floeText = a.floeJson
    ? fs.readFileSync(a.floeJson, 'utf8')
    : cargoExample(a.root, ['emit', '--seed', a.seed, '--keys', String(a.keys)]);
  const floe = JSON.parse(floeText);
  console.log(`floe -> official: ${floe.pks.length} keys, seed ${floe.seed}`);
  const parts = floeToOfficial(floe);

  const theirs = officialSets(a.root, parts);
  console.log(`official -> floe: ${theirs.sets.length} sets`);
  try {
    cargoExample(a.root, ['verify'], JSON.stringify(theirs));
  } catch (e) {
    failures++;
    console.error(`MISMATCH floe rejected official output (exit ${e.status})`);
  }

  if (failures > 0) {
    console.error(`BLS conformance FAILED: ${failures} of ${checks + 1} checks`);
    process.exit(1);
  }
  console.log(`BLS conformance ok: ${checks + 1} checks`);
}

main();
