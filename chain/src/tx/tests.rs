use super::*;
use sui_crypto::SuiVerifier as _;
use sui_crypto::ed25519::Ed25519Verifier;

/// The first Sui keytool test key (see keystore tests).
const KEY: &str = "AJ3ZrjbuUbkSoDZMWMHyEzO82tLZGRGqEnImxRK+KFEC";

fn gas_coin() -> ObjectReference {
    ObjectReference::new(Address::from_static("0x1234"), 7, Digest::new([9; 32]))
}

fn transfer_tx(sender: Address) -> Transaction {
    let mut b = TransactionBuilder::new();
    let gas = b.gas();
    let amount = b.pure(&1_000u64);
    let coins = b.split_coins(gas, vec![amount]);
    let recipient = b.pure(&Address::TWO);
    b.transfer_objects(coins, recipient);
    b.set_sender(sender);
    b.set_gas_price(1000);
    b.set_gas_budget(DEFAULT_GAS_BUDGET);
    let g = gas_coin();
    b.add_gas_objects([ObjectInput::owned(*g.object_id(), g.version(), *g.digest())]);
    b.try_build().unwrap()
}

#[test]
fn signature_verifies_and_binds_the_transaction() {
    let key = KeyPair::from_keystore_entry(KEY).unwrap();
    let tx = transfer_tx(key.address());
    let sig = key.sign_transaction(&tx).unwrap();
    Ed25519Verifier::new()
        .verify_transaction(&tx, &sig)
        .unwrap();

    let mut other = tx.clone();
    other.gas_payment.budget += 1;
    assert!(
        Ed25519Verifier::new()
            .verify_transaction(&other, &sig)
            .is_err()
    );
    // The signature carries the signer's public key, hence its address.
    match &sig {
        UserSignature::Simple(sui_sdk_types::SimpleSignature::Ed25519 { public_key, .. }) => {
            assert_eq!(public_key.derive_address(), key.address());
        }
        other => panic!("unexpected signature {other:?}"),
    }
}

#[test]
fn digest_is_stable() {
    let key = KeyPair::from_keystore_entry(KEY).unwrap();
    let tx = transfer_tx(key.address());
    // Same inputs, same bytes, same digest: nothing random enters a build.
    assert_eq!(tx.digest(), transfer_tx(key.address()).digest());
    // The digest is Blake2b-256 over "TransactionData::" || BCS.
    let mut hasher = sui_sdk_types::hash::Hasher::new();
    hasher.update(b"TransactionData::");
    hasher.update(bcs::to_bytes(&tx).unwrap());
    assert_eq!(tx.digest(), Digest::new(hasher.finalize().into_inner()));
    // Pinned so that a dependency upgrade that changes the encoding is
    // noticed.
    assert_eq!(tx.digest().to_string(), PINNED_DIGEST);
    // Ed25519 signatures are deterministic too.
    let a = key.sign_transaction(&tx).unwrap();
    let b = key.sign_transaction(&tx).unwrap();
    assert_eq!(a, b);
}

const PINNED_DIGEST: &str = "Fb6QDysxUDT7AEh6hQZiCfeFYZuub8oVCLjgGRkV99Hp";

#[test]
fn inputs_are_excluded_from_gas() {
    let mut b = TransactionBuilder::new();
    let coin = b.object(ObjectInput::owned(
        Address::from_static("0xc0"),
        3,
        Digest::new([1; 32]),
    ));
    let other = b.object(ObjectInput::shared(Address::from_static("0x5a"), 1, true));
    b.merge_coins(coin, vec![other]);
    b.set_sender(Address::TWO);
    b.set_gas_price(1);
    b.set_gas_budget(1);
    b.add_gas_objects([placeholder_gas()]);
    let tx = b.try_build().unwrap();
    let ids = input_object_ids(&tx);
    assert_eq!(
        ids,
        vec![Address::from_static("0xc0"), Address::from_static("0x5a")]
    );
}

#[test]
fn dry_run_budget_has_margin_floor_and_cap() {
    let gas = sui_sdk_types::GasCostSummary {
        computation_cost: 1_000_000,
        storage_cost: 2_000_000,
        storage_rebate: 1_500_000,
        non_refundable_storage_fee: 0,
    };
    assert_eq!(budget_from_dry_run(&gas, 1000, u64::MAX), 3_600_000);
    assert_eq!(budget_from_dry_run(&gas, 1000, 3_000_000), 3_000_000);
    let tiny = sui_sdk_types::GasCostSummary {
        computation_cost: 10,
        storage_cost: 0,
        storage_rebate: 0,
        non_refundable_storage_fee: 0,
    };
    assert_eq!(budget_from_dry_run(&tiny, 1000, u64::MAX), 1_000_000);
}
