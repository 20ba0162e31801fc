//! `sui.rpc.v2.StateService`: owned objects, dynamic fields, balances.

use floe_runtime::bcs_prefix_len;
use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{Address, Object, Owner, StructTag, TypeTag};
use tonic::{Request, Response, Status};

use super::{mask, object_proto, page_after, page_size, parse_address};
use crate::Ledger;
use crate::state::balances;

/// StateService over a ledger.
pub struct StateApi(pub Ledger);

/// A parsed `object_type` filter: a full type, or a type without its
/// parameters (matching every instantiation), or just `address::module`.
enum TypeFilter {
    Exact(StructTag),
    Unparameterised(StructTag),
    Module(Address, String),
}

impl TypeFilter {
    fn parse(s: &str) -> Result<Self, Status> {
        if let Ok(tag) = s.parse::<StructTag>() {
            return Ok(if tag.type_params().is_empty() && !s.contains('<') {
                Self::Unparameterised(tag)
            } else {
                Self::Exact(tag)
            });
        }
        let mut parts = s.split("::");
        if let (Some(a), Some(m), None) = (parts.next(), parts.next(), parts.next())
            && let Ok(address) = a.parse::<Address>()
        {
            return Ok(Self::Module(address, m.to_owned()));
        }
        Err(Status::invalid_argument(format!(
            "object_type {s:?} is not a Move struct type"
        )))
    }

    fn matches(&self, t: &StructTag) -> bool {
        match self {
            Self::Exact(f) => f == t,
            Self::Unparameterised(f) => {
                f.address() == t.address() && f.module() == t.module() && f.name() == t.name()
            }
            Self::Module(a, m) => a == t.address() && t.module().as_str() == m,
        }
    }
}

fn normalise_coin_type(s: Option<&str>) -> Result<String, Status> {
    let s = s.unwrap_or("0x2::sui::SUI");
    s.parse::<TypeTag>()
        .map(|t| t.to_string())
        .map_err(|e| Status::invalid_argument(format!("coin_type {s:?}: {e}")))
}

/// The `K` of `0x2::dynamic_object_field::Wrapper<K>`, if `ty` is one.
fn wrapped_name(ty: &TypeTag) -> Option<&TypeTag> {
    let TypeTag::Struct(tag) = ty else {
        return None;
    };
    let is_wrapper = *tag.address() == Address::TWO
        && tag.module().as_str() == "dynamic_object_field"
        && tag.name().as_str() == "Wrapper";
    match tag.type_params() {
        [inner] if is_wrapper => Some(inner),
        _ => None,
    }
}

/// One listed field as Sui lists it: a dynamic object field (name type
/// `Wrapper<K>`, value an `ID`) is reported with kind `OBJECT`, its name
/// unwrapped, the child's id and the child object's type as `value_type`.
fn dynamic_field(
    state: &crate::state::State,
    object: &Object,
    parent: Address,
    m: &sui_rpc::field::FieldMaskTree,
) -> Option<pb::DynamicField> {
    let s = object.as_struct()?;
    let ty = s.object_type();
    if *ty.address() != Address::TWO
        || ty.module().as_str() != "dynamic_field"
        || ty.name().as_str() != "Field"
    {
        return None;
    }
    let [name_ty, value_ty] = ty.type_params() else {
        return None;
    };
    let mut f = pb::DynamicField::default();
    let inner_name = wrapped_name(name_ty);
    f.kind = Some(if inner_name.is_some() {
        pb::dynamic_field::DynamicFieldKind::Object as i32
    } else {
        pb::dynamic_field::DynamicFieldKind::Field as i32
    });
    if m.contains("parent") {
        f.parent = Some(parent.to_string());
    }
    if m.contains("field_id") {
        f.field_id = Some(object.object_id().to_string());
    }
    if let Some(sub) = m.subtree("field_object") {
        f.field_object = Some(object_proto(object, &sub));
    }
    let rest = s.contents().get(Address::LENGTH..)?;
    let mut child = None;
    // `Wrapper<K>` is a one-field struct: its BCS is the name's.
    if let Some(len) = bcs_prefix_len(inner_name.unwrap_or(name_ty), rest) {
        if inner_name.is_some() {
            child = rest
                .get(len..)
                .and_then(|b| Address::from_bytes(b).ok())
                .and_then(|id| state.object(&id));
        }
        if m.contains("name") {
            let mut b = pb::Bcs::default();
            b.name = Some(inner_name.unwrap_or(name_ty).to_string());
            b.value = Some(rest[..len].to_vec().into());
            f.name = Some(b);
        }
        if m.contains("value") {
            let mut b = pb::Bcs::default();
            b.name = Some(value_ty.to_string());
            b.value = Some(rest[len..].to_vec().into());
            f.value = Some(b);
        }
    }
    match (inner_name, child) {
        (None, _) => {
            if m.contains("value_type") {
                f.value_type = Some(value_ty.to_string());
            }
        }
        (Some(_), Some(child)) => {
            if m.contains("value_type") {
                f.value_type = child.as_struct().map(|s| s.object_type().to_string());
            }
            if m.contains("child_id") {
                f.child_id = Some(child.object_id().to_string());
            }
            if let Some(sub) = m.subtree("child_object") {
                f.child_object = Some(object_proto(child, &sub));
            }
        }
        // A field whose child is gone: not listed.
        (Some(_), None) => return None,
    }
    Some(f)
}

#[tonic::async_trait]
impl pb::state_service_server::StateService for StateApi {
    async fn list_owned_objects(
        &self,
        request: Request<pb::ListOwnedObjectsRequest>,
    ) -> Result<Response<pb::ListOwnedObjectsResponse>, Status> {
        let req = request.into_inner();
        let owner = parse_address("owner", req.owner.as_deref())?;
        let filter = req
            .object_type
            .as_deref()
            .map(TypeFilter::parse)
            .transpose()?;
        let m = mask(req.read_mask.as_ref(), "object_id,version,object_type");
        let limit = page_size(req.page_size);
        let after = page_after(req.page_token.as_ref())?;
        let state = self.0.state();
        let mut objects = Vec::new();
        let mut next = None;
        let mut last = None;
        for id in state.owned_ids(&owner, after) {
            let Some(o) = state.object(id) else { continue };
            if *o.owner() != Owner::Address(owner) {
                continue;
            }
            let Some(s) = o.as_struct() else { continue };
            if filter.as_ref().is_some_and(|f| !f.matches(s.object_type())) {
                continue;
            }
            if objects.len() == limit {
                next = last;
                break;
            }
            objects.push(object_proto(o, &m));
            last = Some(*id);
        }
        let mut r = pb::ListOwnedObjectsResponse::default();
        r.objects = objects;
        r.next_page_token = next.map(|a: Address| a.into_inner().to_vec().into());
        Ok(Response::new(r))
    }

    async fn list_dynamic_fields(
        &self,
        request: Request<pb::ListDynamicFieldsRequest>,
    ) -> Result<Response<pb::ListDynamicFieldsResponse>, Status> {
        let req = request.into_inner();
        let parent = parse_address("parent", req.parent.as_deref())?;
        let m = mask(req.read_mask.as_ref(), "parent,field_id");
        let limit = page_size(req.page_size);
        let after = page_after(req.page_token.as_ref())?;
        let state = self.0.state();
        let mut fields = Vec::new();
        let mut next = None;
        let mut last = None;
        for id in state.owned_ids(&parent, after) {
            let Some(o) = state.object(id) else { continue };
            if *o.owner() != Owner::Object(parent) {
                continue;
            }
            let Some(f) = dynamic_field(&state, o, parent, &m) else {
                continue;
            };
            if fields.len() == limit {
                next = last;
                break;
            }
            fields.push(f);
            last = Some(*id);
        }
        let mut r = pb::ListDynamicFieldsResponse::default();
        r.dynamic_fields = fields;
        r.next_page_token = next.map(|a: Address| a.into_inner().to_vec().into());
        Ok(Response::new(r))
    }

    async fn get_coin_info(
        &self,
        _: Request<pb::GetCoinInfoRequest>,
    ) -> Result<Response<pb::GetCoinInfoResponse>, Status> {
        Err(Status::unimplemented(
            "GetCoinInfo is not served by the floe devnet ledger",
        ))
    }

    async fn get_balance(
        &self,
        request: Request<pb::GetBalanceRequest>,
    ) -> Result<Response<pb::GetBalanceResponse>, Status> {
        let req = request.into_inner();
        let owner = parse_address("owner", req.owner.as_deref())?;
        let coin_type = normalise_coin_type(req.coin_type.as_deref())?;
        let amount = balances(&self.0.state(), &owner)
            .get(&coin_type)
            .copied()
            .unwrap_or(0);
        let mut b = pb::Balance::default();
        b.coin_type = Some(coin_type);
        b.balance = Some(amount);
        b.coin_balance = Some(amount);
        b.address_balance = Some(0);
        let mut r = pb::GetBalanceResponse::default();
        r.balance = Some(b);
        Ok(Response::new(r))
    }

    async fn list_balances(
        &self,
        request: Request<pb::ListBalancesRequest>,
    ) -> Result<Response<pb::ListBalancesResponse>, Status> {
        let req = request.into_inner();
        let owner = parse_address("owner", req.owner.as_deref())?;
        let limit = page_size(req.page_size);
        let after = match &req.page_token {
            Some(t) if !t.is_empty() => Some(
                String::from_utf8(t.to_vec())
                    .map_err(|_| Status::invalid_argument("malformed page_token"))?,
            ),
            _ => None,
        };
        let all = balances(&self.0.state(), &owner);
        let mut out = Vec::new();
        let mut next = None;
        for (t, amount) in all
            .into_iter()
            .filter(|(t, _)| after.as_ref().is_none_or(|a| t > a))
        {
            if out.len() == limit {
                next = out.last().and_then(|b: &pb::Balance| b.coin_type.clone());
                break;
            }
            let mut b = pb::Balance::default();
            b.coin_type = Some(t);
            b.balance = Some(amount);
            b.coin_balance = Some(amount);
            b.address_balance = Some(0);
            out.push(b);
        }
        let mut r = pb::ListBalancesResponse::default();
        r.balances = out;
        r.next_page_token = next.map(|s| s.into_bytes().into());
        Ok(Response::new(r))
    }
}
