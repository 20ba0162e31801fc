//! Known answers for Sui's child-object id scheme, for plain dynamic
//! fields and for dynamic object fields (key type `Wrapper<K>`).

use sui_sdk_types::hash::Hasher;
use sui_sdk_types::{Address, TypeTag};

use super::{id_type, object_field_id};
use crate::{Runtime, Value};

/// The known answer of the Sui TypeScript SDK's own unit test of
/// `deriveDynamicFieldID` (MystenLabs/ts-sdks): parent `0xbef3…6db0`, key
/// type `u64`, key `bcs(0u64)`.
#[test]
fn dynamic_field_id_matches_the_sdk_vector() {
    let parent: Address = "0xbef336120c90707eb387d72dde9c0e9f6fea37b9f02b1ba8de271c64ad7b6db0"
        .parse()
        .unwrap();
    let expected: Address = "0x6552700b707460a3f48d8348f7531c4bba7a9546b4cf445ba265ad2ba06b1bb3"
        .parse()
        .unwrap();
    assert_eq!(Runtime::field_id(parent, &Value::u64(0)), expected);
}

/// BCS of a struct `TypeTag` with no type arguments, written out by hand:
/// variant 7, address, module and name as ULEB128-length-prefixed bytes.
fn struct_tag_bcs(module: &str, name: &str, params: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![7u8];
    out.extend(Address::TWO.into_inner());
    out.push(module.len() as u8);
    out.extend(module.as_bytes());
    out.push(name.len() as u8);
    out.extend(name.as_bytes());
    out.push(params.len() as u8);
    for p in params {
        out.extend(p);
    }
    out
}

/// The documented scheme, byte by byte: `blake2b256(0xf0 || parent ||
/// len(key) as u64 LE || key || bcs(key type))`, with the key type
/// `0x2::dynamic_object_field::Wrapper<0x2::object::ID>` and the key the
/// name's BCS (the wrapper is a one-field struct).
#[test]
fn object_field_id_uses_the_wrapper_key_type() {
    let parent = Address::new([0x11; 32]);
    let node_id = [0x22u8; 32];
    let id_tag = struct_tag_bcs("object", "ID", &[]);
    let wrapper = struct_tag_bcs("dynamic_object_field", "Wrapper", &[id_tag]);
    let mut h = Hasher::new();
    h.update([0xf0]);
    h.update(parent.into_inner());
    h.update(32u64.to_le_bytes());
    h.update(node_id);
    h.update(&wrapper);
    let expected = Address::new(h.finalize().into_inner());
    assert_eq!(object_field_id(parent, &id_type(), &node_id), expected);
    // Not the id a plain dynamic field with the same name would have.
    assert_ne!(
        expected,
        Runtime::field_id(parent, &Value::new(id_type(), &node_id))
    );
    // And the u64 key of the SDK vector under the wrapper.
    let mut h = Hasher::new();
    h.update([0xf0]);
    h.update(parent.into_inner());
    h.update(8u64.to_le_bytes());
    h.update(5u64.to_le_bytes());
    h.update(struct_tag_bcs(
        "dynamic_object_field",
        "Wrapper",
        &[vec![2u8]],
    ));
    assert_eq!(
        object_field_id(parent, &TypeTag::U64, &5u64.to_le_bytes()),
        Address::new(h.finalize().into_inner())
    );
}
