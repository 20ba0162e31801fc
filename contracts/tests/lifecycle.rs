//! The whole store lifecycle through the ledger with real signed
//! transactions and real BLS certificates: reserve, register, certify,
//! extend (paid and with a resource), attributes, share and fund, delete,
//! burn, and WAL conservation (what the user paid is what the accounting
//! ring holds plus what was burnt plus shared-blob funds).

mod support;

use floe_chain::floe::calls::BlobRegistration;
use floe_chain::floe::{abort_location, abort_of};
use floe_chain::sui_sdk_types::Address;
use floe_core::move_types::{BlobCertified, BlobDeleted, BlobRegistered, InvalidBlobID, U256Le};
use support::*;

pub const BLOB_SIZE: u64 = 1000;

/// A registration for a blob of `size` bytes with a root derived from
/// `seed`; the id is derived by floe-core and checked against the twin.
pub fn registration(seed: u8, size: u64, deletable: bool) -> BlobRegistration {
    let reg = floe_testkit::msg::registration(seed, size, deletable);
    let twin = floe_contracts::floe::blob::derive_blob_id(reg.root_hash, 1, size);
    assert_eq!(twin, reg.blob_id, "core and twin derive the same blob id");
    reg
}

pub use floe_testkit::msg::encoded_length as encoded;

#[tokio::test]
async fn store_lifecycle_and_wal_conservation() {
    let net = devnet().await;
    let floe = &net.floe;
    let me = net.address();
    let initial = floe_contracts::wal::wal::initial_supply();

    // Reads of System.
    assert_eq!(floe.epoch().await.unwrap(), 0);
    let prices = floe.prices().await.unwrap();
    assert_eq!(prices.storage_price_per_unit_size, STORAGE_PRICE);
    assert_eq!(prices.write_price_per_unit_size, WRITE_PRICE);
    let committee = floe.committee().await.unwrap();
    assert_eq!(committee.n_shards(), 10);
    assert_eq!(committee.n_members(), 4);
    assert_eq!(floe.capacity().await.unwrap().total, CAPACITY);
    assert_eq!(floe.wal_balance(me).await.unwrap(), initial);
    assert_eq!(floe.wal_total_supply(me).await.unwrap(), initial);

    // Reserve and register in one transaction (deletable blob).
    let reg = registration(7, BLOB_SIZE, true);
    let size = encoded(BLOB_SIZE);
    let tx = floe
        .reserve_and_register(&net.user, size, 3, &reg, net.wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let registered: Vec<BlobRegistered> =
        tx.events_of(&floe.ids.event_tag("BlobRegistered")).unwrap();
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].blob_id, reg.blob_id);
    assert_eq!(registered[0].end_epoch, 3);
    let blob_id = created_of(floe, &tx, "blob", "Blob").await;
    assert_eq!(registered[0].object_id, object_id(blob_id));
    let blob = floe.blob(blob_id).await.unwrap();
    assert_eq!(blob.storage.storage_size, size);
    assert_eq!(blob.certified_epoch, None);
    assert_eq!(floe.owned_blobs(me).await.unwrap().len(), 1);
    // One unit for 3 epochs, plus the write price once.
    let paid_so_far = 3 * STORAGE_PRICE + WRITE_PRICE;
    assert_eq!(floe.wal_balance(me).await.unwrap(), initial - paid_so_far);
    assert_eq!(floe.capacity().await.unwrap().used, size);

    // Certify with a quorum certificate of every member.
    let msg = message(1, 0, 3, 0, &blob_cert_body(reg.blob_id, Some(blob_id)));
    let tx = floe
        .certify_blob(&net.user, blob_id, &net.certify(msg, &net.all()))
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let certified: Vec<BlobCertified> = tx.events_of(&floe.ids.event_tag("BlobCertified")).unwrap();
    assert_eq!(certified.len(), 1);
    assert!(!certified[0].is_extension);
    assert_eq!(floe.blob(blob_id).await.unwrap().certified_epoch, Some(0));

    // Extend by 2 paid epochs: end 3 -> 5.
    let tx = floe
        .extend_blob(&net.user, blob_id, 2, net.wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let ext: Vec<BlobCertified> = tx.events_of(&floe.ids.event_tag("BlobCertified")).unwrap();
    assert!(ext[0].is_extension);
    assert_eq!(ext[0].epoch, 0, "extensions keep the certified epoch");
    assert_eq!(ext[0].end_epoch, 5);
    let paid_so_far = paid_so_far + 2 * STORAGE_PRICE;

    // Extend with a resource bought for [5, 6).
    let tx = floe
        .reserve_space_for_epochs(&net.user, size, 5, 6, net.wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let extension = created_of(floe, &tx, "storage_resource", "Storage").await;
    let paid_so_far = paid_so_far + STORAGE_PRICE;
    let tx = floe
        .extend_blob_with_resource(&net.user, blob_id, extension)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    assert_eq!(floe.blob(blob_id).await.unwrap().storage.end_epoch, 6);

    // Attributes.
    let tx = floe
        .add_attributes(&net.user, blob_id, &[("content-type", "text/plain")])
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let tx = floe
        .set_attribute(&net.user, blob_id, "name", "hello.txt")
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let tx = floe.take_attributes(&net.user, blob_id).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);

    // Delete the deletable blob: its storage comes back.
    let tx = floe.delete_blob(&net.user, blob_id).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let deleted: Vec<BlobDeleted> = tx.events_of(&floe.ids.event_tag("BlobDeleted")).unwrap();
    assert!(deleted[0].was_certified);
    let storage = floe.owned_storage(me).await.unwrap();
    assert_eq!(storage.len(), 1);
    assert_eq!(storage[0].1.end_epoch, 6);
    let freed = storage[0].0;

    // Reuse the freed storage for a permanent blob, certify it, share it
    // with funds, fund it more and extend it from its funds.
    let reg2 = registration(9, BLOB_SIZE, false);
    let tx = floe
        .register_blob(&net.user, freed, &reg2, net.wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let paid_so_far = paid_so_far + WRITE_PRICE;
    let blob2 = created_of(floe, &tx, "blob", "Blob").await;
    let msg = message(1, 0, 3, 0, &blob_cert_body(reg2.blob_id, None));
    let tx = floe
        .certify_blob(&net.user, blob2, &net.certify(msg, &net.all()))
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let tx = floe
        .share_blob(&net.user, blob2, 5 * STORAGE_PRICE, Some(net.wal))
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let shared = created_of(floe, &tx, "shared_blob", "SharedBlob").await;
    let tx = floe
        .fund_shared_blob(&net.user, shared, 2 * STORAGE_PRICE, net.wal)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let tx = floe.extend_shared_blob(&net.user, shared, 3).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let s = floe.shared_blob(shared).await.unwrap();
    assert_eq!(s.blob.storage.end_epoch, 9);
    assert_eq!(
        s.funds.value,
        4 * STORAGE_PRICE,
        "3 epochs of 1 unit paid from 7"
    );
    let paid_so_far = paid_so_far + 3 * STORAGE_PRICE;

    // A third blob, burnt uncertified (no event, storage gone).
    let reg3 = registration(11, BLOB_SIZE, false);
    let tx = floe
        .reserve_and_register(&net.user, size, 1, &reg3, net.wal)
        .await
        .unwrap();
    let paid_so_far = paid_so_far + STORAGE_PRICE + WRITE_PRICE;
    let blob3 = created_of(floe, &tx, "blob", "Blob").await;
    let tx = floe.burn_blob(&net.user, blob3).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    assert!(tx.events.is_empty());
    assert!(floe.owned_blobs(me).await.unwrap().is_empty());

    // Subsidy and a WAL burn.
    let tx = floe
        .add_subsidy(&net.user, net.wal, 1_003, 4)
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let paid_so_far = paid_so_far + 1_003;
    let tx = floe.burn_wal(&net.user, net.wal, 12_345).await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);

    // Invalidate a blob id with an f + 1 certificate.
    let msg = message(2, 0, 3, 0, &reg3.blob_id.0);
    let members: Vec<u16> = (0..4u16)
        .filter(|i| net.weights[usize::from(*i)] == 4)
        .collect();
    let tx = floe
        .invalidate_blob_id(&net.user, &net.certify(msg, &members))
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let invalid: Vec<InvalidBlobID> = tx.events_of(&floe.ids.event_tag("InvalidBlobID")).unwrap();
    assert_eq!(invalid[0].blob_id, reg3.blob_id);

    // Conservation: every FROST the user no longer holds is in the ring,
    // in shared-blob funds, or burnt; the supply dropped by the burn.
    let state = floe.system_state().await.unwrap();
    let ring: u64 = state
        .future_accounting
        .ring_buffer
        .iter()
        .map(|a| a.rewards_to_distribute.value)
        .sum();
    let held = floe.wal_balance(me).await.unwrap();
    let funds = floe.shared_blob(shared).await.unwrap().funds.value;
    assert_eq!(ring, paid_so_far, "the ring holds exactly what was paid");
    assert_eq!(initial - held, ring + funds + 12_345);
    assert_eq!(floe.wal_total_supply(me).await.unwrap(), initial - 12_345);
    // Bucket by bucket: epoch 0 got both write fees... (offset 0).
    let epoch0 = state.future_accounting.lookup(0).unwrap();
    assert_eq!(
        epoch0.rewards_to_distribute.value,
        2 * STORAGE_PRICE + 3 * WRITE_PRICE + 1_003 / 4 + 1_003 % 4
    );
    assert_eq!(abort_of(&tx), None);
}

/// Attribute removal returns `Option<String>` / `(String, String)`; the
/// transaction drops them, which needs `drop` on the std types
/// (`0x1::option::Option`, `0x1::string::String`) that the ledger declares.
#[tokio::test]
async fn attribute_removal() {
    let net = devnet().await;
    let floe = &net.floe;
    let reg = registration(21, BLOB_SIZE, false);
    let tx = floe
        .reserve_and_register(&net.user, encoded(BLOB_SIZE), 2, &reg, net.wal)
        .await
        .unwrap();
    let blob = created_of(floe, &tx, "blob", "Blob").await;
    let tx = floe.set_attribute(&net.user, blob, "k", "v").await.unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let tx = floe.remove_attribute(&net.user, blob, "k").await.unwrap();
    assert!(
        tx.status.is_success(),
        "remove_metadata_pair_if_exists: {}",
        tx.status
    );
    let tx = floe
        .set_attribute(&net.user, blob, "k", "v2")
        .await
        .unwrap();
    assert!(tx.status.is_success(), "{}", tx.status);
    let tx = floe
        .remove_attribute_strict(&net.user, blob, "k")
        .await
        .unwrap();
    assert!(
        tx.status.is_success(),
        "remove_metadata_pair: {}",
        tx.status
    );
    let tx = floe
        .remove_attribute_strict(&net.user, blob, "k")
        .await
        .unwrap();
    // `VecMap::remove`'s own assertion: located in `0x2::vec_map`.
    let missing = floe_contracts::floe::metadata::VEC_MAP_EKEY_DOES_NOT_EXIST;
    assert_eq!(
        abort_location(&tx),
        Some((Address::TWO, "vec_map".to_owned(), missing.code)),
        "{}",
        tx.status
    );
}

/// Plain-value functions a transaction (here a read-only view) can call:
/// a proof of possession built and verified on chain, and event-blob
/// values.
#[tokio::test]
async fn proof_of_possession_and_event_blob_values() {
    use floe_chain::sui_sdk_types::Identifier;
    use floe_chain::sui_transaction_builder::{Function, TransactionBuilder};

    let net = devnet().await;
    let floe = &net.floe;
    let me = net.address();
    let key = &net.signers[0];
    let mut message = vec![0u8, 0, 3];
    message.extend_from_slice(&7u32.to_le_bytes());
    message.extend_from_slice(me.as_bytes());
    message.extend_from_slice(&key.public_key().to_bytes());
    let good = key.sign(&message).0.to_vec();
    let bad = net.signers[1].sign(&message).0.to_vec();
    let f = |module: &'static str, name: &'static str| {
        Function::new(
            floe.ids.floe_package,
            Identifier::from_static(module),
            Identifier::from_static(name),
        )
    };
    for (signature, expected) in [(good, true), (bad, false)] {
        let mut b = TransactionBuilder::new();
        let args = vec![
            b.pure(&7u32),
            b.pure(&me),
            b.pure(&key.public_key().to_bytes().to_vec()),
        ];
        let msg = b.move_call(f("messages", "new_proof_of_possession_msg"), args);
        b.move_call(f("messages", "to_bcs"), vec![msg]);
        let sig = b.pure(&signature);
        b.move_call(f("messages", "verify_proof_of_possession"), vec![msg, sig]);
        let view = floe.client.view(me, b).await.unwrap();
        assert!(view.tx.status.is_success(), "{}", view.tx.status);
        let bytes: Vec<u8> = view.return_value(1, 0).unwrap();
        assert_eq!(bytes, message);
        let verified: bool = view.return_value(2, 0).unwrap();
        assert_eq!(verified, expected);
    }

    let mut b = TransactionBuilder::new();
    let args = vec![b.pure(&U256Le::from_u64(9)), b.pure(&42u64)];
    let blob = b.move_call(f("event_blob", "new_event_blob"), args);
    b.move_call(
        f("event_blob", "ending_checkpoint_sequence_number"),
        vec![blob],
    );
    let view = floe.client.view(me, b).await.unwrap();
    assert!(view.tx.status.is_success(), "{}", view.tx.status);
    let seq: u64 = view.return_value(1, 0).unwrap();
    assert_eq!(seq, 42);

    // A 47-byte key aborts EInvalidKeyLength.
    let mut b = TransactionBuilder::new();
    let args = vec![b.pure(&7u32), b.pure(&me), b.pure(&vec![0u8; 47])];
    b.move_call(f("messages", "new_proof_of_possession_msg"), args);
    let view = floe.client.view(me, b).await.unwrap();
    assert_eq!(
        abort_location(&view.tx),
        Some((
            floe_contracts::FLOE_PACKAGE_ID,
            "messages".to_owned(),
            floe_contracts::floe::messages::EInvalidKeyLength.code
        )),
        "{}",
        view.tx.status
    );
}

/// `extended_field::{new, swap, destroy}` on a `u64`, in one transaction.
#[tokio::test]
async fn extended_field_round_trip() {
    use floe_chain::sui_sdk_types::{Identifier, TypeTag};
    use floe_chain::sui_transaction_builder::{Function, TransactionBuilder};

    let net = devnet().await;
    let floe = &net.floe;
    let f = |name: &'static str| {
        Function::new(
            floe.ids.floe_package,
            Identifier::from_static("extended_field"),
            Identifier::from_static(name),
        )
        .with_type_args(vec![TypeTag::U64])
    };
    let mut b = TransactionBuilder::new();
    let five = b.pure(&5u64);
    let field = b.move_call(f("new"), vec![five]);
    let six = b.pure(&6u64);
    b.move_call(f("swap"), vec![field, six]);
    b.move_call(f("destroy"), vec![field]);
    let view = floe.client.view(net.address(), b).await.unwrap();
    assert!(view.tx.status.is_success(), "{}", view.tx.status);
    let old: u64 = view.return_value(1, 0).unwrap();
    let last: u64 = view.return_value(2, 0).unwrap();
    assert_eq!((old, last), (5, 6));
}
