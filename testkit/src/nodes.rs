//! A ledger with a generated genesis (four storage nodes with BLS keys
//! from seeds) and real `floe node run` processes on 127.0.0.1, plus the
//! chain calls (register, certify, delete) a storage-node test makes
//! through `floe-chain`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use floe_chain::floe::calls::{BlobRegistration, CertificateArgs};
use floe_chain::floe::{Floe, FloeIds};
use floe_chain::sui_sdk_types::Address;
use floe_chain::{ChainClient, KeyPair};
use floe_contracts::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};
use floe_core::bls::{BlsSecretKey, aggregate_signatures};
use floe_core::committee::{Committee, signers_to_bitmap};
use floe_core::encoding::{EncodedBlob, EncodingConfig, encode_blob};
use floe_core::merkle::Node;
use floe_core::messages::SignedMessage;
use floe_core::messages::storage_confirmation::StorageConfirmationBody;
use floe_core::move_types::U256Le;
use floe_core::{BlobId, pair_to_shard};

use crate::bin::floe_bin;
use crate::ledger::{Ledger, LedgerOptions};

// What a storage-node test needs besides the chain and nodes, so one
// `use floe_testkit::nodes as support;` serves it.
pub use crate::bin::floe;
pub use crate::http::{free_port, reason, request, try_request};
pub use crate::process::{Proc, wait_for};

/// How long a node may take to print its listening line.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(120);

/// Committee weights of the four genesis nodes (seeds 1..=4): n = 10,
/// quorum 7, f = 3.
pub const WEIGHTS: [u16; 4] = [1, 2, 3, 4];

/// Additions to the genesis [`Chain::start_with`] writes.
#[derive(Debug, Clone, Default)]
pub struct GenesisExtra {
    /// Lines appended to the `[floe]` table.
    pub floe: String,
    /// Lines appended to the `[[floe.nodes]]` entry of node `i`.
    pub nodes: Vec<String>,
    /// Tables appended at the end (e.g. more `[[accounts]]`).
    pub top: String,
}

/// A ledger process, the user who owns gas and WAL, the BLS keys and the
/// nodes' ports (on chain as each pool's `network_address`, where nodes
/// find each other).
pub struct Chain {
    pub dir: tempfile::TempDir,
    pub ports: [u16; 4],
    pub ledger: Ledger,
    pub endpoint: String,
    pub user: KeyPair,
    pub keys: Vec<BlsSecretKey>,
    pub rt: tokio::runtime::Runtime,
    pub floe: Floe,
    pub committee: Committee,
}

impl Chain {
    /// Writes a genesis with four nodes and starts the ledger.
    pub fn start() -> Self {
        Self::start_with(&GenesisExtra::default())
    }

    /// Like [`Chain::start`], with additions to the genesis file.
    pub fn start_with(extra: &GenesisExtra) -> Self {
        let user = KeyPair::generate();
        let keys = crate::msg::genesis_keys();
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let mut genesis = format!(
            "[[accounts]]\naddress = \"{a}\"\nbalance = 100_000_000_000\ncoins = 8\n\n\
             [[packages]]\naddress = \"0x3a1\"\ninit_sender = \"{a}\"\n\n\
             [[packages]]\naddress = \"0xf10e\"\n\n\
             [floe]\nmax_epochs_ahead = 20\nstorage_price_per_unit_size = 7\nwrite_price_per_unit_size = 3\n{f}",
            a = user.address(),
            f = extra.floe,
        );
        for (i, (k, w)) in keys.iter().zip(WEIGHTS).enumerate() {
            genesis.push_str(&format!(
                "\n[[floe.nodes]]\npublic_key = \"{}\"\nshards = {w}\n\
                 network_address = \"127.0.0.1:{}\"\n{}",
                hex::encode(k.public_key().to_bytes()),
                ports[i],
                extra.nodes.get(i).map_or("", String::as_str),
            ));
        }
        genesis.push_str(&extra.top);
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("genesis.toml"), genesis).expect("genesis");
        let ledger = Ledger::start(
            dir.path(),
            &dir.path().join("genesis.toml"),
            LedgerOptions::default(),
        );
        let endpoint = ledger.endpoint();
        let rt = crate::runtime();
        let (floe, committee) = rt.block_on(async {
            let client = ChainClient::connect_single(&endpoint).expect("client");
            let ids = FloeIds::discover(&client, WAL_PACKAGE_ID, FLOE_PACKAGE_ID)
                .await
                .expect("discover");
            let floe = Floe::new(client, ids);
            let committee = floe.committee().await.expect("committee");
            (floe, committee)
        });
        Self {
            dir,
            ports,
            ledger,
            endpoint,
            user,
            keys,
            rt,
            floe,
            committee,
        }
    }

    /// The committee index of genesis node `i` (seed `i + 1`).
    pub fn member_of_key(&self, i: usize) -> usize {
        self.committee
            .member_by_public_key(&self.keys[i].public_key())
            .expect("genesis key in committee")
    }

    /// Which genesis node (seed index) owns `shard`.
    pub fn node_of_shard(&self, shard: u16) -> usize {
        let member = self
            .committee
            .interim_owner_of_shard(shard)
            .expect("shard owner");
        let key = self.committee.members()[member].public_key;
        self.keys
            .iter()
            .position(|k| k.public_key() == key)
            .expect("owner key")
    }

    fn wal(&self) -> Address {
        self.rt
            .block_on(self.floe.wal_coins(self.user.address()))
            .expect("wal coins")[0]
            .0
    }

    /// Registers `encoded` for `epochs` epochs; returns the blob object.
    pub fn register(&self, encoded: &EncodedBlob, deletable: bool, epochs: u32) -> Address {
        let metadata = encoded.metadata.metadata();
        let root = match metadata.root_hash() {
            Node::Digest(d) => d,
            Node::Empty => [0; 32],
        };
        let reg = BlobRegistration {
            blob_id: U256Le(encoded.metadata.blob_id().0),
            root_hash: U256Le(root),
            size: metadata.unencoded_length(),
            encoding_type: 1,
            deletable,
        };
        let n = self.committee.n_shards();
        let encoded_len = EncodingConfig::new(n)
            .and_then(|c| c.encoded_blob_length(reg.size))
            .expect("encoded length");
        let wal = self.wal();
        let tx = self
            .rt
            .block_on(
                self.floe
                    .reserve_and_register(&self.user, encoded_len, epochs, &reg, wal),
            )
            .expect("register");
        assert!(tx.status.is_success(), "{}", tx.status);
        let blob_type = self.floe.ids.floe_tag("blob", "Blob");
        let created = tx.created();
        let rt = &self.rt;
        created
            .iter()
            .map(|c| *c.reference.object_id())
            .find(|id| {
                rt.block_on(self.floe.client.get_object(*id))
                    .ok()
                    .and_then(|o| o.struct_type().cloned())
                    .is_some_and(|t| t == blob_type)
            })
            .expect("a Blob object was created")
    }

    /// Aggregates confirmations (JSON `signed` values with the committee
    /// index of each signer) and certifies `blob` on chain.
    /// Certifies `blob`; returns the Sui `EventID` of its `BlobCertified`
    /// event in JSON, as a node reports it as the blob's status event.
    pub fn certify(
        &self,
        blob: Address,
        confirmations: &[(usize, serde_json::Value)],
    ) -> serde_json::Value {
        let mut signed: Vec<(usize, SignedMessage<StorageConfirmationBody>)> = confirmations
            .iter()
            .map(|(i, v)| {
                (
                    *i,
                    serde_json::from_value(v.clone()).expect("signed message"),
                )
            })
            .collect();
        signed.sort_by_key(|(i, _)| *i);
        let indices: Vec<u16> = signed.iter().map(|(i, _)| *i as u16).collect();
        let signature =
            aggregate_signatures(&signed.iter().map(|(_, s)| s.signature).collect::<Vec<_>>())
                .expect("aggregate");
        let cert = CertificateArgs {
            signature: signature.0.to_vec(),
            signers_bitmap: signers_to_bitmap(&indices, self.committee.n_members())
                .expect("bitmap"),
            message: signed[0].1.serialized_message.clone(),
        };
        let tx = self
            .rt
            .block_on(self.floe.certify_blob(&self.user, blob, &cert))
            .expect("certify");
        assert!(tx.status.is_success(), "certify: {}", tx.status);
        let seq = tx
            .events
            .iter()
            .position(|e| e.type_.name().as_str() == "BlobCertified")
            .expect("a BlobCertified event");
        serde_json::json!({"txDigest": tx.digest.to_string(), "eventSeq": seq.to_string()})
    }

    /// Deletes a deletable blob object.
    pub fn delete(&self, blob: Address) {
        let tx = self
            .rt
            .block_on(self.floe.delete_blob(&self.user, blob))
            .expect("delete");
        assert!(tx.status.is_success(), "delete: {}", tx.status);
    }
}

/// One storage node process with its config and data directory.
pub struct NodeProc {
    pub index: usize,
    pub dir: PathBuf,
    pub addr: SocketAddr,
    pub proc: Option<Proc>,
}

impl NodeProc {
    /// Writes node `i`'s key and config: it listens on its on-chain port
    /// and finds its peers on chain (no peer list).
    pub fn configure(chain: &Chain, i: usize, extra: &str) -> Self {
        let ports = &chain.ports;
        let dir = chain.dir.path().join(format!("node{i}"));
        std::fs::create_dir_all(&dir).expect("node dir");
        std::fs::write(
            dir.join("node.bls"),
            chain.keys[i].to_key_file_string().as_bytes(),
        )
        .expect("key");
        let config = format!(
            "data_dir = \"data\"\nlisten = \"127.0.0.1:{}\"\nbls_key_file = \"node.bls\"\n{extra}\n\
             [chain]\nendpoints = [\"{}\"]\nwal_package = \"0x3a1\"\nfloe_package = \"0xf10e\"\n\
             committee_refresh_ms = 2000\n\n\
             [recovery]\ninitial_backoff_ms = 200\nmax_backoff_ms = 2000\n",
            ports[i], chain.endpoint
        );
        std::fs::write(dir.join("node.toml"), config).expect("config");
        Self {
            index: i,
            addr: SocketAddr::from(([127, 0, 0, 1], ports[i])),
            dir,
            proc: None,
        }
    }

    /// Starts the process and waits for its listening line.
    pub fn start(&mut self) {
        let mut cmd = Command::new(floe_bin());
        cmd.args(["--json", "node", "run", "--config"])
            .arg(self.dir.join("node.toml"));
        let proc = Proc::spawn(&mut cmd, &self.dir.join("stderr.log"));
        let v = proc.first_json(NODE_START_TIMEOUT);
        assert_eq!(v["event"], "listening", "{v}");
        self.proc = Some(proc);
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }

    /// Removes the data directory (the node restarts empty).
    pub fn wipe(&self) {
        let _ = std::fs::remove_dir_all(self.dir.join("data"));
    }

    pub fn req(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        request(self.addr, method, path, body)
    }

    /// `data` of a successful JSON answer.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.req("GET", path, b"");
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        v["success"]["data"].clone()
    }

    /// The follower's next checkpoint (from /v1/health).
    pub fn next_checkpoint(&self) -> Option<u64> {
        let (status, body) = try_request(self.addr, "GET", "/v1/health", b"").ok()?;
        if status != 200 {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        v["success"]["data"]["eventProgress"]["nextCheckpoint"].as_u64()
    }

    /// Uploads metadata and every sliver pair this node owns; returns how
    /// many pairs it stored.
    pub fn upload(&self, chain: &Chain, encoded: &EncodedBlob) -> usize {
        let id = *encoded.metadata.blob_id();
        let n = chain.committee.n_shards();
        let metadata = bcs::to_bytes(encoded.metadata.metadata()).expect("bcs");
        let (status, body) = self.req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
        assert!(
            status == 200 || status == 201,
            "metadata: {status} {}",
            String::from_utf8_lossy(&body)
        );
        let mut pairs = 0;
        for pair in 0..n {
            if chain.node_of_shard(pair_to_shard(pair, &id, n)) != self.index {
                continue;
            }
            let p = &encoded.primary[usize::from(pair)];
            let s = &encoded.secondary[usize::from(n - 1 - pair)];
            for (axis, bytes) in [("primary", p.to_bcs()), ("secondary", s.to_bcs())] {
                let (status, body) = self.req(
                    "PUT",
                    &format!("/v1/blobs/{id}/slivers/{pair}/{axis}"),
                    &bytes,
                );
                // 201 stored, 200 already stored (Walrus's codes).
                assert!(
                    status == 201 || status == 200,
                    "{axis} {pair}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
            }
            pairs += 1;
        }
        pairs
    }

    /// The signed permanent confirmation (waiting for registration).
    pub fn confirm(&self, id: &BlobId, deletable_object: Option<Address>) -> serde_json::Value {
        let path = match deletable_object {
            None => format!(
                "/v1/blobs/{id}/confirmation/permanent?wait_for_registration=true&wait_millis=10000"
            ),
            Some(o) => format!(
                "/v1/blobs/{id}/confirmation/deletable/{o}?wait_for_registration=true&wait_millis=10000"
            ),
        };
        self.get_json(&path)["signed"].clone()
    }

    /// The last `max` bytes of the node's log (for failure messages).
    pub fn log_tail(&self, max: usize) -> String {
        crate::process::tail(&self.dir.join("stderr.log"), max)
    }

    /// Waits until the node stores every sliver it owns of `id`; on timeout
    /// panics with the end of its log.
    pub fn wait_healed(&self, chain: &Chain, id: &BlobId, limit: Duration) {
        let start = Instant::now();
        while !self.has_all_slivers(chain, id) {
            if start.elapsed() > limit {
                panic!(
                    "node {} did not recover {id}; log:\n{}",
                    self.index,
                    self.log_tail(8000)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Whether this node stores both slivers of every pair it owns.
    pub fn has_all_slivers(&self, chain: &Chain, id: &BlobId) -> bool {
        let n = chain.committee.n_shards();
        (0..n)
            .filter(|&pair| chain.node_of_shard(pair_to_shard(pair, id, n)) == self.index)
            .all(|pair| {
                ["primary", "secondary"].iter().all(|axis| {
                    try_request(
                        self.addr,
                        "GET",
                        &format!("/v1/blobs/{id}/slivers/{pair}/{axis}/status"),
                        b"",
                    )
                    .ok()
                    .and_then(|(s, b)| (s == 200).then_some(b))
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some_and(|v| v["success"]["data"] == "stored")
                })
            })
    }
}

/// Four configured nodes (not started) on fresh ports.
pub fn nodes(chain: &Chain, extra: &str) -> Vec<NodeProc> {
    (0..4)
        .map(|i| NodeProc::configure(chain, i, extra))
        .collect()
}

/// A deterministic test blob of `len` bytes.
pub fn blob(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[0] ^ seed)
        .collect()
}

/// Encodes for the chain's committee size.
pub fn encode(chain: &Chain, data: &[u8]) -> EncodedBlob {
    encode_blob(
        &EncodingConfig::new(chain.committee.n_shards()).expect("config"),
        data,
    )
    .expect("encode")
}

/// Data directory of a node, for checks after the process is gone.
pub fn data_dir(node: &NodeProc) -> &Path {
    &node.dir
}
