//! Every object (a struct with `key`) and every event the contracts define has
//! a mirror in `floe_core::move_types::MOVE_TYPES` with the same abilities and
//! fields, so the indexer and clients can decode everything the chain holds.
//! The twin's declarations are checked against the Move sources by
//! `parity.rs`; this closes the loop to the shared core registry.

use floe_core::move_types::{Ability, MOVE_TYPES, MoveTypeInfo, MoveTypeKind};

fn fields(info: &MoveTypeInfo) -> Vec<(String, String)> {
    match info.kind {
        MoveTypeKind::Struct(fields) => fields
            .iter()
            .map(|f| (f.name.to_owned(), f.ty.replace(' ', "")))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_object_and_event_has_a_core_mirror() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for module in floe_contracts::modules() {
        for info in module.structs {
            let is_object = info.abilities.contains(&Ability::Key);
            let is_event = module.name == "events";
            if !is_object && !is_event {
                continue;
            }
            checked += 1;
            let Some(mirror) = MOVE_TYPES
                .iter()
                .find(|m| m.module == info.module && m.name == info.name)
            else {
                problems.push(format!("{}::{} has no core mirror", info.module, info.name));
                continue;
            };
            let mut ours: Vec<_> = mirror.abilities.to_vec();
            let mut theirs: Vec<_> = info.abilities.to_vec();
            ours.sort_by_key(|a| format!("{a:?}"));
            theirs.sort_by_key(|a| format!("{a:?}"));
            if ours != theirs {
                problems.push(format!(
                    "{}::{} abilities: core {ours:?}, contracts {theirs:?}",
                    info.module, info.name
                ));
            }
            let (ours, theirs) = (fields(mirror), fields(info));
            if ours.iter().map(|f| &f.0).ne(theirs.iter().map(|f| &f.0)) {
                problems.push(format!(
                    "{}::{} fields: core {ours:?}, contracts {theirs:?}",
                    info.module, info.name
                ));
            }
        }
    }
    assert!(
        checked >= 15,
        "only {checked} objects/events found; is the registry read?"
    );
    assert!(
        problems.is_empty(),
        "core mirrors drifted:\n{}",
        problems.join("\n")
    );
}
