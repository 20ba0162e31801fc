//! Governance in the index, end to end on a real ledger: node operators
//! propose two parameter changes; the first gets votes until a quorum of
//! shards passes it, the second gets one vote against and no quorum. At
//! the epoch change the first applies and the second expires, and
//! `/v1/governance` and `/v1/governance/{id}` show exactly the chain's
//! votes, tallies, quorum, deadline and outcomes, also after every
//! checkpoint is replayed.
//!
//! The upgrade, slashing and subsidy events come from contracts on another
//! branch, so their rows are checked with synthetic decoded events written
//! through the committer (same statements, same guards), with the API's
//! filters, paging and errors.

mod support;

use std::time::{Duration, Instant};

use floe_chain::floe::governance::{is_quorum, quorum_weight};
use floe_chain::floe::membership::AuthWith;
use floe_chain::{ExecutedTx, FloeEvent, KeyPair};
use floe_contracts::genesis::GenesisNodeStaking;
use floe_core::move_types::{
    ContractUpgradeProposed, ContractUpgradeQuorumReached, ContractUpgraded, EpochChangeStart,
    NodeSlashed, NodeSubsidized, ObjectId, ParameterChange, SlashingQuorumReached, SlashingVoted,
    SubsidiesFunded, SubsidiesPaid, UpgradeAuthorized, UpgradeVoted,
};
use floe_indexer::api::{ApiState, router};
use floe_indexer::committer::write_rows;
use floe_indexer::governance::{EventAt, apply};
use floe_indexer::processor::Batch;
use floe_indexer::sqlx;
use serde_json::{Value, json};
use support::*;

const EPOCH_MS: u64 = 2_000;

async fn until_success<F, Fut>(what: &str, mut call: F) -> ExecutedTx
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<ExecutedTx, floe_chain::floe::FloeError>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let outcome = call().await;
        if let Ok(tx) = &outcome
            && tx.status.is_success()
        {
            return outcome.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{what} never succeeded: {outcome:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ok(tx: ExecutedTx, what: &str) -> ExecutedTx {
    assert!(tx.status.is_success(), "{what}: {}", tx.status);
    tx
}

/// The API over `pool` on a local port; returns a GET helper's base URL.
async fn serve(pool: &sqlx::PgPool) -> String {
    let api = router(ApiState {
        pool: pool.clone(),
        registry: std::sync::Arc::new(prometheus::Registry::new()),
        metrics: floe_indexer::Metrics::new(&prometheus::Registry::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });
    base
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json::<Value>().await.unwrap())
}

/// Follows `next_cursor` from `path` (which has a `limit`) to the end.
async fn all_pages(base: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = path.to_owned();
    for _ in 0..100 {
        let (status, page) = get(base, &url).await;
        assert_eq!(status, 200, "{url}: {page}");
        out.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{path}&cursor={c}"),
            None => return out,
        }
    }
    panic!("{path}: paging did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_proposals_pass_apply_and_expire_in_the_index() {
    let operators: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate()).collect();
    let funded: Vec<_> = operators.iter().map(KeyPair::address).collect();
    let staking: Vec<GenesisNodeStaking> = operators
        .iter()
        .map(|op| GenesisNodeStaking {
            operator: Some(op.address().to_string()),
            ..GenesisNodeStaking::default()
        })
        .collect();
    let net = devnet_with(
        move |g| {
            g.epoch_duration_ms = EPOCH_MS;
            g.node_staking = staking;
        },
        &funded,
    )
    .await;
    let floe = &net.floe;
    let mut nodes = Vec::new();
    for op in &operators {
        let owned = floe.owned_node_caps(op.address()).await.unwrap();
        assert_eq!(owned.len(), 1, "one cap per operator");
        nodes.push((owned[0].1.node_id, owned[0].0));
    }
    // Each operator's node and its shards in the current committee.
    let (committee, assignment) = floe.committee_with_shards().await.unwrap();
    let weight = |node: ObjectId| -> u16 {
        let i = committee
            .members()
            .iter()
            .position(|m| m.node_id == node)
            .expect("node in the committee");
        assignment.shards_of(i).len() as u16
    };
    let n_shards: u16 = SHARDS.iter().sum();
    let db = database("governance").await;
    let pool = db.pool.clone();
    let pipeline = net.pipeline(&pool, 3).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let indexer = tokio::spawn(pipeline.run(async move {
        let _ = stopped.await;
    }));

    // Operator 0 proposes; the others vote for, heaviest first, until the
    // quorum passes it (a vote after that would abort).
    let tx = ok(
        floe.propose_parameter_change(
            &operators[0],
            nodes[0].0,
            AuthWith::Sender,
            &ParameterChange::MaxEpochsAhead(20),
        )
        .await
        .unwrap(),
        "propose",
    );
    let first = floe_chain::floe::governance::created_proposal(floe, &tx).expect("created");
    let mut expected_votes = vec![(nodes[0].0, weight(nodes[0].0), true)];
    let mut tally = weight(nodes[0].0);
    let mut others: Vec<usize> = (1..4).collect();
    others.sort_by_key(|i| std::cmp::Reverse(weight(nodes[*i].0)));
    for i in others {
        if is_quorum(tally, n_shards) {
            break;
        }
        ok(
            floe.vote_on_parameter_change(&operators[i], nodes[i].0, AuthWith::Sender, first, true)
                .await
                .unwrap(),
            "vote for",
        );
        tally += weight(nodes[i].0);
        expected_votes.push((nodes[i].0, weight(nodes[i].0), true));
    }
    assert!(is_quorum(tally, n_shards));
    // Operator 1 proposes a base subsidy; operator 3 votes against.
    let tx = ok(
        floe.propose_parameter_change(
            &operators[1],
            nodes[1].0,
            AuthWith::Sender,
            &ParameterChange::BaseSubsidy(1_000),
        )
        .await
        .unwrap(),
        "propose the minority",
    );
    let second = floe_chain::floe::governance::created_proposal(floe, &tx).expect("created");
    let last = ok(
        floe.vote_on_parameter_change(&operators[3], nodes[3].0, AuthWith::Sender, second, false)
            .await
            .unwrap(),
        "vote against",
    );
    let before_change = net.settled(&last).await;
    wait_for_watermark(&pool, before_change).await;
    let base = serve(&pool).await;
    let (_, open) = get(&base, "/v1/governance?status=open").await;
    assert_eq!(open["data"].as_array().unwrap().len(), 1, "{open}");
    assert_eq!(
        open["data"][0]["proposal_id"],
        format!("parameter-{second}")
    );
    let (_, passed) = get(&base, &format!("/v1/governance/parameter-{first}")).await;
    assert_eq!(passed["data"]["status"], "passed", "{passed}");
    assert_eq!(passed["data"]["epoch_ended"], false, "{passed}");
    assert_eq!(passed["data"]["votes_for"], tally);

    // Stake so the next committee can be selected (genesis pools hold
    // none), then the epoch change applies the first and expires the
    // second.
    for (node, _) in &nodes {
        ok(
            floe.stake_with_pool(&net.user, *node, 10 * 1_000_000_000, net.wal)
                .await
                .unwrap(),
            "stake",
        );
    }
    until_success("voting_end", || floe.voting_end(&net.user)).await;
    let change = until_success("initiate_epoch_change", || {
        floe.initiate_epoch_change(&net.user)
    })
    .await;
    let end = net.settled(&change).await;
    wait_for_watermark(&pool, end).await;
    stop.send(()).unwrap();
    indexer.await.unwrap().unwrap();

    let (status, list) = get(&base, "/v1/governance").await;
    assert_eq!(status, 200);
    let list = list["data"].as_array().unwrap().clone();
    let ids: Vec<&str> = list
        .iter()
        .map(|p| p["proposal_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![format!("parameter-{second}"), format!("parameter-{first}")],
        "newest first"
    );
    let (start_ms,): (Option<i64>,) = sqlx::query_as("SELECT start_ms FROM epochs WHERE epoch = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (status, detail) = get(&base, &format!("/v1/governance/parameter-{first}")).await;
    assert_eq!(status, 200, "{detail}");
    let p = &detail["data"];
    assert_eq!(p["kind"], "parameter");
    assert_eq!(p["status"], "applied");
    assert_eq!(p["epoch"], 0);
    assert_eq!(
        p["payload"],
        json!({"parameter": "max-epochs-ahead", "value": 20})
    );
    assert_eq!(p["proposer"], nodes[0].0.to_string());
    assert_eq!(p["votes_for"], tally);
    assert_eq!(p["votes_against"], 0);
    assert_eq!(p["quorum"], quorum_weight(n_shards));
    assert_eq!(p["outcome"], json!({"applied_epoch": 1}));
    assert_eq!(
        p["deadline_ms"].as_i64(),
        start_ms,
        "deadline = next epoch's start"
    );
    assert_eq!(p["epoch_ended"], true);
    let votes: Vec<(String, u64, bool)> = p["votes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["node_id"].as_str().unwrap().to_owned(),
                v["weight"].as_u64().unwrap(),
                v["in_favor"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, bool)> = expected_votes
        .iter()
        .map(|(n, w, f)| (n.to_string(), u64::from(*w), *f))
        .collect();
    assert_eq!(votes, expected, "every vote, in chain order");
    assert_eq!(p["vote_count"], expected.len());
    let first_detail = p.clone();

    let (_, detail) = get(&base, &format!("/v1/governance/parameter-{second}")).await;
    let q = &detail["data"];
    assert_eq!(q["status"], "expired");
    assert_eq!(
        q["payload"],
        json!({"parameter": "base-subsidy", "value": 1000})
    );
    assert_eq!(
        (q["votes_for"].as_u64(), q["votes_against"].as_u64()),
        (
            Some(u64::from(weight(nodes[1].0))),
            Some(u64::from(weight(nodes[3].0)))
        )
    );
    assert_eq!(q["votes"][1]["in_favor"], false);
    assert_eq!(q["votes"][1]["node_id"], nodes[3].0.to_string());

    // Filters and errors.
    let (_, applied) = get(&base, "/v1/governance?kind=parameter&status=applied").await;
    assert_eq!(applied["data"].as_array().unwrap().len(), 1);
    let (_, none) = get(&base, "/v1/governance?kind=upgrade").await;
    assert_eq!(none["data"], json!([]));
    let (status, e) = get(&base, &format!("/v1/governance/parameter-{}", second + 100)).await;
    assert_eq!(status, 404, "{e}");
    assert!(e["error"].as_str().unwrap().contains("not indexed"));

    // Replaying every checkpoint, whole and in part, changes no row.
    let before = dump(&pool).await;
    let processor = net.processor();
    let mut everything = Batch::default();
    let mut early = Batch::default();
    for seq in 0..=end {
        let cp = net.client.get_checkpoint(seq).await.unwrap();
        processor.process(&cp, &mut everything).unwrap();
        if seq <= before_change {
            processor.process(&cp, &mut early).unwrap();
        }
    }
    for batch in [&everything, &early] {
        let mut tx = pool.begin().await.unwrap();
        write_rows(&mut tx, batch).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(
        dump(&pool).await,
        before,
        "replaying checkpoints changed rows"
    );
    let (_, again) = get(&base, &format!("/v1/governance/parameter-{first}")).await;
    assert_eq!(again["data"], first_detail);
}

const NODE_A: &str = "0x00000000000000000000000000000000000000000000000000000000000000aa";
const NODE_B: &str = "0x00000000000000000000000000000000000000000000000000000000000000bb";
const CANDIDATE: &str = "0x00000000000000000000000000000000000000000000000000000000000000cc";

/// A batch of synthetic decoded events, at positions `cp << 32 | i`.
fn batch(cp: i64, events: &[FloeEvent]) -> Batch {
    let mut b = Batch::default();
    for (i, event) in events.iter().enumerate() {
        let at = EventAt {
            pos: (cp << 32) | i as i64,
            tx_digest: "synthetic",
            timestamp_ms: Some(cp * 1000),
        };
        apply(event, at, &mut b.governance).unwrap();
    }
    b
}

async fn write(pool: &sqlx::PgPool, b: &Batch) {
    let mut tx = pool.begin().await.unwrap();
    write_rows(&mut tx, b).await.unwrap();
    tx.commit().await.unwrap();
}

fn object(text: &str) -> ObjectId {
    text.parse().unwrap()
}

fn upgrade_voted(package_digest: &[u8], node: &str, weight: u16, voting_weight: u16) -> FloeEvent {
    FloeEvent::UpgradeVoted(UpgradeVoted {
        epoch: 4,
        package_digest: package_digest.to_vec(),
        node_id: object(node),
        weight,
        voting_weight,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_slashing_and_subsidy_rows_are_written_once_and_paged() {
    let db = database("governance_synthetic").await;
    let pool = db.pool.clone();
    let digest = "0x0102";
    let digest_bytes = [1u8, 2];
    let stale_bytes = [0xffu8, 0xff];
    let upgrade = "upgrade-4-0102";
    let stale = "upgrade-4-ffff";
    let slashing = format!("slashing-4-{CANDIDATE}");
    let candidate = object(CANDIDATE);
    // Epoch 4: an upgrade reaches quorum and is authorized; another gets one
    // vote; a slashing vote reaches quorum; the pool pays two nodes.
    let b1 = batch(
        10,
        &[
            FloeEvent::ContractUpgradeProposed(ContractUpgradeProposed {
                epoch: 4,
                package_digest: digest_bytes.to_vec(),
            }),
            upgrade_voted(&digest_bytes, NODE_A, 6, 6),
            upgrade_voted(&digest_bytes, NODE_B, 4, 10),
            FloeEvent::ContractUpgradeQuorumReached(ContractUpgradeQuorumReached {
                epoch: 4,
                package_digest: digest_bytes.to_vec(),
            }),
            FloeEvent::ContractUpgradeProposed(ContractUpgradeProposed {
                epoch: 4,
                package_digest: stale_bytes.to_vec(),
            }),
            upgrade_voted(&stale_bytes, NODE_B, 4, 4),
            FloeEvent::SlashingVoted(SlashingVoted {
                epoch: 4,
                candidate,
                node_id: object(NODE_A),
                weight: 6,
                voting_weight: 6,
            }),
            FloeEvent::SlashingVoted(SlashingVoted {
                epoch: 4,
                candidate,
                node_id: object(NODE_B),
                weight: 4,
                voting_weight: 10,
            }),
            FloeEvent::SlashingQuorumReached(SlashingQuorumReached {
                epoch: 4,
                candidate,
            }),
            FloeEvent::SubsidiesFunded(SubsidiesFunded {
                amount: 5000,
                pool_balance: 5000,
            }),
            FloeEvent::NodeSubsidized(NodeSubsidized {
                epoch: 4,
                node_id: object(NODE_A),
                amount: 60,
            }),
            FloeEvent::NodeSubsidized(NodeSubsidized {
                epoch: 4,
                node_id: object(NODE_B),
                amount: 40,
            }),
            FloeEvent::SubsidiesPaid(SubsidiesPaid {
                epoch: 4,
                node_subsidies: 100,
                future_subsidies: 30,
                pool_balance: 4870,
            }),
        ],
    );
    let b2 = batch(
        11,
        &[
            FloeEvent::UpgradeAuthorized(UpgradeAuthorized {
                epoch: 4,
                package_digest: digest_bytes.to_vec(),
                version: 2,
                emergency: false,
            }),
            FloeEvent::NodeSlashed(NodeSlashed {
                epoch: 4,
                candidate,
                amount: 777,
            }),
        ],
    );
    // Epoch 5 starts (the other upgrade vote is stale), then the upgrade
    // is committed.
    let b3 = batch(
        12,
        &[
            FloeEvent::EpochChangeStart(EpochChangeStart { epoch: 5 }),
            FloeEvent::ContractUpgraded(ContractUpgraded {
                epoch: 5,
                package_id: object(NODE_B),
                version: 2,
            }),
        ],
    );
    for b in [&b1, &b2, &b3] {
        write(&pool, b).await;
    }
    let rows = dump(&pool).await;
    // Replays (one batch, all of them, out of order) change nothing.
    for b in [&b2, &b1, &b3, &b1] {
        write(&pool, b).await;
    }
    assert_eq!(dump(&pool).await, rows, "a replay changed rows");

    let base = serve(&pool).await;
    let (_, u) = get(&base, &format!("/v1/governance/{upgrade}")).await;
    let u = &u["data"];
    assert_eq!(u["status"], "upgraded", "{u}");
    assert_eq!(u["votes_for"], 10);
    assert_eq!(
        u["outcome"],
        json!({"version": 2, "emergency": false, "package_id": NODE_B, "upgraded_epoch": 5})
    );
    assert_eq!(u["payload"], json!({"package_digest": digest}));
    assert_eq!(u["votes"].as_array().unwrap().len(), 2);
    let (_, s) = get(&base, &format!("/v1/governance/{stale}")).await;
    assert_eq!(s["data"]["status"], "expired", "a newer epoch replaced it");
    let (_, sl) = get(&base, &format!("/v1/governance/{slashing}")).await;
    assert_eq!(sl["data"]["status"], "executed");
    assert_eq!(sl["data"]["outcome"], json!({"burnt": 777}));
    assert_eq!(sl["data"]["kind"], "slashing");

    // Filters.
    let ids = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["proposal_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, up) = get(&base, "/v1/governance?kind=upgrade").await;
    assert_eq!(ids(&up), vec![stale.to_owned(), upgrade.to_owned()]);
    let (_, ex) = get(&base, "/v1/governance?status=expired").await;
    assert_eq!(ids(&ex), vec![stale.to_owned()]);
    let (_, sx) = get(&base, "/v1/governance?kind=slashing&status=executed").await;
    assert_eq!(ids(&sx), vec![slashing.clone()]);
    for (bad, word) in [
        ("/v1/governance?kind=vote", "kind"),
        ("/v1/governance?status=done", "status"),
        ("/v1/governance?kind=parameter&status=quorum", "parameter"),
        ("/v1/governance?cursor=x", "cursor"),
        ("/v1/governance?limit=0", "limit"),
        ("/v1/governance?sort=1", "sort"),
        ("/v1/governance/nope", "proposal id"),
        ("/v1/subsidies?kind=gift", "kind"),
    ] {
        let (status, e) = get(&base, bad).await;
        assert_eq!(status, 400, "{bad}: {e}");
        assert!(e["error"].as_str().unwrap().contains(word), "{bad}: {e}");
    }
    let (status, _) = get(&base, "/v1/governance/upgrade-9-00").await;
    assert_eq!(status, 404);

    // Paging one at a time reaches the last item, each once.
    let paged = all_pages(&base, "/v1/governance?limit=1").await;
    let paged: Vec<&str> = paged
        .iter()
        .map(|p| p["proposal_id"].as_str().unwrap())
        .collect();
    assert_eq!(paged, vec![slashing.as_str(), stale, upgrade]);
    let subsidies = all_pages(&base, "/v1/subsidies?limit=1").await;
    let kinds: Vec<(&str, i64)> = subsidies
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![("paid", 100), ("node", 40), ("node", 60), ("funded", 5000)]
    );
    assert_eq!(subsidies[0]["future_subsidies"], 30);
    assert_eq!(subsidies[0]["pool_balance"], 4870);
    let (_, nodes) = get(&base, "/v1/subsidies?kind=node").await;
    assert_eq!(nodes["data"].as_array().unwrap().len(), 2);
}
