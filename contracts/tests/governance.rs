//! Parameter governance through the ledger with floe-chain's typed calls:
//! outsiders, unknown nodes, out-of-range values, a second proposal for a
//! parameter, double votes and votes on a passed proposal fail with their
//! named aborts; votes weigh shards; a proposal whose votes for reach
//! `3w >= 2n + 1` is applied by `initiate_epoch_change` (the next epoch
//! has the new length) and one below quorum expires without effect.

mod support;

use std::time::{Duration, Instant};

use floe_chain::ExecutedTx;
use floe_chain::KeyPair;
use floe_chain::floe::governance::{ProposalStatus, created_proposal};
use floe_chain::floe::membership::AuthWith;
use floe_chain::floe::{FloeError, abort_location};
use floe_contracts::FLOE_PACKAGE_ID;
use floe_core::move_types::{ObjectId, ParameterChange, ProposalApplied, ProposalExpired};
use support::*;

const WAL: u64 = 1_000_000_000;
const EPOCH_MS: u64 = 2_000;
const FIRST_EPOCH_DELAY_MS: u64 = 4_000;
const NEW_EPOCH_MS: u64 = 12_000;

/// `tx` aborted in `module` of the floe package with `code`, and its
/// status names the constant.
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

/// Events of type `name` (module `governance`) in `tx`.
fn events<T: serde::de::DeserializeOwned>(
    net: &Devnet,
    tx: &ExecutedTx,
    name: &'static str,
) -> Vec<T> {
    let tag = net.floe.ids.floe_tag("governance", name);
    tx.events
        .iter()
        .filter(|e| e.type_ == tag)
        .map(|e| bcs::from_bytes(&e.contents).expect("event"))
        .collect()
}

async fn proposals(net: &Devnet) -> Vec<ProposalStatus> {
    net.floe.proposals().await.expect("proposals")
}

#[tokio::test]
async fn proposals_pass_apply_expire_and_refuse_what_they_must() {
    let net = devnet_with_epochs(EPOCH_MS, FIRST_EPOCH_DELAY_MS).await;
    let floe = &net.floe;
    let members = floe.committee().await.expect("committee");
    let nodes: Vec<ObjectId> = members.members().iter().map(|m| m.node_id).collect();
    // Members by shards: the one with 4, with 3, with 2 and with 1.
    let by_weight = |w: u16| {
        net.weights
            .iter()
            .position(|x| *x == w)
            .expect("member with that weight")
    };
    let (w4, w3, w2, w1) = (by_weight(4), by_weight(3), by_weight(2), by_weight(1));
    let op = |i: usize| &net.operators[i];
    let shorter = ParameterChange::EpochDuration(NEW_EPOCH_MS);

    // Outsiders and bad values.
    let outsider = KeyPair::generate();
    let (status, body) = faucet(&net.http, outsider.address(), None).await;
    assert_eq!(status, 201, "{body}");
    let tx = floe
        .propose_parameter_change(&outsider, nodes[w4], AuthWith::Sender, &shorter)
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 0, "ENotAuthorized");
    let tx = floe
        .propose_parameter_change(op(w4), ObjectId([9; 32]), AuthWith::Sender, &shorter)
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 1, "ENotInCommittee");
    let tx = floe
        .propose_parameter_change(
            op(w4),
            nodes[w4],
            AuthWith::Sender,
            &ParameterChange::EpochDuration(9_999),
        )
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 6, "EOutOfRange");
    let tx = floe
        .propose_parameter_change(
            op(w4),
            nodes[w4],
            AuthWith::Sender,
            &ParameterChange::MaxEpochsAhead(MAX_EPOCHS_AHEAD),
        )
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 6, "EOutOfRange");
    assert!(floe.governance().await.expect("read").is_none());

    // The proposal: node 4's vote counts at once.
    let tx = floe
        .propose_parameter_change(op(w4), nodes[w4], AuthWith::Sender, &shorter)
        .await
        .expect("executed");
    ok(&tx);
    let id = created_proposal(floe, &tx).expect("ProposalCreated");
    let open = proposals(&net).await;
    assert_eq!(open.len(), 1);
    assert_eq!(
        (
            open[0].id,
            open[0].votes_for,
            open[0].votes_against,
            open[0].status
        ),
        (id, 4, 0, "open")
    );
    assert_eq!((open[0].quorum, open[0].n_shards), (7, 10));
    assert_eq!(open[0].parameter, "epoch-duration");
    assert_eq!(open[0].value, NEW_EPOCH_MS);

    // One open proposal per parameter; one vote per node.
    let tx = floe
        .propose_parameter_change(
            op(w3),
            nodes[w3],
            AuthWith::Sender,
            &ParameterChange::EpochDuration(20_000),
        )
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 3, "EProposalExists");
    let tx = floe
        .vote_on_parameter_change(op(w4), nodes[w4], AuthWith::Sender, id, false)
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 2, "EDuplicateVote");
    let tx = floe
        .vote_on_parameter_change(&outsider, nodes[w2], AuthWith::Sender, id, true)
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 0, "ENotAuthorized");
    let tx = floe
        .vote_on_parameter_change(op(w4), nodes[w4], AuthWith::Sender, id + 7, true)
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 4, "ENoProposal");

    // Node 1 against (4 for, 1 against), node 3 for: 7 of 10 passes.
    ok(&floe
        .vote_on_parameter_change(op(w1), nodes[w1], AuthWith::Sender, id, false)
        .await
        .expect("executed"));
    let tx = floe
        .vote_on_parameter_change(op(w3), nodes[w3], AuthWith::Sender, id, true)
        .await
        .expect("executed");
    ok(&tx);
    let passed = &proposals(&net).await[0];
    assert_eq!(
        (passed.votes_for, passed.votes_against, passed.status),
        (7, 1, "passed")
    );
    let tx = floe
        .vote_on_parameter_change(op(w2), nodes[w2], AuthWith::Sender, id, true)
        .await
        .expect("executed");
    assert_abort(&tx, "governance", 5, "EAlreadyPassed");

    // A second proposal that stays below quorum (4 + 2 of 10).
    let subsidy = ParameterChange::BaseSubsidy(WAL);
    let tx = floe
        .propose_parameter_change(op(w4), nodes[w4], AuthWith::Sender, &subsidy)
        .await
        .expect("executed");
    ok(&tx);
    let below = created_proposal(floe, &tx).expect("ProposalCreated");
    assert_eq!(below, id + 1);
    ok(&floe
        .vote_on_parameter_change(op(w2), nodes[w2], AuthWith::Sender, below, true)
        .await
        .expect("executed"));

    // Stake so the committee can be selected, then the epoch change.
    for node in &nodes {
        ok(&floe
            .stake_with_pool(&net.user, *node, 10 * WAL, net.wal)
            .await
            .expect("executed"));
    }
    when_due(async || floe.voting_end(&net.user).await).await;
    let before = floe.epoch_status().await.expect("status");
    assert_eq!(before.epoch_duration_ms, EPOCH_MS);
    let tx = when_due(async || floe.initiate_epoch_change(&net.user).await).await;
    let applied: Vec<ProposalApplied> = events(&net, &tx, "ProposalApplied");
    assert_eq!(applied.len(), 1);
    assert_eq!((applied[0].epoch, applied[0].proposal_id), (1, id));
    assert_eq!(applied[0].change, shorter);
    let expired: Vec<ProposalExpired> = events(&net, &tx, "ProposalExpired");
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (
            expired[0].epoch,
            expired[0].proposal_id,
            expired[0].votes_for
        ),
        (0, below, 6)
    );

    let after = floe.epoch_status().await.expect("status");
    assert_eq!(after.epoch, 1);
    assert_eq!(after.epoch_duration_ms, NEW_EPOCH_MS);
    let g = floe.governance().await.expect("read").expect("state");
    assert!(g.proposals.is_empty());
    assert_eq!(g.base_subsidy, 0, "the expired subsidy changed nothing");
    assert_eq!(g.next_proposal_id, below + 1);
}
