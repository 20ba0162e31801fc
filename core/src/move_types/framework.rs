//! Mirrors of the Sui framework values that Walrus objects embed, plus the
//! two primitive newtypes every mirror uses.

use serde::{Deserialize, Serialize};

use super::{Ability, MoveField, MovePackage, MoveRole, MoveType, MoveTypeInfo, MoveTypeKind};

/// A Move `u256` as BCS writes it: 32 bytes, least significant first.
///
/// Blob ids cross into Move as `u256` read little-endian from their raw
/// bytes, so `U256Le(blob_id.0)` is the Move value of a blob id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct U256Le(pub [u8; 32]);

impl U256Le {
    /// The value as an integer.
    pub fn to_u256(&self) -> alloy_primitives::U256 {
        alloy_primitives::U256::from_le_bytes(self.0)
    }

    /// From an integer.
    pub fn from_u256(value: alloy_primitives::U256) -> Self {
        U256Le(value.to_le_bytes())
    }

    /// A small value (tests, sentinels).
    pub fn from_u64(value: u64) -> Self {
        Self::from_u256(alloy_primitives::U256::from(value))
    }
}

impl std::fmt::Debug for U256Le {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "U256Le({})", self.to_u256())
    }
}

impl From<crate::BlobId> for U256Le {
    fn from(id: crate::BlobId) -> Self {
        U256Le(id.0)
    }
}

impl From<U256Le> for crate::BlobId {
    fn from(value: U256Le) -> Self {
        crate::BlobId(value.0)
    }
}

/// A Sui object id or address (`UID`, `ID`, `address`): 32 bytes, shown as
/// `0x` + 64 hex digits. Move's `address::to_u256` reads these bytes
/// big-endian, so the derived byte-wise `Ord` is Move's numeric order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct ObjectId(pub [u8; 32]);

/// Why a string is not an object id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectIdParseError {
    /// Not hex after the optional `0x`.
    #[error("object id {0:?} is not hexadecimal")]
    NotHex(String),
    /// More than 64 hex digits.
    #[error("object id {0:?} has more than 64 hex digits")]
    TooLong(String),
}

impl std::str::FromStr for ObjectId {
    type Err = ObjectIdParseError;

    /// Parses `0x`-prefixed (or bare) hex; short forms such as `0x2` are
    /// left-padded with zeros as Sui does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        if digits.len() > 64 {
            return Err(ObjectIdParseError::TooLong(s.to_owned()));
        }
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ObjectIdParseError::NotHex(s.to_owned()));
        }
        let padded = format!("{digits:0>64}");
        let mut out = [0u8; 32];
        hex::decode_to_slice(&padded, &mut out)
            .map_err(|_| ObjectIdParseError::NotHex(s.to_owned()))?;
        Ok(ObjectId(out))
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

move_struct! {
    /// `sui::balance::Balance<phantom T>`; in floe always `Balance<WAL>`.
    Sui "balance" Balance<"T">: Value [Store] {
        value: u64 => "u64",
    }
}

move_struct! {
    /// `sui::coin::Coin<phantom T>`; in floe always `Coin<WAL>`.
    Sui "coin" Coin<"T">: Object [Key, Store] {
        id: ObjectId => "UID",
        balance: Balance => "Balance<T>",
    }
}

move_struct! {
    /// `sui::table::Table<phantom K, phantom V>`: a handle; entries are
    /// dynamic fields of `id`.
    Sui "table" Table<"K", "V">: Value [Key, Store] {
        id: ObjectId => "UID",
        size: u64 => "u64",
    }
}

move_struct! {
    /// `sui::object_table::ObjectTable<phantom K, phantom V>`: a handle;
    /// entries are dynamic object fields of `id`.
    Sui "object_table" ObjectTable<"K", "V">: Value [Key, Store] {
        id: ObjectId => "UID",
        size: u64 => "u64",
    }
}

move_struct! {
    /// `sui::bag::Bag`: a handle; entries are dynamic fields of `id`.
    Sui "bag" Bag: Value [Key, Store] {
        id: ObjectId => "UID",
        size: u64 => "u64",
    }
}

move_struct! {
    /// `sui::group_ops::Element<phantom T>`: serialized group element bytes
    /// (48 B for `G1`, 96 B for `UncompressedG1`).
    Sui "group_ops" Element<"T">: Value [Copy, Drop, Store] {
        bytes: Vec<u8> => "vector<u8>",
    }
}

/// `sui::vec_map::VecMap<K, V>`: an insertion-ordered vector of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VecMap<K, V> {
    /// The entries in stored order.
    pub contents: Vec<VecMapEntry<K, V>>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            contents: Vec::new(),
        }
    }
}

impl<K: PartialEq, V> VecMap<K, V> {
    /// The value stored under `key`, if any.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.contents
            .iter()
            .find(|entry| &entry.key == key)
            .map(|entry| &entry.value)
    }
}

/// `sui::vec_map::Entry<K, V>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VecMapEntry<K, V> {
    /// Key.
    pub key: K,
    /// Value.
    pub value: V,
}

/// `sui::dynamic_field::Field<Name, Value>`: how versioned inner states
/// (`SystemStateInnerV1` under key `u64` version) are stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicField<N, V> {
    /// The field object's id.
    pub id: ObjectId,
    /// The key.
    pub name: N,
    /// The stored value.
    pub value: V,
}

impl<K, V> MoveType for VecMap<K, V> {
    const INFO: MoveTypeInfo = MoveTypeInfo {
        package: MovePackage::Sui,
        module: "vec_map",
        name: "VecMap",
        type_params: &["K", "V"],
        abilities: &[Ability::Copy, Ability::Drop, Ability::Store],
        role: MoveRole::Value,
        kind: MoveTypeKind::Struct(&[MoveField {
            name: "contents",
            ty: "vector<Entry<K, V>>",
        }]),
    };
}

impl<K, V> MoveType for VecMapEntry<K, V> {
    const INFO: MoveTypeInfo = MoveTypeInfo {
        package: MovePackage::Sui,
        module: "vec_map",
        name: "Entry",
        type_params: &["K", "V"],
        abilities: &[Ability::Copy, Ability::Drop, Ability::Store],
        role: MoveRole::Value,
        kind: MoveTypeKind::Struct(&[
            MoveField {
                name: "key",
                ty: "K",
            },
            MoveField {
                name: "value",
                ty: "V",
            },
        ]),
    };
}

impl<N, V> MoveType for DynamicField<N, V> {
    const INFO: MoveTypeInfo = MoveTypeInfo {
        package: MovePackage::Sui,
        module: "dynamic_field",
        name: "Field",
        type_params: &["Name", "Value"],
        abilities: &[Ability::Key],
        role: MoveRole::Object,
        kind: MoveTypeKind::Struct(&[
            MoveField {
                name: "id",
                ty: "UID",
            },
            MoveField {
                name: "name",
                ty: "Name",
            },
            MoveField {
                name: "value",
                ty: "Value",
            },
        ]),
    };
}

move_struct! {
    /// `sui::package::Publisher`: proof of publishing a package (held by `InitCap`).
    Sui "package" Publisher: Object [Key, Store] {
        id: ObjectId => "UID",
        package: String => "String",
        module_name: String => "String",
    }
}

move_struct! {
    /// `wal::wal::WAL`: the coin's one-time witness and type marker (no fields).
    #[allow(clippy::upper_case_acronyms)]
    Wal "wal" WAL: Value [Drop] {}
}

move_struct! {
    /// `wal::wal::ProtectedTreasury`: shared; the `TreasuryCap<WAL>` lives in a
    /// field of `id` under `TreasuryCapKey`, so WAL can be burnt but never minted.
    Wal "wal" ProtectedTreasury: Object [Key] {
        id: ObjectId => "UID",
    }
}

move_struct! {
    /// `wal::wal::TreasuryCapKey`: the field key of the treasury cap.
    Wal "wal" TreasuryCapKey: Value [Copy, Drop, Store] {}
}

move_struct! {
    /// `floe::init::InitCap`: sent to the publisher at `init`, consumed by
    /// `initialize_floe`.
    Walrus "init" InitCap: Object [Key, Store] {
        id: ObjectId => "UID",
        publisher: Publisher => "Publisher",
    }
}
