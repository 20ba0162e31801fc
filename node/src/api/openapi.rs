//! The OpenAPI document at `/v1/api`, built from the route table below so the
//! document lists exactly the served paths, with every status code and error
//! reason each route answers (Walrus's, see `error.rs`). Bodies are described
//! in words (BCS types are not JSON-schema types).

use axum::Json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Required};
use utoipa::openapi::{ResponseBuilder, ResponsesBuilder};

/// One served route.
struct Route {
    method: HttpMethod,
    path: &'static str,
    summary: &'static str,
    /// Query parameters (name, description).
    query: &'static [(&'static str, &'static str)],
    /// (HTTP code, what it means; error reasons in capitals).
    responses: &'static [(&'static str, &'static str)],
}

const BAD_ID: (&str, &str) = (
    "400",
    "INVALID_BLOB_ID, INVALID_SLIVER_TYPE or INVALID_REQUEST: malformed path or query",
);
const INTERNAL: (&str, &str) = ("500", "INTERNAL_ERROR (domain `global`)");
const SHED: (&str, &str) = (
    "503",
    "UNAVAILABLE (domain `global`): the route's concurrency limit is reached and the \
     request was shed; retry with backoff",
);
const TIMEOUT: (&str, &str) = (
    "504",
    "DEADLINE_EXCEEDED: the request's time budget ran out",
);
const TOO_LARGE: (&str, &str) = (
    "413",
    "PAYLOAD_TOO_LARGE: the body exceeds the route's bound (for slivers, the size the \
     blob's metadata imply)",
);
const PENDING: (&str, &str) = ("pending", "`true`: buffer until the registration is seen");
const WAIT: &[(&str, &str)] = &[
    (
        "wait_for_registration",
        "`true`: wait for the registration event first",
    ),
    ("wait_millis", "longest wait, capped by the node"),
];

const ROUTES: &[Route] = &[
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/metadata",
        summary: "BCS BlobMetadataWithId",
        query: &[],
        responses: &[
            ("200", "BCS metadata"),
            BAD_ID,
            ("404", "METADATA_NOT_FOUND"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Put,
        path: "/v1/blobs/{blob_id}/metadata",
        summary: "Body BCS BlobMetadata (Content-Type application/octet-stream or none)",
        query: &[PENDING],
        responses: &[
            ("200", "metadata already stored"),
            ("201", "metadata successfully stored"),
            (
                "202",
                "metadata buffered pending registration (?pending=true)",
            ),
            (
                "400",
                "INVALID_CONTENT_TYPE (not BCS or wrong content type), INVALID_METADATA, \
                 INVALID_BLOB, NOT_REGISTERED (retry, or use ?pending=true), CACHE_SATURATED",
            ),
            TOO_LARGE,
            SHED,
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/metadata/status",
        summary: "StoredOnNodeStatus: \"nonexistent\", \"buffered\" or \"stored\"",
        query: &[],
        responses: &[("200", "the status"), BAD_ID, INTERNAL],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}",
        summary: "BCS SliverData of the pair's primary or secondary sliver",
        query: &[],
        responses: &[
            ("200", "BCS sliver"),
            (
                "400",
                "INDEX_OUT_OF_RANGE, SHARD_NOT_ASSIGNED (the pair's shard is not served here)",
            ),
            ("404", "SLIVER_NOT_FOUND"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Put,
        path: "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}",
        summary: "Body BCS SliverData; checked against the route (index, shard, registration, \
                  metadata, size) before the body is read, then verified",
        query: &[PENDING],
        responses: &[
            ("200", "sliver already stored"),
            ("201", "sliver stored successfully"),
            (
                "202",
                "sliver buffered pending registration (?pending=true)",
            ),
            (
                "400",
                "INDEX_OUT_OF_RANGE, SHARD_NOT_ASSIGNED, NOT_REGISTERED, METADATA_NOT_FOUND, \
                 INVALID_CONTENT_TYPE, INVALID_SLIVER, CACHE_SATURATED",
            ),
            TOO_LARGE,
            SHED,
            TIMEOUT,
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}/status",
        summary: "StoredOnNodeStatus: \"nonexistent\", \"buffered\" or \"stored\"",
        query: &[],
        responses: &[
            ("200", "the status"),
            ("400", "INDEX_OUT_OF_RANGE, SHARD_NOT_ASSIGNED"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/confirmation/permanent",
        summary: "Signed storage confirmation for the permanent blob ({\"signed\": ...})",
        query: WAIT,
        responses: &[
            ("200", "the signed confirmation"),
            ("400", "NOT_REGISTERED, MISSING_SLIVERS"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/confirmation/deletable/{object_id}",
        summary: "Signed storage confirmation for one deletable blob object",
        query: WAIT,
        responses: &[
            ("200", "the signed confirmation"),
            ("400", "INVALID_OBJECT_ID, NOT_REGISTERED, MISSING_SLIVERS"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/recoverySymbols",
        summary: "BCS Vec<GeneralRecoverySymbol>: those that rebuild one target sliver, or \
                  the named ones",
        query: &[
            ("targetSliver", "index of the sliver to rebuild"),
            ("targetType", "`primary` or `secondary`"),
            (
                "id",
                "`PRIMARY-SECONDARY`, repeatable (instead of targetSliver/targetType)",
            ),
            (
                "proofAxis",
                "optional: `primary` or `secondary`, the axis of the sliver the proof is over",
            ),
        ],
        responses: &[
            ("200", "BCS symbols with proofs"),
            (
                "400",
                "INDEX_OUT_OF_RANGE, INVALID_FILTER (neither or both forms, a bad id, too \
                 many ids), INVALID_SLIVER_TYPE",
            ),
            ("404", "SLIVER_NOT_FOUND: no source sliver here"),
            ("503", "UNAVAILABLE: too many concurrent symbol requests"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/decodingSymbols",
        summary: "BCS map target index -> decoding symbols",
        query: &[
            ("targetSlivers", "comma-separated target indices"),
            ("targetType", "`primary` or `secondary`"),
        ],
        responses: &[
            ("200", "BCS map"),
            ("400", "INDEX_OUT_OF_RANGE, INVALID_FILTER"),
            ("503", "UNAVAILABLE: too many concurrent symbol requests"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Post,
        path: "/v1/blobs/{blob_id}/inconsistencyProof/{sliver_type}",
        summary: "Body BCS InconsistencyProof; returns a signed invalid-blob-id attestation",
        query: &[],
        responses: &[
            ("200", "the signed attestation"),
            (
                "400",
                "METADATA_NOT_FOUND, INVALID_CONTENT_TYPE, INVALID_PROOF",
            ),
            ("503", "UNAVAILABLE: too many concurrent symbol requests"),
            INTERNAL,
        ],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/blobs/{blob_id}/status",
        summary: "Walrus's BlobStatus JSON: \"nonexistent\", {\"invalid\"}, {\"permanent\"} or \
                  {\"deletable\"}; `statusEvent`/`event` are Sui EventIDs {txDigest, eventSeq}",
        query: &[],
        responses: &[("200", "the status"), BAD_ID, INTERNAL],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/health",
        summary: "Walrus's ServiceHealthInfo plus floe's shard and queue details; never shed",
        query: &[],
        responses: &[("200", "health")],
    },
    Route {
        method: HttpMethod::Get,
        path: "/v1/api",
        summary: "This document",
        query: &[],
        responses: &[("200", "OpenAPI JSON")],
    },
    Route {
        method: HttpMethod::Get,
        path: "/metrics",
        summary: "Prometheus metrics",
        query: &[],
        responses: &[("200", "text exposition format")],
    },
];

fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        let mut responses = ResponsesBuilder::new();
        for (code, description) in route.responses {
            let description = if code.starts_with('2') {
                (*description).to_owned()
            } else {
                format!(
                    "{description}. Body: {{\"error\": {{\"status\", \"code\", \"message\", \
                     \"details\": [{{\"@type\": \"ErrorInfo\", \"reason\", \"domain\", \
                     \"metadata\"}}]}}}}"
                )
            };
            responses = responses.response(*code, ResponseBuilder::new().description(description));
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
                .title("floe storage node")
                .description(Some(
                    "Walrus's storage-node REST API. JSON answers are wrapped as \
                     {\"success\": {\"code\", \"data\"}}; errors are Walrus's status objects \
                     (domain storage.walrus.space, or global for INTERNAL_ERROR and \
                     UNAVAILABLE).",
                ))
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths.build())
        .build()
}

pub(super) async fn document() -> Json<OpenApi> {
    Json(build())
}
