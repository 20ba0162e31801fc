//! Signed protocol messages, byte-identical to Walrus's (Walrus's `contracts/walrus/sources/system/messages.move`,
//! `contracts/walrus/docs/msg_formats.txt` and `crates/walrus-core/src/messages*.rs`).
//!
//! Every message is the BCS encoding of [`ProtocolMessage`]: a 7-byte header
//! `intent_type u8 || intent_version u8 (0) || app_id u8 (3) || epoch u32 LE`
//! followed by the body with no length prefix. Storage nodes sign these bytes
//! with BLS; certificates aggregate the signatures; the contracts parse the
//! same bytes. One module per body type.
//!
//! Parsing checks the header in the order Move does (`messages.move`):
//! intent version, app id, epoch, then the intent type, each failure with its
//! own [`MessageError`] variant. Unlike Move, which ignores trailing bytes
//! for extensibility, the Rust parsers are strict (as Walrus's Rust nodes
//! are) and report [`MessageError::TrailingBytes`].

pub mod certificate;
pub mod deny_list;
pub mod invalid_blob_id;
pub mod proof_of_possession;
pub mod protocol_version;
pub mod storage_confirmation;
pub mod sync_shard;

pub use certificate::{
    ConfirmationCertificate, InvalidBlobCertificate, ProtocolMessageCertificate, SignedMessage,
};
pub use deny_list::{DenyListBlobDeletedBody, DenyListUpdateBody};
pub use invalid_blob_id::InvalidBlobIdBody;
pub use proof_of_possession::{
    ProofOfPossessionBody, proof_of_possession, verify_proof_of_possession,
};
pub use protocol_version::ProtocolVersionBody;
pub use storage_confirmation::{BlobPersistenceType, StorageConfirmationBody};
pub use sync_shard::{SyncShardRequest, SyncShardRequestV1};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::bls::BlsError;

/// App id of Walrus storage messages.
pub const APP_ID_STORAGE: u8 = 3;
/// The only intent version.
pub const INTENT_VERSION: u8 = 0;
/// Header length: intent (3 bytes) + epoch (4 bytes).
pub const HEADER_LENGTH: usize = 7;

/// The message kind, first header byte. Values equal Walrus's and Move's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IntentType(pub u8);

impl IntentType {
    /// Proof of possession of a BLS key (`register_candidate`).
    pub const PROOF_OF_POSSESSION: Self = Self(0);
    /// Storage confirmation / blob certificate.
    pub const BLOB_CERT: Self = Self(1);
    /// Invalid blob id attestation.
    pub const INVALID_BLOB_ID: Self = Self(2);
    /// Shard sync request between nodes (never reaches the chain).
    pub const SYNC_SHARD: Self = Self(3);
    /// Deny-list update certificate.
    pub const DENY_LIST_UPDATE: Self = Self(4);
    /// Deny-listed blob deleted certificate.
    pub const DENY_LIST_BLOB_DELETED: Self = Self(5);
    /// Protocol version update certificate.
    pub const PROTOCOL_VERSION: Self = Self(6);
}

/// The 3-byte intent prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Intent {
    /// Message kind.
    pub r#type: IntentType,
    /// Intent version ([`INTENT_VERSION`]).
    pub version: u8,
    /// App id ([`APP_ID_STORAGE`]).
    pub app_id: u8,
}

impl Intent {
    /// The storage-app intent of the given kind, version 0.
    pub const fn storage(r#type: IntentType) -> Self {
        Intent {
            r#type,
            version: INTENT_VERSION,
            app_id: APP_ID_STORAGE,
        }
    }
}

/// A message body: knows its intent type and BCS layout.
pub trait MessageBody: Serialize + DeserializeOwned {
    /// The header's intent type for this body.
    const INTENT_TYPE: IntentType;

    /// Checks on the raw body bytes that give a more precise error than a
    /// generic decoding failure (e.g. an unknown enum tag). Default: none.
    fn precheck(_body: &[u8]) -> Result<(), MessageError> {
        Ok(())
    }
}

/// Why message bytes were rejected. Each header check has its own variant
/// so callers (and tests) can tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Shorter than the 7-byte header.
    #[error("message of {len} bytes is shorter than the {HEADER_LENGTH}-byte header")]
    Truncated {
        /// Actual length.
        len: usize,
    },
    /// Intent version other than 0 (Move `EIncorrectIntentVersion`).
    #[error("intent version {found}, expected {INTENT_VERSION}")]
    WrongIntentVersion {
        /// Found version.
        found: u8,
    },
    /// App id other than 3 (Move `EIncorrectAppId`).
    #[error("app id {found}, expected {APP_ID_STORAGE} (storage)")]
    WrongAppId {
        /// Found app id.
        found: u8,
    },
    /// Epoch differs from the expected one (Move `EIncorrectEpoch`).
    #[error("message epoch {found}, expected {expected}")]
    WrongEpoch {
        /// Expected epoch.
        expected: u32,
        /// Found epoch.
        found: u32,
    },
    /// Intent type differs from the body's (Move `EInvalidMsgType`).
    #[error("intent type {found}, expected {expected}")]
    WrongIntentType {
        /// Expected type.
        expected: u8,
        /// Found type.
        found: u8,
    },
    /// Unknown `BlobPersistenceType` tag (Move `EInvalidBlobPersistenceType`).
    #[error("unknown blob persistence type tag {0}")]
    UnknownPersistenceType(u8),
    /// The body does not decode.
    #[error("message body does not decode: {0}")]
    Body(String),
    /// Bytes left after the body.
    #[error("trailing bytes after the message body")]
    TrailingBytes,
    /// Signature invalid or not matching.
    #[error(transparent)]
    Signature(#[from] BlsError),
    /// Decoded message differs from the expected contents.
    #[error("message contents differ from the expected contents")]
    ContentMismatch,
}

/// The parsed 7-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// Intent.
    pub intent: Intent,
    /// Epoch.
    pub epoch: u32,
}

impl MessageHeader {
    /// Splits `bytes` into header and body without checking any value.
    pub fn split(bytes: &[u8]) -> Result<(MessageHeader, &[u8]), MessageError> {
        if bytes.len() < HEADER_LENGTH {
            return Err(MessageError::Truncated { len: bytes.len() });
        }
        let (head, body) = bytes.split_at(HEADER_LENGTH);
        let epoch = u32::from_le_bytes([head[3], head[4], head[5], head[6]]);
        let header = MessageHeader {
            intent: Intent {
                r#type: IntentType(head[0]),
                version: head[1],
                app_id: head[2],
            },
            epoch,
        };
        Ok((header, body))
    }

    /// Splits and checks version, app id and (if given) epoch, in Move's
    /// order. The intent type is left to the body parser.
    pub fn parse(
        bytes: &[u8],
        expected_epoch: Option<u32>,
    ) -> Result<(MessageHeader, &[u8]), MessageError> {
        let (header, body) = Self::split(bytes)?;
        if header.intent.version != INTENT_VERSION {
            return Err(MessageError::WrongIntentVersion {
                found: header.intent.version,
            });
        }
        if header.intent.app_id != APP_ID_STORAGE {
            return Err(MessageError::WrongAppId {
                found: header.intent.app_id,
            });
        }
        if let Some(expected) = expected_epoch
            && header.epoch != expected
        {
            return Err(MessageError::WrongEpoch {
                expected,
                found: header.epoch,
            });
        }
        Ok((header, body))
    }
}

/// A protocol message: intent, epoch and body. Its BCS encoding is what
/// nodes sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolMessage<T> {
    /// Intent.
    pub intent: Intent,
    /// Epoch the message belongs to.
    pub epoch: u32,
    /// Body (Walrus calls it `message_contents`).
    pub body: T,
}

impl<T: MessageBody> ProtocolMessage<T> {
    /// A message with the body's storage intent.
    pub fn new(epoch: u32, body: T) -> Self {
        ProtocolMessage {
            intent: Intent::storage(T::INTENT_TYPE),
            epoch,
            body,
        }
    }

    /// The signed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LENGTH + 64);
        out.extend_from_slice(&[
            self.intent.r#type.0,
            self.intent.version,
            self.intent.app_id,
        ]);
        out.extend_from_slice(&self.epoch.to_le_bytes());
        // Bodies are fixed-shape structs of integers and byte arrays; BCS
        // cannot fail on them (it only fails on oversized sequences or maps
        // with non-canonical keys).
        match bcs::to_bytes(&self.body) {
            Ok(body) => out.extend_from_slice(&body),
            Err(e) => unreachable!("BCS encoding of a message body failed: {e}"),
        }
        out
    }

    /// Parses and checks version, app id and intent type; any epoch.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageError> {
        Self::decode(bytes, None)
    }

    /// Parses and checks version, app id, epoch and intent type.
    pub fn from_bytes_in_epoch(bytes: &[u8], epoch: u32) -> Result<Self, MessageError> {
        Self::decode(bytes, Some(epoch))
    }

    fn decode(bytes: &[u8], epoch: Option<u32>) -> Result<Self, MessageError> {
        let (header, body) = MessageHeader::parse(bytes, epoch)?;
        if header.intent.r#type != T::INTENT_TYPE {
            return Err(MessageError::WrongIntentType {
                expected: T::INTENT_TYPE.0,
                found: header.intent.r#type.0,
            });
        }
        T::precheck(body)?;
        Ok(ProtocolMessage {
            intent: header.intent,
            epoch: header.epoch,
            body: decode_body(body)?,
        })
    }
}

/// Strict BCS decoding of a body with typed errors.
pub(crate) fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, MessageError> {
    bcs::from_bytes::<T>(body).map_err(|e| match e {
        bcs::Error::RemainingInput => MessageError::TrailingBytes,
        other => MessageError::Body(other.to_string()),
    })
}
