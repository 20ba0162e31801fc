// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Blob attributes: a string-to-string map kept as dynamic field
/// `b"metadata"` of a `Blob` (key `_walrusBlobType = "quilt"` marks quilts).
module floe::metadata;

use std::string::String;
use sui::vec_map::{Self, VecMap};

/// Key-value attributes of a blob.
public struct Metadata has drop, store {
    metadata: VecMap<String, String>,
}

/// Empty attributes.
public fun new(): Metadata {
    Metadata { metadata: vec_map::empty() }
}

/// Sets `key` to `value`, inserting or replacing.
public fun insert_or_update(self: &mut Metadata, key: String, value: String) {
    if (self.metadata.contains(&key)) {
        let (_, _) = self.metadata.remove(&key);
    };
    self.metadata.insert(key, value);
}

/// Removes `key` (aborts, from `VecMap`, if absent) and returns the pair.
public fun remove(self: &mut Metadata, key: &String): (String, String) {
    self.metadata.remove(key)
}

/// Removes `key` if present, returning its value.
public fun remove_if_exists(self: &mut Metadata, key: &String): Option<String> {
    if (self.metadata.contains(key)) {
        let (_, value) = self.metadata.remove(key);
        option::some(value)
    } else {
        option::none()
    }
}

/// The map.
public fun metadata(self: &Metadata): &VecMap<String, String> {
    &self.metadata
}
