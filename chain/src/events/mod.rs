//! The one decoding of floe's Move events.
//!
//! Every event floe's packages emit is a variant of [`FloeEvent`], holding
//! the `floe_core::move_types` mirror of its contents; the node, the
//! indexer and the coordinator all read events through [`decode_event`] (or
//! [`checkpoint_events`]), so they cannot disagree on a layout or on which
//! events exist.
//!
//! Which events count is decided by the event's type tag: a type of the
//! configured floe or WAL package is floe's, and must decode (an unknown
//! name, a short or long content is an [`EventDecodeError`] naming the
//! event and where it sits: skipping it would lose state silently); a type
//! of any other package is not floe's and is ignored, even when it copies a
//! floe name (anyone can publish a module called `events`).

use floe_core::move_types::*;
use sui_sdk_types::{Address, Digest, Event};

use crate::Checkpoint;

/// Declares [`FloeEvent`] over the event mirrors, so the variant list, the
/// decoder and the encoder cannot drift apart.
macro_rules! floe_events {
    ($($name:ident),* $(,)?) => {
        /// One event of floe's packages, decoded into its Move mirror.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum FloeEvent {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $name($name),
            )*
        }

        impl FloeEvent {
            /// The registry entry of every event type, one per variant.
            pub const TYPES: &[MoveTypeInfo] = &[$(<$name as MoveType>::INFO),*];

            /// The registry entry of this event's type.
            pub fn info(&self) -> &'static MoveTypeInfo {
                match self {
                    $(FloeEvent::$name(_) => &<$name as MoveType>::INFO,)*
                }
            }

            /// The BCS contents of the event, as the contract emits them.
            pub fn to_bcs(&self) -> Result<Vec<u8>, bcs::Error> {
                match self {
                    $(FloeEvent::$name(e) => bcs::to_bytes(e),)*
                }
            }

            /// Decodes the contents of event `module::name` of `package`;
            /// `Ok(None)` when that package declares no such event.
            fn from_bcs(
                package: MovePackage,
                module: &str,
                name: &str,
                bytes: &[u8],
            ) -> Result<Option<Self>, bcs::Error> {
                $(
                    let info = <$name as MoveType>::INFO;
                    if info.package == package && info.module == module && info.name == name {
                        return Ok(Some(FloeEvent::$name(bcs::from_bytes(bytes)?)));
                    }
                )*
                Ok(None)
            }
        }
    };
}

floe_events! {
    // `events`: blobs, epochs, deny lists, upgrades, prices, storage pools.
    BlobRegistered,
    BlobCertified,
    BlobDeleted,
    InvalidBlobID,
    EpochChangeStart,
    EpochChangeDone,
    ShardsReceived,
    EpochParametersSelected,
    ShardRecoveryStart,
    ContractUpgraded,
    RegisterDenyListUpdate,
    DenyListUpdate,
    DenyListBlobDeleted,
    ContractUpgradeProposed,
    ContractUpgradeQuorumReached,
    ProtocolVersionUpdated,
    PricesUpdated,
    StoragePoolCreated,
    PooledBlobRegistered,
    PooledBlobCertified,
    PooledBlobDeleted,
    StoragePoolExtended,
    // `governance`: parameter proposals.
    ProposalCreated,
    ProposalVoted,
    ProposalPassed,
    ProposalApplied,
    ProposalExpired,
    // `upgrade`, `slashing`, `subsidies`.
    UpgradeVoted,
    UpgradeAuthorized,
    SlashingVoted,
    SlashingQuorumReached,
    NodeSlashed,
    SubsidiesFunded,
    NodeSubsidized,
    SubsidiesPaid,
}

impl FloeEvent {
    /// The event's module, e.g. `events`.
    pub fn module(&self) -> &'static str {
        self.info().module
    }

    /// The event's struct name, e.g. `BlobCertified`.
    pub fn name(&self) -> &'static str {
        self.info().name
    }
}

/// The packages whose events are floe's: every event typed in one of them
/// must decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloePackages {
    /// The floe (Walrus system) package.
    pub floe: Address,
    /// The WAL token package (it declares no events: any is an error).
    pub wal: Address,
}

impl FloePackages {
    /// Which of floe's packages declares `event`'s type, if any.
    pub fn package_of(&self, event: &Event) -> Option<MovePackage> {
        let address = event.type_.address();
        if *address == self.floe {
            Some(MovePackage::Walrus)
        } else if *address == self.wal {
            Some(MovePackage::Wal)
        } else {
            None
        }
    }
}

/// Where an event sits on chain, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPosition {
    /// Its checkpoint.
    pub checkpoint: u64,
    /// The transaction that emitted it.
    pub tx_digest: Digest,
    /// Its index among that transaction's events.
    pub event_index: usize,
}

/// Why an event of floe's packages is not a [`FloeEvent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeFailure {
    /// The type is in floe's package but floe declares no such event.
    #[error("floe declares no event of this type")]
    Unknown,
    /// The contents do not match the event's layout.
    #[error("contents do not match the layout: {0}")]
    Layout(String),
}

/// An event of floe's packages that does not decode: the contracts and the
/// reader disagree, which must stop the reader rather than be skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "checkpoint {}, tx {}, event {} ({type_tag}): {failure}",
    .at.checkpoint,
    .at.tx_digest,
    .at.event_index
)]
pub struct EventDecodeError {
    /// Where the event is.
    pub at: EventPosition,
    /// Its full type tag.
    pub type_tag: String,
    /// Its struct name.
    pub name: String,
    /// What went wrong.
    pub failure: EventDecodeFailure,
}

/// Decodes `event` if its type is in one of floe's packages; `Ok(None)` for
/// events of every other package (ignored: they are not floe's).
pub fn decode_event(
    event: &Event,
    packages: &FloePackages,
    at: EventPosition,
) -> Result<Option<FloeEvent>, EventDecodeError> {
    let Some(package) = packages.package_of(event) else {
        return Ok(None);
    };
    let tag = &event.type_;
    let error = |failure| EventDecodeError {
        at,
        type_tag: tag.to_string(),
        name: tag.name().to_string(),
        failure,
    };
    // Floe's events have no type parameters; a tag with some is no event
    // floe declares, whatever its name.
    if !tag.type_params().is_empty() {
        return Err(error(EventDecodeFailure::Unknown));
    }
    let (module, name) = (tag.module().as_str(), tag.name().as_str());
    match FloeEvent::from_bcs(package, module, name, &event.contents) {
        Ok(Some(decoded)) => Ok(Some(decoded)),
        Ok(None) => Err(error(EventDecodeFailure::Unknown)),
        Err(e) => Err(error(EventDecodeFailure::Layout(e.to_string()))),
    }
}

/// A decoded event with its place in the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloeEventAt {
    /// Its position (checkpoint, transaction, index).
    pub at: EventPosition,
    /// The transaction's index in the checkpoint.
    pub tx_index: usize,
    /// The event.
    pub event: FloeEvent,
}

/// Every event of floe's packages in `checkpoint`, in execution order; the
/// first one that does not decode is the error.
pub fn checkpoint_events(
    checkpoint: &Checkpoint,
    packages: &FloePackages,
) -> Result<Vec<FloeEventAt>, EventDecodeError> {
    let mut out = Vec::new();
    for (tx_index, tx) in checkpoint.transactions.iter().enumerate() {
        for (event_index, event) in tx.events.iter().enumerate() {
            let at = EventPosition {
                checkpoint: checkpoint.sequence_number,
                tx_digest: tx.digest,
                event_index,
            };
            if let Some(event) = decode_event(event, packages, at)? {
                out.push(FloeEventAt {
                    at,
                    tx_index,
                    event,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
