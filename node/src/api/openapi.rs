//! The OpenAPI document at `/v1/api`, built from the route table below so the
//! document lists exactly the served paths. Bodies are described in words
//! (BCS types are not JSON-schema types).

use axum::Json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Required};
use utoipa::openapi::{ResponseBuilder, ResponsesBuilder};

/// (method, path, summary).
const ROUTES: &[(HttpMethod, &str, &str)] = &[
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/metadata",
        "BCS BlobMetadataWithId",
    ),
    (
        HttpMethod::Put,
        "/v1/blobs/{blob_id}/metadata",
        "Body BCS BlobMetadata; 201 stored, 202 buffered (?pending=true), 200 already stored",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/metadata/status",
        "Whether metadata are stored",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}",
        "BCS SliverData of the pair's primary or secondary sliver",
    ),
    (
        HttpMethod::Put,
        "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}",
        "Body BCS SliverData; stored if the node owns the pair's shard and it verifies",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}/status",
        "Whether the sliver is stored",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/confirmation/permanent",
        "Signed storage confirmation for the permanent blob",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/confirmation/deletable/{object_id}",
        "Signed storage confirmation for one deletable blob object",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/recoverySymbols",
        "?targetSliver=&targetType=: BCS Vec<GeneralRecoverySymbol>",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/decodingSymbols",
        "?targetSlivers=a,b&targetType=: BCS map target index -> decoding symbols",
    ),
    (
        HttpMethod::Post,
        "/v1/blobs/{blob_id}/inconsistencyProof/{sliver_type}",
        "Body BCS InconsistencyProof; returns a signed invalid-blob-id attestation",
    ),
    (
        HttpMethod::Get,
        "/v1/blobs/{blob_id}/status",
        "BlobStatus (JSON)",
    ),
    (
        HttpMethod::Get,
        "/v1/health",
        "Uptime, epoch, key, shards, event cursor",
    ),
    (HttpMethod::Get, "/v1/api", "This document"),
    (HttpMethod::Get, "/metrics", "Prometheus metrics"),
];

fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for (method, path, summary) in ROUTES {
        let mut op = OperationBuilder::new().summary(Some(*summary)).responses(
            ResponsesBuilder::new()
                .response("200", ResponseBuilder::new().description("success"))
                .response(
                    "4XX",
                    ResponseBuilder::new().description("JSON error with a reason"),
                ),
        );
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True),
                );
            }
        }
        paths = paths.path(*path, PathItem::new(method.clone(), op.build()));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("floe storage node")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths.build())
        .build()
}

pub(super) async fn document() -> Json<OpenApi> {
    Json(build())
}
