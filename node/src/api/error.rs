//! API errors as Walrus's storage node writes them (an AIP-193 status
//! object, `walrus-storage-node-client/src/api/errors.rs`):
//!
//! ```json
//! {"error": {"status": "FAILED_PRECONDITION", "code": 400,
//!            "message": "the blob has not been registered or has already expired",
//!            "details": [{"@type": "ErrorInfo", "reason": "NOT_REGISTERED",
//!                         "domain": "storage.walrus.space", "metadata": {}}]}}
//! ```
//!
//! Walrus's clients parse `status` and `code` together and reject a pair
//! that is not in their table, so every constructor here yields one of
//! Walrus's pairs (see [`Class`]); clients that act on an error match
//! `details[0].reason` (the TypeScript SDK retries an upload only on
//! `NOT_REGISTERED` with HTTP 400).

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::store::StoreError;

/// Walrus's error domain for storage-node errors.
pub const NODE_DOMAIN: &str = "storage.walrus.space";
/// Walrus's domain for service-agnostic errors (internal, unavailable).
pub const GLOBAL_DOMAIN: &str = "global";

/// The general class of an error: Walrus's `StatusCode`, each with the
/// HTTP code Walrus pairs it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Malformed argument (400).
    InvalidArgument,
    /// The node is not in the state the request needs (400): not
    /// registered, metadata missing, shard not assigned, cache saturated.
    FailedPrecondition,
    /// Not found (404).
    NotFound,
    /// Internal error (500).
    Internal,
    /// The node sheds load or a limiter tripped (503); retry later.
    Unavailable,
    /// The request took longer than the node's budget (504).
    DeadlineExceeded,
    /// Transport-level rejections Walrus leaves to its HTTP stack (405,
    /// 413, 415): the HTTP code is kept, the body still has this shape.
    Transport(StatusCode),
}

impl Class {
    /// The HTTP status.
    pub fn http(self) -> StatusCode {
        match self {
            Class::InvalidArgument | Class::FailedPrecondition => StatusCode::BAD_REQUEST,
            Class::NotFound => StatusCode::NOT_FOUND,
            Class::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Class::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Class::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Class::Transport(code) => code,
        }
    }

    /// The status string.
    pub fn name(self) -> &'static str {
        match self {
            Class::InvalidArgument | Class::Transport(_) => "INVALID_ARGUMENT",
            Class::FailedPrecondition => "FAILED_PRECONDITION",
            Class::NotFound => "NOT_FOUND",
            Class::Internal => "INTERNAL",
            Class::Unavailable => "UNAVAILABLE",
            Class::DeadlineExceeded => "DEADLINE_EXCEEDED",
        }
    }
}

/// An error answer: class, an UPPER_SNAKE_CASE reason clients match on,
/// its domain, and a human message.
#[derive(Debug, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct ApiError {
    /// Status class (and so the HTTP code).
    pub class: Class,
    /// Machine-readable reason, unique within `domain`.
    pub reason: &'static str,
    /// [`NODE_DOMAIN`] or [`GLOBAL_DOMAIN`].
    pub domain: &'static str,
    /// Human-readable detail.
    pub message: String,
}

impl ApiError {
    /// A storage-node error of `class`.
    pub fn new(class: Class, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            reason,
            domain: NODE_DOMAIN,
            message: message.into(),
        }
    }

    /// 400 `INVALID_ARGUMENT`.
    pub fn invalid(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::InvalidArgument, reason, message)
    }

    /// 400 `FAILED_PRECONDITION`.
    pub fn precondition(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::FailedPrecondition, reason, message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::NotFound, reason, message)
    }

    /// 400 `NOT_REGISTERED`: the blob (or object) is not registered, or
    /// expired, as far as this node has followed the chain.
    pub fn not_registered() -> Self {
        Self::precondition(
            "NOT_REGISTERED",
            "the blob has not been registered or has already expired",
        )
    }

    /// 400 `CACHE_SATURATED`: a `?pending=true` upload found the pending
    /// cache full; retry once the node has seen the registration.
    pub fn cache_saturated() -> Self {
        Self::precondition(
            "CACHE_SATURATED",
            "pending upload cache is saturated; retry once the node catches up",
        )
    }

    /// 400 `INDEX_OUT_OF_RANGE`.
    pub fn index_out_of_range(index: u16, max: u16) -> Self {
        Self::invalid(
            "INDEX_OUT_OF_RANGE",
            format!("requires 0 <= index ({index}) < {max}"),
        )
    }

    /// 400 `INVALID_CONTENT_TYPE`: the body is not BCS of the expected
    /// type, or is declared as something else.
    pub fn bad_body(message: impl Into<String>) -> Self {
        Self::invalid("INVALID_CONTENT_TYPE", message)
    }

    /// 503 `UNAVAILABLE` (global domain): a limiter tripped or the node
    /// sheds load; retry later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            class: Class::Unavailable,
            reason: "UNAVAILABLE",
            domain: GLOBAL_DOMAIN,
            message: message.into(),
        }
    }

    /// 500 `INTERNAL_ERROR` (global domain). The detail is logged, not
    /// sent: as on Walrus, callers learn only that it happened.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error answering a request");
        Self {
            class: Class::Internal,
            reason: "INTERNAL_ERROR",
            domain: GLOBAL_DOMAIN,
            message: "an internal error has occurred, please report it".to_owned(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.class.http()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // The node cannot make the write durable (a full disk, an I/O
            // error): nothing was acknowledged, and another node or a later
            // retry can take it. Walrus's client treats 503 as "ask
            // elsewhere".
            StoreError::Commit { reason } => Self::unavailable(format!(
                "this node's store refuses writes ({reason}); the node reads on and reopens its store once it can write again"
            )),
            e => Self::internal(format!("store: {e}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "status": self.class.name(),
                "code": self.class.http().as_u16(),
                "message": self.message,
                "details": [{
                    "@type": "ErrorInfo",
                    "reason": self.reason,
                    "domain": self.domain,
                    "metadata": {},
                }],
            }
        });
        (self.class.http(), axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walrus's client accepts only these (status, code) pairs.
    #[test]
    fn classes_are_walrus_status_code_pairs() {
        let walrus = [
            ("INVALID_ARGUMENT", 400),
            ("FAILED_PRECONDITION", 400),
            ("NOT_FOUND", 404),
            ("INTERNAL", 500),
            ("UNAVAILABLE", 503),
            ("DEADLINE_EXCEEDED", 504),
        ];
        for class in [
            Class::InvalidArgument,
            Class::FailedPrecondition,
            Class::NotFound,
            Class::Internal,
            Class::Unavailable,
            Class::DeadlineExceeded,
        ] {
            let pair = (class.name(), class.http().as_u16());
            assert!(walrus.contains(&pair), "{pair:?}");
        }
    }

    #[tokio::test]
    async fn the_body_is_walrus_status_object() {
        let response = ApiError::not_registered().into_response();
        assert_eq!(response.status(), 400);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {
                "status": "FAILED_PRECONDITION",
                "code": 400,
                "message": "the blob has not been registered or has already expired",
                "details": [{"@type": "ErrorInfo", "reason": "NOT_REGISTERED",
                             "domain": "storage.walrus.space", "metadata": {}}],
            }})
        );
        // Internal errors keep their detail out of the answer.
        let response = ApiError::internal("disk on fire at /secret/path").into_response();
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(!text.contains("/secret/path"), "{text}");
        assert!(text.contains("INTERNAL_ERROR"), "{text}");
    }
}
