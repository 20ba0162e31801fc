//! Dynamic object fields and `ObjectTable` through real transactions:
//! the child stays an object readable by its own id, owned by the field,
//! and effects name what happened to it as Sui's would.

use std::sync::Arc;

use floe_runtime::object_field::{object_field_id, wrapper_tag};
use floe_runtime::{Abilities, NativePackage, ObjectTable, PackageBuilder, Param, Ty, Value};
use serde::{Deserialize, Serialize};
use sui_crypto::SuiSigner;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{
    Address, Argument, ChangedObject, Command, ExecutionError, ExecutionStatus, GasPayment,
    IdOperation, Identifier, Input, MoveCall, Object, ObjectOut, ObjectReference, Owner,
    ProgrammableTransaction, SharedInput, StructTag, Transaction, TransactionExpiration,
    TransactionKind, TypeTag,
};

use crate::genesis::{Account, Genesis, PackageSpec};
use crate::{Ledger, LedgerConfig};

const PKG: Address = Address::from_static("0xdf");

/// `Shelf { id, items: ObjectTable<u64, Item> }`, shared at init.
#[derive(Serialize, Deserialize)]
struct ShelfData {
    id: Address,
    items: ObjectTable,
}

/// `Item { id, value }`, `key + store`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct ItemData {
    id: Address,
    value: u64,
}

fn shelf_t() -> Ty {
    Ty::st("0xdf::shelf::Shelf", vec![])
}

fn item_t() -> Ty {
    Ty::st("0xdf::shelf::Item", vec![])
}

fn item_tag() -> TypeTag {
    "0xdf::shelf::Item".parse().unwrap_or(TypeTag::U8)
}

fn key_value(k: u64) -> Value {
    Value::u64(k)
}

struct Shelf;

impl NativePackage for Shelf {
    fn address(&self) -> Address {
        PKG
    }

    fn register(&self, b: &mut PackageBuilder) {
        use Param::{Mut, TxContext, Val};
        b.datatype("shelf", "Shelf", Abilities::KEY).datatype(
            "shelf",
            "Item",
            Abilities::KEY_STORE,
        );
        // put(shelf, key, value): a new Item under `key`.
        b.function(
            "shelf",
            "put",
            0,
            vec![Mut(shelf_t()), Val(Ty::U64), Val(Ty::U64), TxContext],
            vec![],
            |c| {
                let mut shelf: ShelfData = c.arg(0)?;
                let (k, value): (u64, u64) = (c.arg(1)?, c.arg(2)?);
                let id = c.rt.new_uid()?;
                let item = Value::new(item_tag(), &ItemData { id, value });
                shelf.items.add(c.rt, key_value(k), item)?;
                c.set_arg(0, &shelf)?;
                Ok(vec![])
            },
        );
        // put_owned(shelf, key, item): an existing object moves in.
        b.function(
            "shelf",
            "put_owned",
            0,
            vec![Mut(shelf_t()), Val(Ty::U64), Val(item_t())],
            vec![],
            |c| {
                let mut shelf: ShelfData = c.arg(0)?;
                let k: u64 = c.arg(1)?;
                let item = c.value(2)?.clone();
                shelf.items.add(c.rt, key_value(k), item)?;
                c.set_arg(0, &shelf)?;
                Ok(vec![])
            },
        );
        // bump(shelf, key): borrow_mut, value + 1.
        b.function(
            "shelf",
            "bump",
            0,
            vec![Mut(shelf_t()), Val(Ty::U64)],
            vec![],
            |c| {
                let shelf: ShelfData = c.arg(0)?;
                let k = key_value(c.arg(1)?);
                let mut item: ItemData = shelf.items.get(c.rt, &k, &item_tag())?;
                item.value += 1;
                shelf.items.set(c.rt, &k, Value::new(item_tag(), &item))?;
                Ok(vec![])
            },
        );
        // take(shelf, key): remove and send to the sender.
        b.function(
            "shelf",
            "take",
            0,
            vec![Mut(shelf_t()), Val(Ty::U64), TxContext],
            vec![],
            |c| {
                let mut shelf: ShelfData = c.arg(0)?;
                let k = key_value(c.arg(1)?);
                let item = shelf.items.remove(c.rt, &k, &item_tag())?;
                let to = c.rt.sender();
                c.rt.transfer(item, to)?;
                c.set_arg(0, &shelf)?;
                Ok(vec![])
            },
        );
        // burn(shelf, key): remove and delete.
        b.function(
            "shelf",
            "burn",
            0,
            vec![Mut(shelf_t()), Val(Ty::U64)],
            vec![],
            |c| {
                let mut shelf: ShelfData = c.arg(0)?;
                let k = key_value(c.arg(1)?);
                let item: ItemData =
                    bcs::from_bytes(&shelf.items.remove(c.rt, &k, &item_tag())?.bytes)
                        .map_err(|e| floe_runtime::NativeError::Invariant(e.to_string()))?;
                c.rt.delete_uid(item.id)?;
                c.set_arg(0, &shelf)?;
                Ok(vec![])
            },
        );
        // stash(shelf, key): remove and keep inside a plain dynamic field
        // of the shelf (the item is wrapped).
        b.function(
            "shelf",
            "stash",
            0,
            vec![Mut(shelf_t()), Val(Ty::U64)],
            vec![],
            |c| {
                let mut shelf: ShelfData = c.arg(0)?;
                let k = key_value(c.arg(1)?);
                let item = shelf.items.remove(c.rt, &k, &item_tag())?;
                c.rt.df_add(shelf.id, k, item)?;
                c.set_arg(0, &shelf)?;
                Ok(vec![])
            },
        );
    }

    fn init(&self, rt: &mut floe_runtime::Runtime<'_>) -> Result<(), floe_runtime::NativeError> {
        let id = rt.new_uid()?;
        let items = ObjectTable::new(rt)?;
        let ty = shelf_t().instantiate(&[]).unwrap_or(TypeTag::U8);
        rt.share(Value::new(ty, &ShelfData { id, items }))
    }
}

struct Net {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    key: Ed25519PrivateKey,
    sender: Address,
    shelf: Address,
    shelf_version: u64,
}

fn open(dir: &std::path::Path, owner: Address) -> Ledger {
    Ledger::open(LedgerConfig {
        data_dir: dir.to_owned(),
        genesis: Genesis {
            accounts: vec![Account {
                address: owner,
                balance: 10_000_000_000,
                coins: 2,
            }],
            packages: vec![PackageSpec {
                address: PKG,
                init_sender: None,
            }],
            ..Genesis::default()
        },
        natives: vec![Arc::new(Shelf)],
    })
    .unwrap()
}

fn net() -> Net {
    let dir = tempfile::tempdir().unwrap();
    let key = Ed25519PrivateKey::new([7; 32]);
    let sender = key.public_key().derive_address();
    let ledger = open(dir.path(), sender);
    let shelf = {
        let state = ledger.state();
        let genesis = state.checkpoint(0).unwrap().unwrap();
        genesis
            .transactions
            .iter()
            .flat_map(|t| &t.record.output_objects)
            .find(|o| {
                o.as_struct()
                    .is_some_and(|s| s.object_type().name().as_str() == "Shelf")
            })
            .unwrap()
            .clone()
    };
    let Owner::Shared(shelf_version) = *shelf.owner() else {
        panic!("the shelf is shared")
    };
    Net {
        _dir: dir,
        ledger,
        key,
        sender,
        shelf: shelf.object_id(),
        shelf_version,
    }
}

impl Net {
    fn gas(&self) -> Object {
        let state = self.ledger.state();
        let mut coins: Vec<Object> = state
            .owned_objects(&self.sender)
            .filter(|o| {
                o.as_struct()
                    .is_some_and(|s| *s.object_type() == StructTag::gas_coin())
            })
            .cloned()
            .collect();
        coins.sort_by_key(|o| o.object_id());
        coins.remove(0)
    }

    fn call(&self, function: &str, args: Vec<Input>) -> (ExecutionStatus, Vec<ChangedObject>) {
        let gas = self.gas();
        let mut inputs = vec![Input::Shared(SharedInput::new(
            self.shelf,
            self.shelf_version,
            true,
        ))];
        inputs.extend(args);
        let arguments = (0..inputs.len() as u16).map(Argument::Input).collect();
        let t = Transaction {
            kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
                inputs,
                commands: vec![Command::MoveCall(MoveCall {
                    package: PKG,
                    module: Identifier::new("shelf").unwrap(),
                    function: Identifier::new(function).unwrap(),
                    type_arguments: vec![],
                    arguments,
                })],
            }),
            sender: self.sender,
            gas_payment: GasPayment {
                objects: vec![ObjectReference::new(
                    gas.object_id(),
                    gas.version(),
                    gas.digest(),
                )],
                owner: self.sender,
                price: 1000,
                budget: 50_000_000,
            },
            expiration: TransactionExpiration::None,
        };
        let sig = self.key.sign_transaction(&t).unwrap();
        let entry = self.ledger.execute(t, vec![sig]).unwrap();
        let effects = &entry.record.effects;
        let changed = match effects {
            sui_sdk_types::TransactionEffects::V2(e) => e.changed_objects.clone(),
            _ => panic!("V2 effects"),
        };
        (effects.status().clone(), changed)
    }

    fn shelf(&self) -> ShelfData {
        let state = self.ledger.state();
        bcs::from_bytes(
            state
                .object(&self.shelf)
                .unwrap()
                .as_struct()
                .unwrap()
                .contents(),
        )
        .unwrap()
    }

    fn field_id(&self, k: u64) -> Address {
        object_field_id(
            self.shelf().items.id,
            &TypeTag::U64,
            &bcs::to_bytes(&k).unwrap(),
        )
    }

    /// The item id the field under `k` points at.
    fn item_id(&self, k: u64) -> Address {
        let state = self.ledger.state();
        let field = state.object(&self.field_id(k)).unwrap();
        let bytes = field.as_struct().unwrap().contents();
        Address::from_bytes(&bytes[Address::LENGTH + 8..]).unwrap()
    }

    fn item(&self, id: &Address) -> Option<(Owner, ItemData)> {
        let state = self.ledger.state();
        let o = state.object(id)?;
        Some((
            *o.owner(),
            bcs::from_bytes(o.as_struct()?.contents()).unwrap(),
        ))
    }
}

fn op(changed: &[ChangedObject], id: Address) -> (IdOperation, bool) {
    let c = changed.iter().find(|c| c.object_id == id).unwrap();
    (
        c.id_operation,
        matches!(c.output_state, ObjectOut::ObjectWrite { .. }),
    )
}

fn pure<T: Serialize>(v: &T) -> Input {
    Input::Pure(bcs::to_bytes(v).unwrap())
}

#[test]
fn the_child_is_an_object_owned_by_its_field() {
    let net = net();
    let (status, changed) = net.call("put", vec![pure(&1u64), pure(&7u64)]);
    assert_eq!(status, ExecutionStatus::Success);
    let table = net.shelf().items;
    assert_eq!(table.size, 1);
    let field_id = net.field_id(1);
    let item_id = net.item_id(1);
    // The field: Field<Wrapper<u64>, ID> owned by the table's id.
    {
        let state = net.ledger.state();
        let field = state.object(&field_id).unwrap();
        assert_eq!(*field.owner(), Owner::Object(table.id));
        let ty = field.as_struct().unwrap().object_type();
        let expected: StructTag = StructTag::new(
            Address::TWO,
            Identifier::from_static("dynamic_field"),
            Identifier::from_static("Field"),
            vec![
                wrapper_tag(TypeTag::U64).into(),
                "0x2::object::ID".parse().unwrap(),
            ],
        );
        assert_eq!(*ty, expected);
        let mut contents = field_id.into_inner().to_vec();
        contents.extend(bcs::to_bytes(&1u64).unwrap());
        contents.extend(item_id.into_inner());
        assert_eq!(field.as_struct().unwrap().contents(), contents.as_slice());
    }
    // The item: readable by its own id, owned by the field's id.
    assert_eq!(
        net.item(&item_id),
        Some((
            Owner::Object(field_id),
            ItemData {
                id: item_id,
                value: 7
            }
        ))
    );
    assert_eq!(op(&changed, item_id), (IdOperation::Created, true));
    assert_eq!(op(&changed, field_id), (IdOperation::Created, true));

    // borrow_mut writes the item, not the field.
    let (status, changed) = net.call("bump", vec![pure(&1u64)]);
    assert_eq!(status, ExecutionStatus::Success);
    assert_eq!(net.item(&item_id).unwrap().1.value, 8);
    assert_eq!(op(&changed, item_id), (IdOperation::None, true));
    assert!(changed.iter().all(|c| c.object_id != field_id));

    // A second add under the same key aborts in dynamic_field (code 0).
    let (status, _) = net.call("put", vec![pure(&1u64), pure(&9u64)]);
    let ExecutionStatus::Failure {
        error: ExecutionError::MoveAbort { location, code },
        ..
    } = status
    else {
        panic!("expected an abort, got {status:?}")
    };
    assert_eq!(
        (location.package, location.module.as_str(), code),
        (Address::TWO, "dynamic_field", 0)
    );
    // A missing key aborts with EFieldDoesNotExist (code 1).
    let (status, _) = net.call("bump", vec![pure(&2u64)]);
    assert!(matches!(
        status,
        ExecutionStatus::Failure {
            error: ExecutionError::MoveAbort { code: 1, .. },
            ..
        }
    ));
}

#[test]
fn removed_children_are_transferred_deleted_or_wrapped() {
    let net = net();
    for k in [1u64, 2, 3] {
        assert_eq!(
            net.call("put", vec![pure(&k), pure(&(k * 10))]).0,
            ExecutionStatus::Success
        );
    }
    let ids: Vec<Address> = [1, 2, 3].iter().map(|k| net.item_id(*k)).collect();
    let fields: Vec<Address> = [1, 2, 3].iter().map(|k| net.field_id(*k)).collect();

    // take: the item goes to the sender; the field is deleted.
    let (status, changed) = net.call("take", vec![pure(&1u64)]);
    assert_eq!(status, ExecutionStatus::Success);
    assert_eq!(net.item(&ids[0]).unwrap().0, Owner::Address(net.sender));
    assert_eq!(op(&changed, ids[0]), (IdOperation::None, true));
    assert_eq!(op(&changed, fields[0]), (IdOperation::Deleted, false));
    assert!(net.ledger.state().object(&fields[0]).is_none());
    assert_eq!(net.shelf().items.size, 2);

    // An owned object moves back in under another key.
    let owned = net.ledger.state().object(&ids[0]).unwrap().clone();
    let (status, _) = net.call(
        "put_owned",
        vec![
            pure(&4u64),
            Input::ImmutableOrOwned(ObjectReference::new(
                owned.object_id(),
                owned.version(),
                owned.digest(),
            )),
        ],
    );
    assert_eq!(status, ExecutionStatus::Success);
    assert_eq!(net.item_id(4), ids[0]);
    assert_eq!(net.item(&ids[0]).unwrap().0, Owner::Object(net.field_id(4)));

    // burn: the item is deleted.
    let (status, changed) = net.call("burn", vec![pure(&2u64)]);
    assert_eq!(status, ExecutionStatus::Success);
    assert_eq!(op(&changed, ids[1]), (IdOperation::Deleted, false));
    assert!(net.item(&ids[1]).is_none());

    // stash: the item leaves the store, wrapped inside a plain field.
    let (status, changed) = net.call("stash", vec![pure(&3u64)]);
    assert_eq!(status, ExecutionStatus::Success);
    assert_eq!(op(&changed, ids[2]), (IdOperation::None, false));
    assert!(net.item(&ids[2]).is_none());
    assert_eq!(net.shelf().items.size, 1);
}

/// What Sui's SDKs see: the child by its id through GetObject and
/// BatchGetObjects, and the table's listing with kind `OBJECT`, the name
/// unwrapped, the child's id and type.
#[tokio::test]
async fn readers_see_the_child_by_its_id_and_the_field_as_an_object_field() {
    use sui_rpc::proto::sui::rpc::v2 as pb;
    use sui_rpc::proto::sui::rpc::v2::ledger_service_server::LedgerService;
    use sui_rpc::proto::sui::rpc::v2::state_service_server::StateService;
    let net = net();
    assert_eq!(
        net.call("put", vec![pure(&3u64), pure(&30u64)]).0,
        ExecutionStatus::Success
    );
    let item_id = net.item_id(3);
    let field_id = net.field_id(3);

    let ledger = crate::rpc::LedgerApi(net.ledger.clone());
    let mut req = pb::GetObjectRequest::default();
    req.object_id = Some(item_id.to_string());
    req.read_mask = Some(prost_types::FieldMask {
        paths: vec!["object_id".into(), "object_type".into(), "owner".into()],
    });
    let object = ledger
        .get_object(tonic::Request::new(req.clone()))
        .await
        .unwrap()
        .into_inner()
        .object
        .unwrap();
    assert_eq!(
        object.object_type.as_deref(),
        Some(item_tag().to_string().as_str())
    );
    assert_eq!(
        object.owner.as_ref().and_then(|o| o.address.as_deref()),
        Some(field_id.to_string().as_str())
    );
    let mut batch = pb::BatchGetObjectsRequest::default();
    batch.requests = vec![req];
    batch.read_mask = Some(prost_types::FieldMask {
        paths: vec!["object_id".into()],
    });
    let answers = ledger
        .batch_get_objects(tonic::Request::new(batch))
        .await
        .unwrap()
        .into_inner()
        .objects;
    assert_eq!(answers.len(), 1);

    let state = crate::rpc::StateApi(net.ledger.clone());
    let mut req = pb::ListDynamicFieldsRequest::default();
    req.parent = Some(net.shelf().items.id.to_string());
    req.read_mask = Some(prost_types::FieldMask {
        paths: vec![
            "kind".into(),
            "field_id".into(),
            "name".into(),
            "value_type".into(),
            "child_id".into(),
        ],
    });
    let fields = state
        .list_dynamic_fields(tonic::Request::new(req))
        .await
        .unwrap()
        .into_inner()
        .dynamic_fields;
    assert_eq!(fields.len(), 1);
    let f = &fields[0];
    assert_eq!(
        f.kind,
        Some(pb::dynamic_field::DynamicFieldKind::Object as i32)
    );
    assert_eq!(f.field_id.as_deref(), Some(field_id.to_string().as_str()));
    let name = f.name.as_ref().unwrap();
    assert_eq!(name.name.as_deref(), Some("u64"));
    assert_eq!(name.value.as_deref(), Some(&3u64.to_le_bytes()[..]));
    assert_eq!(f.child_id.as_deref(), Some(item_id.to_string().as_str()));
    assert_eq!(
        f.value_type.as_deref(),
        Some(item_tag().to_string().as_str())
    );
}
