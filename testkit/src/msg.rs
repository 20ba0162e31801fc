//! Protocol messages, certificates and committee bookkeeping that tests
//! of several crates build by hand.

use floe_chain::ExecutedTx;
use floe_chain::floe::Floe;
use floe_chain::floe::calls::{BlobRegistration, CertificateArgs};
use floe_chain::sui_sdk_types::Address;
use floe_core::BlobId;
use floe_core::bls::{BlsSecretKey, aggregate_signatures};
use floe_core::committee::{Committee, signers_to_bitmap};
use floe_core::encoding::{EncodingConfig, EncodingType};
use floe_core::merkle::Node;
use floe_core::move_types::U256Le;

/// The BLS keys of the four genesis storage nodes tests use (seeds 1..=4).
pub fn genesis_keys() -> Vec<BlsSecretKey> {
    (0..4u8)
        .map(|i| BlsSecretKey::from_seed(&[i + 1; 32]))
        .collect()
}

/// An independent copy of a secret key.
pub fn copy_key(key: &BlsSecretKey) -> BlsSecretKey {
    BlsSecretKey::from_bytes(&key.to_bytes()[..]).expect("key copy")
}

/// For each committee member in committee order, the index of its key in
/// `keys` (node ids are made at genesis, so the order is known only from
/// the chain).
pub fn committee_order(committee: &Committee, keys: &[BlsSecretKey]) -> Vec<usize> {
    committee
        .members()
        .iter()
        .map(|member| {
            keys.iter()
                .position(|k| k.public_key() == member.public_key)
                .expect("every member's key is known")
        })
        .collect()
}

/// A protocol message: header (intent, version, app id, epoch LE) and body.
pub fn message(intent: u8, version: u8, app: u8, epoch: u32, body: &[u8]) -> Vec<u8> {
    let mut m = vec![intent, version, app];
    m.extend_from_slice(&epoch.to_le_bytes());
    m.extend_from_slice(body);
    m
}

/// BLOB_CERT body: permanent (`None`) or deletable for `object`.
pub fn blob_cert_body(blob_id: U256Le, object: Option<Address>) -> Vec<u8> {
    let mut body = blob_id.0.to_vec();
    match object {
        None => body.push(0),
        Some(id) => {
            body.push(1);
            body.extend_from_slice(id.as_bytes());
        }
    }
    body
}

/// A certificate over `message` signed by the members at `signers`
/// (indices into `members`, which is in committee order).
pub fn certificate(members: &[BlsSecretKey], signers: &[u16], message: Vec<u8>) -> CertificateArgs {
    let signatures: Vec<_> = signers
        .iter()
        .map(|i| members[usize::from(*i)].sign(&message))
        .collect();
    let signature = aggregate_signatures(&signatures).expect("aggregate");
    CertificateArgs {
        signature: signature.0.to_vec(),
        signers_bitmap: signers_to_bitmap(signers, members.len()).expect("bitmap"),
        message,
    }
}

/// The objects of type `floe::module::name` that `tx` created.
pub async fn created_of(
    floe: &Floe,
    tx: &ExecutedTx,
    module: &'static str,
    name: &'static str,
) -> Vec<Address> {
    let tag = floe.ids.floe_tag(module, name);
    let mut out = Vec::new();
    for c in tx.created() {
        let id = *c.reference.object_id();
        let info = floe.client.get_object(id).await.expect("created object");
        if info.struct_type() == Some(&tag) {
            out.push(id);
        }
    }
    out
}

/// Shards of the four genesis nodes' committee (1 + 2 + 3 + 4).
pub const GENESIS_SHARDS: u16 = 10;

/// A registration for a blob of `size` bytes whose Merkle root is
/// `[seed; 32]`, with the blob id floe-core derives from it (RS2).
pub fn registration(seed: u8, size: u64, deletable: bool) -> BlobRegistration {
    let root = [seed; 32];
    let id = BlobId::derive(EncodingType::Rs2, size, &Node::Digest(root));
    BlobRegistration {
        blob_id: U256Le(id.0),
        root_hash: U256Le(root),
        size,
        encoding_type: 1,
        deletable,
    }
}

/// The encoded length of a `size`-byte blob on the genesis committee
/// (what storage must be reserved for).
pub fn encoded_length(size: u64) -> u64 {
    EncodingConfig::new(GENESIS_SHARDS)
        .and_then(|c| c.encoded_blob_length(size))
        .expect("encoded length")
}
