//! WAL is minted once, at `wal::init` (Walrus's
//! `contracts/wal/sources/wal.move`): the devnet's faucet must hand out WAL
//! from a reserve funded out of that supply, never mint it. Checked on a real ledger process: after genesis, faucet
//! requests and a store lifecycle (storage, write fee, certification,
//! extension, subsidy, deletion), every FROST is still accounted for, in a
//! holder's coins or in the System's accounting buckets, and an emptied
//! reserve answers "faucet reserve exhausted" instead of minting.

mod support;

use floe_chain::KeyPair;
use floe_chain::floe::calls::BlobRegistration;
use floe_chain::sui_sdk_types::Address;
use floe_core::BlobId;
use floe_core::encoding::{EncodingConfig, EncodingType};
use floe_core::merkle::Node;
use floe_core::move_types::U256Le;
use support::*;

/// The ledger's keyless faucet account, which genesis gives the reserve
/// (`floe_ledger::genesis::FAUCET_ADDRESS`; the address is part of the
/// ledger's documented behaviour, seen here as any user of the binary sees it).
const FAUCET_ADDRESS: Address = Address::from_static("0xfa0ce7");

const RESERVE: u64 = 25_000;
const REQUEST: u64 = 7_000;
const SIZE: u64 = 1000;

/// FROST in `holders`' coins plus the rewards the System holds.
async fn accounted(net: &Devnet, holders: &[Address]) -> u64 {
    let mut total = 0u64;
    for h in holders {
        total += net.floe.wal_balance(*h).await.expect("balance");
    }
    let inner = net.floe.system_state().await.expect("system state");
    let rewards: u64 = inner
        .future_accounting
        .ring_buffer
        .iter()
        .map(|a| a.rewards_to_distribute.value)
        .sum();
    total + rewards
}

#[tokio::test]
async fn faucet_spends_a_reserve_and_the_wal_supply_is_constant() {
    let net = devnet_with_faucet(RESERVE, REQUEST).await;
    let f = &net.floe;
    let u = &net.user;
    let supply = floe_contracts::wal::wal::initial_supply();
    let wal_type = f.ids.wal_type().to_string();
    let recipients: Vec<Address> = (0..3).map(|_| KeyPair::generate().address()).collect();
    let mut holders = vec![u.address(), FAUCET_ADDRESS];
    holders.extend(&recipients);

    // Genesis moved the reserve out of the user's supply; nothing minted.
    assert_eq!(f.wal_balance(FAUCET_ADDRESS).await.unwrap(), RESERVE);
    assert_eq!(f.wal_balance(u.address()).await.unwrap(), supply - RESERVE);
    assert_eq!(accounted(&net, &holders).await, supply);

    // Three WAL requests fit in the reserve; SUI is still minted.
    for r in &recipients {
        let (status, body) = faucet(&net.http, *r, Some(&wal_type)).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(f.wal_balance(*r).await.unwrap(), REQUEST);
        let (status, body) = faucet(&net.http, *r, None).await;
        assert_eq!(status, 201, "{body}");
    }
    let left = RESERVE - 3 * REQUEST;
    assert_eq!(f.wal_balance(FAUCET_ADDRESS).await.unwrap(), left);
    assert_eq!(accounted(&net, &holders).await, supply);

    // The fourth does not: a clear error, and no coin appears.
    let late = KeyPair::generate().address();
    let (status, body) = faucet(&net.http, late, Some(&wal_type)).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("faucet reserve exhausted"), "{body}");
    assert_eq!(f.wal_balance(late).await.unwrap(), 0);
    assert_eq!(f.wal_balance(FAUCET_ADDRESS).await.unwrap(), left);

    // A store lifecycle moves WAL into the System's buckets and back.
    let encoded = EncodingConfig::new(10)
        .and_then(|c| c.encoded_blob_length(SIZE))
        .expect("encoded length");
    let root = [7u8; 32];
    let id = BlobId::derive(EncodingType::Rs2, SIZE, &Node::Digest(root));
    let reg = BlobRegistration {
        blob_id: U256Le(id.0),
        root_hash: U256Le(root),
        size: SIZE,
        encoding_type: 1,
        deletable: true,
    };
    let tx = f
        .reserve_and_register(u, encoded, 2, &reg, net.wal)
        .await
        .unwrap();
    assert!(tx.is_success(), "{}", tx.status);
    let blob = created_of(f, &tx, "blob", "Blob").await;
    let message = message(1, 0, 3, 0, &blob_cert_body(reg.blob_id, Some(blob)));
    let tx = f
        .certify_blob(u, blob, &net.certify(message, &net.all()))
        .await
        .unwrap();
    assert!(tx.is_success(), "{}", tx.status);
    let tx = f.extend_blob(u, blob, 1, net.wal).await.unwrap();
    assert!(tx.is_success(), "{}", tx.status);
    let tx = f.add_subsidy(u, net.wal, 1_001, 3).await.unwrap();
    assert!(tx.is_success(), "{}", tx.status);
    let tx = f.delete_blob(u, blob).await.unwrap();
    assert!(tx.is_success(), "{}", tx.status);

    let paid = supply - RESERVE - f.wal_balance(u.address()).await.unwrap();
    assert!(paid > 1_001, "the lifecycle paid storage and write fees");
    assert_eq!(accounted(&net, &holders).await, supply);
    assert_eq!(f.wal_total_supply(u.address()).await.unwrap(), supply);
}
