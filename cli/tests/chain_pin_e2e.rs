//! Followers pinned to validator keys (`[chain] validator_keys`) against a
//! real `floe ledger run` whose validator key is another one: the
//! checkpoint stream refuses the ledger's first checkpoint and delivers
//! nothing, `floe_chain::connect` names both keys, and `floe node run`
//! refuses to start. Pinned to the ledger's own key (the one it prints at
//! start), the same stream verifies and delivers.

use floe_testkit::nodes as support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use floe_chain::sui_sdk_types::Bls12381PublicKey;
use floe_chain::{ChainClient, ChainConfig, ChainError, ConnectError, StreamConfig};
use support::{Chain, floe};

/// Bound on every wait, so a follower that does not refuse fails the test
/// instead of hanging it.
const WAIT: Duration = Duration::from_secs(60);

fn pinned(chain: &Chain, key: Bls12381PublicKey) -> ChainConfig {
    let mut config = ChainConfig::new(
        vec![chain.endpoint.clone()],
        "0x3a1".parse().unwrap(),
        "0xf10e".parse().unwrap(),
    );
    config.validator_keys = vec![key];
    config
}

#[test]
fn a_follower_pinned_to_another_validator_key_refuses_the_ledger() {
    let chain = Chain::start();
    let genuine = chain
        .rt
        .block_on(chain.floe.client.validator_committee())
        .expect("committee");
    let genuine = genuine.members[0].public_key;
    // The key another ledger (another data directory) would sign with.
    let other = sui_crypto::bls12381::Bls12381PrivateKey::new([0x42; 32])
        .unwrap()
        .public_key();
    assert_ne!(other, genuine);

    chain.rt.block_on(async {
        // The stream every follower uses, with the trust `[chain]` gives.
        let client = ChainClient::new(pinned(&chain, other).client_config().unwrap()).unwrap();
        let mut stream = client.checkpoint_stream(0, StreamConfig::default());
        let err = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("the stream answers")
            .expect("an item")
            .expect_err("a checkpoint certified by another key is refused");
        assert!(matches!(err, ChainError::Uncertified { .. }), "{err}");
        assert!(err.to_string().contains("checkpoint 0"), "{err}");
        assert!(stream.next().await.is_none(), "it does not advance");

        // Control: pinned to the ledger's key, the same checkpoint verifies.
        let client = ChainClient::new(pinned(&chain, genuine).client_config().unwrap()).unwrap();
        let mut stream = client.checkpoint_stream(0, StreamConfig::default());
        let first = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("the stream answers")
            .expect("an item")
            .expect("the genuine checkpoint verifies");
        assert_eq!(first.sequence_number, 0);

        // Connecting checks the pin first and names both keys.
        let Err(err) = floe_chain::connect(&pinned(&chain, other)).await else {
            panic!("a chain certified by another key is refused");
        };
        assert!(matches!(err, ConnectError::Untrusted { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&other.to_string()), "{text}");
        assert!(text.contains(&genuine.to_string()), "{text}");
        floe_chain::connect(&pinned(&chain, genuine))
            .await
            .expect("the genuine pin connects");
    });

    // A node process with the foreign pin refuses to start, saying why.
    let dir = chain.dir.path().join("pinned-node");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("node.bls"), chain.keys[0].to_key_file_string()).unwrap();
    let config = floe_node::config::NodeConfig {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        bls_key_file: dir.join("node.bls"),
        chain: Some(floe_node::config::NodeChainConfig::new(pinned(
            &chain, other,
        ))),
        discovery: Default::default(),
        peer_overrides: Vec::new(),
        removed_peers: None,
        committee: None,
        recovery: Default::default(),
        limits: Default::default(),
        operator: None,
    };
    let path = dir.join("node.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    let stderr = dir.join("stderr.log");
    // Killed and reaped on drop if it is still running.
    let mut child = support::Proc::new(
        floe()
            .args(["--json", "node", "run", "--config"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < WAIT,
            "the node did not refuse the chain"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(&stderr).unwrap();
    assert!(!status.success(), "{log}");
    assert!(log.contains("refusing"), "{log}");
    assert!(log.contains(&other.to_string()), "{log}");
}
