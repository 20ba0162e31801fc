//! The OpenAPI document at `/v1/api`, built from the daemon's route table
//! so it lists exactly what the running mode serves.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::{
    InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Required, ResponseBuilder,
    ResponsesBuilder,
};

/// One documented route: method, path, summary, query parameters, and
/// the answers beyond 200.
pub(super) struct RouteDoc {
    pub method: HttpMethod,
    pub path: &'static str,
    pub summary: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub answers: &'static [(&'static str, &'static str)],
}

pub(super) const STORE: RouteDoc = RouteDoc {
    method: HttpMethod::Put,
    path: "/v1/blobs",
    summary: "Store the request body as a blob; answers BlobStoreResult JSON (newlyCreated | alreadyCertified)",
    query: &[
        ("epochs", "Epochs ahead to store for (default 1), or `max`"),
        (
            "permanent",
            "Store a permanent (not deletable) blob; default false",
        ),
        ("force", "Store even if already certified long enough"),
        (
            "share",
            "Wrap the blob in a SharedBlob (excludes send_object_to)",
        ),
        ("send_object_to", "Address to transfer the Blob object to"),
    ],
    answers: &[
        (
            "400",
            "Invalid query, or a body that is not valid HTTP framing",
        ),
        (
            "401",
            "JWT required (auth configured): missing, malformed, badly signed or expired",
        ),
        (
            "403",
            "The request breaks the token's claims (epochs, size, send_object_to), or the token was used already",
        ),
        (
            "413",
            "Body above the daemon's limit, the token's max_size or the committee's maximum blob size",
        ),
        (
            "429",
            "Concurrency limit and queue full, or spending cap reached (Retry-After)",
        ),
        ("503", "Too few storage nodes answered (Retry-After)"),
    ],
};

pub(super) const READ: RouteDoc = RouteDoc {
    method: HttpMethod::Get,
    path: "/v1/blobs/{blob_id}",
    summary: "The blob's bytes; honours a single-range Range header (206)",
    query: &[],
    answers: &[
        ("206", "Partial content for a Range request"),
        ("400", "Malformed blob id"),
        ("404", "Blob not found"),
        (
            "416",
            "Range not satisfiable (a malformed Range is ignored: 200)",
        ),
        ("429", "Concurrency limit and queue full (Retry-After)"),
        ("503", "Too few storage nodes answered (Retry-After)"),
    ],
};

pub(super) const READ_BY_OBJECT: RouteDoc = RouteDoc {
    method: HttpMethod::Get,
    path: "/v1/blobs/by-object-id/{object_id}",
    summary: "The bytes of the blob a Blob object certifies, with its allowed attributes as headers",
    query: &[],
    answers: &[
        ("206", "Partial content for a Range request"),
        ("400", "Malformed object id"),
        ("404", "No such Blob object, or blob not found"),
        ("416", "Range not satisfiable"),
        ("429", "Concurrency limit and queue full (Retry-After)"),
        ("503", "Too few storage nodes answered (Retry-After)"),
    ],
};

pub(super) const STATUS: RouteDoc = RouteDoc {
    method: HttpMethod::Get,
    path: "/status",
    summary: "Daemon mode, epoch, committee size and (publisher) wallet address",
    query: &[],
    answers: &[],
};

pub(super) const API: RouteDoc = RouteDoc {
    method: HttpMethod::Get,
    path: "/v1/api",
    summary: "This document",
    query: &[],
    answers: &[],
};

/// The document for `routes`.
pub(super) fn build(routes: &[&RouteDoc]) -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in routes {
        let mut responses =
            ResponsesBuilder::new().response("200", ResponseBuilder::new().description("success"));
        for (code, description) in route.answers {
            responses = responses.response(*code, ResponseBuilder::new().description(*description));
        }
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .responses(responses);
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True),
                );
            }
        }
        for (name, description) in route.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .description(Some(*description))
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False),
            );
        }
        paths = paths.path(route.path, PathItem::new(route.method.clone(), op.build()));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("floe publisher / aggregator")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths.build())
        .build()
}
