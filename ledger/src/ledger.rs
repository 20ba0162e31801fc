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
//!
//! Storage (see ARCHITECTURE.md, "Ledger storage"): memory holds the live
//! objects, pending transactions and a window of recent checkpoints;
//! sealed checkpoints go to the on-disk archive; compaction
//! (`compaction.rs`) writes a snapshot of the live state and starts a new
//! log, so start-up replays only the log since the last snapshot.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use floe_runtime::framework::{CLOCK_ID, CoinData, coin_tag};
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
use crate::store::{Archive, Record, TxRecord, WriteAheadLog};
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

/// Storage and clock settings (the defaults suit a devnet).
#[derive(Clone, Debug)]
pub struct LedgerOptions {
    /// Compact once the log holds this many bytes...
    pub compact_log_bytes: u64,
    /// ...or this many records, whichever comes first.
    pub compact_log_records: u64,
    /// Checkpoints kept in memory; older ones are read from the archive.
    pub recent_checkpoints: usize,
    /// Keep only this many latest checkpoints in the archive (`None`: all,
    /// so any follower can catch up from genesis). Older ones answer
    /// NOT_FOUND naming the oldest available.
    pub retain_checkpoints: Option<u64>,
    /// A transaction, a simulation or a read of the Clock object finds the
    /// Clock at most this old: a staler Clock is advanced by sealing a
    /// checkpoint first. This is what lets the idle heartbeat be long.
    pub clock_resolution: Duration,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        Self {
            compact_log_bytes: 64 << 20,
            compact_log_records: 20_000,
            recent_checkpoints: crate::state::DEFAULT_WINDOW,
            retain_checkpoints: None,
            clock_resolution: Duration::from_secs(1),
        }
    }
}

/// Most checkpoints one compaction prunes (one atomic archive batch).
pub(crate) const MAX_PRUNE: u64 = 10_000;

pub(crate) struct Inner {
    registry: Registry,
    pub(crate) state: RwLock<State>,
    pub(crate) wal: Mutex<WriteAheadLog>,
    pub(crate) data_dir: PathBuf,
    pub(crate) options: LedgerOptions,
    latest: watch::Sender<u64>,
    chain_name: String,
    faucet_amount: u64,
    /// Coin types genesis funded a faucet reserve of (besides SUI, which
    /// is minted): any other type is a bad request, not an empty reserve.
    faucet_coins: Vec<TypeTag>,
    /// Set when a write to the log failed: the in-memory state can no longer
    /// be trusted to match the disk, so every further write is refused.
    pub(crate) failed: AtomicBool,
    nonce: AtomicU64,
    /// Certifies every checkpoint (see [`crate::validator`]).
    validator: Validator,
}

/// A running ledger; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    pub(crate) inner: Arc<Inner>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn lock_err<T>(_: T) -> TxError {
    TxError::Storage("ledger lock poisoned".into())
}

impl Ledger {
    /// Opens the chain in `config.data_dir` with default options.
    pub fn open(config: LedgerConfig) -> Result<Self, LedgerError> {
        Self::open_with(config, LedgerOptions::default())
    }

    /// Opens the chain in `config.data_dir`, creating it from genesis if the
    /// directory holds none, otherwise loading its snapshot and replaying
    /// the log written since.
    pub fn open_with(config: LedgerConfig, options: LedgerOptions) -> Result<Self, LedgerError> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let archive = Archive::open(&dir.join("archive"))?;
        // Read before the replay re-archives the log's checkpoints.
        let archived_top = archive.latest()?;
        let snapshot = crate::store::snapshot::read(dir)?;
        let (mut wal, mut records) = WriteAheadLog::open(dir)?;
        let validator = Validator::load_or_create(dir)?;
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
        let window = options.recent_checkpoints;
        let mut state = match snapshot {
            Some((snapshot, bytes)) => {
                crate::metrics::snapshot_bytes(bytes);
                if wal.generation() < snapshot.generation {
                    // A compaction wrote the snapshot but stopped before
                    // starting the new log: the old log is in the snapshot.
                    tracing::info!(
                        generation = snapshot.generation,
                        "finishing an interrupted compaction: the log is in the snapshot"
                    );
                    wal.reset(snapshot.generation)?;
                    records.clear();
                } else if wal.generation() > snapshot.generation {
                    return Err(StoreError::Replay(format!(
                        "the log (generation {}) is newer than the snapshot (generation {})",
                        wal.generation(),
                        snapshot.generation
                    ))
                    .into());
                }
                State::from_snapshot(snapshot, archive.clone(), window)?
            }
            None if wal.generation() > 0 => {
                return Err(StoreError::Replay(format!(
                    "the log continues snapshot {} but {} is missing",
                    wal.generation(),
                    crate::store::snapshot::SNAPSHOT_FILE
                ))
                .into());
            }
            None => State::with_archive(archive.clone(), window),
        };
        if state.latest_checkpoint().is_none() && records.is_empty() {
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
            tracing::info!(records = n, "replayed the ledger log since the snapshot");
        }
        let latest = state
            .latest_checkpoint()
            .map(|c| c.summary.sequence_number)
            .unwrap_or(0);
        let trimmed = archive.trim_after(latest, archived_top)?;
        if trimmed > 0 {
            tracing::warn!(
                trimmed,
                latest,
                "removed archived checkpoints the log does not hold (never acknowledged)"
            );
        }
        let (tx, _) = watch::channel(latest);
        let nonce = state.total_transactions() + state.pending().len() as u64;
        crate::metrics::storage(&state, wal.len());
        Ok(Self {
            inner: Arc::new(Inner {
                registry,
                state: RwLock::new(state),
                wal: Mutex::new(wal),
                data_dir: config.data_dir.clone(),
                options,
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

    pub(crate) fn check_healthy(&self) -> Result<(), TxError> {
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
                        let entry = match state.apply_checkpoint(*c) {
                            Ok(entry) => entry,
                            Err(e) => return Err(self.fail(StoreError::Archive(e))),
                        };
                        sealed = Some(entry.summary.sequence_number);
                    }
                    Record::Marker(_) => {}
                }
            }
        }
        drop(wal);
        syncer.sync_to(end).map_err(|e| self.fail(e))?;
        crate::metrics::storage(&self.state(), end);
        if let Some(seq) = sealed {
            self.inner.latest.send_replace(seq);
        }
        Ok(out)
    }

    pub(crate) fn fail(&self, e: StoreError) -> TxError {
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
        self.refresh_clock()?;
        let digest = tx.digest();
        let wal = self.inner.wal.lock().map_err(lock_err)?;
        let record = {
            let state = self.state();
            let existing = state
                .transaction(&digest)
                .map_err(|e| TxError::Storage(e.to_string()))?;
            if let Some(existing) = existing {
                // Re-submission of an executed transaction: answer with the
                // original outcome, as Sui does, once it is durable.
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
        // A dry run should see the time its execution would see; a ledger
        // that cannot write still simulates, against the Clock it has.
        if let Err(e) = self.refresh_clock() {
            tracing::debug!(error = %e, "simulating with the Clock as it is");
        }
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
        self.seal_if(|_| true)?
            .ok_or_else(|| TxError::Storage("no checkpoint was sealed".into()))
    }

    /// Seals a checkpoint first if the Clock is older than the clock
    /// resolution, so the caller (a transaction, a simulation, a read of
    /// the Clock) sees the current time although an idle ledger seals only
    /// a heartbeat. The condition is checked again under the writer lock,
    /// so concurrent callers seal once.
    pub fn refresh_clock(&self) -> Result<(), TxError> {
        let resolution = self.inner.options.clock_resolution.as_millis() as u64;
        let stale = |state: &State| now_ms().saturating_sub(state.clock_ms()) >= resolution;
        if !stale(&self.state()) {
            return Ok(());
        }
        self.seal_if(stale).map(|_| ())
    }

    fn seal_if(
        &self,
        condition: impl Fn(&State) -> bool,
    ) -> Result<Option<Arc<CheckpointEntry>>, TxError> {
        self.check_healthy()?;
        let wal = self.inner.wal.lock().map_err(lock_err)?;
        let (clock, checkpoint) = {
            let state = self.state();
            if !condition(&state) {
                return Ok(None);
            }
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
        let sealed = self
            .state()
            .latest_checkpoint()
            .cloned()
            .ok_or_else(|| TxError::Storage("checkpoint vanished".into()))?;
        crate::metrics::checkpoint_sealed(
            sealed.summary.sequence_number,
            sealed.transactions.len(),
        );
        Ok(Some(sealed))
    }

    /// Whether the Clock object is among `ids` (a read that must see the
    /// current time).
    pub fn reads_clock<'a>(ids: impl IntoIterator<Item = &'a Address>) -> bool {
        ids.into_iter().any(|id| *id == CLOCK_ID)
    }

    /// Seals a checkpoint soon after transactions arrive (within
    /// [`BUSY_POLL`]) and, when idle, every `interval` (a heartbeat that
    /// advances the Clock), until `shutdown` fires; after every checkpoint
    /// sealed, here or by a Clock refresh, compacts the log when it passes
    /// the thresholds of [`LedgerOptions`].
    ///
    /// Why not a fixed cadence: followers (storage nodes, the indexer) act
    /// on checkpoints, so a client registering a blob waits for one before
    /// nodes accept its slivers; a fixed short interval would cut that wait
    /// but fill the disk with empty checkpoints on an idle devnet. Whoever
    /// needs the time gets a fresh Clock anyway ([`Ledger::refresh_clock`]).
    pub async fn run_checkpointer(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval.min(BUSY_POLL));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let heartbeat_ms = interval.as_millis() as u64;
        // The tip the compaction check last saw: every checkpoint sealed
        // since, by this loop or by a Clock refresh on a read path, goes
        // through the check (a refresh must not leave the log growing
        // until the next heartbeat).
        let mut checked_tip: Option<u64> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => break,
            }
            if self.check_healthy().is_err() {
                // Already reported when the write failed; a restart is due.
                continue;
            }
            // The heartbeat counts from the latest checkpoint, whoever
            // sealed it (this loop, or a Clock refresh).
            let (busy, last_ms) = {
                let state = self.state();
                let last = state
                    .latest_checkpoint()
                    .map(|c| c.summary.timestamp_ms)
                    .unwrap_or(0);
                (!state.pending().is_empty(), last)
            };
            if busy || now_ms().saturating_sub(last_ms) >= heartbeat_ms {
                let ledger = self.clone();
                match tokio::task::spawn_blocking(move || ledger.seal_checkpoint()).await {
                    Ok(Ok(c)) => {
                        tracing::debug!(
                            seq = c.summary.sequence_number,
                            txs = c.transactions.len(),
                            "checkpoint sealed"
                        );
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "sealing a checkpoint failed"),
                    Err(e) => tracing::error!(error = %e, "checkpoint task panicked"),
                }
            }
            let tip = self
                .state()
                .latest_checkpoint()
                .map(|c| c.summary.sequence_number);
            if tip == checked_tip {
                continue;
            }
            checked_tip = tip;
            if self.needs_compaction() {
                let ledger = self.clone();
                match tokio::task::spawn_blocking(move || ledger.compact()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "compacting the ledger log failed"),
                    Err(e) => tracing::error!(error = %e, "compaction task panicked"),
                }
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
