use super::*;
use sui_sdk_types::{
    ChangedObject, GasCostSummary, IdOperation, Identifier, MoveLocation, MoveStruct, ObjectData,
    ObjectIn, ObjectOut, TransactionEffectsV2, TypeTag,
};

fn effects(status: ExecutionStatus, changed: Vec<ChangedObject>) -> TransactionEffects {
    TransactionEffects::V2(Box::new(TransactionEffectsV2 {
        status,
        epoch: 0,
        gas_used: GasCostSummary {
            computation_cost: 1000,
            storage_cost: 500,
            storage_rebate: 200,
            non_refundable_storage_fee: 2,
        },
        transaction_digest: Digest::new([4; 32]),
        gas_object_index: None,
        events_digest: None,
        dependencies: vec![],
        lamport_version: 9,
        changed_objects: changed,
        unchanged_consensus_objects: vec![],
        auxiliary_data_digest: None,
    }))
}

fn executed(effects: TransactionEffects) -> proto::ExecutedTransaction {
    proto::ExecutedTransaction::default()
        .with_digest(effects.transaction_digest().to_string())
        .with_effects(proto::TransactionEffects::from(effects))
}

#[test]
fn move_abort_status_names_module_function_and_code() {
    let status = ExecutionStatus::Failure {
        error: ExecutionError::MoveAbort {
            location: MoveLocation {
                package: Address::from_static("0xf10e"),
                module: Identifier::new("system").unwrap(),
                function: 3,
                instruction: 12,
                function_name: Some(Identifier::new("register_blob").unwrap()),
            },
            code: 7,
        },
        command: Some(1),
    };
    let tx = ExecutedTx::from_proto(&executed(effects(status, vec![]))).unwrap();
    assert_eq!(
        tx.status,
        TxStatus::MoveAbort {
            package: Address::from_static("0xf10e"),
            module: "system".into(),
            function: Some("register_blob".into()),
            code: 7,
            command: Some(1),
        }
    );
    let text = tx.status.to_string();
    assert!(
        text.starts_with("Move abort system::7 in ") && text.contains("::system::register_blob"),
        "{text}"
    );
    assert_eq!(tx.net_gas_used(), 1300);
    let err = tx.ensure_success().unwrap_err();
    assert!(matches!(err, ChainError::ExecutionFailed { .. }));
}

#[test]
fn other_failures_keep_their_kind() {
    let status = ExecutionStatus::Failure {
        error: ExecutionError::InsufficientGas,
        command: None,
    };
    let tx = ExecutedTx::from_proto(&executed(effects(status, vec![]))).unwrap();
    match &tx.status {
        TxStatus::Failure { kind, .. } => assert_eq!(kind, "InsufficientGas"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn object_changes_are_classified() {
    let owner = Owner::Address(Address::TWO);
    let changed = vec![
        ChangedObject {
            object_id: Address::from_static("0xa"),
            input_state: ObjectIn::NotExist,
            output_state: ObjectOut::ObjectWrite {
                digest: Digest::new([1; 32]),
                owner,
            },
            id_operation: IdOperation::Created,
        },
        ChangedObject {
            object_id: Address::from_static("0xb"),
            input_state: ObjectIn::Exist {
                version: 3,
                digest: Digest::new([2; 32]),
                owner,
            },
            output_state: ObjectOut::ObjectWrite {
                digest: Digest::new([3; 32]),
                owner,
            },
            id_operation: IdOperation::None,
        },
        ChangedObject {
            object_id: Address::from_static("0xc"),
            input_state: ObjectIn::Exist {
                version: 2,
                digest: Digest::new([5; 32]),
                owner,
            },
            output_state: ObjectOut::NotExist,
            id_operation: IdOperation::Deleted,
        },
    ];
    let tx = ExecutedTx::from_proto(&executed(effects(ExecutionStatus::Success, changed))).unwrap();
    assert!(tx.is_success());
    let created = tx.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].reference.version(), 9);
    assert_eq!(
        *created[0].reference.object_id(),
        Address::from_static("0xa")
    );
    assert_eq!(tx.mutated().len(), 1);
    assert_eq!(tx.deleted(), vec![Address::from_static("0xc")]);
}

#[test]
fn mismatched_digest_is_rejected() {
    let mut proto = executed(effects(ExecutionStatus::Success, vec![]));
    proto.digest = Some(Digest::new([8; 32]).to_string());
    assert!(
        ExecutedTx::from_proto(&proto)
            .unwrap_err()
            .contains("does not match")
    );
    assert!(ExecutedTx::from_proto(&proto::ExecutedTransaction::default()).is_err());
}

fn coin(id: Address, balance: u64) -> Object {
    let mut contents = id.into_inner().to_vec();
    contents.extend_from_slice(&balance.to_le_bytes());
    let tag = StructTag::coin(TypeTag::from(StructTag::sui()));
    let data = ObjectData::Struct(MoveStruct::new(tag, true, 5, contents).unwrap());
    Object::new(
        data,
        Owner::Address(Address::TWO),
        Digest::new([6; 32]),
        100,
    )
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct CoinMirror {
    id: Address,
    balance: u64,
}

#[test]
fn objects_decode_with_balance_digest_and_typed_contents() {
    let object = coin(Address::from_static("0xc01"), 1234);
    let mut message = proto::Object::from(object.clone());
    // Without the server's `balance`, it is read from the contents.
    message.balance = None;
    let info = ObjectInfo::from_proto(&message).unwrap();
    assert_eq!(info.balance, Some(1234));
    assert_eq!(info.reference.digest(), &object.digest());
    assert_eq!(
        info.contents_as::<CoinMirror>().unwrap(),
        CoinMirror {
            id: Address::from_static("0xc01"),
            balance: 1234
        }
    );
    // A layout mismatch is an error, not a silent partial decode.
    assert!(info.contents_as::<Address>().is_err());

    // A digest that does not match the contents is refused.
    message.digest = Some(Digest::new([0; 32]).to_string());
    assert!(ObjectInfo::from_proto(&message).is_err());
}

#[test]
fn known_abort_is_named_with_its_constant_and_meaning() {
    let status = TxStatus::MoveAbort {
        package: Address::from_static("0xf10e"),
        module: "blob".into(),
        function: None,
        code: 0,
        command: Some(0),
    };
    let text = status.to_string();
    assert!(
        text.starts_with("Move abort blob::ENotCertified (code 0) in ")
            && text.ends_with(": the blob is not certified"),
        "{text}"
    );
    let framework = TxStatus::MoveAbort {
        package: Address::TWO,
        module: "balance".into(),
        function: None,
        code: 2,
        command: None,
    };
    assert!(
        framework
            .to_string()
            .starts_with("Move abort balance::ENotEnough (code 2)"),
        "{framework}"
    );
}
