//! The API a native function acts through: object lifecycle, dynamic
//! fields, events and the transaction context. Everything is buffered here
//! and turned into object writes and effects only if the whole transaction
//! succeeds, so an abort anywhere changes nothing but gas.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sui_sdk_types::{Address, Digest, Event, Identifier, Object, Owner, StructTag, TypeTag};

use crate::{AbortConst, NativeError, Registry, Value};

/// Read access to the committed object store.
pub trait ObjectSource {
    /// The current version of an object.
    fn object(&self, id: &Address) -> Option<&Object>;
    /// The current epoch.
    fn epoch(&self) -> u64 {
        0
    }
    /// When the current epoch started.
    fn epoch_start_ms(&self) -> u64 {
        0
    }
    /// The Clock's time.
    fn clock_ms(&self) -> u64 {
        0
    }
}

/// The transaction context natives can read.
#[derive(Debug, Clone)]
pub struct RuntimeEnv {
    pub sender: Address,
    pub epoch: u64,
    pub epoch_start_ms: u64,
    /// The Clock's time (as of the last checkpoint), ms since the Unix epoch.
    pub timestamp_ms: u64,
    pub tx_digest: Digest,
}

/// Where a whole object goes at the end of the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewOwner {
    Address(Address),
    Shared,
    Immutable,
}

/// A whole object the transaction transferred, shared or froze.
#[derive(Debug, Clone)]
pub struct Disposal {
    pub owner: NewOwner,
    pub value: Value,
}

/// A dynamic field object as seen by this transaction.
#[derive(Debug, Clone)]
pub struct Child {
    pub parent: Address,
    pub ty: StructTag,
    /// Current contents; `None` once removed.
    pub contents: Option<Vec<u8>>,
    /// Whether the committed store held it before this transaction.
    pub existed: bool,
    /// Whether this transaction changed it (only loaded otherwise).
    pub dirty: bool,
}

impl Child {
    /// A child as first written by this transaction: `existed` says
    /// whether the committed store already holds an object with this id
    /// (an existing object moved under a new parent).
    pub(crate) fn written(
        parent: Address,
        ty: StructTag,
        contents: Vec<u8>,
        existed: bool,
    ) -> Self {
        Self {
            parent,
            ty,
            contents: Some(contents),
            existed,
            dirty: true,
        }
    }
}

// Abort codes of Sui's `0x2::dynamic_field` and `0x2::transfer`.
pub(crate) const E_FIELD_ALREADY_EXISTS: AbortConst =
    AbortConst::sui("dynamic_field", "EFieldAlreadyExists", 0);
pub(crate) const E_FIELD_DOES_NOT_EXIST: AbortConst =
    AbortConst::sui("dynamic_field", "EFieldDoesNotExist", 1);
pub(crate) const E_FIELD_TYPE_MISMATCH: AbortConst =
    AbortConst::sui("dynamic_field", "EFieldTypeMismatch", 2);
const E_SHARED_NON_NEW_OBJECT: AbortConst = AbortConst::sui("transfer", "ESharedNonNewObject", 0);

/// Upper bound on objects one transaction may create, so a native loop
/// cannot grow the effects without limit.
pub const MAX_CREATED: u64 = 2048;
/// Upper bound on events one transaction may emit.
pub const MAX_EVENTS: usize = 1024;

/// The runtime handed to native functions.
pub struct Runtime<'a> {
    source: &'a dyn ObjectSource,
    registry: &'a Registry,
    env: RuntimeEnv,
    ids_created: u64,
    pub(crate) created: BTreeSet<Address>,
    pub(crate) deleted: BTreeSet<Address>,
    pub(crate) disposals: BTreeMap<Address, Disposal>,
    pub(crate) children: BTreeMap<Address, Child>,
    /// Objects that existed before this transaction and were taken out of
    /// a dynamic object field; unless they end up transferred, deleted or
    /// put back under a field, they are wrapped.
    pub(crate) released: BTreeSet<Address>,
    pub(crate) events: Vec<Event>,
    pub(crate) event_origin: (Address, Identifier),
}

/// The executor's side: it creates the runtime for a transaction, names
/// the module each call runs in (the package and module its events are
/// attributed to) and, once the transaction succeeded, reads what the
/// natives buffered to turn it into object writes and effects.
impl<'a> Runtime<'a> {
    /// Sets the package and module the next events are emitted from: the
    /// called function's module (or `init` at genesis).
    pub fn set_event_origin(&mut self, package: Address, module: Identifier) {
        self.event_origin = (package, module);
    }

    /// Ids of objects created by this transaction.
    pub fn created(&self) -> &BTreeSet<Address> {
        &self.created
    }

    /// Ids of objects deleted by this transaction.
    pub fn deleted(&self) -> &BTreeSet<Address> {
        &self.deleted
    }

    /// Whole objects transferred, shared or frozen, by id.
    pub fn disposals(&self) -> &BTreeMap<Address, Disposal> {
        &self.disposals
    }

    /// Dynamic field objects this transaction loaded or wrote, by id.
    pub fn children(&self) -> &BTreeMap<Address, Child> {
        &self.children
    }

    /// Objects that existed before this transaction and were taken out of
    /// a dynamic object field (wrapped unless they went somewhere else).
    pub fn released(&self) -> &BTreeSet<Address> {
        &self.released
    }

    /// Events emitted, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

impl<'a> Runtime<'a> {
    /// A runtime over the committed objects of `source`, before any change.
    pub fn new(source: &'a dyn ObjectSource, registry: &'a Registry, env: RuntimeEnv) -> Self {
        Self {
            source,
            registry,
            env,
            ids_created: 0,
            created: BTreeSet::new(),
            deleted: BTreeSet::new(),
            disposals: BTreeMap::new(),
            children: BTreeMap::new(),
            released: BTreeSet::new(),
            events: Vec::new(),
            event_origin: (Address::TWO, Identifier::from_static("genesis")),
        }
    }

    /// The transaction's sender (`tx_context::sender`).
    pub fn sender(&self) -> Address {
        self.env.sender
    }

    /// The current epoch (`tx_context::epoch`).
    pub fn epoch(&self) -> u64 {
        self.env.epoch
    }

    /// When the current epoch started (`tx_context::epoch_timestamp_ms`).
    pub fn epoch_timestamp_ms(&self) -> u64 {
        self.env.epoch_start_ms
    }

    /// The Clock's time, as `clock::timestamp_ms(&Clock)` would read it.
    pub fn clock_ms(&self) -> u64 {
        self.env.timestamp_ms
    }

    /// The digest of the running transaction.
    pub fn tx_digest(&self) -> Digest {
        self.env.tx_digest
    }

    /// The package registry (abilities of types).
    pub fn registry(&self) -> &Registry {
        self.registry
    }

    /// A fresh object id (`object::new`), derived as Sui derives it from the
    /// transaction digest and a per-transaction counter.
    pub fn new_uid(&mut self) -> Result<Address, NativeError> {
        if self.ids_created >= MAX_CREATED {
            return Err(NativeError::Invariant(format!(
                "a transaction may create at most {MAX_CREATED} objects"
            )));
        }
        let id = Address::derive_id(self.env.tx_digest, self.ids_created);
        self.ids_created += 1;
        self.created.insert(id);
        Ok(id)
    }

    /// Deletes an object id (`object::delete`).
    pub fn delete_uid(&mut self, id: Address) -> Result<(), NativeError> {
        if self.disposals.contains_key(&id) {
            return Err(NativeError::Invariant(format!(
                "{id} deleted after transfer"
            )));
        }
        if !self.created.remove(&id) && !self.deleted.insert(id) {
            return Err(NativeError::Invariant(format!("{id} deleted twice")));
        }
        Ok(())
    }

    fn dispose(&mut self, value: Value, owner: NewOwner) -> Result<(), NativeError> {
        let tag = value
            .struct_tag()
            .ok_or_else(|| NativeError::Invariant(format!("{} is not an object", value.ty)))?;
        if !self.registry.abilities(tag).key {
            return Err(NativeError::Invariant(format!("{tag} does not have key")));
        }
        let id = value
            .object_id()
            .ok_or_else(|| NativeError::Invariant("object without id".into()))?;
        if self.deleted.contains(&id) || self.disposals.contains_key(&id) || self.is_live_child(&id)
        {
            return Err(NativeError::Invariant(format!(
                "object {id} used after it moved"
            )));
        }
        self.disposals.insert(id, Disposal { owner, value });
        Ok(())
    }

    /// Sends an object to an address (`transfer::transfer`).
    pub fn transfer(&mut self, object: Value, recipient: Address) -> Result<(), NativeError> {
        self.dispose(object, NewOwner::Address(recipient))
    }

    /// Makes a new object shared (`transfer::share_object`); only objects
    /// created in this transaction can be shared, as on Sui.
    pub fn share(&mut self, object: Value) -> Result<(), NativeError> {
        let id = object.object_id();
        if id.is_none_or(|id| !self.created.contains(&id)) {
            return Err(E_SHARED_NON_NEW_OBJECT.err());
        }
        self.dispose(object, NewOwner::Shared)
    }

    /// Makes an object immutable (`transfer::freeze_object`).
    pub fn freeze(&mut self, object: Value) -> Result<(), NativeError> {
        self.dispose(object, NewOwner::Immutable)
    }

    /// Emits an event of type `ty` (`event::emit`).
    pub fn emit<T: Serialize>(&mut self, ty: StructTag, event: &T) -> Result<(), NativeError> {
        let contents = bcs::to_bytes(event).map_err(|e| NativeError::Invariant(e.to_string()))?;
        self.emit_raw(ty, contents)
    }

    /// Emits an event from already-encoded BCS contents.
    pub fn emit_raw(&mut self, ty: StructTag, contents: Vec<u8>) -> Result<(), NativeError> {
        if self.events.len() >= MAX_EVENTS {
            return Err(NativeError::Invariant(format!(
                "a transaction may emit at most {MAX_EVENTS} events"
            )));
        }
        self.events.push(Event {
            package_id: self.event_origin.0,
            module: self.event_origin.1.clone(),
            sender: self.env.sender,
            type_: ty,
            contents,
        });
        Ok(())
    }

    // ---- dynamic fields (0x2::dynamic_field) ----

    /// The id of the field object under `parent` named `name`, derived as
    /// Sui derives it (`hash(parent || len(key) || key || key type)`).
    pub fn field_id(parent: Address, name: &Value) -> Address {
        parent.derive_dynamic_child_id(&name.ty, &name.bytes)
    }

    fn field_type(name: &TypeTag, value: &TypeTag) -> StructTag {
        StructTag::new(
            Address::TWO,
            Identifier::from_static("dynamic_field"),
            Identifier::from_static("Field"),
            vec![name.clone(), value.clone()],
        )
    }

    /// Whether `id` is currently held under a parent (a field or an
    /// object inside a dynamic object field).
    pub fn is_live_child(&self, id: &Address) -> bool {
        self.children.get(id).is_some_and(|c| c.contents.is_some())
    }

    /// Whether the committed store holds `id`.
    pub(crate) fn committed(&self, id: &Address) -> bool {
        self.source.object(id).is_some()
    }

    pub(crate) fn load_child(&mut self, parent: Address, id: Address) -> Option<&mut Child> {
        if !self.children.contains_key(&id) {
            let object = self.source.object(&id)?;
            if *object.owner() != Owner::Object(parent) {
                return None;
            }
            let s = object.as_struct()?;
            self.children.insert(
                id,
                Child {
                    parent,
                    ty: s.object_type().clone(),
                    contents: Some(s.contents().to_vec()),
                    existed: true,
                    dirty: false,
                },
            );
        }
        self.children.get_mut(&id).filter(|c| c.contents.is_some())
    }

    /// Whether `parent` has a field named `name` (`dynamic_field::exists_`).
    pub fn df_exists(&mut self, parent: Address, name: &Value) -> bool {
        let id = Self::field_id(parent, name);
        self.load_child(parent, id).is_some()
    }

    /// Adds a field (`dynamic_field::add`); aborts if it exists.
    pub fn df_add(
        &mut self,
        parent: Address,
        name: Value,
        value: Value,
    ) -> Result<(), NativeError> {
        let id = Self::field_id(parent, &name);
        if self.load_child(parent, id).is_some() {
            return Err(E_FIELD_ALREADY_EXISTS.err());
        }
        let ty = Self::field_type(&name.ty, &value.ty);
        let mut contents = id.into_inner().to_vec();
        contents.extend_from_slice(&name.bytes);
        contents.extend_from_slice(&value.bytes);
        let existed = self.children.get(&id).is_some_and(|c| c.existed);
        self.children.insert(
            id,
            Child {
                parent,
                ty,
                contents: Some(contents),
                existed,
                dirty: true,
            },
        );
        Ok(())
    }

    /// Reads a field's value (`dynamic_field::borrow`).
    pub fn df_borrow(
        &mut self,
        parent: Address,
        name: &Value,
        value_ty: &TypeTag,
    ) -> Result<Value, NativeError> {
        let id = Self::field_id(parent, name);
        let name_len = name.bytes.len();
        let expected = Self::field_type(&name.ty, value_ty);
        let child = self
            .load_child(parent, id)
            .ok_or(E_FIELD_DOES_NOT_EXIST.err())?;
        if child.ty != expected {
            return Err(E_FIELD_TYPE_MISMATCH.err());
        }
        let contents = child.contents.as_deref().unwrap_or_default();
        let bytes = contents
            .get(Address::LENGTH + name_len..)
            .ok_or_else(|| NativeError::Invariant("short dynamic field".into()))?
            .to_vec();
        Ok(Value {
            ty: value_ty.clone(),
            bytes,
        })
    }

    /// Replaces a field's value (`*dynamic_field::borrow_mut(..) = v`).
    pub fn df_set(
        &mut self,
        parent: Address,
        name: &Value,
        value: Value,
    ) -> Result<(), NativeError> {
        self.df_borrow(parent, name, &value.ty)?;
        let id = Self::field_id(parent, name);
        let child = self
            .children
            .get_mut(&id)
            .ok_or_else(|| NativeError::Invariant("field vanished".into()))?;
        let mut contents = id.into_inner().to_vec();
        contents.extend_from_slice(&name.bytes);
        contents.extend_from_slice(&value.bytes);
        child.contents = Some(contents);
        child.dirty = true;
        Ok(())
    }

    /// Removes a field and returns its value (`dynamic_field::remove`).
    pub fn df_remove(
        &mut self,
        parent: Address,
        name: &Value,
        value_ty: &TypeTag,
    ) -> Result<Value, NativeError> {
        let value = self.df_borrow(parent, name, value_ty)?;
        let id = Self::field_id(parent, name);
        if let Some(child) = self.children.get_mut(&id) {
            child.contents = None;
            child.dirty = true;
        }
        Ok(value)
    }

    /// Typed [`Self::df_borrow`].
    pub fn df_get<T: DeserializeOwned>(
        &mut self,
        parent: Address,
        name: &Value,
        value_ty: &TypeTag,
    ) -> Result<T, NativeError> {
        let value = self.df_borrow(parent, name, value_ty)?;
        bcs::from_bytes(&value.bytes)
            .map_err(|e| NativeError::Invariant(format!("dynamic field decode: {e}")))
    }
}
