//! Open membership through the ledger with floe-chain's typed calls: a
//! candidate registers (wrong proofs of possession, commission rates over
//! 100% and another node's cap fail with their named aborts), is staked,
//! enters the committee at the next epoch change, votes a price that
//! `update_prices` applies to `System`, earns rewards whose commission is
//! exactly `rate x rewards` (blocked until the next `voting_end`, then
//! collected by its cap), and a node whose stake is all withdrawn leaves
//! the next committee.

mod support;

use std::time::{Duration, Instant};

use floe_chain::ExecutedTx;
use floe_chain::KeyPair;
use floe_chain::floe::membership::{AuthWith, NodeRegistration};
use floe_chain::floe::{FloeError, abort_location};
use floe_chain::sui_sdk_types::Address;
use floe_contracts::FLOE_PACKAGE_ID;
use floe_core::bls::BlsSecretKey;
use floe_core::move_types::{Authorized, EpochState, NodeMetadata, ObjectId, VecMap, VotingParams};
use support::*;

const WAL: u64 = 1_000_000_000;
const EPOCH_MS: u64 = 2_000;
const FIRST_EPOCH_DELAY_MS: u64 = 4_000;
const COMMISSION_BPS: u16 = 1_000;
const NETWORK_KEY: [u8; 33] = [2; 33];

/// `tx` aborted in the floe package's `module` with `code`.
fn assert_abort(tx: &ExecutedTx, module: &str, code: u64) {
    assert_eq!(
        abort_location(tx),
        Some((FLOE_PACKAGE_ID, module.to_owned(), code)),
        "{}",
        tx.status
    );
}

/// Retries `f` until it succeeds (the Clock must pass a point first);
/// every failure before must be `staking_inner::EWrongEpochState`.
async fn when_due<F: AsyncFn() -> Result<ExecutedTx, FloeError>>(f: F) -> ExecutedTx {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tx = f().await.expect("executed");
        if tx.is_success() {
            return tx;
        }
        assert_abort(&tx, "staking_inner", 0);
        assert!(Instant::now() < deadline, "never due: {}", tx.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn registration(secret: &BlsSecretKey, sender: Address, epoch: u32) -> NodeRegistration {
    NodeRegistration {
        name: "candidate".into(),
        network_address: "candidate.example.com:9185".into(),
        metadata: NodeMetadata {
            image_url: String::new(),
            project_url: "https://example.com".into(),
            description: "a registered node".into(),
            extra_fields: VecMap::default(),
        },
        public_key: secret.public_key(),
        network_public_key: NETWORK_KEY.to_vec(),
        proof_of_possession: NodeRegistration::proof_of_possession(secret, epoch, sender),
        commission_rate_bps: COMMISSION_BPS,
        votes: VotingParams {
            storage_price: STORAGE_PRICE,
            write_price: WRITE_PRICE,
            node_capacity: CAPACITY,
        },
    }
}

/// The text of a failed registration.
fn failure(result: Result<floe_chain::floe::membership::Registration, FloeError>) -> String {
    match result {
        Ok(r) => panic!("registered {:?}", r.node_id),
        Err(e) => e.to_string(),
    }
}

async fn cap_of(net: &Devnet, operator: usize) -> (Address, ObjectId) {
    let caps = net
        .floe
        .owned_node_caps(net.operators[operator].address())
        .await
        .expect("caps");
    let (id, cap) = caps.first().expect("one cap");
    (*id, cap.node_id)
}

async fn sync_done(net: &Devnet, key: &KeyPair, cap: Address, epoch: u32) {
    let tx = net
        .floe
        .epoch_sync_done(key, cap, epoch)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
}

async fn members(net: &Devnet) -> Vec<ObjectId> {
    let state = net.floe.staking_state().await.expect("state");
    state
        .committee
        .pos0
        .contents
        .iter()
        .map(|e| e.key)
        .collect()
}

async fn next_members(net: &Devnet) -> Vec<ObjectId> {
    let state = net.floe.staking_state().await.expect("state");
    let next = state.next_committee.expect("next committee selected");
    next.pos0.contents.iter().map(|e| e.key).collect()
}

#[tokio::test]
async fn registration_votes_commission_and_committee_changes() {
    let net = devnet_with_epochs(EPOCH_MS, FIRST_EPOCH_DELAY_MS).await;
    let floe = &net.floe;
    let operator = KeyPair::generate();
    let (status, body) = faucet(&net.http, operator.address(), None).await;
    assert_eq!(status, 201, "{body}");
    let secret = BlsSecretKey::from_seed(&[0x77; 32]);
    let (genesis_cap, genesis_node) = cap_of(&net, 3).await;

    // Registration failures, each with its named abort in the error text.
    let wrong_epoch = registration(&secret, operator.address(), 1);
    let text = failure(floe.register_candidate(&operator, &wrong_epoch).await);
    assert!(
        text.contains("staking_pool::EInvalidProofOfPossession (code 4)"),
        "{text}"
    );
    let for_someone_else = registration(&secret, net.address(), 0);
    let text = failure(floe.register_candidate(&operator, &for_someone_else).await);
    assert!(text.contains("EInvalidProofOfPossession"), "{text}");
    let mut greedy = registration(&secret, operator.address(), 0);
    greedy.commission_rate_bps = 10_001;
    let text = failure(floe.register_candidate(&operator, &greedy).await);
    assert!(
        text.contains("staking_pool::EIncorrectCommissionRate (code 14)"),
        "{text}"
    );
    let mut keyless = registration(&secret, operator.address(), 0);
    keyless.network_public_key = vec![2; 32];
    let text = failure(floe.register_candidate(&operator, &keyless).await);
    assert!(
        text.contains("storage_node::EInvalidNetworkPublicKey (code 0)"),
        "{text}"
    );

    // The registration: a pool whose id is the node id, the cap to the
    // signer, commission to the cap, governance to the signer.
    let reg = floe
        .register_candidate(&operator, &registration(&secret, operator.address(), 0))
        .await
        .expect("registered");
    let node = reg.node_id;
    let info = floe.node_info(node).await.expect("node info");
    assert_eq!(info.pool.node_info.name, "candidate");
    assert_eq!(
        info.pool.node_info.public_key.bytes,
        secret.public_key().as_bytes()
    );
    assert_eq!(info.pool.node_info.network_public_key, NETWORK_KEY);
    assert_eq!(info.metadata.description, "a registered node");
    assert_eq!(info.pool.commission_rate, COMMISSION_BPS);
    assert_eq!(
        info.commission_receiver(),
        Authorized::ObjectID(object_id(reg.cap))
    );
    assert_eq!(
        info.governance_authorized(),
        Authorized::Address(object_id(operator.address()))
    );
    assert_eq!((info.shards, info.next_shards), (0, None));

    // Walrus forbids no second registration of a key (the proof binds it
    // to the sender only): it is another pool, with another id.
    let again = floe
        .register_candidate(&operator, &registration(&secret, operator.address(), 0))
        .await
        .expect("registered twice");
    assert_ne!(again.node_id, node);

    // Another node's cap opens neither a genesis pool's commission nor its
    // records; rates above 100% never get scheduled.
    let tx = floe
        .collect_commission(&operator, genesis_node, AuthWith::Cap(reg.cap))
        .await
        .expect("executed");
    assert_abort(&tx, "staking_pool", 15);
    assert!(tx.status.to_string().contains("EAuthorizationFailure"));
    let tx = floe
        .set_commission_receiver(
            &operator,
            genesis_node,
            AuthWith::Cap(reg.cap),
            Authorized::ObjectID(object_id(reg.cap)),
        )
        .await
        .expect("executed");
    assert_abort(&tx, "staking_pool", 15);
    let tx = floe
        .set_next_commission(&operator, reg.cap, 10_001)
        .await
        .expect("executed");
    assert_abort(&tx, "staking_pool", 14);

    // Storage for epochs 1 and 2 (none in epoch 0, so the genesis pools,
    // which hold no stake, earn nothing and stay out of the active set),
    // then stake: 60 WAL with the candidate, 40 with genesis node 3.
    let tx = floe
        .reserve_space_for_epochs(&net.user, 5 << 20, 1, 3, net.wal)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let tx = floe
        .stake_with_pool(&net.user, node, 60 * WAL, net.wal)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let tx = floe
        .stake_with_pool(&net.user, genesis_node, 40 * WAL, net.wal)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let genesis_stake = created_of(floe, &tx, "staked_wal", "StakedWal").await;

    // Epoch 0 -> 1: the candidate enters the committee (D'Hondt: 6 and 4).
    when_due(async || floe.voting_end(&net.user).await).await;
    let mut expected = vec![node, genesis_node];
    expected.sort();
    assert_eq!(next_members(&net).await, expected);
    when_due(async || floe.initiate_epoch_change(&net.user).await).await;
    assert_eq!(members(&net).await, expected);
    let committee = floe.committee().await.expect("committee");
    assert!(
        committee
            .members()
            .iter()
            .any(|m| m.node_id == node && m.public_key == secret.public_key() && m.weight == 6)
    );
    sync_done(&net, &operator, reg.cap, 1).await;
    sync_done(&net, &net.operators[3], genesis_cap, 1).await;

    // Price votes: the price is the least value the votes of a quorum (7
    // of 10 shards) are at or below, applied at once by update_prices.
    // The candidate (6 shards) at 2P and node 3 (4) at P: 2P.
    let tx = floe
        .vote_prices(&operator, reg.cap, Some(2 * STORAGE_PRICE), None)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let system = floe.system_state().await.expect("system");
    assert_eq!(system.storage_price_per_unit_size, 2 * STORAGE_PRICE);
    assert_eq!(system.write_price_per_unit_size, WRITE_PRICE);
    // Node 3 at 3P: 3P; its write vote of 1 has only 4 shards below W.
    let tx = floe
        .vote_prices(
            &net.operators[3],
            genesis_cap,
            Some(3 * STORAGE_PRICE),
            Some(1),
        )
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let system = floe.system_state().await.expect("system");
    assert_eq!(system.storage_price_per_unit_size, 3 * STORAGE_PRICE);
    assert_eq!(system.write_price_per_unit_size, WRITE_PRICE);

    // Epoch 1 -> 2: the candidate earns epoch 1's rewards; its commission
    // is blocked until epoch 2's voting_end.
    when_due(async || floe.voting_end(&net.user).await).await;
    when_due(async || floe.initiate_epoch_change(&net.user).await).await;
    let info = floe.node_info(node).await.expect("node info");
    let commission = info.pool.commission.value;
    let rest = info.pool.rewards_pool.value;
    assert!(commission > 0, "no rewards reached the candidate");
    assert_eq!(
        u128::from(commission),
        u128::from(commission + rest) * u128::from(COMMISSION_BPS) / 10_000
    );
    assert_eq!(
        (info.blocked_commission, info.collectable_commission),
        (commission, 0)
    );
    let tx = floe
        .collect_commission(&operator, node, AuthWith::Cap(reg.cap))
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(floe.wal_balance(operator.address()).await.expect("wal"), 0);

    // Node 3's stake leaves (with the rewards its shares earned): its
    // projected stake is 0, so it drops out of the active set and is not
    // selected again; the candidate alone holds every shard.
    let tx = floe
        .request_withdraw_stake(&net.user, genesis_stake)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let state = floe.staking_state().await.expect("state");
    assert!(matches!(state.epoch_state, EpochState::EpochChangeSync(_)));
    sync_done(&net, &operator, reg.cap, 2).await;
    sync_done(&net, &net.operators[3], genesis_cap, 2).await;
    when_due(async || floe.voting_end(&net.user).await).await;
    assert_eq!(next_members(&net).await, vec![node]);

    // voting_end unblocked the commission: the cap collects exactly it.
    let tx = floe
        .collect_commission(&operator, node, AuthWith::Cap(reg.cap))
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    assert_eq!(
        floe.wal_balance(operator.address()).await.expect("wal"),
        commission
    );
    let info = floe.node_info(node).await.expect("node info");
    assert_eq!(info.pool.commission.value, 0);
    assert_eq!(info.next_shards, Some(10));
}

/// Setters with the node's own cap change its record; a rate is scheduled
/// two epochs ahead; a rotated key needs its own proof of possession.
#[tokio::test]
async fn setters_change_the_record() {
    let net = devnet().await;
    let floe = &net.floe;
    let operator = KeyPair::generate();
    let (status, body) = faucet(&net.http, operator.address(), None).await;
    assert_eq!(status, 201, "{body}");
    let secret = BlsSecretKey::from_seed(&[0x78; 32]);
    let reg = floe
        .register_candidate(&operator, &registration(&secret, operator.address(), 0))
        .await
        .expect("registered");
    let cap = reg.cap;
    for tx in [
        floe.set_node_name(&operator, cap, "renamed").await,
        floe.set_network_address(&operator, cap, "10.1.2.3:9000")
            .await,
        floe.set_network_public_key(&operator, cap, &[3; 33]).await,
        floe.set_node_capacity_vote(&operator, cap, 42).await,
        floe.set_storage_price_vote(&operator, cap, 11).await,
        floe.set_write_price_vote(&operator, cap, 12).await,
        floe.set_next_commission(&operator, cap, 2_500).await,
        floe.set_node_metadata(
            &operator,
            cap,
            &NodeMetadata {
                image_url: "https://example.com/i.png".into(),
                project_url: String::new(),
                description: "updated".into(),
                extra_fields: VecMap::default(),
            },
        )
        .await,
        floe.set_governance_authorized(
            &operator,
            reg.node_id,
            AuthWith::Sender,
            Authorized::ObjectID(object_id(cap)),
        )
        .await,
        floe.try_join_active_set(&operator, cap).await,
    ] {
        let tx = tx.expect("executed");
        assert!(tx.is_success(), "{}", tx.status);
    }
    let rotated = BlsSecretKey::from_seed(&[0x79; 32]);
    let tx = floe
        .set_next_public_key(&operator, cap, &rotated, 1)
        .await
        .expect("executed");
    assert_abort(&tx, "staking_pool", 4);
    let tx = floe
        .set_next_public_key(&operator, cap, &rotated, 0)
        .await
        .expect("executed");
    assert!(tx.is_success(), "{}", tx.status);
    let tx = floe
        .set_node_name(&operator, cap, &"n".repeat(101))
        .await
        .expect("executed");
    assert_abort(&tx, "staking_pool", 17);
    let tx = floe
        .set_network_public_key(&operator, cap, &[3; 32])
        .await
        .expect("executed");
    assert_abort(&tx, "storage_node", 0);

    let info = floe.node_info(reg.node_id).await.expect("node info");
    let record = &info.pool.node_info;
    assert_eq!(record.name, "renamed");
    assert_eq!(record.network_address, "10.1.2.3:9000");
    assert_eq!(record.network_public_key, vec![3; 33]);
    assert_eq!(
        record
            .next_epoch_public_key
            .as_ref()
            .map(|k| k.bytes.clone()),
        Some(rotated.public_key().as_bytes().to_vec())
    );
    assert_eq!(info.metadata.description, "updated");
    assert_eq!(
        info.votes(),
        VotingParams {
            storage_price: 11,
            write_price: 12,
            node_capacity: 42,
        }
    );
    assert_eq!(info.pool.commission_rate, COMMISSION_BPS);
    assert_eq!(info.pending_commission_rates, vec![(2, 2_500)]);
    assert_eq!(
        info.governance_authorized(),
        Authorized::ObjectID(object_id(cap))
    );
    // The old authority (the sender's address) no longer governs.
    let tx = floe
        .set_governance_authorized(
            &operator,
            reg.node_id,
            AuthWith::Sender,
            Authorized::Address(object_id(operator.address())),
        )
        .await
        .expect("executed");
    assert_abort(&tx, "staking_pool", 15);
}
