//! A devnet for the twin's tests: a real `floe ledger run` process with
//! both native packages, reached only over gRPC on a free local port, a
//! funded user who owns the whole WAL supply, and a committee of four BLS
//! keys (shards 1, 2, 3, 4: quorum 7 of 10, validity 4) that signs real
//! certificates.
//!
//! The ledger runs as its own process (the `floe` binary of this
//! workspace, built by `cargo test --workspace`; `FLOE_BIN` overrides the
//! path), so these suites exercise exactly what a user's chain runs:
//! signed transactions over the network, the write-ahead log, checkpoints.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use floe_chain::floe::calls::CertificateArgs;
use floe_chain::floe::{Floe, FloeIds};
use floe_chain::sui_sdk_types::Address;
use floe_chain::{ChainClient, ExecutedTx, KeyPair};
use floe_contracts::genesis::{FloeGenesis, GenesisNodeSpec, GenesisNodeStaking};
use floe_contracts::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};
use floe_core::bls::{BlsSecretKey, aggregate_signatures};
use floe_core::committee::signers_to_bitmap;
use floe_core::move_types::{ObjectId, U256Le};

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
    _ledger: LedgerProcess,
    _dir: tempfile::TempDir,
}

/// The ledger process; killed when the devnet is dropped.
struct LedgerProcess(Child);

impl Drop for LedgerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `floe` binary: `FLOE_BIN`, else `target/debug/floe`.
pub fn floe_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("FLOE_BIN") {
        return bin.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug").join("floe")
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
    let keys: Vec<BlsSecretKey> = (0..4u8)
        .map(|i| BlsSecretKey::from_seed(&[i + 1; 32]))
        .collect();
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
    let bin = floe_bin();
    assert!(
        bin.exists(),
        "{} missing: run `cargo build -p floe` (or set FLOE_BIN)",
        bin.display()
    );
    let mut child = Command::new(bin)
        .args(["--json", "ledger", "run", "--listen", "127.0.0.1:0"])
        .args(["--checkpoint-interval-ms", "50"])
        .arg("--data-dir")
        .arg(dir.path().join("ledger"))
        .arg("--genesis")
        .arg(&genesis_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn floe ledger run");
    let stdout = child.stdout.take().expect("stdout");
    let ledger = LedgerProcess(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let v: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("ledger said {line:?}: {e}"));
    let address = v["address"].as_str().expect("address").to_owned();
    let client = ChainClient::connect_single(&format!("http://{address}")).expect("client");
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
    for member in committee.members() {
        let i = keys
            .iter()
            .position(|k| k.public_key() == member.public_key)
            .expect("key of member");
        signers.push(BlsSecretKey::from_bytes(&keys[i].to_bytes()[..]).expect("key copy"));
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

/// A protocol message: header (type, version, app, epoch LE) and body.
pub fn message(intent: u8, version: u8, app: u8, epoch: u32, body: &[u8]) -> Vec<u8> {
    let mut m = vec![intent, version, app];
    m.extend_from_slice(&epoch.to_le_bytes());
    m.extend_from_slice(body);
    m
}

/// BLOB_CERT body: permanent (`None`) or deletable for `object`.
pub fn blob_cert_body(blob_id: U256Le, object: Option<Address>) -> Vec<u8> {
    let mut body = blob_id.0.to_vec();
    match object {
        None => body.push(0),
        Some(id) => {
            body.push(1);
            body.extend_from_slice(id.as_bytes());
        }
    }
    body
}

impl Devnet {
    /// A certificate over `message` signed by the members at `signers`
    /// (committee order).
    pub fn certify(&self, message: Vec<u8>, signers: &[u16]) -> CertificateArgs {
        let signatures: Vec<_> = signers
            .iter()
            .map(|i| self.signers[usize::from(*i)].sign(&message))
            .collect();
        let signature = aggregate_signatures(&signatures).expect("aggregate");
        CertificateArgs {
            signature: signature.0.to_vec(),
            signers_bitmap: signers_to_bitmap(signers, self.signers.len()).expect("bitmap"),
            message,
        }
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
    let tag = floe.ids.floe_tag(module, name);
    for c in tx.created() {
        let id = *c.reference.object_id();
        let info = floe.client.get_object(id).await.expect("created object");
        if info.struct_type() == Some(&tag) {
            return id;
        }
    }
    panic!(
        "no {module}::{name} created by {}: {:?}",
        tx.digest, tx.status
    );
}

/// Object id bytes as Move's `ID`.
pub fn object_id(a: Address) -> ObjectId {
    ObjectId(a.into_inner())
}
