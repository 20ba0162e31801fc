//! The floe events the node acts on (blobs and epochs), taken from the one
//! typed decoding of floe's events (`floe_chain::events`). A look-alike type
//! from another package (anyone can publish a module called `events`) is
//! ignored there; an event of floe's packages that does not decode stops
//! the follower.

use floe_chain::sui_sdk_types::Digest;
use floe_chain::{Checkpoint, EventDecodeError, FloeEvent, FloePackages, checkpoint_events};
use floe_core::BlobId;
use floe_core::move_types::ObjectId;

/// One floe event the node acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
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

impl NodeEvent {
    /// The blob id the event is about, if any.
    pub fn blob_id(&self) -> Option<&BlobId> {
        match self {
            NodeEvent::Registered { blob_id, .. }
            | NodeEvent::Certified { blob_id, .. }
            | NodeEvent::Deleted { blob_id, .. }
            | NodeEvent::Invalid { blob_id, .. } => Some(blob_id),
            NodeEvent::EpochChangeStart { .. } | NodeEvent::Epoch => None,
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
    pub event: NodeEvent,
}

/// The floe events the node acts on in `checkpoint`, in execution order,
/// each with its position. Every event of floe's packages is decoded
/// (`floe_chain::events`, shared with the indexer and the coordinator); one
/// that does not decode is the error, which stops the follower rather than
/// lose state silently. Events of other packages are not floe's and are
/// ignored, even when they copy a floe name.
pub fn floe_events(
    checkpoint: &Checkpoint,
    packages: &FloePackages,
) -> Result<Vec<ChainEvent>, EventDecodeError> {
    Ok(checkpoint_events(checkpoint, packages)?
        .into_iter()
        .filter_map(|e| {
            node_event(e.event).map(|event| ChainEvent {
                id: EventId {
                    tx_digest: e.at.tx_digest,
                    event_seq: e.at.event_index as u64,
                },
                event,
            })
        })
        .collect())
}

/// What the node does with a decoded event; `None` for events it does not
/// act on (governance, staking, deny lists...).
fn node_event(event: FloeEvent) -> Option<NodeEvent> {
    Some(match event {
        FloeEvent::BlobRegistered(e) => NodeEvent::Registered {
            blob_id: BlobId(e.blob_id.0),
            object: e.object_id,
            epoch: e.epoch,
            end_epoch: e.end_epoch,
            deletable: e.deletable,
        },
        FloeEvent::BlobCertified(e) => NodeEvent::Certified {
            blob_id: BlobId(e.blob_id.0),
            object: e.object_id,
            epoch: e.epoch,
            end_epoch: e.end_epoch,
            deletable: e.deletable,
            is_extension: e.is_extension,
        },
        FloeEvent::BlobDeleted(e) => NodeEvent::Deleted {
            blob_id: BlobId(e.blob_id.0),
            object: e.object_id,
        },
        FloeEvent::InvalidBlobID(e) => NodeEvent::Invalid {
            blob_id: BlobId(e.blob_id.0),
            epoch: e.epoch,
        },
        FloeEvent::EpochChangeStart(e) => NodeEvent::EpochChangeStart { epoch: e.epoch },
        FloeEvent::EpochChangeDone(_) | FloeEvent::EpochParametersSelected(_) => NodeEvent::Epoch,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use floe_chain::sui_sdk_types::Address;
    use floe_core::move_types::{BlobRegistered, EpochChangeStart, PricesUpdated, U256Le};
    use floe_testkit::events::event;

    use super::*;

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

    /// One checkpoint (sequence 9, no timestamp) of one transaction with
    /// `events`.
    fn checkpoint(events: Vec<floe_chain::sui_sdk_types::Event>) -> Checkpoint {
        floe_testkit::events::checkpoint(None, events)
    }

    #[test]
    fn only_floe_packages_count_and_bad_layouts_stop_the_follower() {
        let floe: Address = "0xf10e".parse().unwrap();
        let packages = FloePackages {
            floe,
            wal: "0x3a1".parse().unwrap(),
        };
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
        let start = bcs::to_bytes(&EpochChangeStart { epoch: 4 }).unwrap();
        let prices = bcs::to_bytes(&PricesUpdated {
            epoch: 4,
            storage_price: 1,
            write_price: 2,
        })
        .unwrap();
        let events = floe_events(
            &checkpoint(vec![
                event(floe, "BlobRegistered", bytes.clone()),
                // A look-alike from another package is ignored.
                event(other, "BlobRegistered", vec![0xff]),
                event(floe, "EpochChangeStart", start),
                // Events the node does not act on are decoded, not kept.
                event(floe, "PricesUpdated", prices),
            ]),
            &packages,
        )
        .unwrap();
        let id = |event_seq| EventId {
            tx_digest: Digest::new([2; 32]),
            event_seq,
        };
        assert_eq!(
            events,
            vec![
                ChainEvent {
                    id: id(0),
                    event: NodeEvent::Registered {
                        blob_id: BlobId([4; 32]),
                        object: ObjectId([5; 32]),
                        epoch: 2,
                        end_epoch: 7,
                        deletable: true,
                    },
                },
                ChainEvent {
                    id: id(2),
                    event: NodeEvent::EpochChangeStart { epoch: 4 },
                },
            ]
        );
        // A floe event whose bytes do not match its layout (a trailing
        // byte) stops the follower with an error naming it, even when it is
        // one the node would not act on.
        let mut long = bytes;
        long.push(0);
        for (name, contents) in [("BlobRegistered", long), ("PricesUpdated", vec![1])] {
            let err =
                floe_events(&checkpoint(vec![event(floe, name, contents)]), &packages).unwrap_err();
            assert_eq!((err.at.checkpoint, err.name.as_str()), (9, name));
            assert!(err.to_string().contains(name), "{err}");
            let follow: crate::follower::FollowError = err.into();
            assert!(follow.to_string().contains(name), "{follow}");
        }
    }
}
