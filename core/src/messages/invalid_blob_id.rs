//! Invalid blob id attestation (intent type 2): a node states that a blob's
//! encoding is inconsistent. f+1 shards of these (a validity certificate)
//! mark the id invalid on chain. Body: `blob_id (32 bytes)`.

use serde::{Deserialize, Serialize};

use super::{IntentType, MessageBody, ProtocolMessage};
use crate::BlobId;

/// Body of an invalid-blob-id attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvalidBlobIdBody(pub BlobId);

impl MessageBody for InvalidBlobIdBody {
    const INTENT_TYPE: IntentType = IntentType::INVALID_BLOB_ID;
}

/// An invalid-blob-id message.
pub type InvalidBlobIdMsg = ProtocolMessage<InvalidBlobIdBody>;
