// Shared by floe's TypeScript SDK test scripts: loading the pinned official
// packages from the cache `run` installs them into, reading a devnet's
// manifest and wallet, and a minimal case runner. Nothing here touches what
// the SDKs send or receive.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

export { assert };

/** Imports `spec` (e.g. `@mysten/sui/grpc`) from the cache's node_modules. */
export async function sdk(spec) {
	const modules = process.env.FLOE_TS_SDK_MODULES;
	if (!modules) {
		throw new Error('FLOE_TS_SDK_MODULES is not set: start this script with scripts/ts-sdk/run');
	}
	const require = createRequire(join(modules, 'floe-loader.cjs'));
	return import(pathToFileURL(require.resolve(spec)).href);
}

/** `--name value` pairs of the command line. */
export function args() {
	const out = {};
	const argv = process.argv.slice(2);
	for (let i = 0; i < argv.length; i++) {
		if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
		const value = argv[i + 1];
		if (value === undefined || value.startsWith('--')) throw new Error(`${argv[i]} needs a value`);
		out[argv[i].slice(2)] = value;
		i++;
	}
	return out;
}

/** The devnet's `devnet.json`, with paths made absolute. */
export function manifest(dir) {
	const path = resolve(dir, 'devnet.json');
	const m = JSON.parse(readFileSync(path, 'utf8'));
	m.dir = dirname(path);
	return m;
}

/**
 * The key of `address` from a Sui CLI keystore (a JSON list of base64
 * `flag || secret`; flag 0 is ed25519).
 */
export async function keypair(keystorePath, address) {
	const { Ed25519Keypair } = await sdk('@mysten/sui/keypairs/ed25519');
	const keys = JSON.parse(readFileSync(keystorePath, 'utf8'));
	for (const k of keys) {
		const bytes = Buffer.from(k, 'base64');
		if (bytes.length !== 33 || bytes[0] !== 0) continue;
		const pair = Ed25519Keypair.fromSecretKey(new Uint8Array(bytes.subarray(1)));
		if (!address || pair.toSuiAddress() === address) return pair;
	}
	throw new Error(`no ed25519 key for ${address ?? 'any address'} in ${keystorePath}`);
}

/**
 * Runs the named cases in order (all of them, or those listed in `only`,
 * comma separated); prints one line per case and sets the exit code.
 */
export async function run(cases, only) {
	const wanted = only ? only.split(',') : Object.keys(cases);
	for (const name of wanted) {
		if (!cases[name]) throw new Error(`no case ${name}; cases: ${Object.keys(cases).join(', ')}`);
	}
	let failed = 0;
	for (const name of wanted) {
		const started = Date.now();
		try {
			await cases[name]();
			console.log(`ok   ${name} (${Date.now() - started} ms)`);
		} catch (e) {
			failed++;
			console.log(`FAIL ${name}: ${e?.stack ?? e}`);
			if (e?.cause) console.log(`     cause: ${e.cause?.stack ?? e.cause}`);
		}
	}
	console.log(failed ? `${failed} of ${wanted.length} cases failed` : `all ${wanted.length} cases passed`);
	process.exitCode = failed ? 1 : 0;
}
