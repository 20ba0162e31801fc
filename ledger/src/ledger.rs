//! The ledger handle: opens or creates the chain, executes transactions
//! durably, seals checkpoints, and hands out read access.
//!
//! Writers (transactions, faucet, checkpoints) are serialised by one mutex
//! around the log. A transaction is executed against the state, written to
//! the log and applied; the mutex is then released and the writer waits for
//! an fsync that it shares with every writer queued behind it (group
//! commit). Nothing is acknowledged, and no checkpoint is announced to
//! subscribers, before it is durable. Reads may briefly see a transaction
//! whose fsync is in flight; anything built on it lands later in the same
//! sequential log, so it can only be durable together with it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use floe_runtime::framework::{CoinData, coin_tag};
use floe_runtime::{NativePackage, Registry};
use sui_sdk_types::{
    Address, Identifier, MovePackage, Object, ObjectData, Owner, StructTag, Transaction, TypeTag,
    UserSignature,
};
use tokio::sync::watch;

use crate::error::{LedgerError, StoreError, TxError};
use crate::exec::{self, system};
use crate::genesis::{FAUCET_ADDRESS, Genesis};
use crate::state::{CheckpointEntry, State, TxEntry};
use crate::store::{Record, TxRecord, WriteAheadLog};
use crate::validator::Validator;

/// How to open a ledger.
#[derive(Clone)]
pub struct LedgerConfig {
    pub data_dir: PathBuf,
    pub genesis: Genesis,
    /// Native packages the binary offers; the genesis file picks which to
    /// install (the framework at `0x2` is always installed).
    pub natives: Vec<Arc<dyn NativePackage>>,
}

struct Inner {
    registry: Registry,
    state: RwLock<State>,
    wal: Mutex<WriteAheadLog>,
    latest: watch::Sender<u64>,
    chain_name: String,
    faucet_amount: u64,
    /// Coin types genesis funded a faucet reserve of (besides SUI, which
    /// is minted): any other type is a bad request, not an empty reserve.
    faucet_coins: Vec<TypeTag>,
    /// Set when a write to the log failed: the in-memory state can no longer
    /// be trusted to match the disk, so every further write is refused.
    failed: AtomicBool,
    nonce: AtomicU64,
    /// Certifies every checkpoint (see [`crate::validator`]).
    validator: Validator,
}

/// A running ledger; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock_err<T>(_: T) -> TxError {
    TxError::Storage("ledger lock poisoned".into())
}

impl Ledger {
    /// Opens the chain in `config.data_dir`, creating it from genesis if the
    /// directory holds none, otherwise replaying its log.
    pub fn open(config: LedgerConfig) -> Result<Self, LedgerError> {
        let (mut wal, records) = WriteAheadLog::open(&config.data_dir)?;
        let validator = Validator::load_or_create(&config.data_dir)?;
        let mut registry = Registry::with_framework();
        let mut installs = Vec::new();
        for spec in &config.genesis.packages {
            let native = config
                .natives
                .iter()
                .find(|n| n.address() == spec.address)
                .ok_or_else(|| {
                    LedgerError::Genesis(format!(
                        "package {} is not a native package of this binary",
                        spec.address
                    ))
                })?;
            registry.install(native.clone());
            installs.push((native.clone(), spec.init_sender.unwrap_or(Address::ZERO)));
        }
        let mut state = State::default();
        if records.is_empty() {
            let genesis_records = build_genesis(&config.genesis, &registry, &installs)?;
            let refs: Vec<&Record> = genesis_records.iter().collect();
            wal.append(&refs)?;
            for r in genesis_records {
                replay(&mut state, r)?;
            }
        } else {
            let n = records.len();
            for r in records {
                replay(&mut state, r)?;
            }
            tracing::info!(records = n, "replayed ledger log");
        }
        let latest = state
            .latest_checkpoint()
            .map(|c| c.summary.sequence_number)
            .unwrap_or(0);
        let (tx, _) = watch::channel(latest);
        let nonce = state.counts().1 as u64;
        Ok(Self {
            inner: Arc::new(Inner {
                registry,
                state: RwLock::new(state),
                wal: Mutex::new(wal),
                latest: tx,
                chain_name: config.genesis.chain_name.clone(),
                faucet_amount: config.genesis.faucet_amount,
                faucet_coins: config
                    .genesis
                    .faucet_reserves
                    .iter()
                    .filter_map(|r| r.coin_type.parse().ok())
                    .collect(),
                failed: AtomicBool::new(false),
                nonce: AtomicU64::new(nonce),
                validator,
            }),
        })
    }

    /// Read access to the state. Hold it briefly: writers wait for it.
    pub fn state(&self) -> RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The validator that certifies every checkpoint.
    pub fn validator(&self) -> &Validator {
        &self.inner.validator
    }

    /// The installed packages.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The chain's name from the genesis file.
    pub fn chain_name(&self) -> &str {
        &self.inner.chain_name
    }

    /// SUI per faucet request.
    pub fn faucet_amount(&self) -> u64 {
        self.inner.faucet_amount
    }

    /// The chain id (genesis checkpoint digest, base58).
    pub fn chain_id(&self) -> String {
        self.state()
            .chain_id()
            .map(|d| d.to_string())
            .unwrap_or_default()
    }

    /// Notifies the latest sealed checkpoint sequence number.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.latest.subscribe()
    }

    fn check_healthy(&self) -> Result<(), TxError> {
        if self.inner.failed.load(Ordering::SeqCst) {
            return Err(TxError::Storage(
                "a previous write to the ledger log failed; restart the ledger".into(),
            ));
        }
        Ok(())
    }

    /// Writes `records` to the log and applies them, then releases the
    /// writer lock and waits for the fsync before returning, so transactions
    /// submitted concurrently share one fsync (group commit). Nothing is
    /// acknowledged, and no checkpoint is announced, before it is durable;
    /// reads may see a transaction whose fsync is still in flight, and any
    /// transaction built on it is durable only together with it (the log is
    /// sequential). On a log failure the ledger refuses further writes.
    fn commit(
        &self,
        mut wal: std::sync::MutexGuard<'_, WriteAheadLog>,
        records: Vec<Record>,
    ) -> Result<Vec<Arc<TxEntry>>, TxError> {
        let refs: Vec<&Record> = records.iter().collect();
        let written = wal.write(&refs);
        let syncer = wal.syncer();
        let end = match written {
            Ok(end) => end,
            Err(e) => return Err(self.fail(e)),
        };
        let mut out = Vec::new();
        let mut sealed = None;
        {
            let mut state = self.inner.state.write().map_err(lock_err)?;
            for r in records {
                match r {
                    Record::Transaction(t) => out.push(state.apply_transaction(*t)),
                    Record::Checkpoint(c) => {
                        let entry = state.apply_checkpoint(*c).map_err(TxError::Storage)?;
                        sealed = Some(entry.summary.sequence_number);
                    }
                    Record::Marker(_) => {}
                }
            }
        }
        drop(wal);
        syncer.sync_to(end).map_err(|e| self.fail(e))?;
        if let Some(seq) = sealed {
            self.inner.latest.send_replace(seq);
        }
        Ok(out)
    }

    fn fail(&self, e: StoreError) -> TxError {
        self.inner.failed.store(true, Ordering::SeqCst);
        tracing::error!(error = %e, "ledger log write failed; refusing further writes");
        TxError::Storage(e.to_string())
    }

    /// Verifies, executes and durably records a transaction. `Ok` means the
    /// transaction is in the log (successful or aborted); `Err` means it was
    /// refused and nothing happened.
    pub fn execute(
        &self,
        tx: Transaction,
        signatures: Vec<UserSignature>,
    ) -> Result<Arc<TxEntry>, TxError> {
        self.check_healthy()?;
        exec::verify_signatures(&tx, &signatures)?;
        let digest = tx.digest();
        let wal = self.inner.wal.lock().map_err(lock_err)?;
        let record = {
            let state = self.state();
            if let Some(existing) = state.transaction(&digest) {
                // Re-submission of an executed transaction: answer with the
                // original outcome, as Sui does, once it is durable.
                let existing = existing.clone();
                drop(state);
                let (syncer, end) = (wal.syncer(), wal.len());
                drop(wal);
                syncer.sync_to(end).map_err(|e| self.fail(e))?;
                return Ok(existing);
            }
            exec::execute(&*state, &self.inner.registry, tx, signatures, now_ms())?
        };
        let mut entries = self.commit(wal, vec![Record::Transaction(Box::new(record))])?;
        entries
            .pop()
            .ok_or_else(|| TxError::Storage("transaction vanished".into()))
    }

    /// Executes without signatures and without recording anything.
    pub fn simulate(
        &self,
        tx: Transaction,
        extra: Option<Object>,
    ) -> Result<(TxRecord, exec::CommandResults), TxError> {
        let state = self.state();
        match extra {
            None => exec::execute_with_results(&*state, &self.inner.registry, tx, vec![], now_ms()),
            Some(extra) => {
                let view = crate::state::WithExtra {
                    base: &state,
                    extra,
                };
                exec::execute_with_results(&view, &self.inner.registry, tx, vec![], now_ms())
            }
        }
    }

    /// Sends `amount` (default: the genesis `faucet_amount`) of a coin type
    /// to `recipient` as a recorded system transaction. SUI is minted (it
    /// is the ledger's gas coin); any other coin is split off the faucet
    /// account's reserve funded at genesis, and an empty reserve is
    /// [`TxError::FaucetExhausted`].
    pub fn faucet(
        &self,
        recipient: Address,
        coin_type: Option<TypeTag>,
        amount: Option<u64>,
    ) -> Result<(Address, u64, sui_sdk_types::Digest), TxError> {
        self.check_healthy()?;
        let amount = amount.unwrap_or(self.inner.faucet_amount);
        let coin_type = coin_type.unwrap_or_else(|| StructTag::sui().into());
        let sui = TypeTag::from(StructTag::sui());
        match &coin_type {
            TypeTag::Struct(t) if self.inner.registry.has_package(t.address()) => {}
            other => {
                return Err(TxError::Invalid(format!(
                    "the faucet only sends coins of installed packages, not {other}"
                )));
            }
        }
        if coin_type != sui && !self.inner.faucet_coins.contains(&coin_type) {
            let mut offered = vec![sui.to_string()];
            offered.extend(self.inner.faucet_coins.iter().map(ToString::to_string));
            return Err(TxError::Invalid(format!(
                "the faucet has no reserve of {coin_type}; it sends {}",
                offered.join(", ")
            )));
        }
        // Holding the log lock serialises faucet requests, so the reserve
        // coin read here is still current when the transfer commits.
        let wal = self.inner.wal.lock().map_err(lock_err)?;
        let nonce = self.inner.nonce.fetch_add(1, Ordering::SeqCst);
        let record = if coin_type == sui {
            system::mint(
                &self.state(),
                &coin_type,
                recipient,
                amount,
                nonce,
                now_ms(),
            )
        } else {
            let state = self.state();
            let reserve = largest_coin(&state, &FAUCET_ADDRESS, &coin_type);
            let available = reserve.map(|(_, v)| v).unwrap_or(0);
            let Some((source, _)) = reserve.filter(|(_, v)| *v >= amount) else {
                return Err(TxError::FaucetExhausted {
                    coin_type: coin_type.to_string(),
                    available,
                    requested: amount,
                });
            };
            system::coin_transfer(&state, source, recipient, amount, nonce, now_ms())
        }
        .ok_or_else(|| TxError::Invalid("cannot build the faucet transaction".into()))?;
        let id = record
            .output_objects
            .first()
            .map(Object::object_id)
            .ok_or_else(|| TxError::Invalid("faucet created nothing".into()))?;
        let entries = self.commit(wal, vec![Record::Transaction(Box::new(record))])?;
        let digest = entries.first().map(|e| e.digest).unwrap_or_default();
        Ok((id, amount, digest))
    }

    /// Seals a checkpoint: updates the Clock and checkpoints every pending
    /// transaction with it.
    pub fn seal_checkpoint(&self) -> Result<Arc<CheckpointEntry>, TxError> {
        self.check_healthy()?;
        let wal = self.inner.wal.lock().map_err(lock_err)?;
        let (clock, checkpoint) = {
            let state = self.state();
            let seq = state
                .latest_checkpoint()
                .map(|c| c.summary.sequence_number + 1)
                .unwrap_or(0);
            let timestamp = now_ms().max(state.clock_ms());
            let clock = system::clock_update(&state, seq, timestamp)
                .ok_or_else(|| TxError::Storage("the Clock object is missing".into()))?;
            // The checkpoint covers the pending transactions plus the clock
            // update, built without touching the shared state.
            let checkpoint = checkpoint_with(&state, &clock, timestamp);
            (clock, checkpoint)
        };
        self.commit(
            wal,
            vec![
                Record::Transaction(Box::new(clock)),
                Record::Checkpoint(Box::new(checkpoint)),
            ],
        )?;
        self.state()
            .latest_checkpoint()
            .cloned()
            .ok_or_else(|| TxError::Storage("checkpoint vanished".into()))
    }

    /// Seals a checkpoint soon after transactions arrive (within
    /// [`BUSY_POLL`]) and, when idle, every `interval` (a heartbeat that
    /// advances the Clock), until `shutdown` fires.
    ///
    /// Why not a fixed cadence: followers (storage nodes, the indexer) act
    /// on checkpoints, so a client registering a blob waits for one before
    /// nodes accept its slivers; a fixed short interval would cut that wait
    /// but fill the log with empty checkpoints on an idle devnet.
    pub async fn run_checkpointer(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval.min(BUSY_POLL));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_seal = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => break,
            }
            let busy = !self.state().pending().is_empty();
            if !busy && last_seal.elapsed() < interval {
                continue;
            }
            last_seal = tokio::time::Instant::now();
            let ledger = self.clone();
            match tokio::task::spawn_blocking(move || ledger.seal_checkpoint()).await {
                Ok(Ok(c)) => {
                    tracing::debug!(
                        seq = c.summary.sequence_number,
                        txs = c.transactions.len(),
                        "checkpoint sealed"
                    );
                    crate::metrics::checkpoint_sealed(c.transactions.len());
                }
                Ok(Err(e)) => tracing::error!(error = %e, "sealing a checkpoint failed"),
                Err(e) => tracing::error!(error = %e, "checkpoint task panicked"),
            }
        }
    }
}

/// How often the checkpointer looks for pending transactions.
pub const BUSY_POLL: Duration = Duration::from_millis(20);

/// The checkpoint record over the state's pending transactions followed by
/// `clock`, a system transaction not yet applied. It pays no gas (system
/// transactions have a zero budget), so the rolling gas summary is the
/// state's as it stands.
fn checkpoint_with(
    state: &State,
    clock: &TxRecord,
    timestamp_ms: u64,
) -> crate::store::CheckpointRecord {
    let mut record = state.next_checkpoint(timestamp_ms);
    let mut infos: Vec<sui_sdk_types::CheckpointTransactionInfo> =
        record.contents.transactions().to_vec();
    infos.push(sui_sdk_types::CheckpointTransactionInfo::new(
        clock.transaction.digest(),
        clock.effects.digest(),
        vec![],
    ));
    record.contents = sui_sdk_types::CheckpointContents::new_v1(infos);
    record.summary.content_digest = record.contents.digest();
    record.summary.network_total_transactions += 1;
    record
}

fn replay(state: &mut State, record: Record) -> Result<(), StoreError> {
    match record {
        Record::Transaction(t) => {
            state.apply_transaction(*t);
        }
        Record::Checkpoint(c) => {
            state.apply_checkpoint(*c).map_err(StoreError::Replay)?;
        }
        Record::Marker(_) => {}
    }
    Ok(())
}

fn build_genesis(
    genesis: &Genesis,
    registry: &Registry,
    installs: &[(Arc<dyn NativePackage>, Address)],
) -> Result<Vec<Record>, LedgerError> {
    let now = now_ms();
    let mut objects: Vec<(ObjectData, Owner)> = Vec::new();
    for address in registry.addresses() {
        let modules: BTreeMap<Identifier, Vec<u8>> = registry
            .modules(address)
            .into_iter()
            .filter_map(|m| Identifier::new(m).ok())
            .map(|m| (m, Vec::new()))
            .collect();
        objects.push((
            ObjectData::Package(MovePackage {
                id: *address,
                version: 1,
                modules,
                type_origin_table: vec![],
                linkage_table: BTreeMap::new(),
            }),
            Owner::Immutable,
        ));
    }
    objects.push(system::initial_clock(now));
    let sui: TypeTag = StructTag::sui().into();
    let mut counter: u64 = 0;
    for account in &genesis.accounts {
        let per = account.balance / account.coins;
        let mut rest = account.balance % account.coins;
        for _ in 0..account.coins {
            // Genesis coin ids are derived from a fixed seed and a counter,
            // so they are stable for a given genesis file.
            let id = Address::derive_id(sui_sdk_types::Digest::ZERO, counter);
            counter += 1;
            let value = per + std::mem::take(&mut rest);
            let contents = bcs::to_bytes(&CoinData { id, value })
                .map_err(|e| LedgerError::Genesis(e.to_string()))?;
            let data = sui_sdk_types::MoveStruct::new(coin_tag(sui.clone()), true, 1, contents)
                .ok_or_else(|| LedgerError::Genesis("coin without id".into()))?;
            objects.push((ObjectData::Struct(data), Owner::Address(account.address)));
        }
    }
    let mut state = State::default();
    let mut records = Vec::new();
    let tx = system::genesis(objects, now);
    state.apply_transaction(tx.clone());
    records.push(Record::Transaction(Box::new(tx)));
    for (native, sender) in installs {
        let init = system::package_init(&state, registry, native.as_ref(), *sender, now)?;
        state.apply_transaction(init.clone());
        records.push(Record::Transaction(Box::new(init)));
    }
    for (i, reserve) in genesis.faucet_reserves.iter().enumerate() {
        let coin_type: TypeTag = reserve
            .coin_type
            .parse()
            .map_err(|e| LedgerError::Genesis(format!("faucet reserve type: {e}")))?;
        let source = largest_coin(&state, &reserve.from, &coin_type)
            .filter(|(_, v)| *v >= reserve.amount)
            .map(|(o, _)| o.clone())
            .ok_or_else(|| {
                LedgerError::Genesis(format!(
                    "faucet reserve: {} holds no Coin<{coin_type}> of at least {}",
                    reserve.from, reserve.amount
                ))
            })?;
        let moved = system::coin_transfer(
            &state,
            &source,
            FAUCET_ADDRESS,
            reserve.amount,
            i as u64,
            now,
        )
        .ok_or_else(|| LedgerError::Genesis("cannot build the faucet reserve".into()))?;
        state.apply_transaction(moved.clone());
        records.push(Record::Transaction(Box::new(moved)));
    }
    let checkpoint = state.next_checkpoint(now);
    records.push(Record::Checkpoint(Box::new(checkpoint)));
    Ok(records)
}

/// `owner`'s `Coin<coin_type>` with the largest value, and that value.
fn largest_coin<'a>(
    state: &'a State,
    owner: &Address,
    coin_type: &TypeTag,
) -> Option<(&'a Object, u64)> {
    let tag = coin_tag(coin_type.clone());
    state
        .owned_objects(owner)
        .filter_map(|o| match o.data() {
            ObjectData::Struct(s) if *s.object_type() == tag => {
                let coin: CoinData = bcs::from_bytes(s.contents()).ok()?;
                Some((o, coin.value))
            }
            _ => None,
        })
        .max_by_key(|(_, v)| *v)
}

#[cfg(test)]
mod faucet_tests {
    use super::*;

    #[test]
    fn a_coin_type_without_a_reserve_is_a_bad_request_not_an_empty_reserve() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(LedgerConfig {
            data_dir: dir.path().to_owned(),
            genesis: Genesis::default(),
            natives: vec![],
        })
        .unwrap();
        let recipient = Address::from_static("0xbeef");
        // The framework package is installed, but it has no `foo::BAR`
        // coin and genesis funded no reserve of it: a client must not
        // read "exhausted" and retry forever.
        let unknown: TypeTag = "0x2::foo::BAR".parse().unwrap();
        match ledger.faucet(recipient, Some(unknown), None) {
            Err(TxError::Invalid(message)) => {
                assert!(message.contains("no reserve of"), "{message}");
                assert!(message.contains("::sui::SUI"), "{message}");
            }
            other => panic!("expected a bad request, got {other:?}"),
        }
        // SUI is still minted.
        let (_, amount, _) = ledger.faucet(recipient, None, None).unwrap();
        assert_eq!(amount, ledger.faucet_amount());
    }
}
