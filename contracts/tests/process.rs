//! The twin behind a real `floe ledger run` process, reached only through
//! gRPC: genesis with storage nodes, discovery of System and the treasury,
//! reserve + register, certify with a committee certificate, and a restart
//! that keeps everything. The binary comes from `floe_testkit` (built if
//! missing or stale).

use floe_chain::floe::{Floe, FloeIds};
use floe_chain::{ChainClient, KeyPair};
use floe_contracts::{FLOE_PACKAGE_ID, WAL_PACKAGE_ID};
use floe_testkit::ledger::{Ledger, LedgerOptions};
use floe_testkit::msg::{
    certificate, committee_order, copy_key, encoded_length, genesis_keys, registration,
};

#[tokio::test]
async fn twin_behind_a_real_ledger_process() {
    let user = KeyPair::generate();
    let keys = genesis_keys();
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
    let mut ledger = Ledger::start(
        dir.path(),
        &dir.path().join("genesis.toml"),
        LedgerOptions::default(),
    );

    let client = ChainClient::connect_single(&ledger.endpoint()).expect("client");
    let ids = FloeIds::discover(&client, WAL_PACKAGE_ID, FLOE_PACKAGE_ID)
        .await
        .expect("discover");
    let floe = Floe::new(client, ids);
    assert_eq!(floe.prices().await.unwrap().storage_price_per_unit_size, 7);
    let committee = floe.committee().await.unwrap();
    assert_eq!(committee.n_shards(), 10);
    let wal = floe.wal_coins(user.address()).await.unwrap()[0].0;

    let reg = registration(5, 1234, false);
    let encoded = encoded_length(1234);
    let tx = floe
        .reserve_and_register(&user, encoded, 2, &reg, wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let (blob, _) = floe.owned_blobs(user.address()).await.unwrap()[0];

    // A quorum certificate by every member, in committee order.
    let mut message = vec![1, 0, 3, 0, 0, 0, 0];
    message.extend_from_slice(&reg.blob_id.0);
    message.push(0);
    let members: Vec<_> = committee_order(&committee, &keys)
        .into_iter()
        .map(|i| copy_key(&keys[i]))
        .collect();
    let cert = certificate(&members, &[0, 1, 2, 3], message);
    let tx = floe.certify_blob(&user, blob, &cert).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);

    // Restart: the certified blob and the system state are still there.
    ledger.restart();
    let client = ChainClient::connect_single(&ledger.endpoint()).expect("client");
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
