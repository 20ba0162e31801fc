//! Upgrade and slashing votes and subsidies through the ledger with
//! floe-chain's typed calls: every abort by name, the events, an upgrade
//! authorized by a quorum (and the devnet's clear refusal of the Upgrade
//! command itself), slashing that burns exactly the candidate's commission
//! (the WAL supply falls by it), subsidies paid to the FROST of what the
//! pool loses, and an empty pool that aborts and changes nothing.

mod support;

use std::time::{Duration, Instant};

use floe_chain::ExecutedTx;
use floe_chain::KeyPair;
use floe_chain::floe::governance::{created_proposal, quorum_weight};
use floe_chain::floe::membership::AuthWith;
use floe_chain::floe::votes::{events_of, node_slashed, subsidies_paid, upgrade_authorized};
use floe_chain::floe::{Floe, FloeError, abort_location};
use floe_contracts::FLOE_PACKAGE_ID;
use floe_core::move_types::{
    ContractUpgradeProposed, ContractUpgradeQuorumReached, NodeSubsidized, ObjectId,
    ParameterChange, SlashingQuorumReached, SlashingVoted, SubsidiesFunded, UpgradeVoted,
};
use support::*;

const WAL: u64 = 1_000_000_000;
const EPOCH_MS: u64 = 2_000;
const FIRST_EPOCH_DELAY_MS: u64 = 4_000;
const BASE_SUBSIDY: u64 = 3 * WAL;
const PER_SHARD: u64 = WAL / 10;
const RATE_BPS: u32 = 2_500;

fn assert_abort(tx: &ExecutedTx, module: &str, code: u64, name: &str) {
    assert_eq!(
        abort_location(tx),
        Some((FLOE_PACKAGE_ID, module.to_owned(), code)),
        "{}",
        tx.status
    );
    let text = tx.status.to_string();
    assert!(text.contains(&format!("{module}::{name}")), "{text}");
}

fn ok(tx: &ExecutedTx) {
    assert!(tx.is_success(), "{}", tx.status);
}

async fn when_due<F: AsyncFn() -> Result<ExecutedTx, FloeError>>(f: F) -> ExecutedTx {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tx = f().await.expect("executed");
        if tx.is_success() {
            return tx;
        }
        assert_eq!(
            abort_location(&tx),
            Some((FLOE_PACKAGE_ID, "staking_inner".to_owned(), 0)),
            "{}",
            tx.status
        );
        assert!(Instant::now() < deadline, "never due: {}", tx.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Nodes {
    ids: Vec<ObjectId>,
    /// Index of the member with 4, 3 and 1 shards.
    w4: usize,
    w3: usize,
    w1: usize,
}

async fn nodes(net: &Devnet) -> Nodes {
    let members = net.floe.committee().await.expect("committee");
    let by_weight = |w: u16| {
        net.weights
            .iter()
            .position(|x| *x == w)
            .expect("member with that weight")
    };
    Nodes {
        ids: members.members().iter().map(|m| m.node_id).collect(),
        w4: by_weight(4),
        w3: by_weight(3),
        w1: by_weight(1),
    }
}

async fn outsider(net: &Devnet) -> KeyPair {
    let key = KeyPair::generate();
    let (status, body) = faucet(&net.http, key.address(), None).await;
    assert_eq!(status, 201, "{body}");
    key
}

async fn commission(floe: &Floe, node: ObjectId) -> u64 {
    floe.pool(node).await.expect("pool").commission.value
}

#[tokio::test]
async fn upgrade_votes_reach_quorum_and_authorize() {
    let net = devnet().await;
    let floe = &net.floe;
    let gov = floe.governance_ids().await.expect("genesis objects");
    let n = nodes(&net).await;
    let op = |i: usize| &net.operators[i];
    let digest = vec![7u8; 32];

    let outsider = outsider(&net).await;
    let tx = floe
        .vote_for_upgrade(&outsider, &gov, n.ids[n.w4], AuthWith::Sender, &digest)
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 1, "ENotAuthorized");
    let tx = floe
        .vote_for_upgrade(op(n.w4), &gov, n.ids[n.w4], AuthWith::Sender, &[7; 31])
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 3, "EInvalidPackageDigest");
    let tx = floe
        .vote_for_upgrade(op(n.w4), &gov, ObjectId([9; 32]), AuthWith::Sender, &digest)
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 8, "ENotInCommittee");
    let tx = floe
        .authorize_upgrade(&outsider, &gov, &digest)
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 4, "ENoProposalForDigest");

    // Node 4 opens the proposal.
    let tx = floe
        .vote_for_upgrade(op(n.w4), &gov, n.ids[n.w4], AuthWith::Sender, &digest)
        .await
        .expect("executed");
    ok(&tx);
    let proposed: Vec<ContractUpgradeProposed> =
        events_of(floe, &tx, "events", "ContractUpgradeProposed");
    assert_eq!(proposed.len(), 1);
    assert_eq!(
        (proposed[0].epoch, &proposed[0].package_digest),
        (0, &digest)
    );
    let voted: Vec<UpgradeVoted> = events_of(floe, &tx, "upgrade", "UpgradeVoted");
    assert_eq!(
        (voted[0].node_id, voted[0].weight, voted[0].voting_weight),
        (n.ids[n.w4], 4, 4)
    );
    let tx = floe
        .vote_for_upgrade(op(n.w4), &gov, n.ids[n.w4], AuthWith::Sender, &digest)
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 2, "EDuplicateVote");
    let tx = floe
        .authorize_upgrade(&outsider, &gov, &digest)
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 6, "ENotEnoughVotes");

    // Node 3's 3 shards complete the quorum (7 of 10).
    let tx = floe
        .vote_for_upgrade(op(n.w3), &gov, n.ids[n.w3], AuthWith::Sender, &digest)
        .await
        .expect("executed");
    ok(&tx);
    let quorum: Vec<ContractUpgradeQuorumReached> =
        events_of(floe, &tx, "events", "ContractUpgradeQuorumReached");
    assert_eq!(quorum.len(), 1);
    let listed = floe.upgrade_proposals(&gov).await.expect("proposals");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].voting_weight,
            listed[0].quorum,
            listed[0].status,
            listed[0].version
        ),
        (7, 7, "quorum", 2)
    );
    assert_eq!(listed[0].digest, "07".repeat(32));

    // The whole upgrade cannot run on the devnet: a clear refusal.
    let err = floe
        .upgrade_package(
            &outsider,
            &gov,
            &digest,
            vec![vec![0xa1, 0x1c, 0xeb, 0x0b]],
            vec![],
        )
        .await
        .expect_err("the devnet has no Upgrade command");
    let text = err.to_string();
    assert!(
        text.contains("package upgrades are not supported by the floe devnet ledger"),
        "{text}"
    );
    assert_eq!(floe.upgrade_proposals(&gov).await.expect("read").len(), 1);

    // Authorizing alone works and stays recorded.
    let before = floe.upgrade_cap_status(&gov).await.expect("cap");
    assert_eq!((before.package, before.version), (Some(FLOE_PACKAGE_ID), 1));
    let tx = floe
        .authorize_upgrade(&outsider, &gov, &digest)
        .await
        .expect("executed");
    ok(&tx);
    let authorized = upgrade_authorized(floe, &tx).expect("UpgradeAuthorized");
    assert_eq!(
        (
            authorized.epoch,
            authorized.version,
            authorized.emergency,
            authorized.package_digest
        ),
        (0, 2, false, digest.clone())
    );
    let after = floe.upgrade_cap_status(&gov).await.expect("cap");
    assert_eq!((after.package, after.version), (None, 1));
    assert!(floe.upgrade_proposals(&gov).await.expect("read").is_empty());
    let tx = floe
        .authorize_upgrade(&outsider, &gov, &digest)
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 4, "ENoProposalForDigest");
}

/// Rates by proposal (nodes 4 and 3), stake, then the epoch change that
/// applies them; a slashing quorum and an upgrade quorum of epoch 0 are
/// stale afterwards.
#[tokio::test]
async fn slashing_burns_the_commission_and_subsidies_flow_exactly() {
    let net = devnet_with_epochs(EPOCH_MS, FIRST_EPOCH_DELAY_MS).await;
    let floe = &net.floe;
    let gov = floe.governance_ids().await.expect("genesis objects");
    let n = nodes(&net).await;
    let op = |i: usize| &net.operators[i];
    let outsider = outsider(&net).await;

    for change in [
        ParameterChange::BaseSubsidy(BASE_SUBSIDY),
        ParameterChange::SubsidyPerShard(PER_SHARD),
        ParameterChange::SystemSubsidyRate(RATE_BPS),
    ] {
        let tx = floe
            .propose_parameter_change(op(n.w4), n.ids[n.w4], AuthWith::Sender, &change)
            .await
            .expect("executed");
        ok(&tx);
        let id = created_proposal(floe, &tx).expect("ProposalCreated");
        ok(&floe
            .vote_on_parameter_change(op(n.w3), n.ids[n.w3], AuthWith::Sender, id, true)
            .await
            .expect("executed"));
    }
    // Quorums of epoch 0 that will be stale in epoch 1.
    let candidate = n.ids[n.w1];
    for i in [n.w4, n.w3] {
        ok(&floe
            .vote_for_slashing(op(i), &gov, n.ids[i], AuthWith::Sender, candidate)
            .await
            .expect("executed"));
        ok(&floe
            .vote_for_upgrade(op(i), &gov, n.ids[i], AuthWith::Sender, &[1; 32])
            .await
            .expect("executed"));
    }
    // Nothing is due at genesis rates: processing pays nothing.
    let tx = floe
        .process_subsidies(&outsider, &gov)
        .await
        .expect("executed");
    ok(&tx);
    assert!(subsidies_paid(floe, &tx).is_none());

    for node in &n.ids {
        ok(&floe
            .stake_with_pool(&net.user, *node, 10 * WAL, net.wal)
            .await
            .expect("executed"));
    }
    when_due(async || floe.voting_end(&net.user).await).await;
    when_due(async || floe.initiate_epoch_change(&net.user).await).await;
    assert_eq!(floe.epoch_status().await.expect("status").epoch, 1);
    let info = floe.subsidies_info(&gov).await.expect("info");
    assert_eq!(
        (
            info.base_subsidy,
            info.subsidy_per_shard,
            info.system_subsidy_rate
        ),
        (BASE_SUBSIDY, PER_SHARD, RATE_BPS)
    );
    let tx = floe
        .execute_slashing(&outsider, &gov, candidate)
        .await
        .expect("executed");
    assert_abort(&tx, "slashing", 3, "EWrongEpoch");
    let tx = floe
        .authorize_upgrade(&outsider, &gov, &[1; 32])
        .await
        .expect("executed");
    assert_abort(&tx, "upgrade", 5, "EWrongEpoch");

    // Storage bought in epoch 1 gives the epochs rewards to subsidize.
    ok(&floe
        .reserve_space(&net.user, 1 << 20, 3, net.wal)
        .await
        .expect("executed"));

    // An empty pool: the call aborts and nothing changes.
    let members = floe.committee().await.expect("committee");
    let commissions = async || {
        let mut v = Vec::new();
        for m in members.members() {
            v.push(commission(floe, m.node_id).await);
        }
        v
    };
    let rewards = async || {
        let state = floe.system_state().await.expect("system");
        (0..MAX_EPOCHS_AHEAD)
            .map(|i| {
                state
                    .future_accounting
                    .lookup(i)
                    .expect("ring")
                    .rewards_to_distribute
                    .value
            })
            .collect::<Vec<u64>>()
    };
    let (c0, r0) = (commissions().await, rewards().await);
    let tx = floe
        .process_subsidies(&outsider, &gov)
        .await
        .expect("executed");
    assert_abort(&tx, "subsidies", 0, "EInsufficientFundsInPool");
    assert_eq!(
        (commissions().await, rewards().await),
        (c0.clone(), r0.clone())
    );
    assert_eq!(
        floe.subsidies_info(&gov).await.expect("info").pool_balance,
        0
    );

    // Funded: every committee node gets base + shards * per-shard, the
    // epochs' rewards RATE_BPS of themselves, and the pool loses the sum.
    let fund = 1_000 * WAL;
    let tx = floe
        .fund_subsidies(&net.user, &gov, fund, net.wal)
        .await
        .expect("executed");
    ok(&tx);
    let funded: Vec<SubsidiesFunded> = events_of(floe, &tx, "subsidies", "SubsidiesFunded");
    assert_eq!((funded[0].amount, funded[0].pool_balance), (fund, fund));
    let tx = floe
        .process_subsidies(&outsider, &gov)
        .await
        .expect("executed");
    ok(&tx);
    let (c1, r1) = (commissions().await, rewards().await);
    let mut node_total = 0;
    for (i, m) in members.members().iter().enumerate() {
        let due = BASE_SUBSIDY + u64::from(m.weight) * PER_SHARD;
        assert_eq!(c1[i] - c0[i], due, "node {i}");
        node_total += due;
    }
    let mut future_total = 0;
    for i in 0..r0.len() {
        let due = (u128::from(r0[i]) * u128::from(RATE_BPS) / 10_000) as u64;
        assert_eq!(r1[i] - r0[i], due, "epoch offset {i}");
        future_total += due;
    }
    assert!(future_total > 0);
    let subsidized: Vec<NodeSubsidized> = events_of(floe, &tx, "subsidies", "NodeSubsidized");
    assert_eq!(subsidized.len(), members.members().len());
    let paid = subsidies_paid(floe, &tx).expect("SubsidiesPaid");
    assert_eq!(
        (paid.epoch, paid.node_subsidies, paid.future_subsidies),
        (1, node_total, future_total)
    );
    let pool = floe.subsidies_info(&gov).await.expect("info").pool_balance;
    assert_eq!(fund - pool, node_total + future_total);
    assert_eq!(paid.pool_balance, pool);
    // Once per epoch: a second call finds nothing new to pay.
    let tx = floe
        .process_subsidies(&outsider, &gov)
        .await
        .expect("executed");
    ok(&tx);
    assert!(subsidies_paid(floe, &tx).is_none());

    // Slashing node 1 by a quorum of epoch 1 burns exactly its commission.
    let tx = floe
        .vote_for_slashing(&outsider, &gov, n.ids[n.w4], AuthWith::Sender, candidate)
        .await
        .expect("executed");
    assert_abort(&tx, "slashing", 0, "ENotAuthorized");
    let tx = floe
        .vote_for_slashing(
            op(n.w4),
            &gov,
            n.ids[n.w4],
            AuthWith::Sender,
            ObjectId([9; 32]),
        )
        .await
        .expect("executed");
    assert_abort(&tx, "slashing", 6, "EUnknownCandidate");
    let mut weight = 0u16;
    let quorum = quorum_weight(members.n_shards());
    let mut reached = false;
    // Voters in committee order, heaviest first, until a quorum.
    let mut voters: Vec<_> = members.members().iter().collect();
    voters.sort_by_key(|m| std::cmp::Reverse(m.weight));
    for m in voters {
        if weight >= quorum {
            break;
        }
        let i = n
            .ids
            .iter()
            .position(|id| *id == m.node_id)
            .expect("member");
        let tx = floe
            .vote_for_slashing(op(i), &gov, m.node_id, AuthWith::Sender, candidate)
            .await
            .expect("executed");
        ok(&tx);
        let voted: Vec<SlashingVoted> = events_of(floe, &tx, "slashing", "SlashingVoted");
        weight += m.weight;
        assert_eq!(voted[0].voting_weight, weight);
        let q: Vec<SlashingQuorumReached> =
            events_of(floe, &tx, "slashing", "SlashingQuorumReached");
        reached = !q.is_empty();
        if !reached {
            let tx = floe
                .execute_slashing(&outsider, &gov, candidate)
                .await
                .expect("executed");
            assert_abort(&tx, "slashing", 4, "ENotEnoughVotes");
            let tx = floe
                .vote_for_slashing(op(i), &gov, m.node_id, AuthWith::Sender, candidate)
                .await
                .expect("executed");
            assert_abort(&tx, "slashing", 1, "EDuplicateVote");
        }
    }
    assert!(reached);
    let burnt = commission(floe, candidate).await;
    assert!(burnt > 0);
    let supply = floe
        .wal_total_supply(net.user.address())
        .await
        .expect("supply");
    let tx = floe
        .execute_slashing(&outsider, &gov, candidate)
        .await
        .expect("executed");
    ok(&tx);
    let slashed = node_slashed(floe, &tx).expect("NodeSlashed");
    assert_eq!(
        (slashed.epoch, slashed.candidate, slashed.amount),
        (1, candidate, burnt)
    );
    assert_eq!(commission(floe, candidate).await, 0);
    assert_eq!(
        floe.wal_total_supply(net.user.address())
            .await
            .expect("supply"),
        supply - burnt
    );
    let tx = floe
        .execute_slashing(&outsider, &gov, candidate)
        .await
        .expect("executed");
    assert_abort(&tx, "slashing", 2, "ENoProposalForNode");
}
