//! Deny-list messages.
//!
//! `DENY_LIST_UPDATE` (type 4): a quorum certifies that node `node_id`'s deny
//! list has sequence number `sequence_number`, `size` bytes of blobs and
//! Merkle root `root`. Body: `node_id (32) || sequence u64 || size u64 ||
//! root u256 (32, little-endian)`.
//!
//! `DENY_LIST_BLOB_DELETED` (type 5): f+1 shards certify that a deny-listed
//! blob was deleted. Body: `blob_id (32)`.

use serde::{Deserialize, Serialize};

use super::{IntentType, MessageBody, ProtocolMessage};
use crate::BlobId;
use crate::move_types::{ObjectId, U256Le};

/// Body of a deny-list update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DenyListUpdateBody {
    /// The node whose list changed.
    pub node_id: ObjectId,
    /// Strictly increasing per node.
    pub sequence_number: u64,
    /// Encoded bytes of the listed blobs (reduces the node's rewards share).
    pub size: u64,
    /// Merkle root of the list.
    pub root: U256Le,
}

impl MessageBody for DenyListUpdateBody {
    const INTENT_TYPE: IntentType = IntentType::DENY_LIST_UPDATE;
}

/// Body of a deny-listed-blob-deleted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DenyListBlobDeletedBody(pub BlobId);

impl MessageBody for DenyListBlobDeletedBody {
    const INTENT_TYPE: IntentType = IntentType::DENY_LIST_BLOB_DELETED;
}

/// A deny-list update message.
pub type DenyListUpdateMsg = ProtocolMessage<DenyListUpdateBody>;
/// A deny-listed-blob-deleted message.
pub type DenyListBlobDeletedMsg = ProtocolMessage<DenyListBlobDeletedBody>;
