//! Typed access to floe's contracts: reads of `System` (epoch, prices,
//! committee, capacity) and of owned `Blob`/`Storage`/WAL coins, and one
//! call per entry point (storage, blobs, certificates, attributes, shared
//! blobs, subsidies, WAL burn); staking and the epoch change (`staking`);
//! storage-node registration, parameters, votes and commission
//! (`membership`); parameter proposals and votes (`governance`); and where the storage nodes serve their REST APIs
//! ([`endpoints`], from each pool's `network_address`).
//!
//! Everything is addressed through [`FloeIds`]: the two package ids and
//! the shared `System` and `ProtectedTreasury` objects. On the devnet they
//! are found in the genesis checkpoint ([`FloeIds::discover`]); on another
//! chain they come from configuration. Layouts are `floe_core::move_types`.
//!
//! Calls return the executed transaction whether it succeeded or aborted
//! (use [`ExecutedTx::ensure_success`] or [`abort_of`]); objects a call
//! creates (a `Storage`, a `Blob`) are transferred to the signer.

pub mod aborts;
pub mod calls;
pub mod endpoints;
pub mod governance;
pub mod membership;
pub mod reads;
pub mod staking;
pub mod votes;

use floe_core::move_types::ObjectId;
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

use crate::connection::ChainClient;
use crate::error::ChainError;
use crate::tx::GasConfig;
use crate::types::{ExecutedTx, TxStatus};

/// Bound on objects of one type read for one owner.
pub const MAX_OWNED: usize = 10_000;

/// Errors of the typed floe client.
#[derive(Debug, thiserror::Error)]
pub enum FloeError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("{0} not found in the genesis checkpoint")]
    NotInGenesis(&'static str),
    #[error("object {id} is not a {expected}")]
    WrongType { id: Address, expected: String },
    #[error("the on-chain committee is invalid: {0}")]
    Committee(String),
}

/// Where floe lives on a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloeIds {
    /// The `wal` package.
    pub wal_package: Address,
    /// The `floe` package.
    pub floe_package: Address,
    /// The shared `floe::system::System`.
    pub system: Address,
    /// The shared `wal::wal::ProtectedTreasury`.
    pub treasury: Address,
    /// The shared `floe::staking::Staking` (epochs, committees, pools).
    pub staking: Address,
}

impl FloeIds {
    /// The packages whose events are floe's (`crate::events`).
    pub fn packages(&self) -> crate::events::FloePackages {
        crate::events::FloePackages {
            floe: self.floe_package,
            wal: self.wal_package,
        }
    }

    /// `wal::wal::WAL`.
    pub fn wal_type(&self) -> TypeTag {
        self.wal_tag("WAL").into()
    }

    /// `0x2::coin::Coin<WAL>` as the API filters for it.
    pub fn wal_coin_type(&self) -> String {
        StructTag::coin(self.wal_type()).to_string()
    }

    fn wal_tag(&self, name: &'static str) -> StructTag {
        StructTag::new(
            self.wal_package,
            Identifier::from_static("wal"),
            Identifier::from_static(name),
            vec![],
        )
    }

    /// A struct of the floe package, e.g. `("blob", "Blob")`.
    pub fn floe_tag(&self, module: &'static str, name: &'static str) -> StructTag {
        StructTag::new(
            self.floe_package,
            Identifier::from_static(module),
            Identifier::from_static(name),
            vec![],
        )
    }

    /// An event type of the floe package, e.g. `"BlobCertified"`.
    pub fn event_tag(&self, name: &'static str) -> StructTag {
        self.floe_tag("events", name)
    }

    /// Finds `System`, `Staking` and `ProtectedTreasury` among the objects created in
    /// the genesis checkpoint (the devnet creates them there, at ids that
    /// depend on the genesis file).
    pub async fn discover(
        client: &ChainClient,
        wal_package: Address,
        floe_package: Address,
    ) -> Result<Self, FloeError> {
        let genesis = client.get_checkpoint(0).await?;
        let mut ids = FloeIds {
            wal_package,
            floe_package,
            system: Address::ZERO,
            treasury: Address::ZERO,
            staking: Address::ZERO,
        };
        let system_tag = ids.floe_tag("system", "System");
        let staking_tag = ids.floe_tag("staking", "Staking");
        let treasury_tag = ids.wal_tag("ProtectedTreasury");
        // All three are shared objects, which are never deleted. Owned
        // genesis objects are skipped: they may be gone (a gas coin merged
        // into another by any Sui client's gas smashing), and a lookup of
        // one would fail discovery.
        let shared: Vec<Address> = genesis
            .transactions
            .iter()
            .flat_map(|tx| tx.created())
            .filter(|c| matches!(c.owner, sui_sdk_types::Owner::Shared(_)))
            .map(|c| *c.reference.object_id())
            .collect();
        for (id, info) in shared.iter().zip(client.get_objects(&shared).await?) {
            match info.as_ref().and_then(|i| i.struct_type()) {
                Some(t) if *t == system_tag => ids.system = *id,
                Some(t) if *t == treasury_tag => ids.treasury = *id,
                Some(t) if *t == staking_tag => ids.staking = *id,
                _ => {}
            }
        }
        if ids.system == Address::ZERO {
            return Err(FloeError::NotInGenesis("floe::system::System"));
        }
        if ids.treasury == Address::ZERO {
            return Err(FloeError::NotInGenesis("wal::wal::ProtectedTreasury"));
        }
        if ids.staking == Address::ZERO {
            return Err(FloeError::NotInGenesis("floe::staking::Staking"));
        }
        Ok(ids)
    }
}

/// A chain client bound to one floe deployment.
#[derive(Clone)]
pub struct Floe {
    pub client: ChainClient,
    pub ids: FloeIds,
    /// Gas settings of every call.
    pub gas: GasConfig,
}

impl Floe {
    pub fn new(client: ChainClient, ids: FloeIds) -> Self {
        Self {
            client,
            ids,
            gas: GasConfig::default(),
        }
    }
}

/// `(module, code)` of a Move abort, if the transaction aborted; the
/// module is the one that declares the constant (see [`abort_location`]).
pub fn abort_of(tx: &ExecutedTx) -> Option<(String, u64)> {
    abort_location(tx).map(|(_, module, code)| (module, code))
}

/// `(package, module, code)` of a Move abort, if the transaction aborted.
/// As on Sui, the location is where the `abort`/`assert!` ran: a payment
/// coin that is too small is `0x2::balance` code 2 even under
/// `system::reserve_space`.
pub fn abort_location(tx: &ExecutedTx) -> Option<(Address, String, u64)> {
    match &tx.status {
        TxStatus::MoveAbort {
            package,
            module,
            code,
            ..
        } => Some((*package, module.clone(), *code)),
        _ => None,
    }
}

/// The address form of an object id read from a Move value.
pub fn to_address(id: ObjectId) -> Address {
    Address::new(id.0)
}
