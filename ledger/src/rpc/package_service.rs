//! `sui.rpc.v2.MovePackageService`: GetFunction, from native signatures.
//! Sui's TypeScript SDK asks for a function's signature to resolve a
//! MoveCall's untyped arguments; native packages have no bytecode, so the
//! answer is built from what the package registered.

use floe_runtime::{Param, Ty};
use sui_rpc::proto::sui::rpc::v2 as pb;
use tonic::{Request, Response, Status};

use super::parse_address;
use crate::Ledger;

/// MovePackageService over a ledger.
pub struct PackageApi(pub Ledger);

fn body(ty: &Ty) -> pb::OpenSignatureBody {
    use pb::open_signature_body::Type;
    let mut b = pb::OpenSignatureBody::default();
    let kind = match ty {
        Ty::Bool => Type::Bool,
        Ty::U8 => Type::U8,
        Ty::U16 => Type::U16,
        Ty::U32 => Type::U32,
        Ty::U64 => Type::U64,
        Ty::U128 => Type::U128,
        Ty::U256 => Type::U256,
        Ty::Address => Type::Address,
        Ty::Vector(inner) => {
            b.type_parameter_instantiation = vec![body(inner)];
            Type::Vector
        }
        Ty::Struct {
            address,
            module,
            name,
            args,
        } => {
            b.type_name = Some(format!("{address}::{module}::{name}"));
            b.type_parameter_instantiation = args.iter().map(body).collect();
            Type::Datatype
        }
        Ty::Param(i) => {
            b.type_parameter = Some(u32::from(*i));
            Type::Parameter
        }
    };
    b.r#type = Some(kind as i32);
    b
}

fn signature(p: &Param) -> pb::OpenSignature {
    use pb::open_signature::Reference;
    let tx_context = Ty::st("0x2::tx_context::TxContext", vec![]);
    let (reference, ty) = match p {
        Param::Val(t) => (None, t),
        Param::Ref(t) => (Some(Reference::Immutable), t),
        Param::Mut(t) => (Some(Reference::Mutable), t),
        Param::TxContext => (Some(Reference::Mutable), &tx_context),
    };
    let mut s = pb::OpenSignature::default();
    s.reference = reference.map(|r| r as i32);
    s.body = Some(body(ty));
    s
}

#[tonic::async_trait]
impl pb::move_package_service_server::MovePackageService for PackageApi {
    async fn get_function(
        &self,
        request: Request<pb::GetFunctionRequest>,
    ) -> Result<Response<pb::GetFunctionResponse>, Status> {
        let req = request.into_inner();
        let package = parse_address("package_id", req.package_id.as_deref())?;
        let module = req.module_name.as_deref().unwrap_or_default();
        let name = req.name.as_deref().unwrap_or_default();
        let f = self
            .0
            .registry()
            .function(&package, module, name)
            .ok_or_else(|| {
                Status::not_found(format!("function {package}::{module}::{name} not found"))
            })?;
        let mut d = pb::FunctionDescriptor::default();
        d.name = Some(name.to_owned());
        d.visibility = Some(pb::function_descriptor::Visibility::Public as i32);
        d.is_entry = Some(false);
        d.type_parameters = (0..f.type_params)
            .map(|_| pb::TypeParameter::default())
            .collect();
        d.parameters = f.params.iter().map(signature).collect();
        d.returns = f
            .returns
            .iter()
            .map(|t| signature(&Param::Val(t.clone())))
            .collect();
        let mut r = pb::GetFunctionResponse::default();
        r.function = Some(d);
        Ok(Response::new(r))
    }
}
