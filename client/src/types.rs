//! Results the SDK returns, serializable as the daemon's and the CLI's JSON
//! (camelCase, as Walrus's publisher answers).

use floe_chain::sui_sdk_types::Address;
use floe_core::BlobId;
use floe_core::move_types::{Blob, Storage};
use serde::Serialize;

/// Blob ids in JSON are their text form (URL-safe base64), as everywhere
/// users see them.
pub fn blob_id_text<S: serde::Serializer>(id: &BlobId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// A `Storage` resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageInfo {
    pub id: Address,
    pub start_epoch: u32,
    pub end_epoch: u32,
    pub storage_size: u64,
}

impl StorageInfo {
    /// From the Move mirror.
    pub fn from_move(s: &Storage) -> Self {
        Self {
            id: Address::new(s.id.0),
            start_epoch: s.start_epoch,
            end_epoch: s.end_epoch,
            storage_size: s.storage_size,
        }
    }
}

/// A `Blob` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobObject {
    pub id: Address,
    pub registered_epoch: u32,
    #[serde(serialize_with = "blob_id_text")]
    pub blob_id: BlobId,
    /// Unencoded length.
    pub size: u64,
    pub encoding_type: u8,
    pub certified_epoch: Option<u32>,
    pub storage: StorageInfo,
    pub deletable: bool,
}

impl BlobObject {
    /// From the Move mirror.
    pub fn from_move(b: &Blob) -> Self {
        Self {
            id: Address::new(b.id.0),
            registered_epoch: b.registered_epoch,
            blob_id: BlobId(b.blob_id.0),
            size: b.size,
            encoding_type: b.encoding_type,
            certified_epoch: b.certified_epoch,
            storage: StorageInfo::from_move(&b.storage),
            deletable: b.deletable,
        }
    }

    /// The first epoch the blob is no longer stored.
    pub fn end_epoch(&self) -> u32 {
        self.storage.end_epoch
    }
}

/// What a store paid for, in FROST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// Storage for the epochs bought.
    pub storage: u64,
    /// The one-time write fee.
    pub write: u64,
}

impl Cost {
    /// Storage plus write (saturating: both come from u64 prices checked
    /// by `floe_core::price`).
    pub fn total(&self) -> u64 {
        self.storage.saturating_add(self.write)
    }
}

/// How a store obtains its on-chain registration (Walrus's
/// `RegisterBlobOp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceOperation {
    /// `reserve_space` + `register_blob` in one transaction.
    RegisterFromScratch,
    /// `register_blob` on an owned `Storage` at least as large as the
    /// encoded blob: what exceeds the encoded size is split off and stays
    /// with the owner, and when it ends too early only the missing
    /// `extended_epochs` are bought and fused on.
    #[serde(rename_all = "camelCase")]
    ReuseStorage {
        storage: Address,
        extended_epochs: u32,
    },
    /// An owned, uncertified registration of the same blob is reused.
    #[serde(rename_all = "camelCase")]
    ReuseRegistration { blob_object: Address },
    /// An owned certified blob of the same bytes ends too early: its
    /// lifetime is extended by `epochs_extended` and nothing is uploaded.
    #[serde(rename_all = "camelCase")]
    ReuseAndExtend {
        blob_object: Address,
        epochs_extended: u32,
    },
}

impl ResourceOperation {
    /// What the operation does, in words for a confirmation prompt.
    pub fn describe(&self) -> String {
        match self {
            ResourceOperation::RegisterFromScratch => "new storage".into(),
            ResourceOperation::ReuseStorage {
                storage,
                extended_epochs: 0,
            } => format!("reusing owned storage {storage}"),
            ResourceOperation::ReuseStorage {
                storage,
                extended_epochs,
            } => format!("reusing owned storage {storage}, buying {extended_epochs} more epoch(s)"),
            ResourceOperation::ReuseRegistration { blob_object } => {
                format!("reusing the registration {blob_object}")
            }
            ResourceOperation::ReuseAndExtend {
                blob_object,
                epochs_extended,
            } => format!(
                "extending the certified blob {blob_object} by {epochs_extended} epoch(s), no upload"
            ),
        }
    }
}

/// The outcome of storing one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StoreResult {
    /// This store registered and certified the blob.
    #[serde(rename_all = "camelCase")]
    NewlyCreated {
        blob_object: BlobObject,
        resource_operation: ResourceOperation,
        /// FROST paid.
        cost: u64,
        /// The `SharedBlob` wrapping it, with `share`.
        #[serde(skip_serializing_if = "Option::is_none")]
        shared_blob_object: Option<Address>,
    },
    /// The blob was already certified for long enough; nothing was paid.
    #[serde(rename_all = "camelCase")]
    AlreadyCertified {
        #[serde(serialize_with = "blob_id_text")]
        blob_id: BlobId,
        /// The wallet's own certified object, when that is what matched.
        #[serde(skip_serializing_if = "Option::is_none")]
        object: Option<Address>,
        end_epoch: u32,
    },
}

impl StoreResult {
    /// The blob id stored.
    pub fn blob_id(&self) -> BlobId {
        match self {
            StoreResult::NewlyCreated { blob_object, .. } => blob_object.blob_id,
            StoreResult::AlreadyCertified { blob_id, .. } => *blob_id,
        }
    }

    /// The end epoch of the certified copy.
    pub fn end_epoch(&self) -> u32 {
        match self {
            StoreResult::NewlyCreated { blob_object, .. } => blob_object.end_epoch(),
            StoreResult::AlreadyCertified { end_epoch, .. } => *end_epoch,
        }
    }
}

/// Progress of a long operation, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Encoding started for this many bytes.
    Encoding { bytes: u64 },
    /// Encoding finished.
    Encoded,
    /// Uploading started: this many sliver bytes in total, to every node.
    UploadStarted { bytes: u64 },
    /// This many more sliver bytes were accepted by a node.
    Uploaded { bytes: u64 },
    /// Verified confirmations now weigh this many of `n_shards`.
    Confirmed { weight: u32, n_shards: u16 },
    /// Downloading started: this many verified sliver bytes are needed.
    DownloadStarted { bytes: u64 },
    /// This many more verified sliver bytes arrived.
    Downloaded { bytes: u64 },
    /// Decoding.
    Decoding,
}

/// A progress callback (shared across tasks).
pub type ProgressFn = std::sync::Arc<dyn Fn(Progress) + Send + Sync>;

pub(crate) fn report(progress: &Option<ProgressFn>, event: Progress) {
    if let Some(f) = progress {
        f(event);
    }
}
