//! Storing a blob (as Walrus's `walrus-sdk` store pipeline does), in two steps so a caller can show the
//! cost before paying: [`Client::plan_store`] encodes, checks whether the
//! blob is already certified for long enough, picks the cheapest resource
//! (an owned uncertified registration, an owned `Storage` that fits, or a
//! new reservation) and prices it; [`Client::execute_store`] registers,
//! uploads, certifies and wraps or sends the object as asked.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use floe_chain::floe::calls::BlobRegistration;
use floe_chain::sui_sdk_types::Address;
use floe_chain::sui_transaction_builder::TransactionBuilder;
use floe_core::encoding::{PairEncoder, RepairRowSink};
use floe_core::messages::BlobPersistenceType;
use floe_core::messages::storage_confirmation::StorageConfirmationBody;
use floe_core::move_types::{BlobRegistered, ObjectId, U256Le};
use floe_core::{BlobId, EncodingType, VerifiedBlobMetadataWithId, price};

use crate::client::{Client, NodeSet, ensure_success};
use crate::error::{ClientError, Result};
use crate::sliver_feed::{SharedBlob, SliverSource};
use crate::spill::SpillFile;
use crate::types::{
    BlobObject, Cost, Progress, ProgressFn, ResourceOperation, StoreResult, report,
};
use crate::upload::{UploadJob, collect_certificate};

/// How long a store is bought for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epochs {
    /// This many epochs from the current one (at least 1).
    Ahead(u32),
    /// As far as the system sells (`max_epochs_ahead`).
    Max,
}

impl std::str::FromStr for Epochs {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "max" {
            return Ok(Epochs::Max);
        }
        match s.parse::<u32>() {
            Ok(0) => Err("epochs must be at least 1".into()),
            Ok(n) => Ok(Epochs::Ahead(n)),
            Err(_) => Err(format!("{s:?} is neither a number of epochs nor `max`")),
        }
    }
}

/// Options of one store.
#[derive(Clone)]
pub struct StoreOptions {
    pub epochs: Epochs,
    /// Permanent blobs cannot be deleted; the default is deletable (as
    /// Walrus since v1.33).
    pub permanent: bool,
    /// Store even if already certified for long enough.
    pub force: bool,
    /// Wrap the certified blob in a `SharedBlob` anyone can fund.
    pub share: bool,
    /// Transfer the certified `Blob` object to this address.
    pub send_object_to: Option<Address>,
    /// Return right after certification and let uploads to the remaining
    /// nodes finish in the background (needs a runtime that outlives the
    /// call, e.g. the daemon's); otherwise wait for them (each bounded by
    /// the request timeout).
    pub detach_tail: bool,
    /// How long a node may wait for the registration event before
    /// confirming.
    pub confirmation_wait: Duration,
    pub progress: Option<ProgressFn>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            epochs: Epochs::Ahead(1),
            permanent: false,
            force: false,
            share: false,
            send_object_to: None,
            detach_tail: false,
            confirmation_wait: Duration::from_secs(30),
            progress: None,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("epochs", &self.epochs)
            .field("permanent", &self.permanent)
            .field("force", &self.force)
            .field("share", &self.share)
            .field("send_object_to", &self.send_object_to)
            .finish()
    }
}

/// What a store will do and cost, before anything is paid.
pub struct StorePlan {
    pub blob_id: BlobId,
    pub unencoded_length: u64,
    pub encoded_length: u64,
    pub current_epoch: u32,
    pub end_epoch: u32,
    pub action: PlannedAction,
    /// Why this large store could not write its repair slivers to a
    /// scratch file (`limits.store_spill_dir`) and will compute them again
    /// during the upload (more CPU, same memory); `None` when it could or
    /// had no need to.
    pub spill_refused: Option<String>,
    source: Arc<SliverSource>,
    metadata: Arc<VerifiedBlobMetadataWithId>,
    nodes: NodeSet,
    options: StoreOptions,
}

impl std::fmt::Debug for StorePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorePlan")
            .field("blob_id", &self.blob_id)
            .field("unencoded_length", &self.unencoded_length)
            .field("encoded_length", &self.encoded_length)
            .field("end_epoch", &self.end_epoch)
            .field("action", &self.action)
            .finish()
    }
}

/// The decision of [`Client::plan_store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedAction {
    /// Nothing to do (unless `force`).
    AlreadyCertified {
        object: Option<Address>,
        end_epoch: u32,
    },
    /// Register (and pay `cost`) as `operation` says, then upload.
    Store {
        operation: ResourceOperation,
        cost: Cost,
    },
}

impl StorePlan {
    /// FROST this store will pay (0 when already certified).
    pub fn cost(&self) -> Cost {
        match &self.action {
            PlannedAction::Store { cost, .. } => *cost,
            PlannedAction::AlreadyCertified { .. } => Cost::default(),
        }
    }
}

impl Client {
    /// Encodes `blob` and decides how to store it; pays nothing.
    pub async fn plan_store(&self, blob: Vec<u8>, options: StoreOptions) -> Result<StorePlan> {
        let nodes = self.node_set().await?;
        let state = self.floe.system_state().await?;
        let current_epoch = state.committee.epoch;
        let max_ahead = state.future_accounting.length;
        let epochs = match options.epochs {
            Epochs::Max => max_ahead,
            Epochs::Ahead(n) if n > max_ahead => {
                return Err(ClientError::Invalid(format!(
                    "{n} epochs ahead is more than the system sells ({max_ahead})"
                )));
            }
            Epochs::Ahead(n) => n,
        };
        let end_epoch = current_epoch.saturating_add(epochs);
        let len = blob.len() as u64;
        let max = nodes.encoding.max_blob_size();
        if len > max {
            return Err(ClientError::TooLarge {
                len,
                max,
                n_shards: nodes.encoding.n_shards(),
            });
        }
        report(&options.progress, Progress::Encoding { bytes: len });
        let config = nodes.encoding;
        let buffer = self.config.limits.store_buffer();
        let spill_dir = self.config.limits.store_spill_dir();
        let (source, metadata, spill_refused) = tokio::task::spawn_blocking(move || {
            encode_for_store(&config, blob, buffer, &spill_dir)
        })
        .await
        .map_err(|e| ClientError::Invalid(format!("encoder task failed: {e}")))??;
        report(&options.progress, Progress::Encoded);
        let blob_id = *metadata.blob_id();
        let encoded_length = nodes.encoding.encoded_blob_length(len)?;

        let action = self
            .choose_action(
                &nodes,
                blob_id,
                encoded_length,
                current_epoch,
                end_epoch,
                &options,
            )
            .await?;
        Ok(StorePlan {
            blob_id,
            unencoded_length: len,
            encoded_length,
            current_epoch,
            end_epoch,
            action,
            spill_refused,
            source: Arc::new(source),
            metadata: Arc::new(metadata),
            nodes,
            options,
        })
    }

    async fn choose_action(
        &self,
        nodes: &NodeSet,
        blob_id: BlobId,
        encoded_length: u64,
        current_epoch: u32,
        end_epoch: u32,
        options: &StoreOptions,
    ) -> Result<PlannedAction> {
        let me = self.address()?;
        let owned = self.floe.owned_blobs(me).await?;
        let same: Vec<BlobObject> = owned
            .iter()
            .map(|(_, b)| BlobObject::from_move(b))
            .filter(|b| b.blob_id == blob_id && b.end_epoch() > current_epoch)
            .collect();
        if !options.force {
            if let Some(b) = same.iter().find(|b| {
                b.certified_epoch.is_some()
                    && b.end_epoch() >= end_epoch
                    && b.deletable != options.permanent
            }) {
                return Ok(PlannedAction::AlreadyCertified {
                    object: Some(b.id),
                    end_epoch: b.end_epoch(),
                });
            }
            // Someone else's permanent certified copy serves as well,
            // unless the caller wants an object (share / send).
            if options.permanent
                && !options.share
                && options.send_object_to.is_none()
                && let Some(status) = self.verified_status(nodes, &blob_id).await
                && status.is_certified()
                && status.end_epoch().is_some_and(|e| e >= end_epoch)
            {
                return Ok(PlannedAction::AlreadyCertified {
                    object: None,
                    end_epoch: status.end_epoch().unwrap_or(end_epoch),
                });
            }
            // The wallet's own certified copy that ends too early is
            // extended: only the missing epochs are paid, nothing uploaded.
            if let Some(b) = same
                .iter()
                .filter(|b| b.certified_epoch.is_some() && b.deletable != options.permanent)
                .max_by_key(|b| b.end_epoch())
            {
                let epochs_extended = end_epoch - b.end_epoch();
                let storage = self
                    .storage_extension_cost(b.storage.storage_size, epochs_extended)
                    .await?;
                return Ok(PlannedAction::Store {
                    operation: ResourceOperation::ReuseAndExtend {
                        blob_object: b.id,
                        epochs_extended,
                    },
                    cost: Cost { storage, write: 0 },
                });
            }
        }
        if let Some(b) = same.iter().find(|b| {
            b.certified_epoch.is_none()
                && b.end_epoch() >= end_epoch
                && b.deletable != options.permanent
        }) {
            return Ok(PlannedAction::Store {
                operation: ResourceOperation::ReuseRegistration { blob_object: b.id },
                cost: Cost::default(),
            });
        }
        let prices = self.floe.prices().await?;
        let write = price::write_cost(encoded_length, prices.write_price_per_unit_size)?;
        let storage = self.floe.owned_storage(me).await?;
        // An owned Storage that is large enough and already running serves
        // after trimming its size and buying the epochs it lacks; the one
        // needing the fewest new epochs, then the smallest, is used.
        let fitting = storage
            .iter()
            .filter(|(_, s)| {
                s.start_epoch <= current_epoch
                    && s.end_epoch > current_epoch
                    && s.storage_size >= encoded_length
            })
            .min_by_key(|(_, s)| {
                (
                    end_epoch.saturating_sub(s.end_epoch),
                    s.storage_size,
                    s.end_epoch,
                )
            });
        if let Some((id, s)) = fitting {
            let extended_epochs = end_epoch.saturating_sub(s.end_epoch);
            let storage = price::storage_cost(
                encoded_length,
                prices.storage_price_per_unit_size,
                extended_epochs,
            )?;
            return Ok(PlannedAction::Store {
                operation: ResourceOperation::ReuseStorage {
                    storage: *id,
                    extended_epochs,
                },
                cost: Cost { storage, write },
            });
        }
        let epochs = end_epoch - current_epoch;
        let storage =
            price::storage_cost(encoded_length, prices.storage_price_per_unit_size, epochs)?;
        Ok(PlannedAction::Store {
            operation: ResourceOperation::RegisterFromScratch,
            cost: Cost { storage, write },
        })
    }

    /// Registers (paying), uploads to every node, certifies with a quorum
    /// certificate, then shares or sends the object as asked.
    pub async fn execute_store(&self, plan: StorePlan) -> Result<StoreResult> {
        let (operation, cost) = match plan.action {
            PlannedAction::AlreadyCertified { object, end_epoch } => {
                return Ok(StoreResult::AlreadyCertified {
                    blob_id: plan.blob_id,
                    object,
                    end_epoch,
                });
            }
            PlannedAction::Store { operation, cost } => (operation, cost),
        };
        let key = self.wallet()?.clone();
        let options = &plan.options;
        if let ResourceOperation::ReuseAndExtend {
            blob_object,
            epochs_extended,
        } = operation
        {
            let (object, paid) = self.extend_blob(blob_object, epochs_extended).await?;
            tracing::info!(blob_id = %plan.blob_id, object = %blob_object, epochs_extended, "certified blob extended instead of stored again");
            let shared_blob_object = self.share_or_send(blob_object, options).await?;
            return Ok(StoreResult::NewlyCreated {
                blob_object: object,
                resource_operation: operation,
                cost: paid,
                shared_blob_object,
            });
        }
        let blob_object = match operation {
            ResourceOperation::ReuseRegistration { blob_object }
            | ResourceOperation::ReuseAndExtend { blob_object, .. } => blob_object,
            ResourceOperation::RegisterFromScratch | ResourceOperation::ReuseStorage { .. } => {
                let registration = BlobRegistration {
                    blob_id: U256Le(plan.blob_id.0),
                    root_hash: U256Le(*plan.metadata.metadata().root_hash().bytes()),
                    size: plan.unencoded_length,
                    encoding_type: EncodingType::Rs2.as_u8(),
                    deletable: !options.permanent,
                };
                let guard = self.tx_guard().await;
                let payment = self.wal_coin_for(cost.total()).await?;
                let tx = match operation {
                    ResourceOperation::ReuseStorage { storage, .. } => {
                        let resource = self.floe.storage(storage).await?;
                        self.floe
                            .register_on_owned_storage(
                                &key,
                                storage,
                                resource.storage_size,
                                resource.end_epoch,
                                plan.end_epoch,
                                &registration,
                                plan.encoded_length,
                                payment,
                            )
                            .await?
                    }
                    _ => {
                        self.floe
                            .reserve_and_register(
                                &key,
                                plan.encoded_length,
                                plan.end_epoch - plan.current_epoch,
                                &registration,
                                payment,
                            )
                            .await?
                    }
                };
                drop(guard);
                ensure_success(&tx)?;
                let registered: Vec<BlobRegistered> = tx
                    .events_of(&self.floe.ids.event_tag("BlobRegistered"))
                    .map_err(ClientError::Chain)?;
                let event = registered.first().ok_or_else(|| {
                    ClientError::Invalid(format!("transaction {} registered no blob", tx.digest))
                })?;
                tracing::info!(blob_id = %plan.blob_id, object = %event.object_id, digest = %tx.digest, "blob registered");
                Address::new(event.object_id.0)
            }
        };

        let blob_type = if options.permanent {
            BlobPersistenceType::Permanent
        } else {
            BlobPersistenceType::Deletable {
                object_id: ObjectId(blob_object.into_inner()),
            }
        };
        let job = UploadJob {
            client: self.clone(),
            nodes: plan.nodes.clone(),
            metadata: plan.metadata.clone(),
            source: plan.source.clone(),
            buffer_bytes: self
                .config
                .limits
                .store_window(plan.unencoded_length, plan.nodes.encoding.max_blob_size()),
            confirmation_wait: options.confirmation_wait,
            progress: options.progress.clone(),
        };
        let body = StorageConfirmationBody {
            blob_id: plan.blob_id,
            blob_type,
        };
        let (args, tail) = collect_certificate(job, body).await?;
        let tx = {
            let _tx = self.tx_guard().await;
            self.floe.certify_blob(&key, blob_object, &args).await?
        };
        if let Err(e) = ensure_success(&tx) {
            // A concurrent store of the same bytes by this wallet may have
            // reused the same registration and certified it first; the
            // blob is then certified, which is what was asked.
            let certified = self
                .floe
                .blob(blob_object)
                .await
                .is_ok_and(|b| b.certified_epoch.is_some());
            if !certified {
                return Err(e);
            }
            tracing::info!(blob_id = %plan.blob_id, "certified concurrently by another store");
        }
        tracing::info!(blob_id = %plan.blob_id, digest = %tx.digest, "blob certified");
        if options.detach_tail {
            drop(tail);
        } else {
            tail.wait().await;
        }

        let object = BlobObject::from_move(&self.floe.blob(blob_object).await?);
        let shared_blob_object = self.share_or_send(blob_object, options).await?;
        Ok(StoreResult::NewlyCreated {
            blob_object: object,
            resource_operation: operation,
            cost: cost.total(),
            shared_blob_object,
        })
    }

    /// [`plan_store`](Self::plan_store) then
    /// [`execute_store`](Self::execute_store), without asking.
    pub async fn store(&self, blob: Vec<u8>, options: StoreOptions) -> Result<StoreResult> {
        let plan = self.plan_store(blob, options).await?;
        self.execute_store(plan).await
    }

    /// Wraps the blob in a `SharedBlob` (returning its id) or sends it, as
    /// the options ask.
    async fn share_or_send(
        &self,
        blob_object: Address,
        options: &StoreOptions,
    ) -> Result<Option<Address>> {
        if options.share {
            return Ok(Some(self.share_blob(blob_object, None).await?));
        }
        if let Some(recipient) = options.send_object_to {
            self.transfer_object(blob_object, recipient).await?;
        }
        Ok(None)
    }

    /// Transfers an owned object to `recipient`.
    pub async fn transfer_object(&self, object: Address, recipient: Address) -> Result<()> {
        let key = self.wallet()?;
        let _tx = self.tx_guard().await;
        let mut b = TransactionBuilder::new();
        let input = self.floe.client.object_input(object, true).await?;
        let object = b.object(input);
        let recipient = b.pure(&recipient);
        b.transfer_objects(vec![object], recipient);
        let tx = self
            .floe
            .client
            .sign_and_execute(key, b, &self.floe.gas)
            .await?;
        ensure_success(&tx)
    }
}

/// The metadata and where the slivers will come from: a blob whose slivers
/// fit `buffer` bytes is encoded whole once (one pass, the blob itself is
/// then dropped); a larger one gets its metadata from a pass that keeps no
/// sliver but the row-repair block (half the blob) and writes the repair
/// primary slivers to an unlinked file in `spill_dir`, and its pairs are
/// copied out of the blob, the block and the file during the upload (see
/// `sliver_feed`). If the directory cannot take the file (missing,
/// read-only, full), the repair primary slivers are computed again during
/// the upload instead (a Reed-Solomon pass per group of pairs); the third
/// value says why (also logged).
pub(crate) fn encode_for_store(
    config: &floe_core::EncodingConfig,
    blob: Vec<u8>,
    buffer: u64,
    spill_dir: &Path,
) -> Result<(SliverSource, VerifiedBlobMetadataWithId, Option<String>)> {
    let encoder = PairEncoder::new(config, SharedBlob(Arc::new(blob)))?;
    if encoder.total_bytes() as u64 <= buffer {
        let (pairs, metadata) = floe_core::encode_blob(config, encoder.blob())?.into_pairs();
        return Ok((SliverSource::encoded(pairs), metadata, None));
    }
    let k_p = config.n_primary_source_symbols();
    let rows = config.n() - usize::from(k_p);
    let mut refused = None;
    let spill = match SpillFile::create(spill_dir, k_p, rows, encoder.primary_bytes()) {
        Ok(file) => Some(file),
        Err(e) => {
            refused = Some(spill_refused(spill_dir, &e));
            None
        }
    };
    let sink = spill
        .as_ref()
        .map(|file| move |row: u16, offset: usize, bytes: &[u8]| file.write(row, offset, bytes));
    let metadata = encoder.metadata(sink.as_ref().map(|sink| sink as RepairRowSink<'_>))?;
    let spill = match spill.map(|file| file.finish().map(|()| file)) {
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => {
            refused = Some(spill_refused(spill_dir, &e));
            None
        }
        None => None,
    };
    Ok((SliverSource::OnDemand { encoder, spill }, metadata, refused))
}

/// Logs that a store cannot spill, and says why in one line.
fn spill_refused(dir: &Path, error: &std::io::Error) -> String {
    let why = format!(
        "cannot write the store's repair slivers to a scratch file in {}: {error}; \
         computing them again while uploading (slower, same memory)",
        dir.display()
    );
    tracing::warn!("{why}");
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_parse() {
        assert_eq!("max".parse::<Epochs>(), Ok(Epochs::Max));
        assert_eq!("3".parse::<Epochs>(), Ok(Epochs::Ahead(3)));
        assert!("0".parse::<Epochs>().is_err());
        assert!("-1".parse::<Epochs>().is_err());
        assert!("soon".parse::<Epochs>().is_err());
    }
}
