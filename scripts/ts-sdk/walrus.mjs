// The official Walrus TypeScript SDK (@mysten/walrus) on the official Sui
// SDK's gRPC client against a floe devnet, configured only through its
// documented options: the package config (System and Staking ids from
// devnet.json) and the storage-node URL scheme (the devnet speaks http).
//
//   scripts/ts-sdk/run walrus.mjs --devnet DIR [--cases a,b]
//       [--blob-id ID --blob-file PATH]              for read_floe_blob
//       [--deletable-file PATH --permanent-file PATH --out PATH]   for writes
//
// The write cases store the given files and record their blob ids and
// object ids in --out (JSON), so the caller can read them back with
// `floe read`.
import { readFileSync, writeFileSync } from 'node:fs';
import { args, assert, keypair, manifest, run, sdk } from './lib.mjs';

const opts = args();
if (!opts.devnet) throw new Error('usage: walrus.mjs --devnet DIR [--cases a,b] ...');
const devnet = manifest(opts.devnet);
const { SuiGrpcClient } = await sdk('@mysten/sui/grpc');
const { normalizeSuiObjectId } = await sdk('@mysten/sui/utils');
const { WalrusClient } = await sdk('@mysten/walrus');

// `walrus()` (the client extension) accepts only mainnet and testnet; any
// other network uses the WalrusClient constructor with a package config.
const suiClient = new SuiGrpcClient({ network: 'localnet', baseUrl: devnet.ledger_url });
const newWalrus = () =>
	new WalrusClient({
		suiClient,
		packageConfig: {
			systemObjectId: devnet.system_object,
			stakingPoolId: devnet.staking_object,
		},
		storageNodeUrlScheme: 'http',
	});
const client = { walrus: newWalrus() };
const wallet = await keypair(devnet.wallet_keystore, devnet.wallet_address);
const written = {};

function need(name) {
	if (!opts[name]) throw new Error(`--${name} is required for this case`);
	return opts[name];
}

async function writeAndReadBack(name, deletable) {
	const blob = new Uint8Array(readFileSync(need(`${name}-file`)));
	const { blobId, blobObject } = await client.walrus.writeBlob({
		blob,
		deletable,
		epochs: 2,
		signer: wallet,
	});
	assert.equal(blobObject.deletable, deletable);
	assert.ok(blobObject.certified_epoch !== null, 'certified');
	assert.equal(BigInt(blobObject.size), BigInt(blob.length));
	written[name] = { blobId, objectId: blobObject.id };
	// Read back through a fresh client (no cached committee or slivers).
	const back = await newWalrus().readBlob({ blobId });
	assert.deepEqual(Buffer.from(back), Buffer.from(blob));
	const status = await client.walrus.getVerifiedBlobStatus({ blobId });
	assert.equal(status.type, deletable ? 'deletable' : 'permanent', JSON.stringify(status));
	if (opts.out) writeFileSync(opts.out, JSON.stringify(written));
}

const cases = {
	async system_and_staking() {
		const system = await client.walrus.systemObject();
		assert.equal(normalizeSuiObjectId(system.id), normalizeSuiObjectId(devnet.system_object));
		const staking = await client.walrus.stakingObject();
		assert.equal(normalizeSuiObjectId(staking.id), normalizeSuiObjectId(devnet.staking_object));
		assert.equal(normalizeSuiObjectId(system.package_id), normalizeSuiObjectId(devnet.floe_package));

		const inner = await client.walrus.systemState();
		assert.equal(inner.committee.n_shards, devnet.n_shards);
		assert.equal(inner.committee.members.length, devnet.nodes.length);
		assert.ok(BigInt(inner.storage_price_per_unit_size) > 0n);

		const stakingInner = await client.walrus.stakingState();
		assert.equal(stakingInner.n_shards, devnet.n_shards);
		assert.equal(stakingInner.epoch, inner.committee.epoch);
		const shards = stakingInner.committee[0].contents.flatMap((e) => e.value);
		assert.equal(shards.length, devnet.n_shards);

		const cost = await client.walrus.storageCost(1000, 2);
		assert.ok(cost.totalCost > 0n);
	},

	async committee() {
		// The committee as the SDK builds it: pools read by node id, node
		// URLs from their on-chain network addresses. A status query asks
		// every member and needs a quorum of them to agree.
		const blobId = need('blob-id');
		const status = await client.walrus.getVerifiedBlobStatus({ blobId });
		assert.equal(status.type, 'permanent', JSON.stringify(status));
		const metadata = await client.walrus.getBlobMetadata({ blobId });
		assert.equal(metadata.blobId, blobId);
	},

	async read_floe_blob() {
		const blobId = need('blob-id');
		const expected = readFileSync(need('blob-file'));
		const bytes = await client.walrus.readBlob({ blobId });
		assert.deepEqual(Buffer.from(bytes), expected);
	},

	async write_deletable() {
		await writeAndReadBack('deletable', true);
	},

	async write_permanent() {
		await writeAndReadBack('permanent', false);
	},
};

await run(cases, opts.cases);
