//! Move type mirrors: hand-written BCS bytes decode into the mirrors, and the
//! shared registry is consistent.

use std::collections::HashSet;

use floe_core::BlobId;
use floe_core::move_types::{
    Ability, Blob, BlobCertified, BlobRegistered, DynamicField, EpochState, MOVE_TYPES, MoveRole,
    MoveType, MoveTypeKind, ObjectId, PoolExchangeRate, StakedWal, StakedWalState, StorageNodeCap,
    SystemStateInnerV1, U256Le, find_event_by_type_tag, find_move_type,
};

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.split_whitespace().collect::<String>()).unwrap()
}

#[test]
fn blob_certified_event_bytes() {
    let bytes = h(&format!(
        "05000000 {} 0a000000 01 {} 00",
        "07".repeat(32),
        "2a".repeat(32)
    ));
    let event: BlobCertified = bcs::from_bytes(&bytes).unwrap();
    assert_eq!(
        event,
        BlobCertified {
            epoch: 5,
            blob_id: U256Le::from(BlobId([7; 32])),
            end_epoch: 10,
            deletable: true,
            object_id: ObjectId([42; 32]),
            is_extension: false,
        }
    );
    assert_eq!(bcs::to_bytes(&event).unwrap(), bytes);
}

#[test]
fn blob_registered_event_bytes() {
    let bytes = h(&format!(
        "01000000 {} 0010000000000000 01 35000000 00 {}",
        "ff".repeat(32),
        "01".repeat(32)
    ));
    let event: BlobRegistered = bcs::from_bytes(&bytes).unwrap();
    assert_eq!(event.size, 4096);
    assert_eq!(event.encoding_type, 1);
    assert_eq!(event.end_epoch, 53);
    assert!(!event.deletable);
    assert_eq!(event.blob_id.to_u256(), alloy_primitives::U256::MAX);
}

#[test]
fn blob_object_bytes() {
    // id, registered_epoch 2, blob_id, size 100, RS2, certified Some(3),
    // storage {id, 2, 7, 1 MiB}, deletable false.
    let bytes = h(&format!(
        "{} 02000000 {} 6400000000000000 01 01 03000000 {} 02000000 07000000 0000100000000000 00",
        "aa".repeat(32),
        "bb".repeat(32),
        "cc".repeat(32)
    ));
    let blob: Blob = bcs::from_bytes(&bytes).unwrap();
    assert_eq!(blob.certified_epoch, Some(3));
    assert_eq!(blob.storage.end_epoch, 7);
    assert_eq!(blob.storage.storage_size, 1 << 20);
    assert_eq!(bcs::to_bytes(&blob).unwrap(), bytes);
    // Uncertified: option tag 00 and no value.
    let uncertified = h(&format!(
        "{} 02000000 {} 6400000000000000 01 00 {} 02000000 07000000 0000100000000000 01",
        "aa".repeat(32),
        "bb".repeat(32),
        "cc".repeat(32)
    ));
    let blob: Blob = bcs::from_bytes(&uncertified).unwrap();
    assert_eq!(blob.certified_epoch, None);
    assert!(blob.deletable);
}

#[test]
fn enums_and_caps() {
    assert_eq!(
        bcs::from_bytes::<EpochState>(&h("01 e803000000000000")).unwrap(),
        EpochState::EpochChangeDone(1000)
    );
    assert_eq!(
        bcs::from_bytes::<EpochState>(&h("00 0500")).unwrap(),
        EpochState::EpochChangeSync(5)
    );
    assert!(bcs::from_bytes::<EpochState>(&h("03 00")).is_err());
    assert_eq!(
        bcs::from_bytes::<PoolExchangeRate>(&h(&format!(
            "01 {} {}",
            "01".to_owned() + &"00".repeat(15),
            "02".to_owned() + &"00".repeat(15)
        )))
        .unwrap(),
        PoolExchangeRate::Variable {
            wal_amount: 1,
            share_amount: 2
        }
    );
    let staked = h(&format!(
        "{} 01 09000000 {} 00ca9a3b00000000 04000000",
        "01".repeat(32),
        "02".repeat(32)
    ));
    let staked: StakedWal = bcs::from_bytes(&staked).unwrap();
    assert_eq!(
        staked.state,
        StakedWalState::Withdrawing { withdraw_epoch: 9 }
    );
    assert_eq!(staked.principal.value, 1_000_000_000);
    let cap = h(&format!(
        "{} {} 03000000 01 0700000000000000 02000000 {} 0100000000000000 0200000000000000",
        "01".repeat(32),
        "02".repeat(32),
        "00".repeat(32)
    ));
    let cap: StorageNodeCap = bcs::from_bytes(&cap).unwrap();
    assert_eq!(
        cap.last_event_blob_attestation
            .unwrap()
            .checkpoint_sequence_num,
        7
    );
    assert_eq!(cap.deny_list_size, 2);
}

#[test]
fn system_inner_dynamic_field() {
    // Field<u64, SystemStateInnerV1> with an empty committee at epoch 0,
    // ring buffer of length 2, no event blob, deny-list handle.
    let bytes = h(&format!(
        concat!(
            "{id} 0100000000000000",          // field id, name = version 1
            "00 0000 00000000 30c0{zeros47}", // committee: no members, n_shards 0, epoch 0, key (48 B)
            "0a00000000000000 0500000000000000 0100000000000000 0200000000000000",
            "00000000 02000000 02", // ring: index 0, length 2, 2 entries
            "00000000 0000000000000000 0000000000000000",
            "01000000 0000000000000000 0000000000000000",
            "00 00", // no latest blob, empty map
            "{id2}"
        ),
        id = "11".repeat(32),
        zeros47 = "00".repeat(47),
        id2 = "22".repeat(32),
    ));
    let field: DynamicField<u64, SystemStateInnerV1> = bcs::from_bytes(&bytes).unwrap();
    assert_eq!(field.name, 1);
    let inner = field.value;
    assert_eq!(inner.committee.total_aggregated_key.bytes.len(), 48);
    assert_eq!(inner.total_capacity_size, 10);
    assert_eq!(inner.write_price_per_unit_size, 2);
    assert_eq!(inner.future_accounting.lookup(1).unwrap().epoch, 1);
    assert!(inner.future_accounting.lookup(2).is_none());
    assert_eq!(inner.deny_list_sizes.id, ObjectId([0x22; 32]));
}

#[test]
fn registry_is_consistent() {
    let mut seen = HashSet::new();
    for info in MOVE_TYPES {
        assert!(
            seen.insert((info.module, info.name)),
            "duplicate {}",
            info.qualified_name()
        );
        match info.role {
            MoveRole::Event => {
                // Walrus's events are declared in `events`; floe's own
                // events (governance, and the votes and subsidies Walrus
                // reports in `events` only in part) beside what they
                // describe.
                assert!(
                    ["events", "governance", "upgrade", "slashing", "subsidies"]
                        .contains(&info.module),
                    "{} is an event outside `events`",
                    info.qualified_name()
                );
                assert!(info.has(Ability::Copy) && info.has(Ability::Drop));
            }
            MoveRole::Object => {
                assert!(info.has(Ability::Key), "{}", info.qualified_name());
                let MoveTypeKind::Struct(fields) = info.kind else {
                    panic!("object enum")
                };
                assert_eq!(fields[0].name, "id");
                assert_eq!(fields[0].ty, "UID");
            }
            MoveRole::Value => {}
        }
    }
    // Every event of Walrus's `events.move` is registered.
    for name in [
        "BlobRegistered",
        "BlobCertified",
        "BlobDeleted",
        "InvalidBlobID",
        "EpochChangeStart",
        "EpochChangeDone",
        "ShardsReceived",
        "EpochParametersSelected",
        "ShardRecoveryStart",
        "ContractUpgraded",
        "ContractUpgradeProposed",
        "ContractUpgradeQuorumReached",
        "RegisterDenyListUpdate",
        "DenyListUpdate",
        "DenyListBlobDeleted",
        "ProtocolVersionUpdated",
        "PricesUpdated",
        "StoragePoolCreated",
        "PooledBlobRegistered",
        "PooledBlobCertified",
        "PooledBlobDeleted",
        "StoragePoolExtended",
    ] {
        assert!(
            find_move_type("events", name).is_some(),
            "missing event {name}"
        );
    }
    let info = find_event_by_type_tag("0xabc::events::BlobCertified").unwrap();
    assert_eq!(info, &BlobCertified::INFO);
    let MoveTypeKind::Struct(fields) = info.kind else {
        panic!()
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "epoch",
            "blob_id",
            "end_epoch",
            "deletable",
            "object_id",
            "is_extension"
        ]
    );
    assert_eq!(fields[1].ty, "u256");
    assert!(find_event_by_type_tag("0xabc::blob::Blob").is_none());
    assert!(find_event_by_type_tag("nonsense").is_none());
    assert_eq!(Blob::INFO.type_tag("0x1234"), "0x1234::blob::Blob");
}

#[test]
fn object_id_text() {
    let id: ObjectId = "0x2".parse().unwrap();
    assert_eq!(id.0[31], 2);
    assert_eq!(id.to_string(), format!("0x{}02", "0".repeat(62)));
    assert_eq!(id.to_string().parse::<ObjectId>().unwrap(), id);
    assert!("0xzz".parse::<ObjectId>().is_err());
    assert!(format!("0x{}", "1".repeat(65)).parse::<ObjectId>().is_err());
}
