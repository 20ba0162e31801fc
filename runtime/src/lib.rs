//! floe-runtime: Move packages implemented in Rust.
//!
//! The ledger has no Move VM. A package is a [`NativePackage`] that
//! registers its functions (module, name, type parameters, parameter and
//! return types) and structs (abilities) with a [`PackageBuilder`]; a
//! `MoveCall` is type-checked against the registered signature, its
//! arguments are handed to the Rust body as BCS [`Value`]s inside a [`Call`],
//! and the body acts on the chain through the [`Runtime`] (objects, dynamic
//! fields and dynamic object fields, events, sender, epoch, clock). The Sui framework pieces the devnet
//! needs live in [`framework`]; floe's own package plugs in the same way.
//!
//! This crate is the contract between the two sides and nothing else, so
//! neither side pulls in the other: `floe-contracts` implements packages
//! against it without the ledger's server stack, and `floe-ledger`
//! executes them (it creates the [`Runtime`] for a transaction, invokes
//! bodies through [`Call::new`] and turns the buffered changes into
//! effects once the transaction succeeds).

pub mod framework;
pub mod object_field;
mod runtime;
mod types;

pub use object_field::ObjectTable;
pub use runtime::{
    Child, Disposal, MAX_CREATED, MAX_EVENTS, NewOwner, ObjectSource, Runtime, RuntimeEnv,
};
pub use types::{Abilities, Param, Ty, Value, bcs_prefix_len, validate_bcs};

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

/// The body of a native function.
pub type NativeFn = Arc<dyn Fn(&mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> + Send + Sync>;

/// A Move abort-code constant together with the module that declares it.
///
/// In Move an abort constant is private to its module, so an `assert!`
/// using it aborts inside that module, and Sui reports *that* module (not
/// the one the transaction called) as the abort's location: a failed
/// `balance::split` under `system::reserve_space` is `0x2::balance`.
/// Natives abort with one of these, so the reported location is right by
/// construction instead of by convention at each call site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbortConst {
    /// Package of the declaring module.
    pub package: Address,
    /// The declaring module; a valid Move identifier (a literal).
    pub module: &'static str,
    /// The constant's Move name (`ENotEnough`), for messages.
    pub name: &'static str,
    pub code: u64,
}

impl AbortConst {
    pub const fn new(
        package: Address,
        module: &'static str,
        name: &'static str,
        code: u64,
    ) -> Self {
        Self {
            package,
            module,
            name,
            code,
        }
    }

    /// A constant of the Sui framework (`0x2`).
    pub const fn sui(module: &'static str, name: &'static str, code: u64) -> Self {
        Self::new(Address::TWO, module, name, code)
    }

    /// The abort itself (Move's `abort E`).
    pub const fn err(self) -> NativeError {
        NativeError::Abort(self)
    }

    /// Move's `assert!(cond, E)`.
    pub const fn ensure(self, cond: bool) -> Result<(), NativeError> {
        if cond { Ok(()) } else { Err(self.err()) }
    }
}

impl std::fmt::Display for AbortConst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}::{}::{} (code {})",
            self.package, self.module, self.name, self.code
        )
    }
}

/// Why a native function stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NativeError {
    /// A Move `abort`; its location is the module that declares the
    /// constant (see [`AbortConst`]).
    #[error("aborted with {0}")]
    Abort(AbortConst),
    /// An argument did not decode as the declared type.
    #[error("argument {index}: {reason}")]
    InvalidArgument { index: usize, reason: String },
    /// A broken assumption inside the native implementation itself.
    #[error("native invariant violated: {0}")]
    Invariant(String),
}

/// One registered function.
#[derive(Clone)]
pub struct Function {
    pub module: Identifier,
    pub name: Identifier,
    /// Index in registration order; reported as the function index of an
    /// abort location, as Move reports the function definition index.
    pub index: u16,
    pub type_params: u16,
    pub params: Vec<Param>,
    pub returns: Vec<Ty>,
    pub body: NativeFn,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.module, self.name)
    }
}

/// A package's functions and structs, as registered.
#[derive(Debug, Clone, Default)]
pub struct PackageDef {
    functions: BTreeMap<(String, String), Function>,
    structs: BTreeMap<(String, String), Abilities>,
}

/// Collects a package's registrations.
pub struct PackageBuilder {
    address: Address,
    def: PackageDef,
}

impl PackageBuilder {
    fn new(address: Address) -> Self {
        Self {
            address,
            def: PackageDef::default(),
        }
    }

    /// The package's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Registers `module::name<T0..Tn>(params): returns`.
    ///
    /// # Panics
    /// If `module` or `name` is not a valid Move identifier: registration
    /// runs once at startup with literals, so this is a programming error.
    pub fn function<F>(
        &mut self,
        module: &str,
        name: &str,
        type_params: u16,
        params: Vec<Param>,
        returns: Vec<Ty>,
        body: F,
    ) -> &mut Self
    where
        F: Fn(&mut Call<'_, '_>) -> Result<Vec<Value>, NativeError> + Send + Sync + 'static,
    {
        let index = u16::try_from(self.def.functions.len()).unwrap_or(u16::MAX);
        let function = Function {
            module: Identifier::new(module).expect("valid module identifier"),
            name: Identifier::new(name).expect("valid function identifier"),
            index,
            type_params,
            params,
            returns,
            body: Arc::new(body),
        };
        self.def
            .functions
            .insert((module.to_owned(), name.to_owned()), function);
        self
    }

    /// Declares the abilities of `module::name`; undeclared structs are
    /// treated as having none (no drop, no public transfer).
    pub fn datatype(&mut self, module: &str, name: &str, abilities: Abilities) -> &mut Self {
        self.def
            .structs
            .insert((module.to_owned(), name.to_owned()), abilities);
        self
    }
}

/// A Move package implemented natively.
pub trait NativePackage: Send + Sync + 'static {
    /// The fixed address the package lives at.
    fn address(&self) -> Address;
    /// Registers every function callable from a transaction and every
    /// struct's abilities.
    fn register(&self, builder: &mut PackageBuilder);
    /// Runs once at genesis, as Move runs module initialisers at publish.
    fn init(&self, _rt: &mut Runtime<'_>) -> Result<(), NativeError> {
        Ok(())
    }
}

/// Every installed package, by address.
#[derive(Clone, Default)]
pub struct Registry {
    packages: BTreeMap<Address, PackageDef>,
    natives: BTreeMap<Address, Arc<dyn NativePackage>>,
}

impl Registry {
    /// A registry holding the Move standard library's types (`0x1`) and
    /// the Sui framework (`0x2`).
    pub fn with_framework() -> Self {
        let mut registry = Self::default();
        registry.install(Arc::new(framework::MoveStdlib));
        registry.install(Arc::new(framework::SuiFramework));
        registry
    }

    /// Installs (or replaces) a package.
    pub fn install(&mut self, package: Arc<dyn NativePackage>) {
        let mut builder = PackageBuilder::new(package.address());
        package.register(&mut builder);
        self.packages.insert(builder.address, builder.def);
        self.natives.insert(package.address(), package);
    }

    /// Installed package addresses.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.packages.keys()
    }

    /// The package at `address`.
    pub fn native(&self, address: &Address) -> Option<&Arc<dyn NativePackage>> {
        self.natives.get(address)
    }

    /// Looks up a function.
    pub fn function(&self, package: &Address, module: &str, name: &str) -> Option<&Function> {
        self.packages
            .get(package)?
            .functions
            .get(&(module.to_owned(), name.to_owned()))
    }

    /// Whether a package is installed.
    pub fn has_package(&self, package: &Address) -> bool {
        self.packages.contains_key(package)
    }

    /// Registered module names of a package (with functions or types).
    pub fn modules(&self, package: &Address) -> Vec<String> {
        let mut names: Vec<String> = self
            .packages
            .get(package)
            .map(|p| {
                p.functions
                    .keys()
                    .chain(p.structs.keys())
                    .map(|(m, _)| m.clone())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.dedup();
        names
    }

    /// Abilities of a struct type (none if undeclared).
    pub fn abilities(&self, tag: &StructTag) -> Abilities {
        self.packages
            .get(tag.address())
            .and_then(|p| {
                p.structs.get(&(
                    tag.module().as_str().to_owned(),
                    tag.name().as_str().to_owned(),
                ))
            })
            .copied()
            .unwrap_or_default()
    }

    /// Whether a value of `ty` may be silently dropped.
    pub fn has_drop(&self, ty: &TypeTag) -> bool {
        match ty {
            TypeTag::Vector(inner) => self.has_drop(inner),
            TypeTag::Struct(tag) => {
                self.abilities(tag).drop && tag.type_params().iter().all(|t| self.has_drop(t))
            }
            _ => true,
        }
    }
}

/// One invocation of a native function: its type arguments, its arguments
/// (transaction context excluded) and the runtime.
pub struct Call<'r, 'a> {
    pub rt: &'r mut Runtime<'a>,
    type_args: Vec<TypeTag>,
    args: Vec<Value>,
}

impl<'r, 'a> Call<'r, 'a> {
    /// An invocation, made by the executor once the arguments are checked
    /// against the function's signature.
    pub fn new(rt: &'r mut Runtime<'a>, type_args: Vec<TypeTag>, args: Vec<Value>) -> Self {
        Self {
            rt,
            type_args,
            args,
        }
    }

    /// The arguments after the body ran (with `&mut` parameters as it left
    /// them), for the executor to write back.
    pub fn into_args(self) -> Vec<Value> {
        self.args
    }

    /// The `i`th type argument.
    pub fn type_arg(&self, i: usize) -> Result<&TypeTag, NativeError> {
        self.type_args
            .get(i)
            .ok_or_else(|| NativeError::Invariant(format!("no type argument {i}")))
    }

    /// All type arguments.
    pub fn type_args(&self) -> &[TypeTag] {
        &self.type_args
    }

    /// Number of arguments.
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }

    /// The raw `i`th argument.
    pub fn value(&self, i: usize) -> Result<&Value, NativeError> {
        self.args.get(i).ok_or(NativeError::InvalidArgument {
            index: i,
            reason: "missing".into(),
        })
    }

    /// Decodes the `i`th argument from BCS; the whole value must be consumed.
    pub fn arg<T: DeserializeOwned>(&self, i: usize) -> Result<T, NativeError> {
        let value = self.value(i)?;
        bcs::from_bytes(&value.bytes).map_err(|e| NativeError::InvalidArgument {
            index: i,
            reason: format!("not a valid {}: {e}", value.ty),
        })
    }

    /// Replaces the `i`th argument's value; for `&mut` parameters this is
    /// written back to the caller's value when the function returns.
    pub fn set_arg<T: Serialize>(&mut self, i: usize, value: &T) -> Result<(), NativeError> {
        let bytes = bcs::to_bytes(value).map_err(|e| NativeError::Invariant(e.to_string()))?;
        let slot = self.args.get_mut(i).ok_or(NativeError::InvalidArgument {
            index: i,
            reason: "missing".into(),
        })?;
        slot.bytes = bytes;
        Ok(())
    }
}

/// Shorthand for a Move abort in `package::module`.
pub const fn abort(
    package: Address,
    module: &'static str,
    name: &'static str,
    code: u64,
) -> NativeError {
    AbortConst::new(package, module, name, code).err()
}
