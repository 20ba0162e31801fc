//! Storage confirmation (`BLOB_CERT`, intent type 1): a node states it holds
//! its slivers of a blob; a quorum of these certifies the blob on chain.
//!
//! Body: `blob_id (32 bytes) || persistence`, where persistence is `0x00`
//! (permanent) or `0x01 || object_id (32 bytes)` (deletable, naming the
//! `Blob` object so a certificate cannot be replayed onto another object).

use serde::{Deserialize, Serialize};

use super::{IntentType, MessageBody, MessageError, ProtocolMessage};
use crate::BlobId;
use crate::move_types::ObjectId;

/// Whether the certified blob is permanent or deletable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlobPersistenceType {
    /// Permanent blob (BCS tag 0).
    Permanent,
    /// Deletable blob (BCS tag 1) with its Sui object id.
    Deletable {
        /// The `Blob` object's id.
        object_id: ObjectId,
    },
}

/// Body of a storage confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StorageConfirmationBody {
    /// The confirmed blob.
    pub blob_id: BlobId,
    /// Permanent or deletable.
    pub blob_type: BlobPersistenceType,
}

impl MessageBody for StorageConfirmationBody {
    const INTENT_TYPE: IntentType = IntentType::BLOB_CERT;

    fn precheck(body: &[u8]) -> Result<(), MessageError> {
        match body.get(32) {
            Some(0) | Some(1) | None => Ok(()),
            Some(&tag) => Err(MessageError::UnknownPersistenceType(tag)),
        }
    }
}

/// A storage confirmation message.
pub type Confirmation = ProtocolMessage<StorageConfirmationBody>;

impl Confirmation {
    /// The confirmation a node signs for `blob_id` in `epoch`.
    pub fn confirmation(epoch: u32, blob_id: BlobId, blob_type: BlobPersistenceType) -> Self {
        ProtocolMessage::new(epoch, StorageConfirmationBody { blob_id, blob_type })
    }
}
