//! Shard sync request (intent type 3): a node asks a previous owner for a
//! range of slivers of one shard during an epoch change, signing the request
//! so the sender can check it comes from the shard's new owner. Never sent
//! to the chain.
//!
//! Body: BCS enum `SyncShardRequest::V1` (tag `0x00`) followed by
//! `shard_index u16 || sliver_type (0 primary, 1 secondary) ||
//! starting_blob_id (32) || sliver_count u64 || epoch u32`.

use serde::{Deserialize, Serialize};

use super::{IntentType, MessageBody, ProtocolMessage};
use crate::BlobId;
use crate::encoding::Axis;

/// Version 1 of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SyncShardRequestV1 {
    /// Shard to sync.
    pub shard_index: u16,
    /// Primary or secondary slivers (stored separately, fetched separately).
    pub sliver_type: Axis,
    /// First blob id of the requested range (ids are scanned in order).
    pub starting_blob_id: BlobId,
    /// How many slivers to return from `starting_blob_id` on.
    pub sliver_count: u64,
    /// Epoch up to which blobs were certified (the previous epoch).
    pub epoch: u32,
}

/// A versioned sync-shard request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyncShardRequest {
    /// Version 1.
    V1(SyncShardRequestV1),
}

impl MessageBody for SyncShardRequest {
    const INTENT_TYPE: IntentType = IntentType::SYNC_SHARD;
}

/// A sync-shard message.
pub type SyncShardMsg = ProtocolMessage<SyncShardRequest>;
