// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// A value of type `T` kept in a dynamic field of its own object, so that a
/// struct can hold it without growing (and the type can change in upgrades).
module floe::extended_field;

use sui::dynamic_field as df;

/// Holds a `T` under the dynamic field key `Key {}`.
public struct ExtendedField<phantom T: store> has key, store {
    id: UID,
}

/// Dynamic field key of the value.
public struct Key has copy, drop, store {}

/// Wraps `value`.
public fun new<T: store>(value: T, ctx: &mut TxContext): ExtendedField<T> {
    let mut id = object::new(ctx);
    df::add(&mut id, Key {}, value);
    ExtendedField { id }
}

/// Borrows the value.
public fun borrow<T: store>(field: &ExtendedField<T>): &T {
    df::borrow(&field.id, Key {})
}

/// Borrows the value mutably.
public fun borrow_mut<T: store>(field: &mut ExtendedField<T>): &mut T {
    df::borrow_mut(&mut field.id, Key {})
}

/// Replaces the value, returning the old one.
public fun swap<T: store>(field: &mut ExtendedField<T>, value: T): T {
    let old = df::remove(&mut field.id, Key {});
    df::add(&mut field.id, Key {}, value);
    old
}

/// Unwraps the value and deletes the field.
public fun destroy<T: store>(field: ExtendedField<T>): T {
    let ExtendedField { id } = field;
    let mut id = id;
    let value = df::remove(&mut id, Key {});
    id.delete();
    value
}
