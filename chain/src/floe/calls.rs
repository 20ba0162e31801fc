//! One signed transaction per floe entry point. Objects a call returns
//! (`Storage`, `Blob`) go to the signer; payments come from a `Coin<WAL>`
//! the signer owns (passed as `&mut`, so the change stays in it).

use floe_core::move_types::U256Le;
use sui_sdk_types::{Address, Identifier};
use sui_transaction_builder::{Argument, Function, TransactionBuilder};

use super::{Floe, FloeError};
use crate::keystore::KeyPair;
use crate::types::ExecutedTx;

/// A blob to register: what `register_blob` checks against the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRegistration {
    /// The blob id (Move reads its 32 bytes as a little-endian u256).
    pub blob_id: U256Le,
    /// Root of the sliver-pair Merkle tree.
    pub root_hash: U256Le,
    /// Unencoded length.
    pub size: u64,
    /// Encoding type (RS2 = 1).
    pub encoding_type: u8,
    pub deletable: bool,
}

/// A quorum (or f + 1) certificate as the contract takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateArgs {
    /// Aggregate BLS signature (96 bytes).
    pub signature: Vec<u8>,
    /// Little-endian signer bitmap over the committee order.
    pub signers_bitmap: Vec<u8>,
    /// The signed message bytes.
    pub message: Vec<u8>,
}

impl Floe {
    pub(super) fn call(
        &self,
        b: &mut TransactionBuilder,
        package: Address,
        module: &'static str,
        function: &'static str,
        args: Vec<Argument>,
    ) -> Argument {
        b.move_call(
            Function::new(
                package,
                Identifier::from_static(module),
                Identifier::from_static(function),
            ),
            args,
        )
    }

    pub(super) fn floe(
        &self,
        b: &mut TransactionBuilder,
        module: &'static str,
        function: &'static str,
        args: Vec<Argument>,
    ) -> Argument {
        self.call(b, self.ids.floe_package, module, function, args)
    }

    pub(super) async fn system_arg(
        &self,
        b: &mut TransactionBuilder,
        mutable: bool,
    ) -> Result<Argument, FloeError> {
        let input = self.client.object_input(self.ids.system, mutable).await?;
        Ok(b.object(input))
    }

    pub(super) async fn owned_arg(
        &self,
        b: &mut TransactionBuilder,
        id: Address,
    ) -> Result<Argument, FloeError> {
        let input = self.client.object_input(id, true).await?;
        Ok(b.object(input))
    }

    pub(super) async fn run(
        &self,
        key: &KeyPair,
        b: TransactionBuilder,
    ) -> Result<ExecutedTx, FloeError> {
        Ok(self.client.sign_and_execute(key, b, &self.gas).await?)
    }

    pub(super) fn keep(b: &mut TransactionBuilder, key: &KeyPair, objects: Vec<Argument>) {
        let me = b.pure(&key.address());
        b.transfer_objects(objects, me);
    }

    /// `system::reserve_space`: `amount` encoded bytes for `epochs_ahead`
    /// epochs from now.
    pub async fn reserve_space(
        &self,
        key: &KeyPair,
        amount: u64,
        epochs_ahead: u32,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let (amount, epochs) = (b.pure(&amount), b.pure(&epochs_ahead));
        let storage = self.floe(
            &mut b,
            "system",
            "reserve_space",
            vec![system, amount, epochs, payment],
        );
        Self::keep(&mut b, key, vec![storage]);
        self.run(key, b).await
    }

    /// `system::reserve_space_for_epochs`: `[start_epoch, end_epoch)`.
    pub async fn reserve_space_for_epochs(
        &self,
        key: &KeyPair,
        amount: u64,
        start_epoch: u32,
        end_epoch: u32,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let args = vec![
            system,
            b.pure(&amount),
            b.pure(&start_epoch),
            b.pure(&end_epoch),
            payment,
        ];
        let storage = self.floe(&mut b, "system", "reserve_space_for_epochs", args);
        Self::keep(&mut b, key, vec![storage]);
        self.run(key, b).await
    }

    fn register_args(b: &mut TransactionBuilder, r: &BlobRegistration) -> [Argument; 5] {
        [
            b.pure(&r.blob_id),
            b.pure(&r.root_hash),
            b.pure(&r.size),
            b.pure(&r.encoding_type),
            b.pure(&r.deletable),
        ]
    }

    /// `system::register_blob` on an owned `Storage`.
    pub async fn register_blob(
        &self,
        key: &KeyPair,
        storage: Address,
        blob: &BlobRegistration,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let storage = self.owned_arg(&mut b, storage).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let [id, root, size, enc, del] = Self::register_args(&mut b, blob);
        let args = vec![system, storage, id, root, size, enc, del, payment];
        let blob = self.floe(&mut b, "system", "register_blob", args);
        Self::keep(&mut b, key, vec![blob]);
        self.run(key, b).await
    }

    /// The store flow's transaction on an owned `Storage` that is at least
    /// `encoded_size` large and starts no later than now: split off what
    /// exceeds `encoded_size` (the rest stays with the signer), buy the
    /// epochs `[storage_end, end_epoch)` it lacks when `storage_end <
    /// end_epoch` and fuse them on, then `register_blob` on it. One
    /// transaction, so a failure leaves the storage untouched.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_on_owned_storage(
        &self,
        key: &KeyPair,
        storage: Address,
        storage_size: u64,
        storage_end: u32,
        end_epoch: u32,
        blob: &BlobRegistration,
        encoded_size: u64,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let storage = self.owned_arg(&mut b, storage).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        if storage_size > encoded_size {
            let size = b.pure(&encoded_size);
            let rest = self.floe(
                &mut b,
                "storage_resource",
                "split_by_size",
                vec![storage, size],
            );
            Self::keep(&mut b, key, vec![rest]);
        }
        if storage_end < end_epoch {
            let args = vec![
                system,
                b.pure(&encoded_size),
                b.pure(&storage_end),
                b.pure(&end_epoch),
                payment,
            ];
            let extra = self.floe(&mut b, "system", "reserve_space_for_epochs", args);
            self.floe(
                &mut b,
                "storage_resource",
                "fuse_periods",
                vec![storage, extra],
            );
        }
        let [id, root, size, enc, del] = Self::register_args(&mut b, blob);
        let args = vec![system, storage, id, root, size, enc, del, payment];
        let blob = self.floe(&mut b, "system", "register_blob", args);
        Self::keep(&mut b, key, vec![blob]);
        self.run(key, b).await
    }

    /// The store flow's one transaction: `reserve_space` for
    /// `encoded_size` bytes and `register_blob` on it.
    pub async fn reserve_and_register(
        &self,
        key: &KeyPair,
        encoded_size: u64,
        epochs_ahead: u32,
        blob: &BlobRegistration,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let (amount, epochs) = (b.pure(&encoded_size), b.pure(&epochs_ahead));
        let storage = self.floe(
            &mut b,
            "system",
            "reserve_space",
            vec![system, amount, epochs, payment],
        );
        let [id, root, size, enc, del] = Self::register_args(&mut b, blob);
        let args = vec![system, storage, id, root, size, enc, del, payment];
        let blob = self.floe(&mut b, "system", "register_blob", args);
        Self::keep(&mut b, key, vec![blob]);
        self.run(key, b).await
    }

    /// `system::certify_blob` with a quorum certificate.
    pub async fn certify_blob(
        &self,
        key: &KeyPair,
        blob: Address,
        certificate: &CertificateArgs,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, false).await?;
        let blob = self.owned_arg(&mut b, blob).await?;
        let args = vec![
            system,
            blob,
            b.pure(&certificate.signature),
            b.pure(&certificate.signers_bitmap),
            b.pure(&certificate.message),
        ];
        self.floe(&mut b, "system", "certify_blob", args);
        self.run(key, b).await
    }

    /// `system::extend_blob`: `extended_epochs` more, paid from `payment`.
    pub async fn extend_blob(
        &self,
        key: &KeyPair,
        blob: Address,
        extended_epochs: u32,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let blob = self.owned_arg(&mut b, blob).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let epochs = b.pure(&extended_epochs);
        self.floe(
            &mut b,
            "system",
            "extend_blob",
            vec![system, blob, epochs, payment],
        );
        self.run(key, b).await
    }

    /// `system::extend_blob_with_resource`.
    pub async fn extend_blob_with_resource(
        &self,
        key: &KeyPair,
        blob: Address,
        storage: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, false).await?;
        let blob = self.owned_arg(&mut b, blob).await?;
        let storage = self.owned_arg(&mut b, storage).await?;
        self.floe(
            &mut b,
            "system",
            "extend_blob_with_resource",
            vec![system, blob, storage],
        );
        self.run(key, b).await
    }

    /// `system::delete_blob`; the freed `Storage` goes to the signer.
    pub async fn delete_blob(&self, key: &KeyPair, blob: Address) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, false).await?;
        let blob = self.owned_arg(&mut b, blob).await?;
        let storage = self.floe(&mut b, "system", "delete_blob", vec![system, blob]);
        Self::keep(&mut b, key, vec![storage]);
        self.run(key, b).await
    }

    /// `blob::burn`.
    pub async fn burn_blob(&self, key: &KeyPair, blob: Address) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        self.floe(&mut b, "blob", "burn", vec![blob]);
        self.run(key, b).await
    }

    /// `system::invalidate_blob_id` with an f + 1 certificate.
    pub async fn invalidate_blob_id(
        &self,
        key: &KeyPair,
        certificate: &CertificateArgs,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, false).await?;
        let args = vec![
            system,
            b.pure(&certificate.signature),
            b.pure(&certificate.signers_bitmap),
            b.pure(&certificate.message),
        ];
        self.floe(&mut b, "system", "invalidate_blob_id", args);
        self.run(key, b).await
    }

    /// `system::add_subsidy`: `amount` split off `payment`, spread over
    /// `epochs_ahead` epochs.
    pub async fn add_subsidy(
        &self,
        key: &KeyPair,
        payment: Address,
        amount: u64,
        epochs_ahead: u32,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let system = self.system_arg(&mut b, true).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let amount = b.pure(&amount);
        let coin = b.split_coins(payment, vec![amount]);
        let mut args = vec![system];
        args.extend(coin);
        args.push(b.pure(&epochs_ahead));
        self.floe(&mut b, "system", "add_subsidy", args);
        self.run(key, b).await
    }

    /// `blob::insert_or_update_metadata_pair`: sets attribute `key` to
    /// `value` (creating the attributes if needed).
    pub async fn set_attribute(
        &self,
        key: &KeyPair,
        blob: Address,
        name: &str,
        value: &str,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        let args = vec![blob, b.pure(&name), b.pure(&value)];
        self.floe(&mut b, "blob", "insert_or_update_metadata_pair", args);
        self.run(key, b).await
    }

    /// `metadata::new` + `insert_or_update` per pair + `blob::add_metadata`
    /// (aborts `EDuplicateMetadata` if the blob has attributes).
    pub async fn add_attributes(
        &self,
        key: &KeyPair,
        blob: Address,
        pairs: &[(&str, &str)],
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        let metadata = self.floe(&mut b, "metadata", "new", vec![]);
        for (k, v) in pairs {
            let args = vec![metadata, b.pure(k), b.pure(v)];
            self.floe(&mut b, "metadata", "insert_or_update", args);
        }
        self.floe(&mut b, "blob", "add_metadata", vec![blob, metadata]);
        self.run(key, b).await
    }

    /// `blob::take_metadata`: detaches all attributes (aborts
    /// `EMissingMetadata` without any).
    pub async fn take_attributes(
        &self,
        key: &KeyPair,
        blob: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        self.floe(&mut b, "blob", "take_metadata", vec![blob]);
        self.run(key, b).await
    }

    /// `blob::remove_metadata_pair_if_exists`.
    pub async fn remove_attribute(
        &self,
        key: &KeyPair,
        blob: Address,
        name: &str,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        let args = vec![blob, b.pure(&name)];
        self.floe(&mut b, "blob", "remove_metadata_pair_if_exists", args);
        self.run(key, b).await
    }

    /// `blob::remove_metadata_pair` (aborts without the attribute).
    pub async fn remove_attribute_strict(
        &self,
        key: &KeyPair,
        blob: Address,
        name: &str,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        let args = vec![blob, b.pure(&name)];
        self.floe(&mut b, "blob", "remove_metadata_pair", args);
        self.run(key, b).await
    }

    /// `shared_blob::new_funded` with `funds` split off `payment` (0 for
    /// `shared_blob::new`).
    pub async fn share_blob(
        &self,
        key: &KeyPair,
        blob: Address,
        funds: u64,
        payment: Option<Address>,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let blob = self.owned_arg(&mut b, blob).await?;
        match payment {
            Some(payment) => {
                let payment = self.owned_arg(&mut b, payment).await?;
                let amount = b.pure(&funds);
                let coin = b.split_coins(payment, vec![amount]);
                let mut args = vec![blob];
                args.extend(coin);
                self.floe(&mut b, "shared_blob", "new_funded", args);
            }
            None => {
                self.floe(&mut b, "shared_blob", "new", vec![blob]);
            }
        }
        self.run(key, b).await
    }

    /// `shared_blob::fund` with `amount` split off `payment`.
    pub async fn fund_shared_blob(
        &self,
        key: &KeyPair,
        shared: Address,
        amount: u64,
        payment: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let shared = self.owned_arg(&mut b, shared).await?;
        let payment = self.owned_arg(&mut b, payment).await?;
        let amount = b.pure(&amount);
        let coin = b.split_coins(payment, vec![amount]);
        let mut args = vec![shared];
        args.extend(coin);
        self.floe(&mut b, "shared_blob", "fund", args);
        self.run(key, b).await
    }

    /// `shared_blob::extend`, paid from the shared blob's funds.
    pub async fn extend_shared_blob(
        &self,
        key: &KeyPair,
        shared: Address,
        extended_epochs: u32,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let shared = self.owned_arg(&mut b, shared).await?;
        let system = self.system_arg(&mut b, true).await?;
        let epochs = b.pure(&extended_epochs);
        self.floe(
            &mut b,
            "shared_blob",
            "extend",
            vec![shared, system, epochs],
        );
        self.run(key, b).await
    }

    /// `wal::burn` of `amount` split off `payment`.
    pub async fn burn_wal(
        &self,
        key: &KeyPair,
        payment: Address,
        amount: u64,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let treasury = self.client.object_input(self.ids.treasury, true).await?;
        let treasury = b.object(treasury);
        let payment = self.owned_arg(&mut b, payment).await?;
        let amount = b.pure(&amount);
        let coin = b.split_coins(payment, vec![amount]);
        let mut args = vec![treasury];
        args.extend(coin);
        self.call(&mut b, self.ids.wal_package, "wal", "burn", args);
        self.run(key, b).await
    }

    /// `storage_resource::split_by_epoch`; the new part goes to the signer.
    pub async fn split_storage_by_epoch(
        &self,
        key: &KeyPair,
        storage: Address,
        split_epoch: u32,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let storage = self.owned_arg(&mut b, storage).await?;
        let at = b.pure(&split_epoch);
        let new = self.floe(
            &mut b,
            "storage_resource",
            "split_by_epoch",
            vec![storage, at],
        );
        Self::keep(&mut b, key, vec![new]);
        self.run(key, b).await
    }

    /// `storage_resource::split_by_size`; the remainder goes to the signer.
    pub async fn split_storage_by_size(
        &self,
        key: &KeyPair,
        storage: Address,
        split_size: u64,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let storage = self.owned_arg(&mut b, storage).await?;
        let size = b.pure(&split_size);
        let new = self.floe(
            &mut b,
            "storage_resource",
            "split_by_size",
            vec![storage, size],
        );
        Self::keep(&mut b, key, vec![new]);
        self.run(key, b).await
    }

    /// `storage_resource::fuse` of `second` into `first`.
    pub async fn fuse_storage(
        &self,
        key: &KeyPair,
        first: Address,
        second: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let first = self.owned_arg(&mut b, first).await?;
        let second = self.owned_arg(&mut b, second).await?;
        self.floe(&mut b, "storage_resource", "fuse", vec![first, second]);
        self.run(key, b).await
    }

    /// `storage_resource::destroy`.
    pub async fn destroy_storage(
        &self,
        key: &KeyPair,
        storage: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let storage = self.owned_arg(&mut b, storage).await?;
        self.floe(&mut b, "storage_resource", "destroy", vec![storage]);
        self.run(key, b).await
    }
}
