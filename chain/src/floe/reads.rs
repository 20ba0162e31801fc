//! Reads: `System` and its inner state, prices, committee, capacity, and
//! the objects an address owns (blobs, storage, WAL coins).

use floe_core::committee::Committee;
use floe_core::move_types::{
    Blob, BlsCommittee, DynamicField, SharedBlob, Storage, System, SystemStateInnerV1,
};
use sui_sdk_types::{Address, Identifier, TypeTag};
use sui_transaction_builder::{Function, TransactionBuilder};

use super::{Floe, FloeError, MAX_OWNED};
use crate::types::ObjectInfo;

/// Storage and write prices, in FROST per 1 MiB unit of encoded size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    /// Per unit per epoch.
    pub storage_price_per_unit_size: u64,
    /// Per unit, once at registration.
    pub write_price_per_unit_size: u64,
}

/// Encoded bytes the committee can store and has sold for this epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub total: u64,
    pub used: u64,
}

impl Floe {
    /// The `System` shell.
    pub async fn system(&self) -> Result<System, FloeError> {
        Ok(self.client.get_object_as(self.ids.system).await?.1)
    }

    /// The system state: the dynamic field of `System` keyed by its
    /// version.
    pub async fn system_state(&self) -> Result<SystemStateInnerV1, FloeError> {
        let system = self.system().await?;
        let key =
            bcs::to_bytes(&system.version).map_err(|e| FloeError::Committee(e.to_string()))?;
        let field_id = self.ids.system.derive_dynamic_child_id(&TypeTag::U64, &key);
        let field: DynamicField<u64, SystemStateInnerV1> =
            self.client.get_object_as(field_id).await?.1;
        Ok(field.value)
    }

    /// The current epoch (the committee's).
    pub async fn epoch(&self) -> Result<u32, FloeError> {
        Ok(self.system_state().await?.committee.epoch)
    }

    /// Current prices.
    pub async fn prices(&self) -> Result<Prices, FloeError> {
        let s = self.system_state().await?;
        Ok(Prices {
            storage_price_per_unit_size: s.storage_price_per_unit_size,
            write_price_per_unit_size: s.write_price_per_unit_size,
        })
    }

    /// Total and used capacity.
    pub async fn capacity(&self) -> Result<Capacity, FloeError> {
        let s = self.system_state().await?;
        Ok(Capacity {
            total: s.total_capacity_size,
            used: s.used_capacity_size,
        })
    }

    /// The committee as stored (`BlsCommittee`).
    pub async fn committee_raw(&self) -> Result<BlsCommittee, FloeError> {
        Ok(self.system_state().await?.committee)
    }

    /// The committee, checked (sorted members, shard sum, total key) and
    /// ready to verify certificates.
    pub async fn committee(&self) -> Result<Committee, FloeError> {
        let raw = self.committee_raw().await?;
        Committee::from_move(&raw).map_err(|e| FloeError::Committee(e.to_string()))
    }

    pub(super) async fn owned<T: serde::de::DeserializeOwned>(
        &self,
        owner: Address,
        module: &'static str,
        name: &'static str,
    ) -> Result<Vec<(Address, T)>, FloeError> {
        let tag = self.ids.floe_tag(module, name).to_string();
        let objects = self
            .client
            .list_all_owned_objects(owner, Some(&tag), MAX_OWNED)
            .await?;
        objects
            .iter()
            .map(|o: &ObjectInfo| Ok((o.id(), o.contents_as::<T>()?)))
            .collect()
    }

    /// `Blob`s owned by `owner`.
    pub async fn owned_blobs(&self, owner: Address) -> Result<Vec<(Address, Blob)>, FloeError> {
        self.owned(owner, "blob", "Blob").await
    }

    /// `Storage` resources owned by `owner`.
    pub async fn owned_storage(
        &self,
        owner: Address,
    ) -> Result<Vec<(Address, Storage)>, FloeError> {
        self.owned(owner, "storage_resource", "Storage").await
    }

    /// One blob by id.
    pub async fn blob(&self, id: Address) -> Result<Blob, FloeError> {
        Ok(self.client.get_object_as(id).await?.1)
    }

    /// One storage resource by id.
    pub async fn storage(&self, id: Address) -> Result<Storage, FloeError> {
        Ok(self.client.get_object_as(id).await?.1)
    }

    /// A shared blob by id.
    pub async fn shared_blob(&self, id: Address) -> Result<SharedBlob, FloeError> {
        Ok(self.client.get_object_as(id).await?.1)
    }

    /// `Coin<WAL>`s owned by `owner`: `(id, FROST)`, largest first.
    pub async fn wal_coins(&self, owner: Address) -> Result<Vec<(Address, u64)>, FloeError> {
        let coins = self
            .client
            .list_all_owned_objects(owner, Some(&self.ids.wal_coin_type()), MAX_OWNED)
            .await?;
        let mut out: Vec<(Address, u64)> = coins
            .iter()
            .map(|c| (c.id(), c.balance.unwrap_or(0)))
            .collect();
        out.sort_by_key(|(_, v)| std::cmp::Reverse(*v));
        Ok(out)
    }

    /// Total WAL (FROST) owned by `owner`.
    pub async fn wal_balance(&self, owner: Address) -> Result<u64, FloeError> {
        Ok(self
            .client
            .get_balance(owner, &self.ids.wal_type().to_string())
            .await?
            .total)
    }

    /// `wal::total_supply(&ProtectedTreasury)`, by a read-only call.
    pub async fn wal_total_supply(&self, sender: Address) -> Result<u64, FloeError> {
        let mut b = TransactionBuilder::new();
        let treasury = self.client.object_input(self.ids.treasury, false).await?;
        let treasury = b.object(treasury);
        b.move_call(
            Function::new(
                self.ids.wal_package,
                Identifier::from_static("wal"),
                Identifier::from_static("total_supply"),
            ),
            vec![treasury],
        );
        let view = self.client.view(sender, b).await?;
        Ok(view.return_value(0, 0)?)
    }
}
