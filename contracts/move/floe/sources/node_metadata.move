// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Descriptive metadata of a storage node (kept in an `ExtendedField` of
/// its `StorageNodeInfo`).
module floe::node_metadata;

use std::string::{Self, String};
use sui::vec_map::{Self, VecMap};

/// Image, project page and description of a node.
public struct NodeMetadata has copy, drop, store {
    image_url: String,
    project_url: String,
    description: String,
    extra_fields: VecMap<String, String>,
}

/// Metadata with no extra fields.
public fun new(image_url: String, project_url: String, description: String): NodeMetadata {
    NodeMetadata { image_url, project_url, description, extra_fields: vec_map::empty() }
}

/// Empty metadata.
public fun default(): NodeMetadata {
    new(string::utf8(b""), string::utf8(b""), string::utf8(b""))
}

public fun image_url(self: &NodeMetadata): String { self.image_url }

public fun project_url(self: &NodeMetadata): String { self.project_url }

public fun description(self: &NodeMetadata): String { self.description }
