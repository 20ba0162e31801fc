// The official Sui TypeScript SDK (@mysten/sui, SuiGrpcClient over
// gRPC-Web) against a floe devnet, used exactly as its documentation shows:
// transactions built by the SDK (gas selection, budget, argument and object
// resolution all left to it and the ledger), executed and checked through
// the SDK.
//
//   scripts/ts-sdk/run sui.mjs --devnet DIR --node-id 0x... [--cases a,b]
import { args, assert, keypair, manifest, run, sdk } from './lib.mjs';

const opts = args();
if (!opts.devnet) throw new Error('usage: sui.mjs --devnet DIR --node-id 0x... [--cases a,b]');
const devnet = manifest(opts.devnet);
const { SuiGrpcClient } = await sdk('@mysten/sui/grpc');
const { Transaction, coinWithBalance } = await sdk('@mysten/sui/transactions');
const { Ed25519Keypair } = await sdk('@mysten/sui/keypairs/ed25519');
const { bcs } = await sdk('@mysten/sui/bcs');

const client = new SuiGrpcClient({ network: 'localnet', baseUrl: devnet.ledger_url });
const wallet = await keypair(devnet.wallet_keystore, devnet.wallet_address);
const sender = wallet.toSuiAddress();
const walType = `${devnet.wal_package}::wal::WAL`;

function succeeded(result) {
	if (result.$kind !== 'Transaction') {
		throw new Error(`transaction failed: ${JSON.stringify(result.FailedTransaction?.status)}`);
	}
	return result.Transaction;
}

const cases = {
	async system_state() {
		const { systemState } = await client.core.getCurrentSystemState();
		const { referenceGasPrice } = await client.core.getReferenceGasPrice();
		assert.equal(systemState.referenceGasPrice, referenceGasPrice);
		assert.ok(BigInt(referenceGasPrice) > 0n, 'reference gas price');
		assert.match(systemState.epoch, /^\d+$/);
		assert.match(systemState.protocolVersion, /^\d+$/);
		assert.match(systemState.systemStateVersion, /^\d+$/);
		const start = Number(systemState.epochStartTimestampMs);
		assert.ok(start > 1.6e12 && start <= Date.now(), `epoch start ${start}`);
		assert.equal(systemState.safeMode, false);
		// One validator, no Sui epoch changes (floe's Walrus epochs live in
		// its System object): epoch 0 with a duration of u64::MAX.
		assert.equal(systemState.epoch, '0');
		assert.equal(systemState.parameters.epochDurationMs, '18446744073709551615');
		assert.equal(systemState.parameters.maxValidatorCount, '1');
		assert.match(systemState.storageFund.totalObjectStorageRebates, /^\d+$/);
		assert.match(systemState.stakeSubsidy.balance, /^\d+$/);
		const { protocolConfig } = await client.core.getProtocolConfig();
		assert.equal(protocolConfig.protocolVersion, systemState.protocolVersion);
	},

	async transfer() {
		const recipient = new Ed25519Keypair().toSuiAddress();
		const amount = 123_456_789n;
		const before = BigInt((await client.core.getBalance({ owner: sender })).balance.balance);

		const tx = new Transaction();
		const [coin] = tx.splitCoins(tx.gas, [amount]);
		tx.transferObjects([coin], recipient);
		const result = succeeded(
			await client.core.signAndExecuteTransaction({
				transaction: tx,
				signer: wallet,
				include: { effects: true, balanceChanges: true, objectTypes: true },
			}),
		);
		assert.equal(result.effects.status.success, true);
		await client.core.waitForTransaction({ digest: result.digest });

		const created = result.effects.changedObjects.filter((c) => c.idOperation === 'Created');
		assert.equal(created.length, 1, 'one coin created');
		assert.equal(result.objectTypes[created[0].objectId], '0x0000000000000000000000000000000000000000000000000000000000000002::coin::Coin<0x0000000000000000000000000000000000000000000000000000000000000002::sui::SUI>');

		const gas = result.effects.gasUsed;
		const fee = BigInt(gas.computationCost) + BigInt(gas.storageCost) - BigInt(gas.storageRebate);
		const change = (a) => result.balanceChanges.find((b) => b.address === a)?.amount;
		assert.equal(change(recipient), amount.toString());
		assert.equal(change(sender), (-(amount + fee)).toString());

		const after = BigInt((await client.core.getBalance({ owner: sender })).balance.balance);
		assert.equal(after, before - amount - fee);
		const { balance } = await client.core.getBalance({ owner: recipient });
		assert.equal(balance.balance, amount.toString());
		const { objects } = await client.core.listCoins({ owner: recipient });
		assert.equal(objects.length, 1);
		assert.equal(objects[0].balance, amount.toString());
		assert.equal(objects[0].objectId, created[0].objectId);

		// The SDK's own read of the executed transaction agrees.
		const read = succeeded(
			await client.core.getTransaction({ digest: result.digest, include: { effects: true } }),
		);
		assert.equal(read.effects.status.success, true);
	},

	async move_call_view() {
		// Shared objects given by id only: the ledger resolves their initial
		// shared version and, from the function signatures, immutability.
		const tx = new Transaction();
		tx.moveCall({ target: `${devnet.floe_package}::system::epoch`, arguments: [tx.object(devnet.system_object)] });
		tx.moveCall({ target: `${devnet.floe_package}::system::n_shards`, arguments: [tx.object(devnet.system_object)] });
		tx.moveCall({ target: `${devnet.wal_package}::wal::total_supply`, arguments: [tx.object(devnet.treasury_object)] });
		tx.setSender(sender);
		const sim = await client.core.simulateTransaction({
			transaction: tx,
			include: { commandResults: true, effects: true },
		});
		succeeded(sim);
		const [epoch, shards, supply] = sim.commandResults.map((r) => r.returnValues[0].bcs);
		const { systemState } = await client.core.getCurrentSystemState();
		assert.equal(BigInt(bcs.u32().parse(epoch)), BigInt(systemState.epoch));
		assert.equal(bcs.u16().parse(shards), devnet.n_shards);
		assert.ok(BigInt(bcs.u64().parse(supply)) > 0n, 'WAL supply');
		// Read-only uses of a shared object need no mutable access.
		const data = tx.getData();
		for (const input of data.inputs.filter((i) => i.Object?.SharedObject)) {
			assert.equal(input.Object.SharedObject.mutable, false, JSON.stringify(input));
		}
	},

	async move_call_stake() {
		if (!opts['node-id']) throw new Error('--node-id is required for move_call_stake');
		const amount = 1_000_000_000n; // 1 WAL, the contract's minimum
		const tx = new Transaction();
		const staked = tx.moveCall({
			target: `${devnet.floe_package}::staking::stake_with_pool`,
			arguments: [
				tx.object(devnet.staking_object),
				coinWithBalance({ type: walType, balance: amount }),
				tx.pure.id(opts['node-id']),
			],
		});
		tx.transferObjects([staked], sender);
		const result = succeeded(
			await client.core.signAndExecuteTransaction({
				transaction: tx,
				signer: wallet,
				include: { effects: true, objectTypes: true, balanceChanges: true, transaction: true },
			}),
		);
		const created = result.effects.changedObjects.filter((c) => c.idOperation === 'Created');
		const stakedWal = created.find((c) => result.objectTypes[c.objectId]?.endsWith('::staked_wal::StakedWal'));
		assert.ok(stakedWal, `a StakedWal among ${JSON.stringify(result.objectTypes)}`);
		const walChange = result.balanceChanges.find((b) => b.address === sender && b.coinType.endsWith('::wal::WAL'));
		assert.equal(walChange?.amount, (-amount).toString());
		// The staking object went in as a mutable shared input.
		const shared = result.transaction.inputs.find((i) => i.Object?.SharedObject);
		assert.equal(shared?.Object.SharedObject.mutable, true);
		const { object } = await client.core.getObject({ objectId: stakedWal.objectId });
		assert.equal(object.owner.AddressOwner, sender);
	},
};

await run(cases, opts.cases);
