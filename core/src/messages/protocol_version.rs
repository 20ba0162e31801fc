//! Protocol version update (intent type 6): a quorum certifies that the
//! nodes run `protocol_version` from `start_epoch` on.
//! Body: `start_epoch u32 || protocol_version u64`.

use serde::{Deserialize, Serialize};

use super::{IntentType, MessageBody, ProtocolMessage};

/// Body of a protocol version message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtocolVersionBody {
    /// First epoch of the new version (>= the current epoch on chain).
    pub start_epoch: u32,
    /// The version.
    pub protocol_version: u64,
}

impl MessageBody for ProtocolVersionBody {
    const INTENT_TYPE: IntentType = IntentType::PROTOCOL_VERSION;
}

/// A protocol version message.
pub type ProtocolVersionMsg = ProtocolMessage<ProtocolVersionBody>;
