//! A devnet for the twin's tests: a real `floe ledger run` process with
//! both native packages, reached only over gRPC on a free local port, a
//! funded user who owns the whole WAL supply, and a committee of four BLS
//! keys (shards 1, 2, 3, 4: quorum 7 of 10, validity 4) that signs real
//! certificates.
//!
//! The ledger runs as its own process (`floe_testkit::ledger`, which builds
//! the `floe` binary if it is missing or stale; `FLOE_BIN` overrides it),
//! so these suites exercise exactly what a user's chain runs: signed
//! transactions over the network, the write-ahead log, checkpoints.

#![allow(dead_code)]

use floe_chain::floe::calls::CertificateArgs;
use floe_chain::floe::{Floe, FloeIds};
use floe_chain::sui_sdk_types::Address;
use floe_chain::{ChainClient, ExecutedTx, KeyPair};
use floe_contracts::genesis::{FloeGenesis, GenesisNodeSpec, GenesisNodeStaking};
use floe_contracts::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};
use floe_core::bls::BlsSecretKey;
use floe_core::move_types::ObjectId;
use floe_testkit::ledger::{Ledger, LedgerOptions};
use floe_testkit::msg::{committee_order, copy_key, genesis_keys};

// Not every suite builds messages.
#[allow(unused_imports)]
pub use floe_testkit::msg::{blob_cert_body, message};

pub const SUI: u64 = 1_000_000_000;
pub const STORAGE_PRICE: u64 = 1_000;
pub const WRITE_PRICE: u64 = 500;
pub const MAX_EPOCHS_AHEAD: u32 = 10;
/// 64 MiB of encoded capacity.
pub const CAPACITY: u64 = 64 << 20;
pub const SHARDS: [u16; 4] = [1, 2, 3, 4];

pub struct Devnet {
    pub floe: Floe,
    pub user: KeyPair,
    /// The nodes' operators (committee order): each owns its node's
    /// `StorageNodeCap` and some SUI for gas.
    pub operators: Vec<KeyPair>,
    /// Secret keys in committee order (ascending node id).
    pub signers: Vec<BlsSecretKey>,
    /// Shards per member, in committee order.
    pub weights: Vec<u16>,
    /// The user's `Coin<WAL>` (the whole supply at genesis, less any
    /// faucet reserve).
    pub wal: Address,
    /// The ledger's faucet (`POST /v2/gas`): `host:port`.
    pub http: String,
    _ledger: Ledger,
    _dir: tempfile::TempDir,
}

pub async fn devnet() -> Devnet {
    devnet_with(None, None).await
}

/// A devnet whose faucet sends `amount` per request and holds `reserve`
/// WAL (moved at genesis from the user's share of the supply).
pub async fn devnet_with_faucet(reserve: u64, amount: u64) -> Devnet {
    devnet_with(Some((reserve, amount)), None).await
}

/// A devnet whose epochs last `epoch_duration_ms` and whose epoch 0 may
/// end `first_epoch_delay_ms` after the genesis file is written.
pub async fn devnet_with_epochs(epoch_duration_ms: u64, first_epoch_delay_ms: u64) -> Devnet {
    devnet_with(None, Some((epoch_duration_ms, first_epoch_delay_ms))).await
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn devnet_with(faucet: Option<(u64, u64)>, epochs: Option<(u64, u64)>) -> Devnet {
    let user = KeyPair::generate();
    let keys = genesis_keys();
    let key_operators: Vec<KeyPair> = keys.iter().map(|_| KeyPair::generate()).collect();
    let (epoch_duration_ms, first_epoch_start_ms) = match epochs {
        Some((duration, delay)) => (duration, Some(now_ms() + delay)),
        None => (FloeGenesis::default().epoch_duration_ms, None),
    };
    let floe_genesis = FloeGenesis {
        epoch: 0,
        max_epochs_ahead: MAX_EPOCHS_AHEAD,
        total_capacity_size: CAPACITY,
        storage_price_per_unit_size: STORAGE_PRICE,
        write_price_per_unit_size: WRITE_PRICE,
        nodes: keys
            .iter()
            .zip(SHARDS)
            .map(|(k, shards)| GenesisNodeSpec {
                public_key: hex::encode(k.public_key().to_bytes()),
                shards,
            })
            .collect(),
        node_staking: key_operators
            .iter()
            .map(|op| GenesisNodeStaking {
                operator: Some(op.address().to_string()),
                ..GenesisNodeStaking::default()
            })
            .collect(),
        epoch_duration_ms,
        first_epoch_start_ms,
    };
    // The ledger's genesis file as a user writes it (the format is the
    // ledger's: `floe_ledger::genesis`), with the `[floe]` table beside it.
    let accounts: Vec<serde_json::Value> = std::iter::once((user.address(), 100 * SUI, 4))
        .chain(key_operators.iter().map(|op| (op.address(), 10 * SUI, 1)))
        .map(|(address, balance, coins)| {
            serde_json::json!({
                "address": address.to_string(),
                "balance": balance,
                "coins": coins,
            })
        })
        .collect();
    let mut file = serde_json::json!({
        "accounts": accounts,
        "packages": [
            { "address": WAL_PACKAGE_ID.to_string(), "init_sender": user.address().to_string() },
            { "address": FLOE_PACKAGE_ID.to_string() },
        ],
        "floe": serde_json::to_value(&floe_genesis).expect("floe genesis json"),
    });
    if let Some((reserve, amount)) = faucet {
        file["faucet_reserves"] = serde_json::json!([{
            "coin_type": floe_contracts::genesis::wal_coin_type(),
            "from": user.address().to_string(),
            "amount": reserve,
        }]);
        file["faucet_amount"] = amount.into();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let genesis_path = dir.path().join("genesis.json");
    std::fs::write(&genesis_path, file.to_string()).expect("write genesis");
    let ledger = Ledger::start(
        dir.path(),
        &genesis_path,
        LedgerOptions::default().checkpoint_interval_ms(50),
    );
    let address = ledger.address.clone();
    let client = ChainClient::connect_single(&ledger.endpoint()).expect("client");
    let ids = FloeIds::discover(&client, WAL_PACKAGE_ID, FLOE_PACKAGE_ID)
        .await
        .expect("floe objects in genesis");
    let floe = Floe::new(client, ids);
    // Node ids are the pools' ids, made at genesis: the committee's
    // (node-id) order is known only now.
    let committee = floe.committee().await.expect("genesis committee");
    let mut signers = Vec::new();
    let mut weights = Vec::new();
    let mut operators = Vec::new();
    for (member, i) in committee
        .members()
        .iter()
        .zip(committee_order(&committee, &keys))
    {
        signers.push(copy_key(&keys[i]));
        weights.push(member.weight);
        operators.push(key_operators[i].clone());
    }
    let wal = floe.wal_coins(user.address()).await.expect("wal coins")[0].0;
    Devnet {
        floe,
        user,
        operators,
        signers,
        weights,
        wal,
        http: address,
        _ledger: ledger,
        _dir: dir,
    }
}

/// `POST /v2/gas` in Sui's faucet format (`coin_type` is floe's
/// extension), over a plain HTTP/1.1 connection: `(status, body)`.
pub async fn faucet(http: &str, recipient: Address, coin_type: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request =
        serde_json::json!({ "FixedAmountRequest": { "recipient": recipient.to_string() } });
    if let Some(t) = coin_type {
        request["FixedAmountRequest"]["coin_type"] = t.into();
    }
    let body = request.to_string();
    let mut stream = tokio::net::TcpStream::connect(http)
        .await
        .expect("connect faucet");
    let head = format!(
        "POST /v2/gas HTTP/1.1\r\nhost: {http}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

impl Devnet {
    /// A certificate over `message` signed by the members at `signers`
    /// (committee order).
    pub fn certify(&self, message: Vec<u8>, signers: &[u16]) -> CertificateArgs {
        floe_testkit::msg::certificate(&self.signers, signers, message)
    }

    /// Every member signs.
    pub fn all(&self) -> Vec<u16> {
        (0..self.signers.len() as u16).collect()
    }

    /// Members whose weights sum to less than a quorum (7 of 10): the
    /// ones holding 1, 2 and 3 shards (6).
    pub fn below_quorum(&self) -> Vec<u16> {
        (0..self.weights.len() as u16)
            .filter(|i| self.weights[usize::from(*i)] != 4)
            .collect()
    }

    /// The single member with 1 shard (below validity, 4 of 10).
    pub fn lightest(&self) -> Vec<u16> {
        (0..self.weights.len() as u16)
            .filter(|i| self.weights[usize::from(*i)] == 1)
            .collect()
    }

    pub fn address(&self) -> Address {
        self.user.address()
    }
}

/// The single object of type `name` a transaction created.
pub async fn created_of(
    floe: &Floe,
    tx: &ExecutedTx,
    module: &'static str,
    name: &'static str,
) -> Address {
    floe_testkit::msg::created_of(floe, tx, module, name)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| {
            panic!(
                "no {module}::{name} created by {}: {:?}",
                tx.digest, tx.status
            )
        })
}

/// Object id bytes as Move's `ID`.
pub fn object_id(a: Address) -> ObjectId {
    ObjectId(a.into_inner())
}
