//! Dynamic object fields (`0x2::dynamic_object_field`) and the object
//! table built on them (`0x2::object_table`), stored exactly as Sui stores
//! them, so that readers (explorers, the Sui and Walrus SDKs) find each
//! value by its own id:
//!
//! - the field is an ordinary dynamic field of the parent named
//!   `Wrapper<K> { name }` whose value is the child's `ID`: an object of
//!   type `0x2::dynamic_field::Field<Wrapper<K>, ID>` owned by the parent,
//!   at the id derived from (parent, `Wrapper<K>`, BCS of the name) with
//!   Sui's child-id scheme ([`object_field_id`]);
//! - the value keeps its own id and becomes an object owned by the
//!   *field's* id (`Owner::Object(field id)`), so `GetObject(value id)`
//!   answers it, and its owner chain leads back to the parent.
//!
//! Aborts are Sui's: `dynamic_field::EFieldAlreadyExists` (0),
//! `EFieldDoesNotExist` (1), `EFieldTypeMismatch` (2), and
//! `object_table::ETableNotEmpty` (0).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sui_sdk_types::{Address, Identifier, StructTag, TypeTag};

use crate::runtime::{E_FIELD_DOES_NOT_EXIST, E_FIELD_TYPE_MISMATCH};
use crate::{AbortConst, Child, NativeError, Runtime, Value};

/// `0x2::object_table::ETableNotEmpty`.
pub const OBJECT_TABLE_ENOT_EMPTY: AbortConst =
    AbortConst::sui("object_table", "ETableNotEmpty", 0);

/// `0x2::dynamic_object_field::Wrapper<name_ty>`, the key type of the
/// field that points at the child object.
pub fn wrapper_tag(name_ty: TypeTag) -> StructTag {
    StructTag::new(
        Address::TWO,
        Identifier::from_static("dynamic_object_field"),
        Identifier::from_static("Wrapper"),
        vec![name_ty],
    )
}

/// `0x2::object::ID`.
pub fn id_type() -> TypeTag {
    StructTag::new(
        Address::TWO,
        Identifier::from_static("object"),
        Identifier::from_static("ID"),
        vec![],
    )
    .into()
}

/// The id of the field object under `parent` for the dynamic object field
/// named `name_bcs` (of type `name_ty`): Sui's child id over the key type
/// `Wrapper<name_ty>`, whose BCS equals the name's (a one-field struct).
/// This is what `dynamic_object_field::add` creates and what Sui's
/// `deriveDynamicFieldID(parent, "0x2::dynamic_object_field::Wrapper<K>",
/// bcs(name))` computes.
pub fn object_field_id(parent: Address, name_ty: &TypeTag, name_bcs: &[u8]) -> Address {
    parent.derive_dynamic_child_id(&wrapper_tag(name_ty.clone()).into(), name_bcs)
}

fn wrap(name: &Value) -> Value {
    Value {
        ty: wrapper_tag(name.ty.clone()).into(),
        bytes: name.bytes.clone(),
    }
}

fn decode_id(value: &Value) -> Result<Address, NativeError> {
    bcs::from_bytes(&value.bytes)
        .map_err(|e| NativeError::Invariant(format!("object field id: {e}")))
}

impl Runtime<'_> {
    /// Adds `value` (an object: `key + store`) under `parent` named `name`
    /// (`dynamic_object_field::add`); aborts if the field exists.
    pub fn dof_add(
        &mut self,
        parent: Address,
        name: Value,
        value: Value,
    ) -> Result<(), NativeError> {
        let tag = value
            .struct_tag()
            .ok_or_else(|| NativeError::Invariant(format!("{} is not an object", value.ty)))?
            .clone();
        let abilities = self.registry().abilities(&tag);
        if !(abilities.key && abilities.store) {
            return Err(NativeError::Invariant(format!(
                "{tag} lacks key and store, so it cannot be a dynamic object field"
            )));
        }
        let object = value
            .object_id()
            .ok_or_else(|| NativeError::Invariant("object without id".into()))?;
        if self.deleted.contains(&object)
            || self.disposals.contains_key(&object)
            || self.is_live_child(&object)
        {
            return Err(NativeError::Invariant(format!(
                "object {object} used after it moved"
            )));
        }
        let wrapper = wrap(&name);
        let field = Runtime::field_id(parent, &wrapper);
        self.df_add(parent, wrapper, Value::new(id_type(), &object))?;
        let existed = self.committed(&object);
        self.children
            .insert(object, Child::written(field, tag, value.bytes, existed));
        self.released.remove(&object);
        Ok(())
    }

    /// Whether `parent` has a dynamic object field named `name`
    /// (`dynamic_object_field::exists_`).
    pub fn dof_exists(&mut self, parent: Address, name: &Value) -> bool {
        self.df_exists(parent, &wrap(name))
    }

    /// The id of the object under `name`, if any (`dynamic_object_field::id`).
    pub fn dof_id(
        &mut self,
        parent: Address,
        name: &Value,
    ) -> Result<Option<Address>, NativeError> {
        let wrapper = wrap(name);
        if !self.df_exists(parent, &wrapper) {
            return Ok(None);
        }
        let id = self.df_borrow(parent, &wrapper, &id_type())?;
        decode_id(&id).map(Some)
    }

    /// The field id and the child object id under `name`.
    fn dof_locate(
        &mut self,
        parent: Address,
        name: &Value,
    ) -> Result<(Address, Address), NativeError> {
        let wrapper = wrap(name);
        let field = Runtime::field_id(parent, &wrapper);
        let id = self.df_borrow(parent, &wrapper, &id_type())?;
        Ok((field, decode_id(&id)?))
    }

    /// The object under `name` (`dynamic_object_field::borrow`); aborts
    /// when missing or of another type than `value_ty`.
    pub fn dof_borrow(
        &mut self,
        parent: Address,
        name: &Value,
        value_ty: &TypeTag,
    ) -> Result<Value, NativeError> {
        let (field, object) = self.dof_locate(parent, name)?;
        let child = self
            .load_child(field, object)
            .ok_or(E_FIELD_DOES_NOT_EXIST.err())?;
        if TypeTag::Struct(Box::new(child.ty.clone())) != *value_ty {
            return Err(E_FIELD_TYPE_MISMATCH.err());
        }
        Ok(Value {
            ty: value_ty.clone(),
            bytes: child.contents.clone().unwrap_or_default(),
        })
    }

    /// Writes back the object under `name` after a mutable borrow
    /// (`*dynamic_object_field::borrow_mut(..) = v`); the object keeps its
    /// id.
    pub fn dof_set(
        &mut self,
        parent: Address,
        name: &Value,
        value: Value,
    ) -> Result<(), NativeError> {
        self.dof_borrow(parent, name, &value.ty)?;
        let (field, object) = self.dof_locate(parent, name)?;
        if value.object_id() != Some(object) {
            return Err(NativeError::Invariant(format!(
                "the object under a dynamic object field changed its id from {object}"
            )));
        }
        let child = self
            .load_child(field, object)
            .ok_or_else(|| NativeError::Invariant("object field vanished".into()))?;
        child.contents = Some(value.bytes);
        child.dirty = true;
        Ok(())
    }

    /// Removes the field named `name` and hands its object back
    /// (`dynamic_object_field::remove`); the object leaves the store unless
    /// the transaction transfers it or puts it under a field again.
    pub fn dof_remove(
        &mut self,
        parent: Address,
        name: &Value,
        value_ty: &TypeTag,
    ) -> Result<Value, NativeError> {
        let value = self.dof_borrow(parent, name, value_ty)?;
        let (_, object) = self.dof_locate(parent, name)?;
        self.df_remove(parent, &wrap(name), &id_type())?;
        if let Some(child) = self.children.remove(&object)
            && child.existed
        {
            self.released.insert(object);
        }
        Ok(value)
    }

    /// Typed [`Self::dof_borrow`].
    pub fn dof_get<T: DeserializeOwned>(
        &mut self,
        parent: Address,
        name: &Value,
        value_ty: &TypeTag,
    ) -> Result<T, NativeError> {
        let value = self.dof_borrow(parent, name, value_ty)?;
        bcs::from_bytes(&value.bytes)
            .map_err(|e| NativeError::Invariant(format!("dynamic object field decode: {e}")))
    }
}

/// `0x2::object_table::ObjectTable<K, V>` (`{id, size}`): a table whose
/// values are objects, each a dynamic object field of `id`, so each value
/// stays readable by its own id. The methods are the Move module's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectTable {
    pub id: Address,
    pub size: u64,
}

impl ObjectTable {
    /// `object_table::new`.
    pub fn new(rt: &mut Runtime<'_>) -> Result<Self, NativeError> {
        Ok(Self {
            id: rt.new_uid()?,
            size: 0,
        })
    }

    /// `object_table::add`; aborts if `k` is present.
    pub fn add(&mut self, rt: &mut Runtime<'_>, k: Value, v: Value) -> Result<(), NativeError> {
        rt.dof_add(self.id, k, v)?;
        self.size += 1;
        Ok(())
    }

    /// `object_table::borrow`.
    pub fn borrow(
        &self,
        rt: &mut Runtime<'_>,
        k: &Value,
        value_ty: &TypeTag,
    ) -> Result<Value, NativeError> {
        rt.dof_borrow(self.id, k, value_ty)
    }

    /// Typed [`Self::borrow`].
    pub fn get<T: DeserializeOwned>(
        &self,
        rt: &mut Runtime<'_>,
        k: &Value,
        value_ty: &TypeTag,
    ) -> Result<T, NativeError> {
        rt.dof_get(self.id, k, value_ty)
    }

    /// Writes back after `object_table::borrow_mut`.
    pub fn set(&self, rt: &mut Runtime<'_>, k: &Value, v: Value) -> Result<(), NativeError> {
        rt.dof_set(self.id, k, v)
    }

    /// `object_table::remove`.
    pub fn remove(
        &mut self,
        rt: &mut Runtime<'_>,
        k: &Value,
        value_ty: &TypeTag,
    ) -> Result<Value, NativeError> {
        let v = rt.dof_remove(self.id, k, value_ty)?;
        self.size = self
            .size
            .checked_sub(1)
            .ok_or_else(|| NativeError::Invariant("object table size below zero".into()))?;
        Ok(v)
    }

    /// `object_table::contains`.
    pub fn contains(&self, rt: &mut Runtime<'_>, k: &Value) -> bool {
        rt.dof_exists(self.id, k)
    }

    /// `object_table::length`.
    pub fn length(&self) -> u64 {
        self.size
    }

    /// `object_table::is_empty`.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// `object_table::destroy_empty`; aborts with `ETableNotEmpty`.
    pub fn destroy_empty(self, rt: &mut Runtime<'_>) -> Result<(), NativeError> {
        OBJECT_TABLE_ENOT_EMPTY.ensure(self.size == 0)?;
        rt.delete_uid(self.id)
    }

    /// `object_table::value_id`.
    pub fn value_id(
        &self,
        rt: &mut Runtime<'_>,
        k: &Value,
    ) -> Result<Option<Address>, NativeError> {
        rt.dof_id(self.id, k)
    }
}

#[cfg(test)]
mod tests;
