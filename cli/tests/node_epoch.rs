//! An epoch change with real processes: a `floe ledger run` whose genesis
//! has a 3 s epoch and an operator (with a `StorageNodeCap` and SUI for
//! gas) per node, and four `floe node run` processes with an `[operator]`
//! section. Blobs stored and certified in epoch 0; uneven stake makes the
//! committee of epoch 1 move shards; `initiate_epoch_change`; then every
//! sliver of every moved shard is on its new owner (verified against the
//! metadata), the blobs decode from the new owners, and `EpochChangeDone`
//! arrives because the nodes reported `epoch_sync_done`. The node that
//! gains the most is down when the change starts: it must notice the
//! change on restart (its weight is needed for the quorum). Two epochs
//! later the shards lost at epoch 1 are deleted from their old owners.

use floe_testkit::nodes as support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use floe_chain::floe::staking::EpochStep;
use floe_chain::{KeyPair, Keystore};
use floe_core::encoding::{
    ConsistencyCheck, EncodedBlob, EncodingConfig, PrimarySliver, SecondarySliver, decode_primary,
};
use floe_core::move_types::EpochState;
use floe_core::shard_assignment::ShardAssignment;
use floe_core::{pair_to_shard, shard_to_pair};
use support::{Chain, GenesisExtra, NodeProc, blob, encode, wait_for};

const WAIT: Duration = Duration::from_secs(60);
/// Stake per node (WAL): node 0 gets most of it, so it gains shards.
const STAKE_WAL: [u64; 4] = [40, 20, 20, 20];
const FROST_PER_WAL: u64 = 1_000_000_000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes a keystore with one operator key into `dir`.
fn operator_keystore(dir: &std::path::Path, key: &KeyPair) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("operator dir");
    let path = dir.join("operator.keystore");
    let mut store = Keystore::open(&path).expect("keystore");
    store.add(key.clone(), None).expect("add key");
    store.save().expect("save keystore");
    path
}

/// Which genesis node (seed index) is member `member` of `committee`.
fn node_of_member(
    chain: &Chain,
    committee: &floe_core::committee::Committee,
    member: usize,
) -> usize {
    let key = committee.members()[member].public_key;
    chain
        .keys
        .iter()
        .position(|k| k.public_key() == key)
        .expect("member is a genesis node")
}

/// Stores `encoded` on every node for 5 epochs and certifies it.
fn store_blob(chain: &Chain, nodes: &[NodeProc], encoded: &EncodedBlob) {
    let id = *encoded.metadata.blob_id();
    let object = chain.register(encoded, false, 5);
    let metadata = bcs::to_bytes(encoded.metadata.metadata()).expect("bcs");
    for node in nodes {
        wait_for("registration", WAIT, || {
            let (s, _) = node.req("PUT", &format!("/v1/blobs/{id}/metadata"), &metadata);
            (s == 201 || s == 200).then_some(())
        });
        node.upload(chain, encoded);
    }
    let confirmations: Vec<(usize, serde_json::Value)> = (0..4)
        .map(|i| (chain.member_of_key(i), nodes[i].confirm(&id, None)))
        .collect();
    chain.certify(object, &confirmations);
    for node in nodes {
        wait_for("certified status", WAIT, || {
            let status = node.get_json(&format!("/v1/blobs/{id}/status"));
            (status["permanent"]["isCertified"] == true).then_some(())
        });
    }
}

#[test]
fn shards_move_at_an_epoch_change_and_nodes_report_sync_done() {
    let operators: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate()).collect();
    let mut extra = GenesisExtra {
        floe: format!(
            "epoch_duration_ms = 3000\nfirst_epoch_start_ms = {}\n",
            now_ms() + 2_000
        ),
        ..GenesisExtra::default()
    };
    for op in &operators {
        extra
            .nodes
            .push(format!("operator = \"{}\"\n", op.address()));
        extra.top.push_str(&format!(
            "\n[[accounts]]\naddress = \"{}\"\nbalance = 10_000_000_000\ncoins = 2\n",
            op.address()
        ));
    }
    let chain = Chain::start_with(&extra);
    let mut nodes: Vec<NodeProc> = (0..4)
        .map(|i| {
            let dir = chain.dir.path().join(format!("operator{i}"));
            let keystore = operator_keystore(&dir, &operators[i]);
            let section = format!(
                "[operator]\nkeystore = \"{}\"\naddress = \"{}\"\n",
                keystore.display(),
                operators[i].address()
            );
            NodeProc::configure(&chain, i, &section)
        })
        .collect();
    for node in &mut nodes {
        node.start();
    }
    let n = chain.committee.n_shards();
    let config = EncodingConfig::new(n).expect("config");

    // Epoch 0: blobs stored and certified under the genesis assignment.
    let blobs: Vec<(Vec<u8>, EncodedBlob)> = (0..3u8)
        .map(|s| {
            let data = blob(40_000 + usize::from(s) * 30_000, 20 + s);
            let encoded = encode(&chain, &data);
            (data, encoded)
        })
        .collect();
    for (_, encoded) in &blobs {
        store_blob(&chain, &nodes, encoded);
    }
    let (genesis, genesis_shards) = chain
        .rt
        .block_on(chain.floe.committee_with_shards())
        .expect("genesis committee");
    assert_eq!(genesis_shards, ShardAssignment::contiguous(&genesis));

    // Uneven stake, then the committee for epoch 1.
    let wal = chain
        .rt
        .block_on(chain.floe.wal_coins(chain.user.address()))
        .expect("wal coins");
    let payment = wal.iter().max_by_key(|(_, v)| *v).expect("a WAL coin").0;
    for (i, amount) in STAKE_WAL.iter().enumerate() {
        let node_id = chain.committee.members()[chain.member_of_key(i)].node_id;
        let tx = chain
            .rt
            .block_on(chain.floe.stake_with_pool(
                &chain.user,
                node_id,
                amount * FROST_PER_WAL,
                payment,
            ))
            .expect("stake");
        assert!(tx.status.is_success(), "stake: {}", tx.status);
    }
    let status = chain
        .rt
        .block_on(chain.floe.epoch_status())
        .expect("status");
    let EpochStep::VotingEnd { at_ms } = status.next_step() else {
        panic!("unexpected epoch state {status:?}");
    };
    wait_for("the end of epoch 0", WAIT, || {
        let clock = chain.rt.block_on(chain.floe.clock_ms()).ok()?;
        (clock >= at_ms).then_some(())
    });
    let tx = chain
        .rt
        .block_on(chain.floe.voting_end(&chain.user))
        .expect("voting_end");
    assert!(tx.status.is_success(), "voting_end: {}", tx.status);

    // The biggest gainer is down when the change starts.
    nodes[0].kill9();
    let tx = chain
        .rt
        .block_on(chain.floe.initiate_epoch_change(&chain.user))
        .expect("initiate_epoch_change");
    assert!(
        tx.status.is_success(),
        "initiate_epoch_change: {}",
        tx.status
    );
    let (next, next_shards) = chain
        .rt
        .block_on(chain.floe.committee_with_shards())
        .expect("epoch 1 committee");
    assert_eq!(next.epoch(), 1);
    let owner_before = |shard: u16| {
        node_of_member(
            &chain,
            &genesis,
            genesis_shards.owner_of(shard).expect("owner"),
        )
    };
    let owner_after =
        |shard: u16| node_of_member(&chain, &next, next_shards.owner_of(shard).expect("owner"));
    let moved: Vec<u16> = (0..n)
        .filter(|&s| owner_before(s) != owner_after(s))
        .collect();
    assert!(!moved.is_empty(), "uneven stake moves shards");
    assert!(
        moved.iter().any(|&s| owner_after(s) == 0),
        "node 0 gains shards: {moved:?}"
    );
    // One previous holder of node 0's new shards goes down too, so node 0
    // gets those from the others' recovery symbols (including the symbols
    // of shards they just lost) instead of from the holder.
    let holder = moved
        .iter()
        .filter(|&&s| owner_after(s) == 0)
        .map(|&s| owner_before(s))
        .max_by_key(|&h| moved.iter().filter(|&&s| owner_before(s) == h).count())
        .expect("a previous holder");
    let up_weight: u16 = (0..4)
        .filter(|&i| i != holder)
        .map(|i| {
            next.members()[next
                .member_by_public_key(&chain.keys[i].public_key())
                .expect("member")]
            .weight
        })
        .sum();
    assert!(
        next.is_quorum(u32::from(up_weight)),
        "the nodes left up are a quorum"
    );
    nodes[holder].kill9();
    nodes[0].start();

    // The epoch change completes: a quorum reported sync done, node 0
    // among them (it is needed for the quorum).
    wait_for("EpochChangeDone for epoch 1", WAIT, || {
        let status = chain.rt.block_on(chain.floe.epoch_status()).ok()?;
        (status.epoch == 1 && matches!(status.state, EpochState::EpochChangeDone(_))).then_some(())
    });
    let metrics = |node: &NodeProc| {
        let (_, m) = node.req("GET", "/metrics", b"");
        String::from_utf8_lossy(&m).into_owned()
    };
    let m0 = metrics(&nodes[0]);
    assert!(
        m0.contains("floe_node_sync_done_calls_total{result=\"sent\"} 1"),
        "node 0 reported once:\n{m0}"
    );
    assert!(
        m0.contains("floe_node_sync_slivers_total{source=\"recovery\"}")
            && m0.contains("floe_node_recoveries_total{result=\"recovered\"}"),
        "node 0 recovered what the down holder had:\n{m0}"
    );
    // The holder comes back (a loser: nothing to sync, it reports at once).
    nodes[holder].start();
    for (i, node) in nodes.iter().enumerate() {
        // The cap records the report (the holder may have sent it before
        // it was killed, then its fresh metrics show no call).
        let start = std::time::Instant::now();
        loop {
            let health = node.get_json("/v1/health");
            let caps = chain
                .rt
                .block_on(chain.floe.owned_node_caps(operators[i].address()))
                .expect("caps");
            let reported = caps.iter().any(|(_, c)| c.last_epoch_sync_done == 1);
            if health["epoch"] == 1 && health["syncingShards"] == serde_json::json!([]) && reported
            {
                break;
            }
            assert!(
                start.elapsed() < WAIT,
                "node {i} did not finish syncing and report: {health}\n{}\n{}",
                metrics(node),
                node.log_tail(6000)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let m = metrics(node);
        assert!(m.contains("floe_node_epoch 1"), "node {i}: {m}");
        assert!(m.contains("floe_node_shards_syncing 0"), "node {i}: {m}");
    }

    // Every sliver of every moved shard is on its new owner and verifies;
    // the old owner still serves it (locked, not deleted).
    for (data, encoded) in &blobs {
        let id = *encoded.metadata.blob_id();
        for &shard in &moved {
            let pair = shard_to_pair(shard, &id, n);
            let owner = &nodes[owner_after(shard)];
            let path = format!("/v1/blobs/{id}/slivers/{pair}/primary");
            let (status, body) = owner.req("GET", &path, b"");
            assert_eq!(status, 200, "{path} on node {}", owner.index);
            let primary = PrimarySliver::from_bcs(&body).expect("primary sliver");
            primary
                .verify(&config, &encoded.metadata)
                .expect("primary verifies");
            assert_eq!(primary, encoded.primary[usize::from(pair)]);
            let path = format!("/v1/blobs/{id}/slivers/{pair}/secondary");
            let (status, body) = owner.req("GET", &path, b"");
            assert_eq!(status, 200, "{path} on node {}", owner.index);
            let secondary = SecondarySliver::from_bcs(&body).expect("secondary sliver");
            secondary
                .verify(&config, &encoded.metadata)
                .expect("secondary verifies");
            let (status, _) = nodes[owner_before(shard)].req("GET", &path, b"");
            assert_eq!(status, 200, "the previous owner keeps {path} readable");
        }
        // A read from the owners of epoch 1.
        let slivers: Vec<PrimarySliver> = (0..n)
            .map(|pair| {
                let owner = &nodes[owner_after(pair_to_shard(pair, &id, n))];
                let (status, body) = owner.req(
                    "GET",
                    &format!("/v1/blobs/{id}/slivers/{pair}/primary"),
                    b"",
                );
                assert_eq!(status, 200, "pair {pair} from node {}", owner.index);
                PrimarySliver::from_bcs(&body).expect("primary sliver")
            })
            .collect();
        let back = decode_primary(
            &config,
            &encoded.metadata,
            &slivers,
            ConsistencyCheck::Default,
        )
        .expect("decode");
        assert_eq!(&back, data);
    }
    // A node that lost shards no longer accepts uploads for them.
    let (_, encoded) = &blobs[0];
    let id = *encoded.metadata.blob_id();
    let lost = moved[0];
    let pair = shard_to_pair(lost, &id, n);
    let old = &nodes[owner_before(lost)];
    let (status, _) = old.req(
        "PUT",
        &format!("/v1/blobs/{id}/slivers/{pair}/primary"),
        &encoded.primary[usize::from(pair)].to_bcs(),
    );
    assert_eq!(
        status, 400,
        "a lost shard refuses uploads (SHARD_NOT_ASSIGNED)"
    );

    // Two more epochs: a lost shard is deleted two epochs after it was
    // lost; its new owner still serves it.
    for epoch in 2..=3 {
        advance_to(&chain, epoch);
    }
    let (last, last_shards) = chain
        .rt
        .block_on(chain.floe.committee_with_shards())
        .expect("epoch 3 committee");
    let mut dropped = 0;
    for (_, encoded) in &blobs {
        let id = *encoded.metadata.blob_id();
        for &shard in &moved {
            let now = node_of_member(&chain, &last, last_shards.owner_of(shard).expect("owner"));
            if now != owner_after(shard) || now == owner_before(shard) {
                continue;
            }
            let path = format!(
                "/v1/blobs/{id}/slivers/{}/primary",
                shard_to_pair(shard, &id, n)
            );
            // Once dropped, the old owner no longer serves the shard: Walrus's
            // 400 SHARD_NOT_ASSIGNED (while locked it still answered 200).
            wait_for("the lost shard to be dropped", WAIT, || {
                (nodes[owner_before(shard)].req("GET", &path, b"").0 == 400).then_some(())
            });
            assert_eq!(
                nodes[now].req("GET", &path, b"").0,
                200,
                "{path} on its owner"
            );
            dropped += 1;
        }
    }
    assert!(dropped > 0, "a shard lost at epoch 1 kept its new owner");
}

/// Drives the epoch state machine (voting_end, initiate_epoch_change, as
/// soon as each is allowed) until `epoch` is done (the nodes report).
fn advance_to(chain: &Chain, epoch: u32) {
    let start = std::time::Instant::now();
    loop {
        assert!(start.elapsed() < WAIT, "epoch {epoch} did not complete");
        let status = chain
            .rt
            .block_on(chain.floe.epoch_status())
            .expect("status");
        if status.epoch >= epoch && matches!(status.state, EpochState::EpochChangeDone(_)) {
            return;
        }
        let (at, voting) = match status.next_step() {
            EpochStep::VotingEnd { at_ms } => (at_ms, true),
            EpochStep::InitiateEpochChange { at_ms } => (at_ms, false),
            EpochStep::AwaitSync { .. } => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if status.clock_ms < at {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let tx = if voting {
            chain.rt.block_on(chain.floe.voting_end(&chain.user))
        } else {
            chain
                .rt
                .block_on(chain.floe.initiate_epoch_change(&chain.user))
        }
        .expect("epoch step");
        assert!(tx.status.is_success(), "epoch step: {}", tx.status);
    }
}
