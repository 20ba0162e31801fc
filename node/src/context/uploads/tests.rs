//! Promotion of buffered uploads: only writes (the follower's promotion,
//! uploads) move them into the store, and nothing acknowledged as buffered
//! is lost to a race with the registration.

use std::sync::Arc;

use floe_core::bls::BlsSecretKey;
use floe_core::move_types::ObjectId;
use floe_core::{EncodedBlob, EncodingConfig, encode_blob, shard_to_pair};

use super::*;
use crate::chain_view::{ChainView, CommitteeView};
use crate::config::Limits;
use crate::store::{BlobObjectInfo, NodeStore};

const N: u16 = 4;
const EPOCH: u32 = 2;
const SHARD: u16 = 1;

struct Node {
    ctx: NodeContext,
    committee: Arc<CommitteeView>,
    _dir: tempfile::TempDir,
}

fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(NodeStore::open(dir.path()).unwrap());
    let view = CommitteeView::new(EPOCH, N, [SHARD]).unwrap();
    let ctx = NodeContext::new(
        store,
        ChainView::new(view),
        BlsSecretKey::from_seed(&[9; 32]),
        &Limits::default(),
    );
    let committee = ctx.chain().committee();
    Node {
        ctx,
        committee,
        _dir: dir,
    }
}

fn blob(seed: u8) -> EncodedBlob {
    let data: Vec<u8> = (0..3000u32).map(|i| (i as u8) ^ seed).collect();
    encode_blob(&EncodingConfig::new(N).unwrap(), &data).unwrap()
}

/// The registration as the follower's batch writes it.
fn register(ctx: &NodeContext, id: &BlobId) {
    let info = BlobObjectInfo {
        deletable: false,
        registered_epoch: EPOCH,
        end_epoch: EPOCH + 3,
        certified_epoch: None,
        deleted: false,
    };
    ctx.store()
        .put_blob_object(id, &ObjectId([1; 32]), &info, None)
        .unwrap();
}

/// Buffers `blob`'s metadata and both slivers of the owned shard.
fn buffer(node: &Node, blob: &EncodedBlob) -> [Vec<u8>; 2] {
    let id = *blob.metadata.blob_id();
    let uploaded = node
        .ctx
        .accept_metadata(&node.committee, blob.metadata.clone(), true)
        .unwrap();
    assert_eq!(uploaded, MetadataUpload::Buffered);
    let pair = shard_to_pair(SHARD, &id, N);
    let primary = blob.primary[usize::from(pair)].to_bcs();
    let secondary = blob.secondary[usize::from(N - 1 - pair)].to_bcs();
    for (axis, bcs) in [(Axis::Primary, &primary), (Axis::Secondary, &secondary)] {
        let target = node
            .ctx
            .sliver_target(&node.committee, &id, SHARD, axis, true)
            .unwrap();
        assert!(matches!(target, SliverTarget::Buffer(_)));
        let uploaded = node
            .ctx
            .accept_sliver(&id, SHARD, axis, bcs.clone(), &target)
            .unwrap();
        assert_eq!(uploaded, SliverUpload::Buffered);
    }
    [primary, secondary]
}

#[test]
fn reads_never_promote_and_the_follower_does() {
    let node = node();
    let encoded = blob(1);
    let id = *encoded.metadata.blob_id();
    let [primary, secondary] = buffer(&node, &encoded);
    // Not registered: the follower's promotion leaves the buffer alone.
    assert!(!node.ctx.promote_pending(&id).unwrap());
    register(&node.ctx, &id);
    // Registered but not applied by the follower yet: every read path
    // sees nothing and stores nothing.
    assert!(
        node.ctx
            .stored_metadata(&node.committee, &id)
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        node.ctx
            .confirm(&node.committee, &id, BlobPersistenceType::Permanent),
        Err(ConfirmError::Missing(_))
    ));
    assert!(
        !node
            .ctx
            .registration_settled(&id, BlobPersistenceType::Permanent)
            .unwrap()
    );
    assert!(!node.ctx.store().has_metadata(&id).unwrap());
    assert!(node.ctx.metadata_buffered(&id));
    assert!(node.ctx.sliver_buffered(&id, SHARD, Axis::Primary));

    assert!(node.ctx.promote_pending(&id).unwrap());
    let store = node.ctx.store();
    assert!(store.has_metadata(&id).unwrap());
    assert_eq!(
        store
            .get_sliver_bytes(SHARD, Axis::Primary, &id)
            .unwrap()
            .as_deref(),
        Some(primary.as_slice())
    );
    assert_eq!(
        store
            .get_sliver_bytes(SHARD, Axis::Secondary, &id)
            .unwrap()
            .as_deref(),
        Some(secondary.as_slice())
    );
    assert!(!node.ctx.metadata_buffered(&id));
    assert!(!node.ctx.sliver_buffered(&id, SHARD, Axis::Primary));
    assert!(
        node.ctx
            .registration_settled(&id, BlobPersistenceType::Permanent)
            .unwrap()
    );
    assert!(
        node.ctx
            .confirm(&node.committee, &id, BlobPersistenceType::Permanent)
            .is_ok()
    );
    // Nothing left: promoting again is a no-op.
    assert!(!node.ctx.promote_pending(&id).unwrap());
}

#[test]
fn the_periodic_catch_up_promotes_registered_blobs_only() {
    let node = node();
    let (a, b) = (blob(2), blob(3));
    buffer(&node, &a);
    buffer(&node, &b);
    let (ida, idb) = (*a.metadata.blob_id(), *b.metadata.blob_id());
    register(&node.ctx, &ida);
    assert_eq!(node.ctx.promote_registered_pending().unwrap(), 1);
    assert!(node.ctx.store().has_metadata(&ida).unwrap());
    assert!(
        node.ctx
            .store()
            .has_sliver(SHARD, Axis::Primary, &ida)
            .unwrap()
    );
    assert!(!node.ctx.store().has_metadata(&idb).unwrap());
    assert!(node.ctx.metadata_buffered(&idb));
    assert_eq!(node.ctx.promote_registered_pending().unwrap(), 0);
}

/// Uploads that come after the registration was applied (and the buffer
/// promoted) go to the store, whatever they asked for; an upload of a
/// registered blob whose metadata are still buffered promotes them (it
/// is a write).
#[test]
fn uploads_after_the_registration_reach_the_store() {
    let node = node();
    let encoded = blob(4);
    let id = *encoded.metadata.blob_id();
    let pair = shard_to_pair(SHARD, &id, N);
    let uploaded = node
        .ctx
        .accept_metadata(&node.committee, encoded.metadata.clone(), true)
        .unwrap();
    assert_eq!(uploaded, MetadataUpload::Buffered);
    register(&node.ctx, &id);
    // A sliver upload without `pending` for the registered blob: it finds
    // the metadata buffered and stores them before deciding.
    let target = node
        .ctx
        .sliver_target(&node.committee, &id, SHARD, Axis::Primary, false)
        .unwrap();
    assert!(matches!(target, SliverTarget::Store(_)));
    assert!(node.ctx.store().has_metadata(&id).unwrap());
    assert!(!node.ctx.metadata_buffered(&id));
    // A sliver whose target said "buffer" but whose blob was promoted
    // meanwhile is stored, not left in a buffer nobody flushes.
    let stale = SliverTarget::Buffer(encoded.metadata.clone());
    let secondary = encoded.secondary[usize::from(N - 1 - pair)].to_bcs();
    let uploaded = node
        .ctx
        .accept_sliver(&id, SHARD, Axis::Secondary, secondary, &stale)
        .unwrap();
    assert_eq!(uploaded, SliverUpload::Stored);
    assert!(!node.ctx.sliver_buffered(&id, SHARD, Axis::Secondary));
    // Metadata sent again with `pending` after the registration.
    let again = node
        .ctx
        .accept_metadata(&node.committee, encoded.metadata.clone(), true)
        .unwrap();
    assert_eq!(again, MetadataUpload::AlreadyStored);
    // Without `pending` and not registered: refused.
    let other = blob(5);
    assert!(matches!(
        node.ctx
            .accept_metadata(&node.committee, other.metadata.clone(), false),
        Err(UploadError::NotRegistered)
    ));
}
