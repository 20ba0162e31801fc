//! Uploads: metadata and slivers into the store, or into the buffers of
//! uploads made with `?pending=true` before the node saw the blob's
//! registration ([`crate::pending`]), and out of those buffers into the
//! store once the registration is applied.
//!
//! Who moves buffered uploads into the store ("promotion"): the follower,
//! right after it committed a checkpoint that registers the blob
//! ([`NodeContext::promote_pending`]), and again on its periodic tick for
//! whatever a failed store write left behind
//! ([`NodeContext::promote_registered_pending`]); and an upload of the same
//! blob, which is a write anyway. Reads never do: they see the store, and on
//! a miss wait for a promotion in flight.
//!
//! The guarantee: an upload acknowledged as buffered (202) is stored once
//! the registration is applied, unless it outlived the buffers' time to
//! live. One lock (`promotion`) orders buffering against promotion: a
//! buffering upload checks, under it, that the registration is not applied
//! yet (metadata) or that the metadata are not stored yet (slivers), and a
//! promotion runs under it after the registration was committed, so
//! either the upload sees the registration (and stores directly) or the
//! promotion sees the upload.

use std::sync::{Mutex, MutexGuard};

use floe_core::messages::SignedMessage;
use floe_core::messages::storage_confirmation::{Confirmation, StorageConfirmationBody};
use floe_core::{Axis, BlobId, VerifiedBlobMetadataWithId, shard_to_pair};

use super::NodeContext;
use crate::chain_view::CommitteeView;
use crate::pending::{PendingMetadata, PendingSliver, PendingSlivers};
use crate::store::StoreError;
use floe_core::messages::BlobPersistenceType;

/// The buffers and the lock ordering them against promotion.
pub(super) struct PendingUploads {
    metadata: PendingMetadata,
    slivers: PendingSlivers,
    /// Serialises promotion with buffering (see the module doc). It guards
    /// no data, only the order of store reads and buffer changes.
    promotion: Mutex<()>,
}

impl PendingUploads {
    pub(super) fn new(metadata: PendingMetadata, slivers: PendingSlivers) -> Self {
        Self {
            metadata,
            slivers,
            promotion: Mutex::new(()),
        }
    }

    fn guard(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data, so a poisoned one is still usable.
        self.promotion
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The store failed (a refused write means the node cannot make the
    /// upload durable).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blob is not registered (and the upload did not ask to buffer).
    #[error("the blob has not been registered or has already expired")]
    NotRegistered,
    /// The blob was marked invalid on chain.
    #[error("the blob is invalid")]
    InvalidBlob,
    /// The buffers are full.
    #[error("the pending upload cache is saturated")]
    CacheSaturated,
    /// A sliver came before its blob's metadata (stored or buffered).
    #[error("the blob's metadata are missing")]
    MetadataMissing,
}

/// What a metadata upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataUpload {
    /// The metadata were stored before.
    AlreadyStored,
    /// Stored now.
    Stored,
    /// Buffered until the registration is applied.
    Buffered,
}

/// What a sliver upload is checked against, decided before its body is
/// read ([`NodeContext::sliver_target`]).
#[derive(Debug, Clone)]
pub enum SliverTarget {
    /// The sliver is stored already: the upload is still verified against
    /// these metadata (garbage is refused), then a no-op.
    AlreadyStored(VerifiedBlobMetadataWithId),
    /// Verify against stored metadata, then store.
    Store(VerifiedBlobMetadataWithId),
    /// Verify against buffered metadata, then buffer.
    Buffer(VerifiedBlobMetadataWithId),
}

impl SliverTarget {
    /// The metadata the sliver must verify against.
    pub fn metadata(&self) -> &VerifiedBlobMetadataWithId {
        match self {
            Self::AlreadyStored(m) | Self::Store(m) | Self::Buffer(m) => m,
        }
    }
}

/// What a (verified) sliver upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliverUpload {
    /// Stored before.
    AlreadyStored,
    /// Stored now.
    Stored,
    /// Buffered until the registration is applied.
    Buffered,
}

/// Why the node does not confirm storage of a blob.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Not registered (or invalid) as far as the node followed the chain.
    #[error("the blob has not been registered or has already expired")]
    NotRegistered,
    /// Something the node must hold is missing.
    #[error("the required slivers are not all stored: {0}")]
    Missing(String),
}

impl NodeContext {
    fn uploads(&self) -> &PendingUploads {
        &self.inner.uploads
    }

    /// Stored metadata of `blob_id`. Read only: on a miss it waits for a
    /// promotion in flight (which stores the buffered slivers before the
    /// metadata, so metadata found stored mean its buffered slivers are
    /// too), but never promotes. Blocking.
    pub fn stored_metadata(
        &self,
        committee: &CommitteeView,
        blob_id: &BlobId,
    ) -> Result<Option<VerifiedBlobMetadataWithId>, StoreError> {
        let store = self.store();
        if let Some(metadata) = store.get_metadata(blob_id, committee.encoding())? {
            return Ok(Some(metadata));
        }
        let _promotion = self.uploads().guard();
        store.get_metadata(blob_id, committee.encoding())
    }

    /// Whether metadata of `blob_id` wait in the buffer.
    pub fn metadata_buffered(&self, blob_id: &BlobId) -> bool {
        self.uploads().metadata.contains(blob_id)
    }

    /// Whether `blob_id`'s `axis` sliver for `shard` waits in the buffer.
    pub fn sliver_buffered(&self, blob_id: &BlobId, shard: u16, axis: Axis) -> bool {
        self.uploads().slivers.contains(blob_id, shard, axis)
    }

    /// Blobs whose metadata wait in the buffer.
    pub fn buffered_metadata_count(&self) -> usize {
        self.uploads().metadata.len()
    }

    /// Stores verified metadata if the blob is registered, or buffers them
    /// if `pending` (the client asked to buffer until the registration).
    /// Blocking.
    pub fn accept_metadata(
        &self,
        committee: &CommitteeView,
        metadata: VerifiedBlobMetadataWithId,
        pending: bool,
    ) -> Result<MetadataUpload, UploadError> {
        let store = self.store();
        let blob_id = *metadata.blob_id();
        let info = store.blob_info(&blob_id, committee.epoch())?;
        if info.invalid_epoch.is_some() {
            return Err(UploadError::InvalidBlob);
        }
        if store.has_metadata(&blob_id)? {
            return Ok(MetadataUpload::AlreadyStored);
        }
        if info.is_registered() && !self.metadata_buffered(&blob_id) {
            store.put_metadata(&metadata)?;
            return Ok(MetadataUpload::Stored);
        }
        if !info.is_registered() && !pending {
            return Err(UploadError::NotRegistered);
        }
        // Decided under the lock, so a promotion cannot run between the
        // registration check and the buffering (see the module doc).
        let _promotion = self.uploads().guard();
        if store.has_metadata(&blob_id)? {
            return Ok(MetadataUpload::AlreadyStored);
        }
        if store
            .blob_info(&blob_id, committee.epoch())?
            .is_registered()
        {
            // Buffered earlier under the same id: those go in with it.
            if !self.promote_locked(committee, &blob_id)? {
                store.put_metadata(&metadata)?;
            }
            return Ok(MetadataUpload::Stored);
        }
        if self.uploads().metadata.insert(metadata) {
            Ok(MetadataUpload::Buffered)
        } else {
            Err(UploadError::CacheSaturated)
        }
    }

    /// What an upload of `blob_id`'s `axis` sliver for `shard` is checked
    /// against (registration unless buffering, then metadata, in
    /// Walrus's order). An upload of a registered blob whose metadata are
    /// still buffered stores them first (it is a write). Blocking.
    pub fn sliver_target(
        &self,
        committee: &CommitteeView,
        blob_id: &BlobId,
        shard: u16,
        axis: Axis,
        pending: bool,
    ) -> Result<SliverTarget, UploadError> {
        let store = self.store();
        if !pending && !store.blob_info(blob_id, committee.epoch())?.is_registered() {
            return Err(UploadError::NotRegistered);
        }
        if self.metadata_buffered(blob_id) {
            self.promote_pending(blob_id)?;
        }
        if let Some(metadata) = self.stored_metadata(committee, blob_id)? {
            if store.has_sliver(shard, axis, blob_id)? {
                return Ok(SliverTarget::AlreadyStored(metadata));
            }
            return Ok(SliverTarget::Store(metadata));
        }
        if pending && let Some(metadata) = self.uploads().metadata.get(blob_id) {
            return Ok(SliverTarget::Buffer(metadata));
        }
        // The buffer may have been promoted between the two lookups.
        match self.stored_metadata(committee, blob_id)? {
            Some(metadata) => Ok(SliverTarget::Store(metadata)),
            None => Err(UploadError::MetadataMissing),
        }
    }

    /// Stores, or buffers, a sliver the caller verified against
    /// `target`'s metadata (`bcs`: its canonical bytes). Blocking.
    pub fn accept_sliver(
        &self,
        blob_id: &BlobId,
        shard: u16,
        axis: Axis,
        bcs: Vec<u8>,
        target: &SliverTarget,
    ) -> Result<SliverUpload, UploadError> {
        let store = self.store();
        match target {
            SliverTarget::AlreadyStored(_) => return Ok(SliverUpload::AlreadyStored),
            SliverTarget::Store(_) => {
                store.put_sliver_bytes(shard, axis, blob_id, bcs)?;
                return Ok(SliverUpload::Stored);
            }
            SliverTarget::Buffer(_) => {}
        }
        // Buffer it, unless the blob's buffer was promoted since the
        // target was decided: then the sliver goes straight to the store,
        // as the promotion that already ran would not pick it up.
        let _promotion = self.uploads().guard();
        if store.has_metadata(blob_id)? {
            store.put_sliver_bytes(shard, axis, blob_id, bcs)?;
            return Ok(SliverUpload::Stored);
        }
        let sliver = PendingSliver { shard, axis, bcs };
        if self.uploads().slivers.insert(*blob_id, sliver) {
            Ok(SliverUpload::Buffered)
        } else {
            Err(UploadError::CacheSaturated)
        }
    }

    /// Moves `blob_id`'s buffered metadata and slivers into the store if
    /// the blob is registered; `true` if it did. The follower calls it
    /// after committing the registration. On a store failure what was not
    /// stored stays buffered for [`Self::promote_registered_pending`].
    /// Blocking.
    pub fn promote_pending(&self, blob_id: &BlobId) -> Result<bool, StoreError> {
        // The buffer is looked at under the lock only: a look before it
        // could miss metadata being buffered right then.
        let committee = self.chain().committee();
        let _promotion = self.uploads().guard();
        self.promote_locked(&committee, blob_id)
    }

    /// [`Self::promote_pending`] for every buffered blob (those registered
    /// are stored): the follower's periodic catch-up for promotions a
    /// failed store write left behind. Returns how many were promoted.
    /// Blocking; bounded by the buffer's entry limit.
    pub fn promote_registered_pending(&self) -> Result<usize, StoreError> {
        let mut promoted = 0;
        for blob_id in self.uploads().metadata.ids() {
            if self.promote_pending(&blob_id)? {
                promoted += 1;
            }
        }
        Ok(promoted)
    }

    /// Promotion with the lock held: slivers first, then the metadata, so
    /// stored metadata imply the buffered slivers are stored too.
    fn promote_locked(
        &self,
        committee: &CommitteeView,
        blob_id: &BlobId,
    ) -> Result<bool, StoreError> {
        let uploads = self.uploads();
        let store = self.store();
        let Some(metadata) = uploads.metadata.get(blob_id) else {
            return Ok(false);
        };
        if !store.blob_info(blob_id, committee.epoch())?.is_registered() {
            return Ok(false);
        }
        let mut slivers = uploads.slivers.take(blob_id).into_iter();
        while let Some(sliver) = slivers.next() {
            if let Err(e) =
                store.put_sliver_bytes(sliver.shard, sliver.axis, blob_id, sliver.bcs.as_slice())
            {
                // Back into the buffer for the next attempt (there is room:
                // they just left it, and buffering waits for this lock).
                for left in std::iter::once(sliver).chain(slivers) {
                    uploads.slivers.insert(*blob_id, left);
                }
                return Err(e);
            }
        }
        if !store.has_metadata(blob_id)? {
            store.put_metadata(&metadata)?;
        }
        uploads.metadata.take(blob_id);
        Ok(true)
    }

    /// Signs a storage confirmation for `blob_id` once it is registered as
    /// `blob_type` and its metadata and both slivers of every owned shard
    /// are stored. Blocking.
    pub fn confirm(
        &self,
        committee: &CommitteeView,
        blob_id: &BlobId,
        blob_type: BlobPersistenceType,
    ) -> Result<SignedMessage<StorageConfirmationBody>, ConfirmError> {
        // Walrus confirms only a currently registered blob; an invalid
        // blob is not one.
        if !self.is_registered_for(blob_id, blob_type)? {
            return Err(ConfirmError::NotRegistered);
        }
        if self.stored_metadata(committee, blob_id)?.is_none() {
            return Err(ConfirmError::Missing("metadata are not stored".to_owned()));
        }
        let store = self.store();
        let n = committee.n_shards();
        for &shard in committee.owned_shards() {
            for axis in [Axis::Primary, Axis::Secondary] {
                if !store.has_sliver(shard, axis, blob_id)? {
                    let pair = shard_to_pair(shard, blob_id, n);
                    return Err(ConfirmError::Missing(format!(
                        "{axis} sliver of pair {pair} (shard {shard})"
                    )));
                }
            }
        }
        let message = Confirmation::confirmation(committee.epoch(), *blob_id, blob_type);
        Ok(self.sign(&message))
    }
}

#[cfg(test)]
mod tests;
