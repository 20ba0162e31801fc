//! Twin of `floe::node_metadata`: a node's descriptive metadata.

use floe_core::move_types::{MoveType, MoveTypeInfo, NodeMetadata, VecMap};
use floe_runtime::Value;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis};
use crate::util::{arg, floe_value};

/// No abort codes.
pub const ABORT_CODES: &[crate::registry::AbortCode] = &[];

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "new",
        Vis::Public,
        &[],
        &[
            ("image_url", "String"),
            ("project_url", "String"),
            ("description", "String"),
        ],
        &["NodeMetadata"],
    ),
    FnSig::new("default", Vis::Public, &[], &[], &["NodeMetadata"]),
    FnSig::new(
        "image_url",
        Vis::Public,
        &[],
        &[("self", "&NodeMetadata")],
        &["String"],
    ),
    FnSig::new(
        "project_url",
        Vis::Public,
        &[],
        &[("self", "&NodeMetadata")],
        &["String"],
    ),
    FnSig::new(
        "description",
        Vis::Public,
        &[],
        &[("self", "&NodeMetadata")],
        &["String"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[NodeMetadata::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "node_metadata",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// `new` and `default` build values; the readers take a reference, which
/// only another Move function can hold.
fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "new" => |c| {
            let m = new(arg(c, 0)?, arg(c, 1)?, arg(c, 2)?);
            Ok(vec![metadata_value(&m)])
        },
        "default" => |_| Ok(vec![metadata_value(&default())]),
        _ => return None,
    };
    Some(f)
}

/// `new`: metadata without extra fields.
pub fn new(image_url: String, project_url: String, description: String) -> NodeMetadata {
    NodeMetadata {
        image_url,
        project_url,
        description,
        extra_fields: VecMap::default(),
    }
}

/// `default`: empty metadata.
pub fn default() -> NodeMetadata {
    new(String::new(), String::new(), String::new())
}

/// A `NodeMetadata` value.
pub fn metadata_value(m: &NodeMetadata) -> Value {
    floe_value("node_metadata", "NodeMetadata", m)
}
