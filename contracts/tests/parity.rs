//! Parity between the Move sources (`contracts/move/*/sources`, parsed with
//! `move-syn`) and the native twin's registry: every struct's abilities,
//! type parameters, field names and types in order; every `public` and
//! `entry` function's visibility, type parameters, parameter names and
//! types and return types; every abort-code constant's name and value.
//! `#[test_only]` items are ignored. Any difference fails the test, and a
//! second test proves the comparison notices a deliberately altered twin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use floe_contracts::registry::{ModuleDecl, Package, Vis, generic_name, normalize_type};
use floe_core::move_types::{Ability, MoveTypeKind};
use move_syn::unsynn::{IParse as _, ToTokens as _};
use move_syn::{File, ItemKind, Visibility};

/// Field names and normalized types, in order.
type Fields = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq)]
struct StructShape {
    type_params: Vec<String>,
    abilities: BTreeSet<String>,
    /// `(variant, fields)`; structs have one entry with variant `None`.
    layout: Vec<(Option<String>, Fields)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FunShape {
    vis: String,
    type_params: Vec<String>,
    params: Vec<(String, String)>,
    returns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ModuleShape {
    structs: BTreeMap<String, StructShape>,
    functions: BTreeMap<String, FunShape>,
    abort_codes: BTreeMap<String, u64>,
}

type PackageShape = BTreeMap<String, ModuleShape>;

fn tokens(t: &impl move_syn::unsynn::ToTokens) -> String {
    t.to_token_stream().to_string()
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn sources(package: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("move")
        .join(package)
        .join("sources")
}

/// Parses every `.move` file of a package into shapes.
fn parse_package(package: &str) -> PackageShape {
    let mut out = PackageShape::new();
    let dir = sources(package);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "move"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("read move source");
        let file: File = move_syn::sanitize_for_tokenizer(&text)
            .into_token_iter()
            .parse_all()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for module in file.into_modules() {
            let shape = module_shape(&module);
            out.insert(module.ident.to_string(), shape);
        }
    }
    out
}

fn is_test_only(attrs: &[move_syn::Attributes]) -> bool {
    attrs
        .iter()
        .any(|a| !a.is_doc() && tokens(a).contains("test_only"))
}

fn module_shape(module: &move_syn::Module) -> ModuleShape {
    let mut shape = ModuleShape::default();
    for item in module.items() {
        if is_test_only(&item.attrs) {
            continue;
        }
        match &item.kind {
            ItemKind::Struct(s) => {
                let type_params = s
                    .generics
                    .as_ref()
                    .map(|g| g.generics().map(|g| g.ident.to_string()).collect())
                    .unwrap_or_default();
                let abilities = s.abilities().map(tokens).collect();
                let fields = match &s.kind {
                    move_syn::StructKind::Braced(b) => b
                        .fields()
                        .map(|f| (f.ident.to_string(), normalize_type(&tokens(&f.ty))))
                        .collect(),
                    move_syn::StructKind::Tuple(t) => t
                        .fields()
                        .enumerate()
                        .map(|(i, f)| (format!("pos{i}"), normalize_type(&tokens(&f.ty))))
                        .collect(),
                };
                shape.structs.insert(
                    s.ident.to_string(),
                    StructShape {
                        type_params,
                        abilities,
                        layout: vec![(None, fields)],
                    },
                );
            }
            ItemKind::Enum(e) => {
                let type_params = e
                    .generics
                    .as_ref()
                    .map(|g| g.generics().map(|g| g.ident.to_string()).collect())
                    .unwrap_or_default();
                let abilities = e.abilities().map(tokens).collect();
                let layout = e
                    .variants()
                    .map(|v| {
                        let fields = match &v.fields {
                            None => vec![],
                            Some(move_syn::FieldsKind::Named(n)) => n
                                .fields()
                                .map(|f| (f.ident.to_string(), normalize_type(&tokens(&f.ty))))
                                .collect(),
                            Some(move_syn::FieldsKind::Positional(p)) => p
                                .fields()
                                .enumerate()
                                .map(|(i, f)| (format!("pos{i}"), normalize_type(&tokens(&f.ty))))
                                .collect(),
                        };
                        (Some(v.ident.to_string()), fields)
                    })
                    .collect();
                shape.structs.insert(
                    e.ident.to_string(),
                    StructShape {
                        type_params,
                        abilities,
                        layout,
                    },
                );
            }
            ItemKind::Const(c) => {
                // `const EName: u64 = 7;`
                let text = compact(&tokens(c));
                let Some(rest) = text.strip_prefix("const") else {
                    continue;
                };
                let Some((name, rest)) = rest.split_once(':') else {
                    continue;
                };
                if !name.starts_with('E') {
                    continue;
                }
                let Some(value) = rest
                    .strip_prefix("u64=")
                    .and_then(|v| v.strip_suffix(';'))
                    .map(|v| v.replace('_', ""))
                else {
                    continue;
                };
                let value = value
                    .parse()
                    .unwrap_or_else(|e| panic!("abort code {name}: {value}: {e}"));
                shape.abort_codes.insert(name.to_owned(), value);
            }
            ItemKind::Function(f) => {
                let vis = match (item.visibility(), f.is_entry()) {
                    (Visibility::Public, false) => "public",
                    (Visibility::Public, true) => "public entry",
                    (_, true) => "entry",
                    _ => continue,
                };
                let type_params = f
                    .generics()
                    .map(|g| g.generics().map(|g| compact(&tokens(g))).collect())
                    .unwrap_or_default();
                let params = f
                    .arguments()
                    .map(|a| (a.ident().to_string(), normalize_type(&tokens(a.type_()))))
                    .collect();
                let returns = f.returns().map(|r| normalize_type(&tokens(r))).collect();
                shape.functions.insert(
                    f.ident().to_string(),
                    FunShape {
                        vis: vis.to_owned(),
                        type_params,
                        params,
                        returns,
                    },
                );
            }
            _ => {}
        }
    }
    shape
}

fn ability_name(a: &Ability) -> &'static str {
    match a {
        Ability::Copy => "copy",
        Ability::Drop => "drop",
        Ability::Store => "store",
        Ability::Key => "key",
    }
}

/// The twin's registry in the same shapes.
fn twin_package(modules: &[ModuleDecl], package: Package) -> PackageShape {
    let mut out = PackageShape::new();
    for m in modules.iter().filter(|m| m.package == package) {
        let mut shape = ModuleShape::default();
        for s in m.structs {
            let layout = match s.kind {
                MoveTypeKind::Struct(fields) => vec![(
                    None,
                    fields
                        .iter()
                        .map(|f| (f.name.to_owned(), normalize_type(f.ty)))
                        .collect(),
                )],
                MoveTypeKind::Enum(variants) => variants
                    .iter()
                    .map(|v| {
                        (
                            Some(v.name.to_owned()),
                            v.fields
                                .iter()
                                .map(|f| (f.name.to_owned(), normalize_type(f.ty)))
                                .collect(),
                        )
                    })
                    .collect(),
            };
            shape.structs.insert(
                s.name.to_owned(),
                StructShape {
                    type_params: s
                        .type_params
                        .iter()
                        .map(|t| generic_name(t).to_owned())
                        .collect(),
                    abilities: s
                        .abilities
                        .iter()
                        .map(|a| ability_name(a).to_owned())
                        .collect(),
                    layout,
                },
            );
        }
        for f in m.functions {
            let vis = match f.vis {
                Vis::Public => "public",
                Vis::Entry => "entry",
                Vis::PublicEntry => "public entry",
            };
            shape.functions.insert(
                f.name.to_owned(),
                FunShape {
                    vis: vis.to_owned(),
                    type_params: f.type_params.iter().map(|t| compact(t)).collect(),
                    params: f
                        .params
                        .iter()
                        .map(|(n, t)| ((*n).to_owned(), normalize_type(t)))
                        .collect(),
                    returns: f.returns.iter().map(|t| normalize_type(t)).collect(),
                },
            );
        }
        for c in m.abort_codes {
            shape.abort_codes.insert(c.name.to_owned(), c.code);
        }
        out.insert(m.name.to_owned(), shape);
    }
    out
}

fn diff_maps<V: PartialEq + std::fmt::Debug>(
    what: &str,
    module: &str,
    move_side: &BTreeMap<String, V>,
    twin: &BTreeMap<String, V>,
    out: &mut Vec<String>,
) {
    for (name, m) in move_side {
        match twin.get(name) {
            None => out.push(format!("{module}::{name}: {what} missing in the twin")),
            Some(t) if t != m => out.push(format!(
                "{module}::{name}: {what} differs\n    move: {m:?}\n    twin: {t:?}"
            )),
            _ => {}
        }
    }
    for name in twin.keys().filter(|n| !move_side.contains_key(*n)) {
        out.push(format!("{module}::{name}: {what} only in the twin"));
    }
}

/// Every difference between the Move package and the twin, readable.
fn diff(move_side: &PackageShape, twin: &PackageShape) -> Vec<String> {
    let mut out = Vec::new();
    for (module, m) in move_side {
        let Some(t) = twin.get(module) else {
            out.push(format!("module {module} missing in the twin"));
            continue;
        };
        diff_maps("struct", module, &m.structs, &t.structs, &mut out);
        diff_maps("function", module, &m.functions, &t.functions, &mut out);
        diff_maps(
            "abort code",
            module,
            &m.abort_codes,
            &t.abort_codes,
            &mut out,
        );
    }
    for module in twin.keys().filter(|m| !move_side.contains_key(*m)) {
        out.push(format!("module {module} only in the twin"));
    }
    out
}

fn check(package_dir: &str, package: Package) -> Vec<String> {
    let modules = floe_contracts::modules();
    diff(
        &parse_package(package_dir),
        &twin_package(&modules, package),
    )
}

#[test]
fn wal_package_matches_move() {
    let drift = check("wal", Package::Wal);
    assert!(drift.is_empty(), "wal drift:\n{}", drift.join("\n"));
}

#[test]
fn floe_package_matches_move() {
    let drift = check("floe", Package::Floe);
    assert!(drift.is_empty(), "floe drift:\n{}", drift.join("\n"));
}

/// Each twin abort constant carries the module (and package) an abort with
/// it is reported in; that must be the module whose table declares it, as a
/// Move constant is private to its module.
#[test]
fn abort_constants_name_their_own_module() {
    for m in floe_contracts::modules() {
        let package = match m.package {
            Package::Wal => floe_contracts::WAL_PACKAGE_ID,
            Package::Floe => floe_contracts::FLOE_PACKAGE_ID,
        };
        for c in m.abort_codes {
            assert_eq!(
                (c.package, c.module),
                (package, m.name),
                "{}::{} is declared in {}",
                c.module,
                c.name,
                m.name
            );
        }
    }
}

/// The chain client's table of abort names (used in error messages) is
/// exactly the twin's constants: same modules, names and codes.
#[test]
fn chain_abort_names_match_the_twin() {
    let twin: BTreeSet<(&str, &str, u64)> = floe_contracts::modules()
        .iter()
        .flat_map(|m| m.abort_codes.iter().map(|c| (c.module, c.name, c.code)))
        .collect();
    let chain: BTreeSet<(&str, &str, u64)> = floe_chain::floe::aborts::FLOE_ABORTS
        .iter()
        .map(|a| (a.module, a.name, a.code))
        .collect();
    assert_eq!(
        twin.symmetric_difference(&chain).collect::<Vec<_>>(),
        Vec::<&(&str, &str, u64)>::new()
    );
}

#[test]
fn the_sources_are_really_read() {
    let floe = parse_package("floe");
    let system = &floe["system"];
    assert!(system.functions.contains_key("reserve_space"));
    assert_eq!(system.abort_codes.get("EWrongVersion"), Some(&1));
    assert_eq!(
        floe["blob"].structs["Blob"].layout[0].1[2],
        ("blob_id".to_owned(), "u256".to_owned())
    );
    // `#[test_only]` functions are skipped.
    assert!(!system.functions.contains_key("new_for_testing"));
}

/// The example dApp package (`move/gallery`, no twin: it is not installed on
/// the devnet) parses, so a syntax slip is caught before the Move review.
#[test]
fn example_dapp_package_parses() {
    let gallery = parse_package("gallery");
    let module = &gallery["gallery"];
    for f in ["create", "add", "remove", "is_available", "item_available"] {
        assert!(module.functions.contains_key(f), "gallery::{f} is missing");
    }
    assert_eq!(module.abort_codes.get("ENotCertified"), Some(&1));
    assert_eq!(module.abort_codes.get("EExpired"), Some(&2));
}

/// The comparison must notice drift: alter a copy of the twin's registry in
/// each dimension and check every alteration is reported.
#[test]
fn drift_is_reported() {
    let move_side = parse_package("floe");
    let modules = floe_contracts::modules();
    let twin = twin_package(&modules, Package::Floe);
    assert!(diff(&move_side, &twin).is_empty());

    let mut altered = twin.clone();
    let f = altered
        .get_mut("system")
        .and_then(|m| m.functions.get_mut("reserve_space"))
        .expect("reserve_space");
    f.params[2].1 = "u64".into(); // epochs_ahead: u32 -> u64
    let report = diff(&move_side, &altered);
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(report[0].contains("system::reserve_space"), "{report:?}");

    let mut altered = twin.clone();
    altered
        .get_mut("blob")
        .expect("blob")
        .abort_codes
        .insert("EAlreadyCertified".into(), 4);
    let report = diff(&move_side, &altered);
    assert!(
        report.iter().any(|r| r.contains("blob::EAlreadyCertified")),
        "{report:?}"
    );

    let mut altered = twin.clone();
    let blob = altered
        .get_mut("blob")
        .and_then(|m| m.structs.get_mut("Blob"))
        .expect("Blob");
    blob.layout[0].1.swap(2, 3); // blob_id <-> size
    let report = diff(&move_side, &altered);
    assert!(
        report.iter().any(|r| r.contains("blob::Blob")),
        "{report:?}"
    );

    let mut altered = twin.clone();
    altered
        .get_mut("storage_resource")
        .expect("storage_resource")
        .functions
        .remove("destroy");
    let report = diff(&move_side, &altered);
    assert!(
        report
            .iter()
            .any(|r| r.contains("storage_resource::destroy") && r.contains("missing")),
        "{report:?}"
    );
}

/// What the ledger registers is what the twin declares: the same resolver
/// builds the signature, and a registered function is callable under its
/// Move name.
#[test]
fn ledger_registration_follows_the_declarations() {
    use floe_runtime::Registry;
    use std::sync::Arc;

    let modules = floe_contracts::modules();
    let resolver = floe_contracts::resolver(&modules);
    let mut registry = Registry::default();
    registry.install(Arc::new(floe_contracts::WalPackage));
    registry.install(Arc::new(floe_contracts::FloePackage::default()));
    let mut not_callable = Vec::new();
    for m in &modules {
        let address = match m.package {
            Package::Wal => floe_contracts::WAL_PACKAGE_ID,
            Package::Floe => floe_contracts::FLOE_PACKAGE_ID,
        };
        for f in m.functions {
            let registered = registry.function(&address, m.name, f.name);
            match ((m.native)(f.name), registered) {
                (Some(_), Some(r)) => {
                    let params: Vec<_> = f
                        .params
                        .iter()
                        .map(|(_, t)| resolver.param(m.name, f.type_params, t).expect("param"))
                        .collect();
                    assert_eq!(r.params, params, "{}::{}", m.name, f.name);
                }
                (None, None) => not_callable.push(format!("{}::{}", m.name, f.name)),
                (n, r) => panic!(
                    "{}::{}: native {} but registered {}",
                    m.name,
                    f.name,
                    n.is_some(),
                    r.is_some()
                ),
            }
        }
    }
    // The entry points a client needs are callable.
    for name in [
        "system::reserve_space",
        "system::register_blob",
        "system::certify_blob",
        "system::extend_blob",
        "blob::burn",
        "shared_blob::new_funded",
    ] {
        assert!(
            !not_callable.iter().any(|n| n == name),
            "{name} is not callable"
        );
    }
    eprintln!("declared but not callable from a transaction: {not_callable:?}");
}
