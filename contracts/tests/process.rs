//! The twin behind a real `floe ledger run` process, reached only through
//! gRPC: genesis with storage nodes, discovery of System and the treasury,
//! reserve + register, certify with a committee certificate, and a restart
//! that keeps everything. Build the binary first: `cargo build -p floe`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use floe_chain::floe::calls::{BlobRegistration, CertificateArgs};
use floe_chain::floe::{Floe, FloeIds};
use floe_chain::{ChainClient, KeyPair};
use floe_contracts::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};
use floe_core::BlobId;
use floe_core::bls::{BlsSecretKey, aggregate_signatures};
use floe_core::committee::signers_to_bitmap;
use floe_core::encoding::{EncodingConfig, EncodingType};
use floe_core::merkle::Node;
use floe_core::move_types::U256Le;

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the ledger and returns it with its gRPC address.
fn start(dir: &std::path::Path) -> (Process, String) {
    let bin = support::floe_bin();
    assert!(
        bin.exists(),
        "{} missing: run `cargo build -p floe`",
        bin.display()
    );
    let mut child = Command::new(bin)
        .args(["--json", "ledger", "run", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--genesis")
        .arg(dir.join("genesis.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn floe");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let v: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let address = v["address"].as_str().expect("address").to_owned();
    (Process(child), address)
}

#[tokio::test]
async fn twin_behind_a_real_ledger_process() {
    let user = KeyPair::generate();
    let keys: Vec<BlsSecretKey> = (0..4u8)
        .map(|i| BlsSecretKey::from_seed(&[i + 1; 32]))
        .collect();
    let mut genesis = format!(
        "[[accounts]]\naddress = \"{a}\"\nbalance = 100_000_000_000\ncoins = 2\n\n\
         [[packages]]\naddress = \"0x3a1\"\ninit_sender = \"{a}\"\n\n\
         [[packages]]\naddress = \"0xf10e\"\n\n\
         [floe]\nmax_epochs_ahead = 5\nstorage_price_per_unit_size = 7\nwrite_price_per_unit_size = 3\n",
        a = user.address()
    );
    for (i, k) in keys.iter().enumerate() {
        genesis.push_str(&format!(
            "\n[[floe.nodes]]\npublic_key = \"{}\"\nshards = {}\n",
            hex::encode(k.public_key().to_bytes()),
            i + 1
        ));
    }
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("genesis.toml"), genesis).expect("genesis");
    let (process, address) = start(dir.path());

    let client = ChainClient::connect_single(&format!("http://{address}")).expect("client");
    let ids = FloeIds::discover(&client, WAL_PACKAGE_ID, FLOE_PACKAGE_ID)
        .await
        .expect("discover");
    let floe = Floe::new(client, ids);
    assert_eq!(floe.prices().await.unwrap().storage_price_per_unit_size, 7);
    let committee = floe.committee().await.unwrap();
    assert_eq!(committee.n_shards(), 10);
    let wal = floe.wal_coins(user.address()).await.unwrap()[0].0;

    let root = [5u8; 32];
    let id = BlobId::derive(EncodingType::Rs2, 1234, &Node::Digest(root));
    let reg = BlobRegistration {
        blob_id: U256Le(id.0),
        root_hash: U256Le(root),
        size: 1234,
        encoding_type: 1,
        deletable: false,
    };
    let encoded = EncodingConfig::new(10)
        .and_then(|c| c.encoded_blob_length(1234))
        .unwrap();
    let tx = floe
        .reserve_and_register(&user, encoded, 2, &reg, wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let (blob, _) = floe.owned_blobs(user.address()).await.unwrap()[0];

    // A quorum certificate by every member, in committee order.
    let mut message = vec![1, 0, 3, 0, 0, 0, 0];
    message.extend_from_slice(&id.0);
    message.push(0);
    let order: Vec<&BlsSecretKey> = committee
        .members()
        .iter()
        .map(|m| {
            keys.iter()
                .find(|k| k.public_key() == m.public_key)
                .expect("member key")
        })
        .collect();
    let signature =
        aggregate_signatures(&order.iter().map(|k| k.sign(&message)).collect::<Vec<_>>()).unwrap();
    let cert = CertificateArgs {
        signature: signature.0.to_vec(),
        signers_bitmap: signers_to_bitmap(&[0, 1, 2, 3], 4).unwrap(),
        message,
    };
    let tx = floe.certify_blob(&user, blob, &cert).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);

    // Restart: the certified blob and the system state are still there.
    drop(process);
    let (_process, address) = start(dir.path());
    let client = ChainClient::connect_single(&format!("http://{address}")).expect("client");
    let floe = Floe::new(client, ids);
    assert_eq!(floe.blob(blob).await.unwrap().certified_epoch, Some(0));
    let state = floe.system_state().await.unwrap();
    let ring: u64 = state
        .future_accounting
        .ring_buffer
        .iter()
        .map(|a| a.rewards_to_distribute.value)
        .sum();
    assert_eq!(ring, 2 * 7 + 3, "two epochs of one unit plus the write fee");
}
