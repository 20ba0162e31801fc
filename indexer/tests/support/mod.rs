//! Test harness: an in-process ledger with the floe packages served over
//! real gRPC on 127.0.0.1, a funded user, a committee of four BLS keys that
//! signs real certificates, and a Postgres cluster of the test's own
//! (managed by floe-indexer, in a temp dir, Unix socket only).

#![allow(dead_code)]

use std::time::Duration;

use floe_chain::floe::calls::{BlobRegistration, CertificateArgs};
use floe_chain::floe::{Floe, FloeIds};
use floe_chain::sui_sdk_types::Address;
use floe_chain::{ChainClient, ExecutedTx, KeyPair};
use floe_contracts::genesis::{FloeGenesis, GenesisNodeSpec};
use floe_contracts::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};
use floe_core::bls::BlsSecretKey;
use floe_indexer::{
    ManagedPostgres, Metrics, Pipeline, PipelineConfig, Processor, ProcessorConfig,
};
use floe_ledger::genesis::{Account, PackageSpec};
use floe_ledger::{Genesis, Ledger, LedgerConfig};
use floe_testkit::msg::{certificate, committee_order, copy_key, genesis_keys};

pub use floe_testkit::msg::{blob_cert_body, encoded_length as encoded, registration};
use sqlx::PgPool;
use tokio::sync::oneshot;

pub const SUI: u64 = 1_000_000_000;
pub const SHARDS: [u16; 4] = [1, 2, 3, 4];

pub struct Devnet {
    pub floe: Floe,
    pub client: ChainClient,
    pub user: KeyPair,
    pub signers: Vec<BlsSecretKey>,
    pub wal: Address,
    pub endpoint: String,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

pub async fn devnet() -> Devnet {
    devnet_with(|_| {}, &[]).await
}

/// A devnet whose floe genesis `customise` adjusts (epoch length, node
/// operators, commission), with 10 SUI for each of `funded` (operators
/// paying gas).
pub async fn devnet_with(customise: impl FnOnce(&mut FloeGenesis), funded: &[Address]) -> Devnet {
    let user = KeyPair::generate();
    let keys = genesis_keys();
    let floe_genesis = FloeGenesis {
        epoch: 0,
        max_epochs_ahead: 10,
        total_capacity_size: 1 << 30,
        storage_price_per_unit_size: 1_000,
        write_price_per_unit_size: 500,
        nodes: keys
            .iter()
            .zip(SHARDS)
            .map(|(k, shards)| GenesisNodeSpec {
                public_key: hex::encode(k.public_key().to_bytes()),
                shards,
            })
            .collect(),
        ..FloeGenesis::default()
    };
    let mut floe_genesis = floe_genesis;
    customise(&mut floe_genesis);
    let mut accounts = vec![Account {
        address: user.address(),
        balance: 100 * SUI,
        coins: 4,
    }];
    accounts.extend(funded.iter().map(|a| Account {
        address: *a,
        balance: 10 * SUI,
        coins: 2,
    }));
    let genesis = Genesis {
        accounts,
        packages: vec![
            PackageSpec {
                address: WAL_PACKAGE_ID,
                init_sender: Some(user.address()),
            },
            PackageSpec {
                address: FLOE_PACKAGE_ID,
                init_sender: None,
            },
        ],
        ..Genesis::default()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = Ledger::open(LedgerConfig {
        data_dir: dir.path().join("ledger"),
        genesis,
        natives: floe_contracts::natives(floe_genesis),
    })
    .expect("open ledger");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(floe_ledger::server::serve(
        ledger,
        listener,
        Duration::from_millis(50),
        async move {
            let _ = stopped.await;
        },
    ));
    let endpoint = format!("http://{address}");
    let client = ChainClient::connect_single(&endpoint).expect("client");
    let ids = FloeIds::discover(&client, WAL_PACKAGE_ID, FLOE_PACKAGE_ID)
        .await
        .expect("floe objects in genesis");
    let floe = Floe::new(client.clone(), ids);
    // Node ids are made at genesis (each is its pool's id), so the
    // committee order is read from the chain.
    let committee = floe.committee().await.expect("genesis committee");
    let signers = committee_order(&committee, &keys)
        .into_iter()
        .map(|i| copy_key(&keys[i]))
        .collect();
    let wal = floe.wal_coins(user.address()).await.expect("wal coins")[0].0;
    Devnet {
        floe,
        client,
        user,
        signers,
        wal,
        endpoint,
        _dir: dir,
        _stop: stop,
    }
}

/// A message of the storage app (id 3, version 0).
pub fn message(intent: u8, epoch: u32, body: &[u8]) -> Vec<u8> {
    floe_testkit::msg::message(intent, 0, 3, epoch, body)
}

impl Devnet {
    /// A certificate over `message` signed by every member.
    pub fn certify_all(&self, message: Vec<u8>) -> CertificateArgs {
        let all: Vec<u16> = (0..self.signers.len() as u16).collect();
        certificate(&self.signers, &all, message)
    }

    /// Registers (reserving storage) a blob; returns its object id.
    pub async fn register(
        &self,
        seed: u8,
        size: u64,
        deletable: bool,
        epochs: u32,
    ) -> (Address, BlobRegistration) {
        let reg = registration(seed, size, deletable);
        let tx = self
            .floe
            .reserve_and_register(&self.user, encoded(size), epochs, &reg, self.wal)
            .await
            .expect("reserve and register");
        assert!(tx.status.is_success(), "{}", tx.status);
        (self.created_blob(&tx).await, reg)
    }

    pub async fn certify(&self, blob: Address, reg: &BlobRegistration) {
        let object = reg.deletable.then_some(blob);
        let msg = message(1, 0, &blob_cert_body(reg.blob_id, object));
        let tx = self
            .floe
            .certify_blob(&self.user, blob, &self.certify_all(msg))
            .await
            .expect("certify");
        assert!(tx.status.is_success(), "{}", tx.status);
    }

    /// Objects of type `floe::module::name` created (or unwrapped) by `tx`.
    pub async fn created_of(
        &self,
        tx: &ExecutedTx,
        module: &'static str,
        name: &'static str,
    ) -> Vec<Address> {
        floe_testkit::msg::created_of(&self.floe, tx, module, name).await
    }

    async fn created_blob(&self, tx: &ExecutedTx) -> Address {
        self.created_of(tx, "blob", "Blob")
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no Blob created by {}", tx.digest))
    }

    pub fn processor(&self) -> Processor {
        Processor::new(ProcessorConfig {
            floe_package: self.floe.ids.floe_package,
            wal_package: self.floe.ids.wal_package,
            n_shards: Some(10),
        })
    }

    /// The checkpoint holding `tx`, once sealed: the tip read right after
    /// executing may not include it yet.
    pub async fn settled(&self, tx: &ExecutedTx) -> u64 {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(t) = self.client.get_transaction(&tx.digest).await
                && let Some(cp) = t.checkpoint
            {
                return cp;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} never sealed",
                tx.digest
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn chain_id(&self) -> String {
        self.client.service_info().await.unwrap().chain_id.unwrap()
    }

    pub async fn pipeline(&self, pool: &PgPool, batch_checkpoints: usize) -> Pipeline {
        Pipeline {
            pool: pool.clone(),
            client: self.client.clone(),
            floe: self.floe.clone(),
            processor: self.processor(),
            config: PipelineConfig {
                batch_checkpoints,
                batch_timeout_ms: 20,
                ..PipelineConfig::default()
            },
            chain_id: self.chain_id().await,
            metrics: Metrics::new(&prometheus::Registry::new()),
        }
    }
}

/// A Postgres cluster of the test's own with a fresh database (schema
/// applied). Fields drop in order: the pool, then the cluster (stopped),
/// then its directory.
pub struct Db {
    pub pool: PgPool,
    pub pg: ManagedPostgres,
    _dir: tempfile::TempDir,
}

pub async fn database(name: &str) -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = ManagedPostgres::start(&dir.path().join("pg")).expect("start postgres");
    pg.create_database(name).await.expect("create database");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(pg.options(name))
        .await
        .expect("connect");
    floe_indexer::migrate(&pool).await.expect("migrate");
    Db {
        pool,
        pg,
        _dir: dir,
    }
}

/// Waits until the watermark reaches `checkpoint`.
pub async fn wait_for_watermark(pool: &PgPool, checkpoint: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let w = floe_indexer::committer::watermark(pool, floe_indexer::pipeline::PIPELINE).await;
        if let Ok(Some(w)) = &w
            && w.checkpoint >= checkpoint
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watermark did not reach {checkpoint}: {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every row of every table, as text, in a fixed order: to compare two
/// indexes of the same chain.
pub async fn dump(pool: &PgPool) -> Vec<String> {
    let tables = [
        ("watermarks", "pipeline", "chain_id, checkpoint"),
        ("checkpoints", "sequence_number", "*"),
        ("events", "pos", "*"),
        ("blobs", "object_id", "*"),
        ("invalid_blob_ids", "blob_id", "*"),
        ("epochs", "epoch", "*"),
        ("committee_members", "epoch, node_id", "*"),
        ("storage_nodes", "node_id", "*"),
        ("governance_proposals", "proposal_id", "*"),
        ("governance_votes", "proposal_id, node_id", "*"),
        ("subsidy_payments", "pos", "*"),
        ("storage_resources", "object_id", "*"),
        ("payments", "pos, kind", "*"),
        ("node_stake_history", "node_id, epoch", "*"),
        ("staked_wal", "object_id", "*"),
        ("system_state", "id", "*"),
        ("blob_stats", "status, end_epoch", "*"),
        ("pool_epochs", "node_id, epoch", "*"),
        ("epoch_rewards", "epoch", "*"),
        ("node_rewards", "epoch, node_id", "*"),
        ("commission_collections", "pos, node_id", "*"),
        ("shared_blobs", "object_id", "*"),
        ("shared_blob_renewals", "pos, shared_blob_id", "*"),
    ];
    let mut out = Vec::new();
    for (table, order, cols) in tables {
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT row_to_json(t)::text FROM (SELECT {cols} FROM {table} ORDER BY {order}) t"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        out.extend(rows.into_iter().map(|r| format!("{table}: {}", r.0)));
    }
    out
}

/// The running counters (`blob_stats`, zero rows left out) next to a
/// recount from `blobs`: they must be equal after any history, replay or
/// restart.
pub async fn counters_and_recount(pool: &PgPool) -> (Vec<String>, Vec<String>) {
    let counters: Vec<(String,)> = sqlx::query_as(
        "SELECT concat_ws(' ', status, end_epoch, blobs, bytes, encoded_bytes) FROM blob_stats
         WHERE blobs <> 0 OR bytes <> 0 OR encoded_bytes <> 0 ORDER BY status, end_epoch",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let recount: Vec<(String,)> = sqlx::query_as(
        "SELECT concat_ws(' ', status, e, n, b, eb) FROM (
             SELECT status, coalesce(end_epoch, -1) AS e, count(*) AS n,
                    coalesce(sum(size), 0)::int8 AS b, coalesce(sum(encoded_size), 0)::int8 AS eb
             FROM blobs GROUP BY 1, 2) t ORDER BY status, e",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (
        counters.into_iter().map(|r| r.0).collect(),
        recount.into_iter().map(|r| r.0).collect(),
    )
}
