//! Every abort code a transaction can reach, through the ledger with
//! signed transactions, checked against the twin's constants (which the
//! parity test ties to the Move sources).
//!
//! Not reachable from a transaction, by design of the contract (callers
//! check first, or the path is genesis/package-internal):
//! `system::{EInvalidMigration, EWrongVersion}`,
//! `system_state_inner::{EInvalidMaxEpochsAhead, EInvalidIdEpoch,
//! EIncorrectCommittee, EInvalidAccountingEpoch}`,
//! `storage_resource::EInvalidEpochRange`, `storage_accounting::ETooFarInFuture`,
//! `messages::{ENotDeletable, EInvalidKeyLength}`,
//! `bls_aggregate::EIncorrectCommittee`, `init::*`, `event_blob::*`.
//!
//! Each case checks the whole location Sui would report: the package and
//! module whose `assert!` fired (for example `blob` under
//! `system::register_blob`, `0x2::balance` for a short payment coin), not
//! only the code, and each scenario can only hit one assertion. The
//! expected module is written here from the Move sources, independently of
//! the twin's constants, so a twin check raised with another module's
//! constant fails.

mod support;

use floe_chain::ExecutedTx;
use floe_chain::floe::abort_location;
use floe_chain::floe::calls::BlobRegistration;
use floe_chain::sui_sdk_types::Address;
use floe_contracts::FLOE_PACKAGE_ID;
use floe_contracts::floe::{
    blob, bls_aggregate, encoding, messages, redstuff, storage_resource, system_state_inner,
};
use floe_contracts::registry::AbortCode;
use floe_runtime::framework::BALANCE_ENOT_ENOUGH;
use floe_testkit::msg::{encoded_length, registration};
use support::*;

const SIZE: u64 = 1000;

fn encoded() -> u64 {
    encoded_length(SIZE)
}

/// `tx` aborted in `package::module` with `expected`'s code, and
/// `expected` is the constant of that module with that name (so the
/// location is checked against the Move source, not only against the
/// twin's own bookkeeping).
#[track_caller]
fn aborted_in(tx: &ExecutedTx, package: Address, module: &str, expected: AbortCode, what: &str) {
    assert_eq!(
        (expected.package, expected.module),
        (package, module),
        "{what}: the twin's {} is not declared in {package}::{module}",
        expected.name
    );
    assert_eq!(
        abort_location(tx),
        Some((package, module.to_owned(), expected.code)),
        "{what}: expected {expected}, got {}",
        tx.status
    );
}

/// An abort in a floe module.
#[track_caller]
fn aborted(tx: &ExecutedTx, module: &str, expected: AbortCode, what: &str) {
    aborted_in(tx, FLOE_PACKAGE_ID, module, expected, what);
}

#[track_caller]
fn ok(tx: &ExecutedTx) {
    assert!(tx.status.is_success(), "{}", tx.status);
}

async fn storage(net: &Devnet, amount: u64, start: u32, end: u32) -> Address {
    let tx = net
        .floe
        .reserve_space_for_epochs(&net.user, amount, start, end, net.wal)
        .await
        .unwrap();
    ok(&tx);
    created_of(&net.floe, &tx, "storage_resource", "Storage").await
}

async fn registered(
    net: &Devnet,
    seed: u8,
    deletable: bool,
    epochs: u32,
) -> (Address, BlobRegistration) {
    let reg = registration(seed, SIZE, deletable);
    let tx = net
        .floe
        .reserve_and_register(&net.user, encoded(), epochs, &reg, net.wal)
        .await
        .unwrap();
    ok(&tx);
    (created_of(&net.floe, &tx, "blob", "Blob").await, reg)
}

#[tokio::test]
async fn every_reachable_abort_code() {
    let net = devnet().await;
    let f = &net.floe;
    let u = &net.user;
    let size = encoded();

    // --- system_state_inner ---
    let tx = f.reserve_space(u, size, 0, net.wal).await.unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidEpochsAhead,
        "zero epochs",
    );
    let tx = f
        .reserve_space(u, size, MAX_EPOCHS_AHEAD + 1, net.wal)
        .await
        .unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidEpochsAhead,
        "too many epochs",
    );
    let tx = f
        .reserve_space_for_epochs(u, size, 3, 3, net.wal)
        .await
        .unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidEpochsAhead,
        "empty range",
    );
    let tx = f.add_subsidy(u, net.wal, 10, 0).await.unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidEpochsAhead,
        "subsidy over 0 epochs",
    );
    let tx = f.reserve_space(u, 0, 1, net.wal).await.unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidResourceSize,
        "zero bytes",
    );
    let tx = f.reserve_space(u, CAPACITY + 1, 1, net.wal).await.unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EStorageExceeded,
        "over capacity",
    );

    // Not enough WAL in the payment coin: `sui::balance::ENotEnough`.
    let split = f.client.split_coin(u, Some(net.wal), &[10]).await.unwrap();
    ok(&split);
    let poor = *split.created()[0].reference.object_id();
    let tx = f.reserve_space(u, size, 1, poor).await.unwrap();
    aborted_in(
        &tx,
        Address::TWO,
        "balance",
        BALANCE_ENOT_ENOUGH,
        "payment too small",
    );

    // --- registration: blob, encoding, redstuff ---
    let small = storage(&net, 100, 0, 2).await;
    let tx = f
        .register_blob(u, small, &registration(1, SIZE, false), net.wal)
        .await
        .unwrap();
    aborted(&tx, "blob", blob::EResourceSize, "storage too small");
    let later = storage(&net, size, 2, 3).await;
    let tx = f
        .register_blob(u, later, &registration(1, SIZE, false), net.wal)
        .await
        .unwrap();
    aborted(&tx, "blob", blob::EResourceBounds, "storage starts later");
    let fitting = storage(&net, size, 0, 2).await;
    let mut wrong_id = registration(1, SIZE, false);
    wrong_id.blob_id.0[0] ^= 1;
    let tx = f
        .register_blob(u, fitting, &wrong_id, net.wal)
        .await
        .unwrap();
    aborted(&tx, "blob", blob::EInvalidBlobId, "blob id does not derive");
    let mut rs3 = registration(1, SIZE, false);
    rs3.encoding_type = 2;
    let tx = f.register_blob(u, fitting, &rs3, net.wal).await.unwrap();
    aborted(
        &tx,
        "encoding",
        encoding::EInvalidEncodingType,
        "encoding type 2",
    );
    let huge = registration(1, 1 << 40, false);
    let tx = f.register_blob(u, fitting, &huge, net.wal).await.unwrap();
    aborted(&tx, "redstuff", redstuff::EBlobTooLarge, "blob too large");

    // --- certificates: bls_aggregate, messages, blob ---
    let (deletable, dreg) = registered(&net, 2, true, 3).await;
    let (permanent, preg) = registered(&net, 3, false, 3).await;
    let good = blob_cert_body(dreg.blob_id, Some(deletable));
    let cert = |m: Vec<u8>, s: &[u16]| net.certify(m, s);

    let tx = f
        .certify_blob(
            u,
            deletable,
            &cert(message(1, 0, 3, 0, &good), &net.below_quorum()),
        )
        .await
        .unwrap();
    aborted(
        &tx,
        "bls_aggregate",
        bls_aggregate::ENotEnoughStake,
        "below quorum",
    );
    let mut long = cert(message(1, 0, 3, 0, &good), &net.all());
    long.signers_bitmap.push(0);
    let tx = f.certify_blob(u, deletable, &long).await.unwrap();
    aborted(
        &tx,
        "bls_aggregate",
        bls_aggregate::EInvalidBitmap,
        "bitmap too long",
    );
    let mut forged = cert(message(1, 0, 3, 0, &good), &net.all());
    forged.message = message(1, 0, 3, 0, &blob_cert_body(preg.blob_id, Some(deletable)));
    let tx = f.certify_blob(u, deletable, &forged).await.unwrap();
    aborted(
        &tx,
        "bls_aggregate",
        bls_aggregate::ESigVerification,
        "signature over other bytes",
    );

    for (m, code, what) in [
        (
            message(1, 1, 3, 0, &good),
            messages::EIncorrectIntentVersion,
            "version 1",
        ),
        (
            message(1, 0, 4, 0, &good),
            messages::EIncorrectAppId,
            "app 4",
        ),
        (
            message(1, 0, 3, 1, &good),
            messages::EIncorrectEpoch,
            "epoch 1",
        ),
        (
            message(2, 0, 3, 0, &good),
            messages::EInvalidMsgType,
            "INVALID_BLOB_ID type",
        ),
    ] {
        let tx = f
            .certify_blob(u, deletable, &cert(m, &net.all()))
            .await
            .unwrap();
        aborted(&tx, "messages", code, what);
    }
    let mut bad_tag = good.clone();
    bad_tag[32] = 2;
    let tx = f
        .certify_blob(
            u,
            deletable,
            &cert(message(1, 0, 3, 0, &bad_tag), &net.all()),
        )
        .await
        .unwrap();
    aborted(
        &tx,
        "messages",
        messages::EInvalidBlobPersistenceType,
        "persistence tag 2",
    );

    let other = blob_cert_body(preg.blob_id, Some(deletable));
    let tx = f
        .certify_blob(u, deletable, &cert(message(1, 0, 3, 0, &other), &net.all()))
        .await
        .unwrap();
    aborted(
        &tx,
        "blob",
        blob::EInvalidBlobId,
        "certificate for another blob id",
    );
    let as_permanent = blob_cert_body(dreg.blob_id, None);
    let tx = f
        .certify_blob(
            u,
            deletable,
            &cert(message(1, 0, 3, 0, &as_permanent), &net.all()),
        )
        .await
        .unwrap();
    aborted(
        &tx,
        "blob",
        blob::EInvalidBlobPersistenceType,
        "permanent cert, deletable blob",
    );
    let for_other_object = blob_cert_body(dreg.blob_id, Some(permanent));
    let tx = f
        .certify_blob(
            u,
            deletable,
            &cert(message(1, 0, 3, 0, &for_other_object), &net.all()),
        )
        .await
        .unwrap();
    aborted(
        &tx,
        "blob",
        blob::EInvalidBlobObject,
        "deletable cert for another object",
    );

    // --- blob lifecycle ---
    let tx = f.extend_blob(u, permanent, 1, net.wal).await.unwrap();
    aborted(&tx, "blob", blob::ENotCertified, "extend uncertified");
    let pcert = cert(
        message(1, 0, 3, 0, &blob_cert_body(preg.blob_id, None)),
        &net.all(),
    );
    ok(&f.certify_blob(u, permanent, &pcert).await.unwrap());
    let tx = f.certify_blob(u, permanent, &pcert).await.unwrap();
    aborted(&tx, "blob", blob::EAlreadyCertified, "certify twice");
    let tx = f.delete_blob(u, permanent).await.unwrap();
    aborted(&tx, "blob", blob::EBlobNotDeletable, "delete permanent");
    let gap = storage(&net, size, 5, 6).await;
    let tx = f
        .extend_blob_with_resource(u, permanent, gap)
        .await
        .unwrap();
    aborted(&tx, "blob", blob::EResourceBounds, "extension not adjacent");
    let tx = f
        .extend_blob(u, permanent, MAX_EPOCHS_AHEAD, net.wal)
        .await
        .unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidEpochsAhead,
        "extend past the ring",
    );
    let tx = f.extend_blob(u, permanent, 0, net.wal).await.unwrap();
    aborted(
        &tx,
        "system_state_inner",
        system_state_inner::EInvalidEpochsAhead,
        "extend by 0",
    );
    let tx = f.take_attributes(u, permanent).await.unwrap();
    aborted(
        &tx,
        "blob",
        blob::EMissingMetadata,
        "take without attributes",
    );
    ok(&f.add_attributes(u, permanent, &[("a", "b")]).await.unwrap());
    let tx = f.add_attributes(u, permanent, &[("c", "d")]).await.unwrap();
    aborted(&tx, "blob", blob::EDuplicateMetadata, "attributes twice");

    // --- storage_resource ---
    let s = storage(&net, size, 0, 4).await;
    let tx = f.split_storage_by_epoch(u, s, 0).await.unwrap();
    aborted(
        &tx,
        "storage_resource",
        storage_resource::EInvalidEpoch,
        "split at the start",
    );
    let tx = f.split_storage_by_size(u, s, size + 1).await.unwrap();
    aborted(
        &tx,
        "storage_resource",
        storage_resource::EIncompatibleAmount,
        "split larger than size",
    );
    let apart = storage(&net, size, 6, 7).await;
    let tx = f.fuse_storage(u, s, apart).await.unwrap();
    aborted(
        &tx,
        "storage_resource",
        storage_resource::EIncompatibleEpochs,
        "fuse non-adjacent",
    );
    let other_size = storage(&net, size + 1, 4, 5).await;
    let tx = f.fuse_storage(u, s, other_size).await.unwrap();
    aborted(
        &tx,
        "storage_resource",
        storage_resource::EIncompatibleAmount,
        "fuse periods of other sizes",
    );
    // And the happy paths of the same functions.
    ok(&f.split_storage_by_epoch(u, s, 2).await.unwrap());
    ok(&f.split_storage_by_size(u, s, 10).await.unwrap());
    ok(&f.destroy_storage(u, apart).await.unwrap());

    // --- invalidation below validity ---
    let m = message(2, 0, 3, 0, &preg.blob_id.0);
    let tx = f
        .invalidate_blob_id(u, &cert(m, &net.lightest()))
        .await
        .unwrap();
    aborted(
        &tx,
        "bls_aggregate",
        bls_aggregate::ENotEnoughStake,
        "invalidation below f + 1",
    );
}
