//! The indexer's public HTTP API, as any third-party explorer would call
//! it: `GET /v1/...` answering `{"checkpoint", "data", "next_cursor"}`.
//!
//! Answers are kept as `serde_json::Value` rather than mirrored structs:
//! the indexer's rows grow columns as contracts land, and a page shows
//! what is there instead of failing on a field it does not know. Every
//! call is bounded (a timeout, a cap on the body), because the indexer is
//! another process the explorer does not trust to stay small or fast.

use std::time::{Duration, Instant};

use prometheus::{HistogramOpts, HistogramVec, Registry};
use serde_json::Value;

/// Largest answer body read from the indexer (a 1000-row page of blobs is
/// well under 1 MiB).
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Why a call to the indexer gave no data.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// 404: the id is not indexed.
    #[error("{0}")]
    NotFound(String),
    /// 400: the indexer refused a parameter; its reason.
    #[error("{0}")]
    BadRequest(String),
    /// Anything else: unreachable, slow, 5xx, an unreadable body.
    #[error("the indexer is unavailable: {0}")]
    Unavailable(String),
}

/// One answer of the indexer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The checkpoint the rows reflect (`None` before the first batch).
    pub checkpoint: Option<i64>,
    pub data: Value,
    /// Cursor of the next page, for lists.
    pub next_cursor: Option<String>,
}

/// A client of one indexer.
#[derive(Clone)]
pub struct IndexerClient {
    http: reqwest::Client,
    base: String,
    latency: HistogramVec,
}

impl IndexerClient {
    /// `base` is the indexer's root URL (`http://host:port`); `timeout`
    /// bounds each call.
    pub fn new(base: &str, timeout: Duration, registry: &Registry) -> Result<Self, String> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "the indexer URL must start with http:// or https://, got {base:?}"
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "floe_explorer_indexer_seconds",
                "Time of the explorer's calls to the indexer API by endpoint",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
            &["endpoint"],
        )
        .map_err(|e| e.to_string())?;
        if let Err(e) = registry.register(Box::new(latency.clone())) {
            tracing::warn!(error = %e, "the indexer latency histogram is not registered");
        }
        Ok(Self {
            http,
            base,
            latency,
        })
    }

    /// The indexer's root URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET {base}{path}?{query}`. `endpoint` is the route template, for
    /// the latency metric. Path segments are ids the caller has validated
    /// (hex or URL-safe base64), so they need no escaping.
    pub async fn get(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Answer, FetchError> {
        let started = Instant::now();
        let result = self.fetch(path, query).await;
        self.latency
            .with_label_values(&[endpoint])
            .observe(started.elapsed().as_secs_f64());
        result
    }

    async fn fetch(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, FetchError> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .http
            .get(&url)
            .query(query)
            .send()
            .await
            .map_err(|e| FetchError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        if let Some(len) = response.content_length()
            && len > MAX_BODY_BYTES as u64
        {
            return Err(FetchError::Unavailable(format!(
                "{path} answered {len} bytes, more than {MAX_BODY_BYTES}"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Unavailable(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::Unavailable(format!(
                    "{path} answered more than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            FetchError::Unavailable(format!("{path} answered {status} with no JSON: {e}"))
        })?;
        let reason = || {
            value["error"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{path} answered {status}"))
        };
        match status.as_u16() {
            200..=299 => {}
            404 => return Err(FetchError::NotFound(reason())),
            400 => return Err(FetchError::BadRequest(reason())),
            _ => return Err(FetchError::Unavailable(reason())),
        }
        let Value::Object(mut map) = value else {
            return Err(FetchError::Unavailable(format!(
                "{path} answered JSON that is not an object"
            )));
        };
        Ok(Answer {
            checkpoint: map.get("checkpoint").and_then(Value::as_i64),
            next_cursor: map.get("next_cursor").and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            data: map.remove("data").unwrap_or(Value::Null),
        })
    }
}
