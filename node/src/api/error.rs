//! Typed API errors with a Walrus-style JSON body carrying a reason.

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::store::StoreError;

/// An error answer: HTTP status, an UPPER_SNAKE_CASE reason clients can
/// match on, and a human message.
#[derive(Debug, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable reason.
    pub reason: &'static str,
    /// Human-readable detail.
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason, message)
    }

    /// 404.
    pub fn not_found(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, reason, message)
    }

    /// 409: the request is well formed but the node's state forbids it
    /// (blob not registered, metadata missing, blob invalid).
    pub fn conflict(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, reason, message)
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "STORAGE_ERROR",
            e.to_string(),
        )
    }
}

/// gRPC-style status names, as Walrus's error bodies carry them.
fn status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        408 => "DEADLINE_EXCEEDED",
        409 => "FAILED_PRECONDITION",
        413 => "OUT_OF_RANGE",
        421 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "code": self.status.as_u16(),
                "status": status_name(self.status),
                "message": self.message,
                "details": [{"@type": "ErrorInfo", "reason": self.reason, "domain": "floe.node"}],
            }
        });
        (self.status, axum::Json(body)).into_response()
    }
}
