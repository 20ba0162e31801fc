//! floe-contracts: the native Rust twin of floe's Move packages.
//!
//! `contracts/move/` holds the contracts as they would run on Sui; this crate
//! is the same contract for the embedded ledger, which has no Move VM. Each
//! Move module has one Rust file here (`floe/blob.rs` twins
//! `floe/sources/blob.move`) with the same public functions, parameters,
//! abort codes (same names and values) and object/event layouts (the
//! `floe_core::move_types` mirrors are the BCS). The parity test
//! (`tests/parity.rs`) parses the Move sources and fails on any drift.
//!
//! Both packages live at fixed addresses on the devnet:
//! [`WAL_PACKAGE_ID`] (`wal::wal`) and [`FLOE_PACKAGE_ID`] (`floe::*`). The
//! genesis publishes them (see [`genesis`]) and runs their `init` paths:
//! the whole WAL supply goes to the WAL package's init sender, the
//! `ProtectedTreasury`, `System` (with the genesis committee) and `Staking`
//! (one pool per genesis node, the same committee) are shared, and each
//! node's `StorageNodeCap` goes to its operator.

pub mod floe;
pub mod genesis;
pub mod registry;
mod util;
pub mod wal;

use std::sync::Arc;

use floe_runtime::{NativePackage, PackageBuilder, Runtime};
use sui_sdk_types::Address;

pub use genesis::{FloeGenesis, GenesisNode};
use registry::{ModuleDecl, Package, Resolver};

/// Address of the WAL package on the devnet.
pub const WAL_PACKAGE_ID: Address = Address::from_static("0x3a1");
/// Address of the floe package on the devnet.
pub const FLOE_PACKAGE_ID: Address = Address::from_static("0xf10e");

/// Every module of both packages, WAL first.
pub fn modules() -> Vec<ModuleDecl> {
    let mut all = vec![wal::wal::MODULE];
    all.extend(floe::MODULES.iter().copied());
    all
}

/// The resolver for the devnet addresses.
pub fn resolver(modules: &[ModuleDecl]) -> Resolver<'_> {
    Resolver {
        wal: WAL_PACKAGE_ID,
        floe: FLOE_PACKAGE_ID,
        modules,
    }
}

/// Registers every module of `package` that has a native body; the
/// signature comes from the module's declaration, so a transaction can call
/// exactly what the Move source declares.
///
/// # Panics
/// If a declared signature names an unknown type: the declarations are
/// compile-time literals checked by the parity test, so this is a build bug.
fn register_package(package: Package, b: &mut PackageBuilder) {
    let all = modules();
    let resolver = resolver(&all);
    for module in all.iter().filter(|m| m.package == package) {
        for s in module.structs {
            b.datatype(module.name, s.name, util::abilities(s));
        }
        for f in module.functions {
            let Some(body) = (module.native)(f.name) else {
                continue;
            };
            let params = f
                .params
                .iter()
                .map(|(_, ty)| resolver.param(module.name, f.type_params, ty))
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|e| panic!("{}::{}: {e}", module.name, f.name));
            let returns = f
                .returns
                .iter()
                .map(|ty| resolver.ret(module.name, f.type_params, ty))
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|e| panic!("{}::{}: {e}", module.name, f.name));
            b.function(
                module.name,
                f.name,
                f.type_params.len() as u16,
                params,
                returns,
                body,
            );
        }
    }
}

/// The WAL package (`wal::wal`): the coin, its frozen metadata and the
/// burn-only `ProtectedTreasury`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalPackage;

impl NativePackage for WalPackage {
    fn address(&self) -> Address {
        WAL_PACKAGE_ID
    }

    fn register(&self, b: &mut PackageBuilder) {
        register_package(Package::Wal, b);
    }

    fn init(&self, rt: &mut Runtime<'_>) -> Result<(), floe_runtime::NativeError> {
        wal::wal::init(rt)
    }
}

/// The floe package: System, storage, blobs, certificates, staking. `init`
/// runs the Move `init` + `initialize_floe` path with the genesis nodes.
#[derive(Debug, Clone, Default)]
pub struct FloePackage {
    pub genesis: FloeGenesis,
}

impl NativePackage for FloePackage {
    fn address(&self) -> Address {
        FLOE_PACKAGE_ID
    }

    fn register(&self, b: &mut PackageBuilder) {
        register_package(Package::Floe, b);
    }

    fn init(&self, rt: &mut Runtime<'_>) -> Result<(), floe_runtime::NativeError> {
        floe::init::genesis_init(rt, &self.genesis)
    }
}

/// Both packages, ready for `LedgerConfig::natives`.
pub fn natives(genesis: FloeGenesis) -> Vec<Arc<dyn NativePackage>> {
    vec![Arc::new(WalPackage), Arc::new(FloePackage { genesis })]
}
