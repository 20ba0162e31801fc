//! Storage-node membership: one call per `staking` entry point a node
//! operator uses (registration, node parameters, votes, commission), the
//! permissionless `update_prices` and `try_join_active_set`, and
//! [`Floe::node_info`], everything `floe node info` shows about a node.
//!
//! Who may call what (as on Walrus):
//! - `register_candidate`: anyone holding a BLS secret key; the proof of
//!   possession binds the key to the signer's address and the current
//!   epoch. The new `StorageNodeCap` goes to the signer and receives the
//!   node's commission; the signer's address governs.
//! - Node parameters and votes take the node's `StorageNodeCap`, owned by
//!   the signer.
//! - Commission and governance records take an [`AuthWith`]: the signer's
//!   address or a `StorageNodeCap` the signer owns, matched against the
//!   pool's `commission_receiver` / `governance_authorized`.
//!
//! Each setter returns the executed transaction, aborted or not (see
//! [`super::abort_of`]; its `status` prints as `module::EName (code n)`).
//! [`Floe::register_candidate`] instead requires success and returns the
//! new node id and cap id.

use floe_core::bls::{BlsPublicKey, BlsSecretKey, BlsSignature};
use floe_core::messages::proof_of_possession;
use floe_core::move_types::{
    Authorized, DynamicField, NodeMetadata, ObjectId, PendingValues, StakingPool, VotingParams,
};
use serde::Serialize;
use sui_sdk_types::{Address, Identifier, Owner, TypeTag};
use sui_transaction_builder::{Argument, Function, TransactionBuilder};

use super::{Floe, FloeError, to_address};
use crate::error::ChainError;
use crate::keystore::KeyPair;
use crate::types::ExecutedTx;

/// What a candidate registers: its record, keys and first votes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRegistration {
    /// At most 100 bytes.
    pub name: String,
    /// `host:port`, no scheme, at most 259 bytes.
    pub network_address: String,
    pub metadata: NodeMetadata,
    /// The BLS key the node signs with.
    pub public_key: BlsPublicKey,
    /// 33 bytes (compressed secp256r1, the node's TLS identity).
    pub network_public_key: Vec<u8>,
    /// Signature of the proof-of-possession message (see
    /// [`NodeRegistration::proof_of_possession`]).
    pub proof_of_possession: BlsSignature,
    /// Basis points of the rewards, at most 10_000.
    pub commission_rate_bps: u16,
    /// The node's first votes.
    pub votes: VotingParams,
}

impl NodeRegistration {
    /// The proof of possession `register_candidate` and
    /// `set_next_public_key` check: `secret`'s signature over the
    /// proof-of-possession message (intent 0, version 0, app 3, `epoch`
    /// u32 LE, `sender`'s 32 bytes, the 48-byte public key), which binds
    /// the key to the transaction's sender and the current epoch.
    pub fn proof_of_possession(secret: &BlsSecretKey, epoch: u32, sender: Address) -> BlsSignature {
        proof_of_possession(secret, epoch, ObjectId(sender.into_inner())).1
    }
}

/// A registered node.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The node id (its pool's id).
    pub node_id: ObjectId,
    /// The signer's new `StorageNodeCap`.
    pub cap: Address,
    pub tx: ExecutedTx,
}

/// How a call proves it acts for a pool's commission receiver or
/// governance authority (`auth::Authenticated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthWith {
    /// The signer's address.
    Sender,
    /// A `StorageNodeCap` the signer owns.
    Cap(Address),
}

/// What `floe node info` shows about a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub pool: StakingPool,
    pub metadata: NodeMetadata,
    /// Commission collectable now.
    pub collectable_commission: u64,
    /// Commission of the last epoch change, collectable from the next
    /// `voting_end`.
    pub blocked_commission: u64,
    /// Scheduled commission rates (epoch, basis points).
    pub pending_commission_rates: Vec<(u32, u16)>,
    /// Shards in the current committee (0 if not a member).
    pub shards: usize,
    /// Shards in the selected next committee (`None` before `voting_end`).
    pub next_shards: Option<usize>,
}

impl NodeInfo {
    pub fn votes(&self) -> VotingParams {
        self.pool.voting_params.clone()
    }

    pub fn commission_receiver(&self) -> Authorized {
        self.pool.commission_receiver
    }

    pub fn governance_authorized(&self) -> Authorized {
        self.pool.governance_authorized
    }
}

fn pending_rates(p: &PendingValues) -> Vec<(u32, u16)> {
    p.pos0
        .contents
        .iter()
        .map(|e| (e.key, u16::try_from(e.value).unwrap_or(u16::MAX)))
        .collect()
}

impl Floe {
    fn staking_fn(&self, name: &'static str) -> Function {
        Function::new(
            self.ids.floe_package,
            Identifier::from_static("staking"),
            Identifier::from_static(name),
        )
    }

    async fn shared_staking(&self, b: &mut TransactionBuilder) -> Result<Argument, FloeError> {
        let input = self.client.object_input(self.ids.staking, true).await?;
        Ok(b.object(input))
    }

    /// `node_metadata::new(image_url, project_url, description)` in the
    /// transaction (a struct cannot be a pure argument).
    fn metadata_arg(&self, b: &mut TransactionBuilder, m: &NodeMetadata) -> Argument {
        let args = vec![
            b.pure(&m.image_url),
            b.pure(&m.project_url),
            b.pure(&m.description),
        ];
        self.floe(b, "node_metadata", "new", args)
    }

    /// An `auth::Authenticated` built in the transaction.
    pub(super) async fn auth_arg(
        &self,
        b: &mut TransactionBuilder,
        auth: AuthWith,
    ) -> Result<Argument, FloeError> {
        Ok(match auth {
            AuthWith::Sender => self.floe(b, "auth", "authenticate_sender", vec![]),
            AuthWith::Cap(cap) => {
                let cap = self.owned_arg(b, cap).await?;
                let cap_type: TypeTag = self.ids.floe_tag("storage_node", "StorageNodeCap").into();
                b.move_call(
                    Function::new(
                        self.ids.floe_package,
                        Identifier::from_static("auth"),
                        Identifier::from_static("authenticate_with_object"),
                    )
                    .with_type_args(vec![cap_type]),
                    vec![cap],
                )
            }
        })
    }

    /// An `auth::Authorized` built in the transaction.
    fn authorized_arg(&self, b: &mut TransactionBuilder, to: Authorized) -> Argument {
        match to {
            Authorized::Address(a) => {
                let a = b.pure(&to_address(a));
                self.floe(b, "auth", "authorized_address", vec![a])
            }
            Authorized::ObjectID(id) => {
                let id = b.pure(&to_address(id));
                self.floe(b, "auth", "authorized_object", vec![id])
            }
        }
    }

    /// `staking::register_candidate`: registers a storage node; the new
    /// `StorageNodeCap` goes to the signer. The proof of possession must
    /// be for the current epoch and the signer's address (build it with
    /// [`NodeRegistration::proof_of_possession`]). Fails with the abort
    /// (`staking_pool::EInvalidProofOfPossession`, `EIncorrectCommissionRate`,
    /// `EInvalidNameLength`, `EInvalidNetworkAddressLength`,
    /// `storage_node::EInvalidNetworkPublicKey`, ...) in the error text.
    pub async fn register_candidate(
        &self,
        key: &KeyPair,
        reg: &NodeRegistration,
    ) -> Result<Registration, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let metadata = self.metadata_arg(&mut b, &reg.metadata);
        let args = vec![
            staking,
            b.pure(&reg.name),
            b.pure(&reg.network_address),
            metadata,
            b.pure(&reg.public_key.as_bytes().to_vec()),
            b.pure(&reg.network_public_key),
            b.pure(&reg.proof_of_possession.0.to_vec()),
            b.pure(&reg.commission_rate_bps),
            b.pure(&reg.votes.storage_price),
            b.pure(&reg.votes.write_price),
            b.pure(&reg.votes.node_capacity),
        ];
        let cap = b.move_call(self.staking_fn("register_candidate"), args);
        Self::keep(&mut b, key, vec![cap]);
        let tx = self.run(key, b).await?.ensure_success()?;
        let mine: Vec<Address> = tx
            .created()
            .into_iter()
            .filter(|o| o.owner == Owner::Address(key.address()))
            .map(|o| *o.reference.object_id())
            .collect();
        let cap_tag = self.ids.floe_tag("storage_node", "StorageNodeCap");
        for (id, info) in mine.iter().zip(self.client.get_objects(&mine).await?) {
            let Some(info) = info else { continue };
            if info.struct_type() == Some(&cap_tag) {
                let cap: floe_core::move_types::StorageNodeCap = info.contents_as()?;
                return Ok(Registration {
                    node_id: cap.node_id,
                    cap: *id,
                    tx,
                });
            }
        }
        Err(FloeError::WrongType {
            id: Address::ZERO,
            expected: format!("a created {cap_tag} in transaction {}", tx.digest),
        })
    }

    /// One `staking::<function>(staking, cap, value)` call.
    async fn with_cap<T: Serialize>(
        &self,
        key: &KeyPair,
        function: &'static str,
        cap: Address,
        value: &T,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        let value = b.pure(value);
        b.move_call(self.staking_fn(function), vec![staking, cap, value]);
        self.run(key, b).await
    }

    /// `staking::set_next_commission`: the rate (basis points, at most
    /// 10_000) from two epochs ahead on.
    pub async fn set_next_commission(
        &self,
        key: &KeyPair,
        cap: Address,
        rate_bps: u16,
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(key, "set_next_commission", cap, &rate_bps)
            .await
    }

    /// `staking::set_storage_price_vote` (FROST per MiB per epoch); applied
    /// by the next `update_prices` (see [`Floe::vote_prices`]).
    pub async fn set_storage_price_vote(
        &self,
        key: &KeyPair,
        cap: Address,
        price: u64,
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(key, "set_storage_price_vote", cap, &price)
            .await
    }

    /// `staking::set_write_price_vote` (FROST per MiB).
    pub async fn set_write_price_vote(
        &self,
        key: &KeyPair,
        cap: Address,
        price: u64,
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(key, "set_write_price_vote", cap, &price)
            .await
    }

    /// `staking::set_node_capacity_vote` (encoded bytes), counted at the
    /// next `voting_end`.
    pub async fn set_node_capacity_vote(
        &self,
        key: &KeyPair,
        cap: Address,
        capacity: u64,
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(key, "set_node_capacity_vote", cap, &capacity)
            .await
    }

    /// `staking::set_name` (at most 100 bytes).
    pub async fn set_node_name(
        &self,
        key: &KeyPair,
        cap: Address,
        name: &str,
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(key, "set_name", cap, &name.to_owned()).await
    }

    /// `staking::set_network_address` (`host:port`, at most 259 bytes).
    pub async fn set_network_address(
        &self,
        key: &KeyPair,
        cap: Address,
        address: &str,
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(key, "set_network_address", cap, &address.to_owned())
            .await
    }

    /// `staking::set_network_public_key` (33 bytes).
    pub async fn set_network_public_key(
        &self,
        key: &KeyPair,
        cap: Address,
        network_public_key: &[u8],
    ) -> Result<ExecutedTx, FloeError> {
        self.with_cap(
            key,
            "set_network_public_key",
            cap,
            &network_public_key.to_vec(),
        )
        .await
    }

    /// `staking::set_node_metadata`.
    pub async fn set_node_metadata(
        &self,
        key: &KeyPair,
        cap: Address,
        metadata: &NodeMetadata,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        let metadata = self.metadata_arg(&mut b, metadata);
        b.move_call(
            self.staking_fn("set_node_metadata"),
            vec![staking, cap, metadata],
        );
        self.run(key, b).await
    }

    /// `staking::set_next_public_key`: the node signs with `secret`'s key
    /// from its pool's next epoch advance on. The proof of possession is
    /// made here for `epoch`, which must be the chain's epoch when the
    /// transaction runs (read it with [`Floe::staking_state`]).
    pub async fn set_next_public_key(
        &self,
        key: &KeyPair,
        cap: Address,
        secret: &BlsSecretKey,
        epoch: u32,
    ) -> Result<ExecutedTx, FloeError> {
        let pop = NodeRegistration::proof_of_possession(secret, epoch, key.address());
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        let args = vec![
            staking,
            cap,
            b.pure(&secret.public_key().as_bytes().to_vec()),
            b.pure(&pop.0.to_vec()),
        ];
        b.move_call(self.staking_fn("set_next_public_key"), args);
        self.run(key, b).await
    }

    /// `staking::set_commission_receiver`: hands `node_id`'s commission to
    /// `receiver`; `auth` must match the current receiver.
    pub async fn set_commission_receiver(
        &self,
        key: &KeyPair,
        node_id: ObjectId,
        auth: AuthWith,
        receiver: Authorized,
    ) -> Result<ExecutedTx, FloeError> {
        self.set_authorized(key, "set_commission_receiver", node_id, auth, receiver)
            .await
    }

    /// `staking::set_governance_authorized`: hands `node_id`'s governance
    /// to `authorized`; `auth` must match the current authority.
    pub async fn set_governance_authorized(
        &self,
        key: &KeyPair,
        node_id: ObjectId,
        auth: AuthWith,
        authorized: Authorized,
    ) -> Result<ExecutedTx, FloeError> {
        self.set_authorized(key, "set_governance_authorized", node_id, auth, authorized)
            .await
    }

    async fn set_authorized(
        &self,
        key: &KeyPair,
        function: &'static str,
        node_id: ObjectId,
        auth: AuthWith,
        to: Authorized,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let node = b.pure(&to_address(node_id));
        let auth = self.auth_arg(&mut b, auth).await?;
        let to = self.authorized_arg(&mut b, to);
        b.move_call(self.staking_fn(function), vec![staking, node, auth, to]);
        self.run(key, b).await
    }

    /// `staking::collect_commission`: `node_id`'s collectable commission
    /// (all but what the last epoch change added, which unblocks at the
    /// next `voting_end`) as a `Coin<WAL>` to the signer; `auth` must match
    /// the pool's commission receiver (a registered node's cap).
    pub async fn collect_commission(
        &self,
        key: &KeyPair,
        node_id: ObjectId,
        auth: AuthWith,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let node = b.pure(&to_address(node_id));
        let auth = self.auth_arg(&mut b, auth).await?;
        let coin = b.move_call(
            self.staking_fn("collect_commission"),
            vec![staking, node, auth],
        );
        Self::keep(&mut b, key, vec![coin]);
        self.run(key, b).await
    }

    /// `staking::update_prices` (permissionless): the current committee's
    /// quorum prices become `System`'s prices now; emits `PricesUpdated`.
    pub async fn update_prices(&self, key: &KeyPair) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let system = self.system_arg(&mut b, true).await?;
        b.move_call(self.staking_fn("update_prices"), vec![staking, system]);
        self.run(key, b).await
    }

    /// Price votes and `update_prices` in one transaction, as Walrus nodes
    /// vote: each given price is set, then the prices are recomputed.
    pub async fn vote_prices(
        &self,
        key: &KeyPair,
        cap: Address,
        storage_price: Option<u64>,
        write_price: Option<u64>,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        if let Some(price) = storage_price {
            let price = b.pure(&price);
            b.move_call(
                self.staking_fn("set_storage_price_vote"),
                vec![staking, cap, price],
            );
        }
        if let Some(price) = write_price {
            let price = b.pure(&price);
            b.move_call(
                self.staking_fn("set_write_price_vote"),
                vec![staking, cap, price],
            );
        }
        let system = self.system_arg(&mut b, true).await?;
        b.move_call(self.staking_fn("update_prices"), vec![staking, system]);
        self.run(key, b).await
    }

    /// `staking::try_join_active_set`: puts the cap's node in the active
    /// set with its projected stake.
    pub async fn try_join_active_set(
        &self,
        key: &KeyPair,
        cap: Address,
    ) -> Result<ExecutedTx, FloeError> {
        let mut b = TransactionBuilder::new();
        let staking = self.shared_staking(&mut b).await?;
        let cap = self.owned_arg(&mut b, cap).await?;
        b.move_call(self.staking_fn("try_join_active_set"), vec![staking, cap]);
        self.run(key, b).await
    }

    /// The node's metadata (the dynamic field of its `ExtendedField`).
    pub async fn node_metadata(&self, pool: &StakingPool) -> Result<NodeMetadata, FloeError> {
        let key_type: TypeTag = self.ids.floe_tag("extended_field", "Key").into();
        let field_id =
            to_address(pool.node_info.metadata.id).derive_dynamic_child_id(&key_type, &[0]);
        let field: DynamicField<bool, NodeMetadata> = self.client.get_object_as(field_id).await?.1;
        Ok(field.value)
    }

    /// The pool's commission that cannot be collected before the next
    /// `voting_end` (a `u64` in its `extra_fields` bag).
    pub async fn blocked_commission(&self, pool: &StakingPool) -> Result<u64, FloeError> {
        let key_type: TypeTag = self
            .ids
            .floe_tag("staking_pool", "NewEpochCommissionBlockedForCollection")
            .into();
        let field_id = to_address(pool.extra_fields.id).derive_dynamic_child_id(&key_type, &[0]);
        match self
            .client
            .get_object_as::<DynamicField<bool, u64>>(field_id)
            .await
        {
            Ok((_, field)) => Ok(field.value),
            Err(ChainError::ObjectNotFound(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Everything an operator checks about `node_id`: its pool (record,
    /// votes, stake, commission rate and receiver, governance), metadata,
    /// collectable and blocked commission, scheduled commission rates and
    /// shards now and in the selected next committee.
    pub async fn node_info(&self, node_id: ObjectId) -> Result<NodeInfo, FloeError> {
        let pool = self.pool(node_id).await?;
        let metadata = self.node_metadata(&pool).await?;
        let blocked = self.blocked_commission(&pool).await?;
        let state = self.staking_state().await?;
        let shards_in = |c: &floe_core::move_types::Committee| {
            c.pos0
                .contents
                .iter()
                .find(|e| e.key == node_id)
                .map_or(0, |e| e.value.len())
        };
        Ok(NodeInfo {
            metadata,
            collectable_commission: pool.commission.value.saturating_sub(blocked),
            blocked_commission: blocked.min(pool.commission.value),
            pending_commission_rates: pending_rates(&pool.pending_commission_rate),
            shards: shards_in(&state.committee),
            next_shards: state.next_committee.as_ref().map(shards_in),
            pool,
        })
    }
}
