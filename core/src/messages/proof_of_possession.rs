//! Proof of possession (intent type 0): a node proves it holds the secret of
//! the BLS key it registers, binding the key to its Sui address and the
//! current epoch. This blocks rogue-key attacks on aggregate signatures.
//!
//! Body: `sui_address (32) || bls_public_key (48 bytes, no length prefix)`;
//! the contract rebuilds exactly these bytes (`messages.move::to_bcs`) and
//! checks the signature with `bls12381_min_pk_verify`.

use serde::{Deserialize, Serialize};

use super::{IntentType, MessageBody, MessageError, ProtocolMessage};
use crate::bls::{BlsPublicKey, BlsSecretKey, BlsSignature};
use crate::move_types::ObjectId;

/// Body of a proof-of-possession message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProofOfPossessionBody {
    /// The registering transaction's sender.
    pub sui_address: ObjectId,
    /// The key being registered.
    pub bls_public_key: BlsPublicKey,
}

impl MessageBody for ProofOfPossessionBody {
    const INTENT_TYPE: IntentType = IntentType::PROOF_OF_POSSESSION;
}

/// A proof-of-possession message.
pub type ProofOfPossessionMsg = ProtocolMessage<ProofOfPossessionBody>;

/// The proof of possession of `secret` for `sui_address` in `epoch`: the
/// signature over the BCS message. Returns the signed bytes too.
pub fn proof_of_possession(
    secret: &BlsSecretKey,
    epoch: u32,
    sui_address: ObjectId,
) -> (Vec<u8>, BlsSignature) {
    let message = ProtocolMessage::new(
        epoch,
        ProofOfPossessionBody {
            sui_address,
            bls_public_key: secret.public_key(),
        },
    )
    .to_bytes();
    let signature = secret.sign(&message);
    (message, signature)
}

/// Checks a proof of possession as `register_candidate` does.
pub fn verify_proof_of_possession(
    public_key: &BlsPublicKey,
    epoch: u32,
    sui_address: ObjectId,
    signature: &BlsSignature,
) -> Result<(), MessageError> {
    let message = ProtocolMessage::new(
        epoch,
        ProofOfPossessionBody {
            sui_address,
            bls_public_key: *public_key,
        },
    )
    .to_bytes();
    public_key.verify(&message, signature)?;
    Ok(())
}
