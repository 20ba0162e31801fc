//! The publisher / aggregator HTTP daemon (Walrus's `client/daemon/routes.rs` paths): `PUT /v1/blobs`
//! stores the body, `GET /v1/blobs/{blob_id}` and
//! `GET /v1/blobs/by-object-id/{object_id}` read (with `Range`), `GET
//! /status`, `GET /v1/api` (OpenAPI).
//!
//! Bounds: the store body is read with a byte limit (413 past it; a body
//! that is not valid HTTP framing is 400), stores and reads each have a
//! concurrency limit with a bounded queue in front ([`limits`]: 429 with
//! `Retry-After` once the queue is full), every request has a time budget,
//! and "too few nodes answered" is 503 with `Retry-After`. Errors are JSON
//! `{"error": {"code", "reason", "message"}}`.
//!
//! Spending: the publisher can require a JWT per store ([`auth`]) and cap
//! the FROST its wallet spends per time window ([`limits::SpendingCap`]);
//! the cap is checked against each store's planned cost before it pays.
//!
//! Handlers talk to a [`Backend`]; [`Client`] is the real one, tests use
//! fakes to exercise the HTTP contract without a network.

pub mod auth;
pub mod limits;
mod openapi;
pub mod range;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use floe_chain::sui_sdk_types::Address;
use floe_core::BlobId;
use futures::StreamExt;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use serde::Deserialize;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::Client;
use crate::error::ClientError;
use crate::store::{Epochs, StoreOptions};
use crate::types::{BlobObject, StoreResult};
use auth::{AuthConfig, AuthConfigError, Authenticator, Claims};
use limits::{Admission, SpendingCap, SpendingWindow};
use range::{RangedRead, ReadBody};

/// Seconds a client is told to wait before retrying a 429 or 503.
const RETRY_AFTER_SECS: u64 = 5;

/// Blob attributes served as response headers by `by-object-id` (the
/// ones that describe content; anything else could let a blob's owner
/// set security-relevant headers on the daemon's origin).
pub const ALLOWED_ATTRIBUTE_HEADERS: &[&str] = &[
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-location",
    "link",
];

/// Which routes a daemon serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `PUT /v1/blobs` only.
    Publisher,
    /// Reads only.
    Aggregator,
    /// Both.
    Daemon,
}

impl Mode {
    fn publishes(self) -> bool {
        matches!(self, Mode::Publisher | Mode::Daemon)
    }

    fn aggregates(self) -> bool {
        matches!(self, Mode::Aggregator | Mode::Daemon)
    }
}

/// Limits of the daemon.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub mode: Mode,
    /// Largest `PUT /v1/blobs` body.
    pub max_body_bytes: usize,
    /// Stores running at once.
    pub max_concurrent_stores: usize,
    /// Stores waiting for one of those slots (beyond: 429).
    pub max_queued_stores: usize,
    /// Reads running at once.
    pub max_concurrent_reads: usize,
    /// Reads waiting for one of those slots (beyond: 429).
    pub max_queued_reads: usize,
    /// Budget of one request (a store encodes, pays and uploads).
    pub request_timeout: Duration,
    /// Epochs a store buys when the query does not say.
    pub default_epochs: u32,
    /// JWT required on stores, when set.
    pub auth: Option<AuthConfig>,
    /// Most FROST the wallet spends on stores per window, when set.
    pub spending_cap: Option<SpendingCap>,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Daemon,
            max_body_bytes: 64 << 20,
            max_concurrent_stores: 4,
            max_queued_stores: 32,
            max_concurrent_reads: 32,
            max_queued_reads: 256,
            request_timeout: Duration::from_secs(600),
            default_epochs: 1,
            auth: None,
            spending_cap: None,
        }
    }
}

/// A Blob object with its attributes.
pub type ObjectWithAttributes = (BlobObject, BTreeMap<String, String>);

/// Decides, once a store's cost (FROST) is planned and before anything is
/// paid, whether it may go ahead.
pub type CostApproval = Box<dyn FnOnce(u64) -> Result<(), ClientError> + Send>;

/// What the handlers need from the SDK.
pub trait Backend: Send + Sync + 'static {
    /// Stores a blob; `approve` sees the planned cost before payment.
    fn store(
        &self,
        blob: Vec<u8>,
        options: StoreOptions,
        approve: CostApproval,
    ) -> BoxFuture<'_, Result<StoreResult, ClientError>>;
    /// Reads a blob.
    fn read(&self, blob_id: BlobId) -> BoxFuture<'_, Result<Vec<u8>, ClientError>>;
    /// Reads what a `Range` header (RFC 9110) asks of a blob. This default
    /// reads the whole blob and cuts it; [`Client`] fetches only the
    /// slivers that hold the range ([`crate::blob_reader`]).
    fn read_ranged(
        &self,
        blob_id: BlobId,
        range: Option<String>,
    ) -> BoxFuture<'_, Result<RangedRead, ClientError>> {
        Box::pin(async move {
            let bytes = self.read(blob_id).await?;
            Ok(RangedRead::from_whole(bytes, range.as_deref()))
        })
    }
    /// A Blob object and its attributes.
    fn blob_object(
        &self,
        object: Address,
    ) -> BoxFuture<'_, Result<ObjectWithAttributes, ClientError>>;
    /// `GET /status` details.
    fn status(&self) -> BoxFuture<'_, Result<serde_json::Value, ClientError>>;
}

impl Backend for Client {
    fn store(
        &self,
        blob: Vec<u8>,
        options: StoreOptions,
        approve: CostApproval,
    ) -> BoxFuture<'_, Result<StoreResult, ClientError>> {
        Box::pin(async move {
            let plan = self.plan_store(blob, options).await?;
            approve(plan.cost().total())?;
            self.execute_store(plan).await
        })
    }

    fn read(&self, blob_id: BlobId) -> BoxFuture<'_, Result<Vec<u8>, ClientError>> {
        Box::pin(async move { Client::read(self, &blob_id, None).await })
    }

    fn read_ranged(
        &self,
        blob_id: BlobId,
        header: Option<String>,
    ) -> BoxFuture<'_, Result<RangedRead, ClientError>> {
        Box::pin(async move {
            // The metadata give the length the header is resolved against,
            // and serve the read that follows.
            let reader = self.open_blob(&blob_id).await?;
            let len = reader.len();
            Ok(match range::answer(header.as_deref(), len) {
                range::RangeAnswer::Full => RangedRead::Full(ReadBody::Stream {
                    len,
                    chunks: reader.stream_range(0..len)?,
                }),
                range::RangeAnswer::Partial(range) => {
                    // end < len, so end + 1 cannot overflow.
                    let (start, end) = (*range.start(), *range.end() + 1);
                    RangedRead::Partial {
                        body: ReadBody::Stream {
                            len: end - start,
                            chunks: reader.stream_range(start..end)?,
                        },
                        range,
                        len,
                    }
                }
                range::RangeAnswer::Unsatisfiable => RangedRead::Unsatisfiable { len },
            })
        })
    }

    fn blob_object(
        &self,
        object: Address,
    ) -> BoxFuture<'_, Result<ObjectWithAttributes, ClientError>> {
        Box::pin(async move {
            let blob = Client::blob_object(self, object).await?;
            let attributes = self.blob_attributes(object).await?;
            Ok((blob, attributes))
        })
    }

    fn status(&self) -> BoxFuture<'_, Result<serde_json::Value, ClientError>> {
        Box::pin(async move {
            let committee = self.floe().committee().await?;
            Ok(serde_json::json!({
                "epoch": committee.epoch(),
                "nShards": committee.n_shards(),
                "nMembers": committee.n_members(),
                "publisherAddress": self.address().ok(),
            }))
        })
    }
}

struct AppState {
    backend: Arc<dyn Backend>,
    config: DaemonConfig,
    spending: Option<Arc<SpendingWindow>>,
}

/// The router for `config.mode`. Fails only on an unusable auth key.
pub fn router(backend: Arc<dyn Backend>, config: DaemonConfig) -> Result<Router, AuthConfigError> {
    let mode = config.mode;
    let timeout = config.request_timeout;
    let stores = Admission::new(
        config.max_concurrent_stores,
        config.max_queued_stores,
        "stores",
    );
    let reads = Admission::new(
        config.max_concurrent_reads,
        config.max_queued_reads,
        "reads",
    );
    let auth = config
        .auth
        .clone()
        .map(|auth| Authenticator::new(auth, config.default_epochs))
        .transpose()?
        .map(Arc::new);
    let state = Arc::new(AppState {
        spending: config
            .spending_cap
            .map(|cap| Arc::new(SpendingWindow::new(cap))),
        backend,
        config,
    });
    let mut docs = Vec::new();
    let mut app = Router::new();
    if mode.publishes() {
        // Layers run outside in: the token check, then the queue.
        let mut publish = Router::new()
            .route("/v1/blobs", put(store_blob))
            .layer(middleware::from_fn_with_state(stores, limits::admit));
        if let Some(auth) = auth {
            publish = publish.layer(middleware::from_fn_with_state(auth, auth::require_token));
        }
        app = app.merge(publish);
        docs.push(&openapi::STORE);
    }
    if mode.aggregates() {
        let aggregate = Router::new()
            .route("/v1/blobs/by-object-id/{object_id}", get(read_by_object))
            .route("/v1/blobs/{blob_id}", get(read_blob))
            .layer(middleware::from_fn_with_state(reads, limits::admit));
        app = app.merge(aggregate);
        docs.push(&openapi::READ_BY_OBJECT);
        docs.push(&openapi::READ);
    }
    docs.push(&openapi::STATUS);
    docs.push(&openapi::API);
    let document = openapi::build(&docs);
    Ok(app
        .route("/status", get(status))
        .route("/v1/api", get(move || async move { axum::Json(document) }))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route") })
        // A known path with another method: 405 in the error shape, not an
        // empty body (found by tests/daemon_fuzz.rs).
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this route does not take that method",
            )
        })
        // The store handler reads the body itself, with its own limit.
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::map_response(json_errors))
        .layer(TraceLayer::new_for_http())
        .with_state(state))
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

fn error(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({
        "error": { "code": status.as_u16(), "reason": reason, "message": message.into() }
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

/// Answers that left a handler or a layer without the JSON error shape
/// (an extractor's plain-text rejection, such as a path segment that is
/// not UTF-8, or the timeout's empty 408) get it, so a client parses every
/// error the same way (found by tests/daemon_fuzz.rs).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Rejections are one short sentence; more is cut.
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let mut message = String::from_utf8_lossy(&body).into_owned();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_owned();
    }
    let reason = match status {
        StatusCode::REQUEST_TIMEOUT => "REQUEST_TIMEOUT",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        s if s.is_server_error() => "INTERNAL",
        _ => "INVALID_REQUEST",
    };
    error(status, reason, message)
}

fn client_error(e: ClientError) -> Response {
    use floe_chain::ChainError;
    use floe_chain::floe::FloeError;
    let message = e.to_string();
    let (status, reason) = match &e {
        ClientError::BlobNotFound(_) => (StatusCode::NOT_FOUND, "BLOB_NOT_FOUND"),
        ClientError::Chain(ChainError::ObjectNotFound(_))
        | ClientError::Floe(FloeError::Chain(ChainError::ObjectNotFound(_))) => {
            (StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND")
        }
        ClientError::Floe(FloeError::Chain(ChainError::Bcs { .. }))
        | ClientError::Chain(ChainError::Bcs { .. }) => {
            (StatusCode::NOT_FOUND, "NOT_A_BLOB_OBJECT")
        }
        ClientError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "BLOB_TOO_LARGE"),
        ClientError::RangeNotSatisfiable(_) => {
            (StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_NOT_SATISFIABLE")
        }
        ClientError::Invalid(_) => (StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        ClientError::InsufficientWal { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "PUBLISHER_OUT_OF_FUNDS")
        }
        e if e.is_retryable() => (StatusCode::SERVICE_UNAVAILABLE, "NOT_ENOUGH_NODES"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
    };
    if status.is_server_error() {
        tracing::warn!(error = %message, "request failed");
    }
    error(status, reason, message)
}

fn over_cap(over: limits::OverCap) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "SPENDING_CAP_EXCEEDED",
        over.message,
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(over.retry_after.as_secs()),
    );
    response
}

/// `PUT /v1/blobs` query (Walrus's `PublisherQuery`; unknown fields are
/// rejected so a typo is not silently ignored).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherQuery {
    epochs: Option<String>,
    #[serde(default)]
    permanent: bool,
    /// Accepted for Walrus clients: deletable is the default already.
    #[serde(default)]
    deletable: bool,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    share: bool,
    send_object_to: Option<String>,
}

/// A store request's query, checked.
#[derive(Debug, Clone)]
pub(crate) struct StoreRequest {
    epochs: Option<Epochs>,
    permanent: bool,
    force: bool,
    share: bool,
    send_object_to: Option<Address>,
}

/// A 400 answer to a bad store query.
fn invalid_query(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_QUERY", message)
}

/// Parses and checks `PUT /v1/blobs`'s query; `Err` is why it is wrong
/// (answered with [`invalid_query`]).
pub(crate) fn parse_store_query(uri: &Uri) -> Result<StoreRequest, String> {
    let Query(query) = Query::<PublisherQuery>::try_from_uri(uri).map_err(|e| e.body_text())?;
    if query.permanent && query.deletable {
        return Err("permanent and deletable exclude each other".into());
    }
    if query.share && query.send_object_to.is_some() {
        return Err("share and send_object_to exclude each other".into());
    }
    let epochs = query
        .epochs
        .as_deref()
        .map(str::parse::<Epochs>)
        .transpose()?;
    let send_object_to = query
        .send_object_to
        .as_deref()
        .map(str::parse::<Address>)
        .transpose()
        .map_err(|e| format!("send_object_to is not an address: {e}"))?;
    Ok(StoreRequest {
        epochs,
        permanent: query.permanent,
        force: query.force,
        share: query.share,
        send_object_to,
    })
}

impl StoreRequest {
    /// The epochs asked, or the daemon's default.
    fn epochs_or(&self, default: u32) -> Epochs {
        self.epochs.unwrap_or(Epochs::Ahead(default.max(1)))
    }
}

/// Why a request body was refused.
#[derive(Debug)]
enum BodyError {
    /// Past the limit (413).
    TooLarge(u64),
    /// Not valid HTTP framing, or broken off (400).
    Invalid(String),
}

impl BodyError {
    fn response(self) -> Response {
        match self {
            BodyError::TooLarge(limit) => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                format!("the body is larger than the {limit}-byte limit"),
            ),
            BodyError::Invalid(reason) => error(
                StatusCode::BAD_REQUEST,
                "INVALID_BODY",
                format!("the request body could not be read: {reason}"),
            ),
        }
    }
}

/// How many bytes past a refused body the daemon still reads and discards
/// before answering 413. A client writes its whole body before it reads the
/// answer; if the server answered and closed mid-body, the client would see
/// a broken pipe instead of the 413 and its reason. Bodies that declare more
/// than the limit plus this are refused at once (that client sees a reset).
const REFUSED_BODY_DRAIN_BYTES: u64 = 16 << 20;

/// Reads and discards what is left of a refused body, at most `budget`
/// bytes, so the client is reading when the 413 arrives.
async fn drain_refused_body<S>(stream: &mut S, mut budget: u64)
where
    S: futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
{
    while budget > 0 {
        match stream.next().await {
            Some(Ok(chunk)) => budget = budget.saturating_sub(chunk.len() as u64),
            _ => break,
        }
    }
}

/// Reads a body of at most `limit` bytes: too large past it (early when
/// `Content-Length` says so), invalid when the body is not valid HTTP
/// framing (a malformed chunked encoding) or breaks off.
async fn read_body(body: Body, headers: &HeaderMap, limit: u64) -> Result<Vec<u8>, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    if let Some(len) = declared.filter(|&len| len > limit) {
        if len - limit <= REFUSED_BODY_DRAIN_BYTES {
            drain_refused_body(&mut stream, len).await;
        }
        return Err(BodyError::TooLarge(limit));
    }
    let capacity = declared.unwrap_or(0).min(limit).min(1 << 20);
    let mut blob = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Invalid(e.to_string()))?;
        if (blob.len() as u64).saturating_add(chunk.len() as u64) > limit {
            drain_refused_body(&mut stream, REFUSED_BODY_DRAIN_BYTES).await;
            return Err(BodyError::TooLarge(limit));
        }
        blob.extend_from_slice(&chunk);
    }
    Ok(blob)
}

async fn store_blob(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    claims: Option<axum::Extension<Claims>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = match parse_store_query(&uri) {
        Ok(r) => r,
        Err(message) => return invalid_query(message),
    };
    if let Some(spending) = &state.spending
        && let Err(over) = spending.check_open()
    {
        return over_cap(over);
    }
    let claims = claims.map(|c| c.0);
    let mut limit = state.config.max_body_bytes as u64;
    if let Some(bound) = claims.as_ref().and_then(Claims::body_limit) {
        limit = limit.min(bound);
    }
    let blob = match read_body(body, &headers, limit).await {
        Ok(blob) => blob,
        Err(e) => return e.response(),
    };
    if let Some(size) = claims.as_ref().and_then(|c| c.size)
        && blob.len() as u64 != size
    {
        return error(
            StatusCode::FORBIDDEN,
            "SIZE_INCORRECT",
            format!(
                "the token allows a body of exactly {size} bytes, not {}",
                blob.len()
            ),
        );
    }
    let options = StoreOptions {
        epochs: request.epochs_or(state.config.default_epochs),
        permanent: request.permanent,
        force: request.force,
        share: request.share,
        send_object_to: request.send_object_to,
        detach_tail: true,
        ..StoreOptions::default()
    };
    let spending = state.spending.clone();
    let refused = Arc::new(std::sync::Mutex::new(None));
    let approve: CostApproval = {
        let refused = refused.clone();
        Box::new(move |cost| match spending.map(|s| s.reserve(cost)) {
            Some(Err(over)) => {
                let message = over.message.clone();
                *refused
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(over);
                Err(ClientError::Invalid(message))
            }
            _ => Ok(()),
        })
    };
    match state.backend.store(blob, options, approve).await {
        Ok(result) => (StatusCode::OK, axum::Json(result)).into_response(),
        Err(e) => {
            let over = refused
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            match over {
                Some(over) => over_cap(over),
                None => client_error(e),
            }
        }
    }
}

async fn read_blob(
    State(state): State<Arc<AppState>>,
    Path(blob_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let blob_id: BlobId = match blob_id.parse() {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, "INVALID_BLOB_ID", e.to_string()),
    };
    match state
        .backend
        .read_ranged(blob_id, range_header(&headers))
        .await
    {
        Ok(read) => serve_read(read, HeaderMap::new()),
        Err(e) => client_error(e),
    }
}

async fn read_by_object(
    State(state): State<Arc<AppState>>,
    Path(object_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let object: Address = match object_id.parse() {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_OBJECT_ID",
                format!("{object_id:?} is not an object id: {e}"),
            );
        }
    };
    let (blob, attributes) = match state.backend.blob_object(object).await {
        Ok(found) => found,
        Err(e) => return client_error(e),
    };
    let read = match state
        .backend
        .read_ranged(blob.blob_id, range_header(&headers))
        .await
    {
        Ok(read) => read,
        Err(e) => return client_error(e),
    };
    let mut extra = HeaderMap::new();
    for (name, value) in &attributes {
        let lower = name.to_ascii_lowercase();
        if !ALLOWED_ATTRIBUTE_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(lower.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            extra.insert(name, value);
        }
    }
    if let Ok(id) = HeaderValue::from_str(&blob.blob_id.to_string()) {
        extra.insert(HeaderName::from_static("x-blob-id"), id);
    }
    serve_read(read, extra)
}

/// The request's `Range` header, if it is text (one that is not is
/// ignored, as RFC 9110 lets a server ignore any `Range`).
fn range_header(request: &HeaderMap) -> Option<String> {
    request
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// An answer's body with its length announced: a stream that fails
/// midway then ends the connection short of `Content-Length`, which the
/// reader sees as a truncated body, never as a complete wrong one.
fn answer_body(body: ReadBody) -> ([(header::HeaderName, HeaderValue); 1], Body) {
    let len = HeaderValue::from(body.len());
    let body = match body {
        ReadBody::Bytes(bytes) => Body::from(bytes),
        ReadBody::Stream { chunks, .. } => Body::from_stream(chunks),
    };
    ([(header::CONTENT_LENGTH, len)], body)
}

/// 200 with the bytes, or 206/416 as the `Range` header said.
fn serve_read(read: RangedRead, extra: HeaderMap) -> Response {
    let mut response = match read {
        RangedRead::Full(body) => (StatusCode::OK, answer_body(body)).into_response(),
        RangedRead::Partial { body, range, len } => {
            let mut response = (StatusCode::PARTIAL_CONTENT, answer_body(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&range::content_range(&range, len)) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            response
        }
        RangedRead::Unsatisfiable { len } => {
            let mut response = error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "RANGE_NOT_SATISFIABLE",
                format!("the blob has {len} bytes"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return response;
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    for (name, value) in extra {
        if let Some(name) = name {
            headers.insert(name, value);
        }
    }
    response
}

async fn status(State(state): State<Arc<AppState>>) -> Response {
    match state.backend.status().await {
        Ok(mut details) => {
            details["mode"] = serde_json::json!(state.config.mode);
            details["maxBodyBytes"] = serde_json::json!(state.config.max_body_bytes);
            details["authRequired"] = serde_json::json!(state.config.auth.is_some());
            (StatusCode::OK, axum::Json(details)).into_response()
        }
        Err(e) => client_error(e),
    }
}

#[cfg(test)]
mod tests;
