use std::collections::BTreeSet;

use sui_sdk_types::{Identifier, StructTag, TypeTag};

use super::*;

fn floe() -> Address {
    Address::from_static("0xf10e")
}

fn wal() -> Address {
    Address::from_static("0x3a1")
}

fn packages() -> FloePackages {
    FloePackages {
        floe: floe(),
        wal: wal(),
    }
}

fn at(event_index: usize) -> EventPosition {
    EventPosition {
        checkpoint: 12,
        tx_digest: Digest::new([3; 32]),
        event_index,
    }
}

fn event(package: Address, module: &str, name: &str, contents: Vec<u8>) -> Event {
    Event {
        package_id: package,
        module: Identifier::new(module).unwrap(),
        sender: Address::ZERO,
        type_: StructTag::new(
            package,
            Identifier::new(module).unwrap(),
            Identifier::new(name).unwrap(),
            vec![],
        ),
        contents,
    }
}

/// BCS of a value of Move type `ty`, built from the registry alone (not
/// from the Rust mirrors), with bytes that differ from field to field.
fn sample(ty: &str, seed: &mut u8, out: &mut Vec<u8>) {
    fn bytes(n: usize, seed: &mut u8, out: &mut Vec<u8>) {
        for _ in 0..n {
            *seed = seed.wrapping_add(37);
            out.push(*seed);
        }
    }
    match ty {
        "bool" => {
            *seed = seed.wrapping_add(1);
            out.push(*seed % 2);
        }
        "u8" => bytes(1, seed, out),
        "u16" => bytes(2, seed, out),
        "u32" => bytes(4, seed, out),
        "u64" => bytes(8, seed, out),
        "u128" => bytes(16, seed, out),
        "u256" | "ID" | "address" => bytes(32, seed, out),
        _ => {
            if let Some(inner) = ty.strip_prefix("vector<").and_then(|t| t.strip_suffix('>')) {
                out.push(2);
                sample(inner, seed, out);
                sample(inner, seed, out);
                return;
            }
            let info = MOVE_TYPES
                .iter()
                .find(|t| t.name == ty)
                .unwrap_or_else(|| panic!("no registered type {ty}"));
            match info.kind {
                MoveTypeKind::Struct(fields) => {
                    for f in fields {
                        sample(f.ty, seed, out);
                    }
                }
                MoveTypeKind::Enum(variants) => {
                    *seed = seed.wrapping_add(1);
                    let tag = usize::from(*seed) % variants.len();
                    out.push(u8::try_from(tag).unwrap());
                    for f in variants[tag].fields {
                        sample(f.ty, seed, out);
                    }
                }
            }
        }
    }
}

fn sample_contents(info: &MoveTypeInfo) -> Vec<u8> {
    let MoveTypeKind::Struct(fields) = info.kind else {
        panic!("event {} is not a struct", info.name);
    };
    let mut seed = info.name.len() as u8;
    let mut out = Vec::new();
    for f in fields {
        sample(f.ty, &mut seed, &mut out);
    }
    out
}

#[test]
fn the_enum_covers_exactly_the_registered_events() {
    let registered: BTreeSet<_> = MOVE_TYPES
        .iter()
        .filter(|t| t.role == MoveRole::Event)
        .map(|t| (t.module, t.name))
        .collect();
    let variants: BTreeSet<_> = FloeEvent::TYPES
        .iter()
        .map(|t| (t.module, t.name))
        .collect();
    assert_eq!(
        variants.len(),
        FloeEvent::TYPES.len(),
        "a variant is listed twice"
    );
    assert_eq!(variants, registered);
}

#[test]
fn every_event_kind_round_trips_through_the_decoder() {
    for info in FloeEvent::TYPES {
        let bytes = sample_contents(info);
        let decoded = decode_event(
            &event(floe(), info.module, info.name, bytes.clone()),
            &packages(),
            at(0),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", info.name))
        .unwrap_or_else(|| panic!("{} ignored", info.name));
        assert_eq!((decoded.module(), decoded.name()), (info.module, info.name));
        assert_eq!(decoded.to_bcs().unwrap(), bytes, "{}", info.name);
    }
}

#[test]
fn typed_fields_are_the_contents() {
    let registered = BlobRegistered {
        epoch: 2,
        blob_id: U256Le([4; 32]),
        size: 10,
        encoding_type: 1,
        end_epoch: 7,
        deletable: true,
        object_id: ObjectId([5; 32]),
    };
    let bytes = bcs::to_bytes(&registered).unwrap();
    let decoded = decode_event(
        &event(floe(), "events", "BlobRegistered", bytes),
        &packages(),
        at(0),
    )
    .unwrap();
    assert_eq!(decoded, Some(FloeEvent::BlobRegistered(registered)));
}

#[test]
fn other_packages_are_ignored_even_with_floe_names() {
    let bytes = bcs::to_bytes(&EpochChangeStart { epoch: 4 }).unwrap();
    let other = Address::from_static("0xbad");
    for contents in [bytes, vec![1]] {
        let e = event(other, "events", "EpochChangeStart", contents);
        assert_eq!(decode_event(&e, &packages(), at(0)), Ok(None));
    }
}

#[test]
fn malformed_or_unknown_floe_events_are_errors_naming_the_event() {
    let good = bcs::to_bytes(&EpochChangeStart { epoch: 4 }).unwrap();
    let mut long = good.clone();
    long.push(0);
    for (package, module, name, contents, failure) in [
        (floe(), "events", "EpochChangeStart", long, "layout"),
        (floe(), "events", "EpochChangeStart", vec![1, 2], "layout"),
        (floe(), "events", "NoSuchEvent", good.clone(), "unknown"),
        // Right name, wrong module.
        (
            floe(),
            "staking",
            "EpochChangeStart",
            good.clone(),
            "unknown",
        ),
        // The WAL package declares no events, not even floe's.
        (wal(), "wal", "Minted", good.clone(), "unknown"),
        (wal(), "events", "EpochChangeStart", good.clone(), "unknown"),
    ] {
        let err =
            decode_event(&event(package, module, name, contents), &packages(), at(5)).unwrap_err();
        assert_eq!(err.name, name);
        assert_eq!(err.at, at(5));
        assert!(err.type_tag.ends_with(&format!("::{module}::{name}")));
        match (failure, &err.failure) {
            ("layout", EventDecodeFailure::Layout(_))
            | ("unknown", EventDecodeFailure::Unknown) => {}
            _ => panic!("{name}: {err}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("checkpoint 12")
                && text.contains(&Digest::new([3; 32]).to_string())
                && text.contains(name),
            "{text}"
        );
    }
    // A floe name with type arguments is no floe event.
    let mut generic = event(floe(), "events", "EpochChangeStart", good);
    generic.type_ = StructTag::new(
        floe(),
        Identifier::new("events").unwrap(),
        Identifier::new("EpochChangeStart").unwrap(),
        vec![TypeTag::U8],
    );
    let err = decode_event(&generic, &packages(), at(0)).unwrap_err();
    assert_eq!(err.failure, EventDecodeFailure::Unknown);
}
