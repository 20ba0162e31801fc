//! HTTP client of one storage node's REST API (Walrus's paths, see
//! `node/src/api`): BCS bodies for metadata and slivers, JSON envelopes
//! (`{"success": {"data": ...}}` / Walrus's status objects
//! `{"error": {"status", "code", "message", "details": [{"reason", "domain"}]}}`)
//! for everything else. Errors are told apart by their reason, as Walrus's
//! clients do (`NOT_REGISTERED`, `MISSING_SLIVERS`, `CACHE_SATURATED` are
//! all HTTP 400 and mean "not yet").
//!
//! Every answer is read with a size cap (a node cannot make the client
//! buffer without bound) and every request has the configured timeout.

use std::sync::Arc;
use std::time::Duration;

use floe_chain::floe::endpoints::StaleMarker;
use floe_core::encoding::{EncodingAxis, SliverData};
use floe_core::messages::storage_confirmation::StorageConfirmationBody;
use floe_core::messages::{BlobPersistenceType, SignedMessage};
use floe_core::{BlobId, UnverifiedBlobMetadataWithId, VerifiedBlobMetadataWithId};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::config::ClientLimits;
use crate::direct_get::{DirectError, DirectHttp};
use crate::sliver_body::SliverBytes;
use crate::status::NodeBlobStatus;

/// Largest JSON answer read from a node (statuses, confirmations, errors).
const MAX_JSON_BYTES: u64 = 1 << 20;

/// Why one node request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NodeError {
    /// No answer: connection refused, reset, timed out.
    #[error("{url}: unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The node answered with an error status.
    #[error("{url}: {status} {reason}: {message}")]
    Status {
        url: String,
        status: u16,
        /// The node's UPPER_SNAKE_CASE reason, or the HTTP reason phrase.
        reason: String,
        message: String,
    },
    /// The answer is larger than the client accepts.
    #[error("{url}: answer larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    /// The answer could not be decoded, or failed verification.
    #[error("{url}: bad answer: {reason}")]
    Malformed { url: String, reason: String },
}

impl NodeError {
    /// A 404: the node does not have what was asked for.
    pub fn is_not_found(&self) -> bool {
        matches!(self, NodeError::Status { status: 404, .. })
    }

    /// The node's reason (`details[0].reason`), for an error answer.
    pub fn reason(&self) -> Option<&str> {
        match self {
            NodeError::Status { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The node has not yet seen the blob's registration, or does not yet
    /// hold every sliver of its shards: a confirmation may come later.
    pub fn is_not_ready(&self) -> bool {
        matches!(self.reason(), Some("NOT_REGISTERED" | "MISSING_SLIVERS"))
    }

    /// Worth retrying soon: no answer, load shedding (429, 503), the
    /// node's deadline (504), or a full pending-upload cache.
    pub fn is_transient(&self) -> bool {
        match self {
            NodeError::Unreachable { .. } => true,
            NodeError::Status { status, reason, .. } => {
                matches!(status, 429 | 503 | 504) || reason == "CACHE_SATURATED"
            }
            _ => false,
        }
    }
}

/// Walrus's `StoredOnNodeStatus` of metadata or a sliver on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoredOnNode {
    /// Not there.
    Nonexistent,
    /// Accepted with `?pending=true`, waiting in memory for registration.
    Buffered,
    /// Durably stored.
    Stored,
}

/// The HTTP clients every node client of one [`crate::Client`] shares:
/// reqwest for all requests, and the direct GET
/// ([`crate::direct_get`]) that reads rows into place over plain HTTP.
/// Cheap to clone (the connection pools are shared).
#[derive(Debug, Clone)]
pub struct NodeHttp {
    pub(crate) client: reqwest::Client,
    /// `None` when every request must go through `client`: HTTP/2 was
    /// asked for, or a proxy is configured (only reqwest honours it).
    direct: Option<Arc<DirectHttp>>,
}

/// One node's REST client; cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct NodeClient {
    http: NodeHttp,
    base: Url,
    max_sliver_bytes: u64,
    max_metadata_bytes: u64,
    /// Marks the endpoint cache stale when the node cannot be reached (it
    /// may have moved on chain).
    stale: Option<StaleMarker>,
}

/// Builds the HTTP client all node clients share.
///
/// HTTP/1.1 keeps a pool of keep-alive connections per node; with
/// `limits.http2` each node gets one HTTP/2 connection (prior knowledge,
/// no upgrade round trip) with flow-control windows large enough for
/// several slivers in flight.
pub fn http_client(limits: &ClientLimits) -> Result<NodeHttp, reqwest::Error> {
    let direct = !limits.http2 && !proxy_configured();
    Ok(NodeHttp {
        client: reqwest_client(limits)?,
        direct: direct.then(|| Arc::new(DirectHttp::new(limits))),
    })
}

/// Whether the environment names an HTTP proxy, which reqwest uses for
/// node requests and the direct GET would not.
fn proxy_configured() -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

fn reqwest_client(limits: &ClientLimits) -> Result<reqwest::Client, reqwest::Error> {
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_millis(limits.request_timeout_ms))
        .connect_timeout(Duration::from_millis(limits.connect_timeout_ms))
        .pool_max_idle_per_host(limits.max_concurrent_requests);
    if limits.http2 {
        builder
            .http2_prior_knowledge()
            .http2_initial_stream_window_size(HTTP2_STREAM_WINDOW)
            .http2_initial_connection_window_size(HTTP2_CONNECTION_WINDOW)
            .build()
    } else {
        builder.http1_only().build()
    }
}

/// HTTP/2 receive windows: a stream's is one large sliver; the
/// connection's several.
const HTTP2_STREAM_WINDOW: u32 = 8 << 20;
const HTTP2_CONNECTION_WINDOW: u32 = 64 << 20;

#[derive(Deserialize)]
struct Success<T> {
    success: SuccessData<T>,
}

#[derive(Deserialize)]
struct SuccessData<T> {
    data: T,
}

#[derive(Deserialize)]
struct SignedData {
    signed: SignedMessage<StorageConfirmationBody>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    reason: Option<String>,
}

impl NodeClient {
    /// A client of the node at `url`.
    pub fn new(http: NodeHttp, url: &str, limits: &ClientLimits) -> Result<Self, String> {
        let mut base = Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self {
            http,
            base,
            max_sliver_bytes: limits.max_sliver_bytes,
            max_metadata_bytes: limits.max_metadata_bytes,
            stale: None,
        })
    }

    /// The same client, marking `stale` when a connection fails or times
    /// out.
    pub fn with_stale_marker(mut self, stale: StaleMarker) -> Self {
        self.stale = Some(stale);
        self
    }

    /// The node's base URL.
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    fn endpoint(&self, path: &str) -> Result<Url, NodeError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| self.malformed(format!("bad path {path}: {e}")))
    }

    fn malformed(&self, reason: impl Into<String>) -> NodeError {
        NodeError::Malformed {
            url: self.base.to_string(),
            reason: reason.into(),
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> NodeError {
        self.unreachable_because(e.is_connect() || e.is_timeout(), error_chain(&e))
    }

    /// No answer; a node that could not be connected to or timed out
    /// (`may_have_moved`) marks the endpoints stale.
    fn unreachable_because(&self, may_have_moved: bool, reason: String) -> NodeError {
        if may_have_moved && let Some(stale) = &self.stale {
            stale.mark();
        }
        NodeError::Unreachable {
            url: self.base.to_string(),
            reason,
        }
    }

    /// The error of a direct sliver GET ([`crate::direct_get`]) as the
    /// general client would have reported it.
    fn direct_error(&self, pair: u16, e: DirectError) -> NodeError {
        match e {
            DirectError::Connect(_) | DirectError::Timeout(_) => {
                self.unreachable_because(true, e.to_string())
            }
            DirectError::Io(_) => self.unreachable_because(false, e.to_string()),
            DirectError::TooLarge(limit) => NodeError::TooLarge {
                url: self.base.to_string(),
                limit,
            },
            DirectError::Status { status, body } => self.status_error(status, &body),
            DirectError::Malformed(reason) | DirectError::Unsupported(reason) => {
                self.malformed(format!("sliver {pair}: {reason}"))
            }
        }
    }

    /// Sends `request`, returns the body of a 2xx answer (at most `limit`
    /// bytes) or the node's error.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        limit: u64,
    ) -> Result<Vec<u8>, NodeError> {
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let body = self
            .read_bounded(response, limit.max(MAX_JSON_BYTES))
            .await?;
        if status.is_success() {
            if body.len() as u64 > limit {
                return Err(NodeError::TooLarge {
                    url: self.base.to_string(),
                    limit,
                });
            }
            return Ok(body);
        }
        Err(self.status_error(status, &body))
    }

    fn status_error(&self, status: StatusCode, body: &[u8]) -> NodeError {
        let (reason, message) = match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(e) => (
                e.error
                    .details
                    .into_iter()
                    .find_map(|d| d.reason)
                    .unwrap_or_else(|| status.canonical_reason().unwrap_or("ERROR").to_owned()),
                e.error.message,
            ),
            Err(_) => (
                status.canonical_reason().unwrap_or("ERROR").to_owned(),
                String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
            ),
        };
        NodeError::Status {
            url: self.base.to_string(),
            status: status.as_u16(),
            reason,
            message,
        }
    }

    async fn read_bounded(
        &self,
        mut response: reqwest::Response,
        limit: u64,
    ) -> Result<Vec<u8>, NodeError> {
        let too_large = || NodeError::TooLarge {
            url: self.base.to_string(),
            limit,
        };
        let announced = response.content_length();
        if announced.is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        // Sized once from the announced length (at most `limit`), so a
        // multi-MiB sliver is not copied again at every doubling.
        let mut body = Vec::with_capacity(announced.map_or(0, |len| len as usize));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, body: &[u8]) -> Result<T, NodeError> {
        serde_json::from_slice::<Success<T>>(body)
            .map(|s| s.success.data)
            .map_err(|e| self.malformed(format!("unexpected JSON: {e}")))
    }

    /// `PUT /v1/blobs/{id}/metadata?pending=true`: stores (or buffers until
    /// the node sees the registration) the blob's metadata.
    pub async fn put_metadata(
        &self,
        metadata: &VerifiedBlobMetadataWithId,
    ) -> Result<(), NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{}/metadata", metadata.blob_id()))?;
        let body = bcs::to_bytes(metadata.metadata())
            .map_err(|e| self.malformed(format!("metadata BCS: {e}")))?;
        let request = self
            .http
            .client
            .put(url)
            .query(&[("pending", "true")])
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        self.send(request, MAX_JSON_BYTES).await.map(drop)
    }

    /// `PUT /v1/blobs/{id}/slivers/{pair}/{axis}?pending=true`.
    pub async fn put_sliver<A: EncodingAxis>(
        &self,
        blob_id: &BlobId,
        pair: u16,
        sliver: &SliverData<A>,
    ) -> Result<(), NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{blob_id}/slivers/{pair}/{}", A::AXIS))?;
        let request = self
            .http
            .client
            .put(url)
            .query(&[("pending", "true")])
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(sliver.to_bcs());
        self.send(request, MAX_JSON_BYTES).await.map(drop)
    }

    /// `PUT /v1/blobs/{id}/slivers/{pair}/{axis}?pending=true` with a
    /// body already laid out (the sliver's own buffer, not a copy).
    pub async fn put_sliver_bytes(
        &self,
        blob_id: &BlobId,
        pair: u16,
        axis: floe_core::Axis,
        sliver: &SliverBytes,
    ) -> Result<(), NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{blob_id}/slivers/{pair}/{axis}"))?;
        let request = self
            .http
            .client
            .put(url)
            .query(&[("pending", "true")])
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(sliver.body());
        self.send(request, MAX_JSON_BYTES).await.map(drop)
    }

    /// `GET /v1/blobs/{id}/metadata`, verified against `blob_id` for a
    /// committee of `config.n_shards()`.
    pub async fn get_metadata(
        &self,
        blob_id: &BlobId,
        config: &floe_core::EncodingConfig,
    ) -> Result<VerifiedBlobMetadataWithId, NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{blob_id}/metadata"))?;
        let body = self
            .send(self.http.client.get(url), self.max_metadata_bytes)
            .await?;
        let unverified = UnverifiedBlobMetadataWithId::from_bcs(&body)
            .map_err(|e| self.malformed(format!("metadata BCS: {e}")))?;
        unverified
            .verify_for(config, blob_id)
            .map_err(|e| self.malformed(format!("metadata do not verify: {e}")))
    }

    /// `GET /v1/blobs/{id}/slivers/{pair}/{axis}`, unverified (the caller
    /// verifies against the metadata).
    pub async fn get_sliver<A: EncodingAxis>(
        &self,
        blob_id: &BlobId,
        pair: u16,
    ) -> Result<SliverData<A>, NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{blob_id}/slivers/{pair}/{}", A::AXIS))?;
        let body = self
            .send(self.http.client.get(url), self.max_sliver_bytes)
            .await?;
        SliverData::<A>::from_bcs_vec(body).map_err(|e| self.malformed(format!("sliver BCS: {e}")))
    }

    /// `GET /v1/blobs/{id}/slivers/{pair}/primary` with the sliver's
    /// symbols received straight into `dest` (see
    /// [`crate::sliver_body::IncomingSliver`]): a body announcing another
    /// length than `row_len` is refused before any of it is kept, so at
    /// most `row_len` bytes are ever added to `dest`. Returns the sliver's
    /// `(symbol_size, index)`; nothing is verified here.
    pub(crate) async fn get_primary_sliver_into(
        &self,
        blob_id: &BlobId,
        pair: u16,
        row_len: usize,
        dest: &mut bytes::BytesMut,
    ) -> Result<(u16, u16), NodeError> {
        let url = self.endpoint(&format!(
            "v1/blobs/{blob_id}/slivers/{pair}/{}",
            floe_core::encoding::Primary::AXIS
        ))?;
        if let Some(direct) = &self.http.direct {
            match direct
                .get_sliver_into(&url, self.max_sliver_bytes, row_len, dest)
                .await
            {
                Ok(parts) => return Ok(parts),
                Err(DirectError::Unsupported(why)) => {
                    tracing::trace!(node = %self.base, "sliver through reqwest: {why}");
                }
                Err(e) => return Err(self.direct_error(pair, e)),
            }
        }
        let mut response = self
            .http
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if !status.is_success() {
            let body = self.read_bounded(response, MAX_JSON_BYTES).await?;
            return Err(self.status_error(status, &body));
        }
        if response
            .content_length()
            .is_some_and(|len| len > self.max_sliver_bytes)
        {
            return Err(NodeError::TooLarge {
                url: self.base.to_string(),
                limit: self.max_sliver_bytes,
            });
        }
        let mut incoming = crate::sliver_body::IncomingSliver::new(row_len);
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(e))? {
            incoming
                .push(&chunk, dest)
                .map_err(|e| self.malformed(format!("sliver {pair}: {e}")))?;
        }
        incoming
            .finish()
            .map_err(|e| self.malformed(format!("sliver {pair}: {e}")))
    }

    /// `GET /v1/blobs/{id}/confirmation/{permanent|deletable/{object}}`,
    /// asking the node to wait up to `wait` for the registration event.
    /// The signature is not checked here (the caller knows the key).
    pub async fn get_confirmation(
        &self,
        blob_id: &BlobId,
        blob_type: BlobPersistenceType,
        wait: Duration,
    ) -> Result<SignedMessage<StorageConfirmationBody>, NodeError> {
        let path = match blob_type {
            BlobPersistenceType::Permanent => format!("v1/blobs/{blob_id}/confirmation/permanent"),
            BlobPersistenceType::Deletable { object_id } => {
                format!("v1/blobs/{blob_id}/confirmation/deletable/{object_id}")
            }
        };
        let url = self.endpoint(&path)?;
        let request = self
            .http
            .client
            .get(url)
            .query(&[
                ("wait_for_registration", "true".to_owned()),
                ("wait_millis", wait.as_millis().to_string()),
            ])
            // The node may wait `wait` before answering.
            .timeout(wait + Duration::from_secs(10));
        let body = self.send(request, MAX_JSON_BYTES).await?;
        Ok(self.json::<SignedData>(&body)?.signed)
    }

    /// `GET /v1/blobs/{id}/metadata/status`.
    pub async fn metadata_status(&self, blob_id: &BlobId) -> Result<StoredOnNode, NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{blob_id}/metadata/status"))?;
        let body = self.send(self.http.client.get(url), MAX_JSON_BYTES).await?;
        self.json(&body)
    }

    /// `GET /v1/blobs/{id}/slivers/{pair}/{axis}/status`.
    pub async fn sliver_status<A: EncodingAxis>(
        &self,
        blob_id: &BlobId,
        pair: u16,
    ) -> Result<StoredOnNode, NodeError> {
        let url = self.endpoint(&format!(
            "v1/blobs/{blob_id}/slivers/{pair}/{}/status",
            A::AXIS
        ))?;
        let body = self.send(self.http.client.get(url), MAX_JSON_BYTES).await?;
        self.json(&body)
    }

    /// `GET /v1/blobs/{id}/status`.
    pub async fn blob_status(&self, blob_id: &BlobId) -> Result<NodeBlobStatus, NodeError> {
        let url = self.endpoint(&format!("v1/blobs/{blob_id}/status"))?;
        let body = self.send(self.http.client.get(url), MAX_JSON_BYTES).await?;
        self.json(&body)
    }
}

/// `e` and its sources on one line (reqwest's top-level message alone
/// hides whether it was a refusal or a timeout).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_yield_the_reason() {
        let limits = ClientLimits::default();
        let client = NodeClient::new(
            http_client(&limits).unwrap(),
            "http://127.0.0.1:1/base",
            &limits,
        )
        .unwrap();
        assert_eq!(client.url(), "http://127.0.0.1:1/base/");
        // Walrus's status object, as floe's node (and Walrus's) writes it.
        let body = br#"{"error":{"status":"FAILED_PRECONDITION","code":400,"message":"no","details":[{"@type":"ErrorInfo","reason":"NOT_REGISTERED","domain":"storage.walrus.space","metadata":{}}]}}"#;
        let error = client.status_error(StatusCode::BAD_REQUEST, body);
        match &error {
            NodeError::Status { status, reason, .. } => {
                assert_eq!(*status, 400);
                assert_eq!(reason, "NOT_REGISTERED");
            }
            other => panic!("{other:?}"),
        }
        assert!(error.is_not_ready() && !error.is_transient());
        let body = br#"{"error":{"status":"FAILED_PRECONDITION","code":400,"message":"full","details":[{"@type":"ErrorInfo","reason":"CACHE_SATURATED","domain":"storage.walrus.space","metadata":{}}]}}"#;
        let error = client.status_error(StatusCode::BAD_REQUEST, body);
        assert!(error.is_transient() && !error.is_not_ready());
        let body = br#"{"error":{"status":"INVALID_ARGUMENT","code":400,"message":"bad","details":[{"@type":"ErrorInfo","reason":"INVALID_SLIVER","domain":"storage.walrus.space","metadata":{}}]}}"#;
        let error = client.status_error(StatusCode::BAD_REQUEST, body);
        assert!(!error.is_transient() && !error.is_not_ready());
        match client.status_error(StatusCode::BAD_GATEWAY, b"<html>") {
            NodeError::Status {
                reason, message, ..
            } => {
                assert_eq!(reason, "Bad Gateway");
                assert_eq!(message, "<html>");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            client
                .endpoint("v1/blobs/x/metadata")
                .unwrap()
                .as_str()
                .ends_with("/base/v1/blobs/x/metadata")
        );
    }

    /// A node that answers with more bytes than allowed is cut off with a
    /// typed error instead of being buffered.
    #[tokio::test]
    async fn oversized_answers_are_refused() {
        use axum::routing::get;
        let app = axum::Router::new()
            .route(
                "/v1/blobs/{id}/slivers/{pair}/{axis}",
                get(|| async { vec![7u8; 4096] }),
            )
            .route(
                "/v1/blobs/{id}/status",
                get(|| async { r#"{"success":{"code":200,"data":"nonexistent"}}"# }),
            )
            .route(
                "/v1/blobs/{id}/metadata/status",
                get(|| async { r#"{"success":{"code":200,"data":"buffered"}}"# }),
            )
            .route(
                "/v1/blobs/{id}/slivers/{pair}/{axis}/status",
                get(|| async { r#"{"success":{"code":200,"data":"stored"}}"# }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let limits = ClientLimits {
            max_sliver_bytes: 1024,
            ..ClientLimits::default()
        };
        let http = http_client(&limits).unwrap();
        let node = NodeClient::new(http, &format!("http://{address}"), &limits).unwrap();
        let blob_id = BlobId([1; 32]);
        let err = node
            .get_sliver::<floe_core::encoding::Primary>(&blob_id, 0)
            .await
            .unwrap_err();
        assert!(
            matches!(err, NodeError::TooLarge { limit: 1024, .. }),
            "{err:?}"
        );
        assert_eq!(
            node.blob_status(&blob_id).await.unwrap(),
            NodeBlobStatus::Nonexistent
        );
        assert_eq!(
            node.metadata_status(&blob_id).await.unwrap(),
            StoredOnNode::Buffered
        );
        assert_eq!(
            node.sliver_status::<floe_core::encoding::Secondary>(&blob_id, 3)
                .await
                .unwrap(),
            StoredOnNode::Stored
        );
        // Nothing listens on port 1: unreachable, not a panic.
        let limits = ClientLimits::default();
        let dead =
            NodeClient::new(http_client(&limits).unwrap(), "http://127.0.0.1:1", &limits).unwrap();
        assert!(matches!(
            dead.blob_status(&blob_id).await.unwrap_err(),
            NodeError::Unreachable { .. }
        ));
    }

    /// A node that cannot be reached marks the endpoint cache stale, so the
    /// client's next operation re-reads the addresses from the chain (the
    /// node may have moved); a node that answers does not.
    #[tokio::test]
    async fn an_unreachable_node_makes_the_endpoints_re_read() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        use floe_chain::floe::FloeError;
        use floe_chain::floe::endpoints::{
            DiscoveryConfig, EndpointCache, EndpointSnapshot, EndpointSource,
        };
        use futures::future::BoxFuture;

        #[derive(Clone, Default)]
        struct CountingChain(Arc<AtomicUsize>);
        impl EndpointSource for CountingChain {
            fn read(&self) -> BoxFuture<'_, Result<EndpointSnapshot, FloeError>> {
                self.0.fetch_add(1, Ordering::SeqCst);
                Box::pin(async {
                    Ok(EndpointSnapshot {
                        epoch: 1,
                        records: Vec::new(),
                    })
                })
            }
        }

        let chain = CountingChain::default();
        let config = DiscoveryConfig {
            refresh_ms: 3_600_000,
            min_refresh_ms: 0,
            ..DiscoveryConfig::default()
        };
        let cache = EndpointCache::new(chain.clone(), config, Default::default());
        cache.current(Some(1)).await.unwrap();
        let limits = ClientLimits::default();
        let http = http_client(&limits).unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/v1/blobs/{id}/status",
            axum::routing::get(|| async { r#"{"success":{"code":200,"data":"nonexistent"}}"# }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let node = NodeClient::new(http.clone(), &format!("http://{live}"), &limits)
            .unwrap()
            .with_stale_marker(cache.stale_marker());
        node.blob_status(&BlobId([1; 32])).await.unwrap();
        cache.current(Some(1)).await.unwrap();
        assert_eq!(chain.0.load(Ordering::SeqCst), 1, "an answer marks nothing");

        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let node = NodeClient::new(http, &format!("http://{dead}"), &limits)
            .unwrap()
            .with_stale_marker(cache.stale_marker());
        let err = node.blob_status(&BlobId([1; 32])).await.unwrap_err();
        assert!(matches!(err, NodeError::Unreachable { .. }), "{err}");
        cache.current(Some(1)).await.unwrap();
        assert_eq!(
            chain.0.load(Ordering::SeqCst),
            2,
            "re-read after the failure"
        );
    }
}
