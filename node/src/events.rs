//! Floe's events in a checkpoint, decoded with `floe_core::move_types`
//! mirrors. Only events whose type lives in the configured floe package's
//! `events` module count: a look-alike type from another package (anyone can
//! publish a module called `events`) is ignored.

use floe_chain::Checkpoint;
use floe_chain::decode_bcs;
use floe_chain::sui_sdk_types::{Address, Digest, Event};
use floe_core::BlobId;
use floe_core::move_types::{
    BlobCertified, BlobDeleted, BlobRegistered, EpochChangeDone, EpochChangeStart,
    EpochParametersSelected, InvalidBlobID, ObjectId,
};

/// One floe event the node acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloeEvent {
    /// A blob object was registered.
    Registered {
        /// The blob.
        blob_id: BlobId,
        /// The `Blob` object.
        object: ObjectId,
        /// Epoch of registration.
        epoch: u32,
        /// First epoch it is no longer stored.
        end_epoch: u32,
        /// Deletable by its owner.
        deletable: bool,
    },
    /// A blob object was certified, or (extension) its lifetime extended.
    Certified {
        /// The blob.
        blob_id: BlobId,
        /// The `Blob` object.
        object: ObjectId,
        /// Epoch of the event.
        epoch: u32,
        /// New end epoch.
        end_epoch: u32,
        /// Deletable by its owner.
        deletable: bool,
        /// An extension of an already certified object.
        is_extension: bool,
    },
    /// A deletable blob object was deleted.
    Deleted {
        /// The blob.
        blob_id: BlobId,
        /// The `Blob` object.
        object: ObjectId,
    },
    /// The blob id was proven inconsistent.
    Invalid {
        /// The blob.
        blob_id: BlobId,
        /// Epoch of the event.
        epoch: u32,
    },
    /// `EpochChangeStart`: the committee of `epoch` took over; the node
    /// switches to it and syncs the shards it gained.
    EpochChangeStart {
        /// The new epoch.
        epoch: u32,
    },
    /// Another epoch-change event (done, parameters selected).
    Epoch,
}

impl FloeEvent {
    /// The blob id the event is about, if any.
    pub fn blob_id(&self) -> Option<&BlobId> {
        match self {
            FloeEvent::Registered { blob_id, .. }
            | FloeEvent::Certified { blob_id, .. }
            | FloeEvent::Deleted { blob_id, .. }
            | FloeEvent::Invalid { blob_id, .. } => Some(blob_id),
            FloeEvent::EpochChangeStart { .. } | FloeEvent::Epoch => None,
        }
    }
}

/// Where an event sits on chain: Sui's `EventID`, the transaction and the
/// event's position among its events. Walrus's node answers it as a blob's
/// `statusEvent` (the event behind the status it reports), so a client can
/// fetch that event and check the status against the chain itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId {
    /// The transaction that emitted the event.
    pub tx_digest: Digest,
    /// Its index among that transaction's events.
    pub event_seq: u64,
}

impl EventId {
    /// Stored form: digest (32 bytes) then the sequence (u64 BE).
    pub fn to_bytes(&self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..32].copy_from_slice(self.tx_digest.inner());
        out[32..].copy_from_slice(&self.event_seq.to_be_bytes());
        out
    }

    /// Parses [`EventId::to_bytes`]; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let digest: [u8; 32] = bytes.get(..32)?.try_into().ok()?;
        let seq: [u8; 8] = bytes.get(32..)?.try_into().ok()?;
        Some(Self {
            tx_digest: Digest::new(digest),
            event_seq: u64::from_be_bytes(seq),
        })
    }

    /// Sui's JSON form of an `EventID`, as Walrus's node serves it: the
    /// digest in Base58 and the sequence as a decimal string.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "txDigest": self.tx_digest.to_string(),
            "eventSeq": self.event_seq.to_string(),
        })
    }
}

/// A decoded floe event and where it was emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEvent {
    /// Its position on chain.
    pub id: EventId,
    /// What it says.
    pub event: FloeEvent,
}

/// A floe event whose contents do not match its mirror: the contracts and
/// the node disagree on a layout, which must stop the follower rather than
/// be skipped (skipping would lose state silently).
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {checkpoint}: event {name} does not decode: {reason}")]
pub struct EventError {
    /// Where.
    pub checkpoint: u64,
    /// Event name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// The floe events of `checkpoint`, in execution order, each with its
/// position.
pub fn floe_events(
    checkpoint: &Checkpoint,
    floe_package: Address,
) -> Result<Vec<ChainEvent>, EventError> {
    let mut out = Vec::new();
    for tx in &checkpoint.transactions {
        for (seq, event) in (0u64..).zip(&tx.events) {
            if let Some(e) = decode(event, floe_package, checkpoint.sequence_number)? {
                out.push(ChainEvent {
                    id: EventId {
                        tx_digest: tx.digest,
                        event_seq: seq,
                    },
                    event: e,
                });
            }
        }
    }
    Ok(out)
}

fn decode(
    event: &Event,
    floe_package: Address,
    checkpoint: u64,
) -> Result<Option<FloeEvent>, EventError> {
    let tag = &event.type_;
    if *tag.address() != floe_package || tag.module().as_str() != "events" {
        return Ok(None);
    }
    let name = tag.name().as_str();
    let bad = |e: floe_chain::ChainError| EventError {
        checkpoint,
        name: name.to_owned(),
        reason: e.to_string(),
    };
    let bytes = &event.contents;
    Ok(Some(match name {
        "BlobRegistered" => {
            let e: BlobRegistered = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::Registered {
                blob_id: BlobId(e.blob_id.0),
                object: e.object_id,
                epoch: e.epoch,
                end_epoch: e.end_epoch,
                deletable: e.deletable,
            }
        }
        "BlobCertified" => {
            let e: BlobCertified = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::Certified {
                blob_id: BlobId(e.blob_id.0),
                object: e.object_id,
                epoch: e.epoch,
                end_epoch: e.end_epoch,
                deletable: e.deletable,
                is_extension: e.is_extension,
            }
        }
        "BlobDeleted" => {
            let e: BlobDeleted = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::Deleted {
                blob_id: BlobId(e.blob_id.0),
                object: e.object_id,
            }
        }
        "InvalidBlobID" => {
            let e: InvalidBlobID = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::Invalid {
                blob_id: BlobId(e.blob_id.0),
                epoch: e.epoch,
            }
        }
        "EpochChangeStart" => {
            let e: EpochChangeStart = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::EpochChangeStart { epoch: e.epoch }
        }
        "EpochChangeDone" => {
            let _: EpochChangeDone = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::Epoch
        }
        "EpochParametersSelected" => {
            let _: EpochParametersSelected = decode_bcs(bytes).map_err(bad)?;
            FloeEvent::Epoch
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use floe_chain::sui_sdk_types::{Identifier, StructTag};
    use floe_core::move_types::U256Le;

    use super::*;

    fn event(package: Address, name: &'static str, contents: Vec<u8>) -> Event {
        Event {
            package_id: package,
            module: Identifier::from_static("system"),
            sender: Address::ZERO,
            type_: StructTag::new(
                package,
                Identifier::from_static("events"),
                Identifier::from_static(name),
                vec![],
            ),
            contents,
        }
    }

    #[test]
    fn event_ids_round_trip_and_print_as_sui_does() {
        let id = EventId {
            tx_digest: Digest::new([7; 32]),
            event_seq: 3,
        };
        assert_eq!(EventId::from_bytes(&id.to_bytes()), Some(id));
        assert_eq!(EventId::from_bytes(&id.to_bytes()[..39]), None);
        let json = id.to_json();
        assert_eq!(json["eventSeq"], "3");
        // Base58 of the digest, as Sui prints transaction digests.
        assert_eq!(json["txDigest"], Digest::new([7; 32]).to_string());
        assert!(
            json["txDigest"]
                .as_str()
                .is_some_and(|s| s.len() >= 43 && !s.contains('0'))
        );
    }

    #[test]
    fn only_the_configured_package_counts_and_bad_layouts_stop() {
        let floe: Address = "0xf10e".parse().unwrap();
        let other: Address = "0xbad".parse().unwrap();
        let registered = BlobRegistered {
            epoch: 2,
            blob_id: U256Le([4; 32]),
            size: 10,
            encoding_type: 1,
            end_epoch: 7,
            deletable: true,
            object_id: ObjectId([5; 32]),
        };
        let bytes = bcs::to_bytes(&registered).unwrap();
        assert_eq!(
            decode(&event(floe, "BlobRegistered", bytes.clone()), floe, 1).unwrap(),
            Some(FloeEvent::Registered {
                blob_id: BlobId([4; 32]),
                object: ObjectId([5; 32]),
                epoch: 2,
                end_epoch: 7,
                deletable: true,
            })
        );
        // A look-alike from another package is ignored.
        assert_eq!(
            decode(&event(other, "BlobRegistered", bytes.clone()), floe, 1).unwrap(),
            None
        );
        let start = bcs::to_bytes(&EpochChangeStart { epoch: 4 }).unwrap();
        assert_eq!(
            decode(&event(floe, "EpochChangeStart", start), floe, 1).unwrap(),
            Some(FloeEvent::EpochChangeStart { epoch: 4 })
        );
        // Events the node does not act on are ignored.
        assert_eq!(
            decode(&event(floe, "PricesUpdated", vec![]), floe, 1).unwrap(),
            None
        );
        // A floe event whose bytes do not match the mirror is an error
        // (trailing byte), not a silent skip.
        let mut long = bytes;
        long.push(0);
        let err = decode(&event(floe, "BlobRegistered", long), floe, 9).unwrap_err();
        assert_eq!((err.checkpoint, err.name.as_str()), (9, "BlobRegistered"));
    }
}
