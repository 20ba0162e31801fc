//! Query and path parameters, parsed by hand so that every bad value gets a
//! 400 naming the parameter and the reason.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use floe_core::BlobId;
use floe_core::move_types::ObjectId;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 1000;

/// An API error: status and reason, answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    pub fn bad(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
        }
    }

    pub fn not_found(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::warn!(error = %e, "database error answering a request");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            reason: "the index database is unavailable; retry later".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.reason })),
        )
            .into_response()
    }
}

/// Query parameters of one request.
#[derive(Debug)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    /// Refuses parameters the endpoint does not know (a typo would
    /// otherwise silently return unfiltered rows).
    pub fn new(map: HashMap<String, String>, known: &[&str]) -> Result<Self, ApiError> {
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::bad(format!(
                "unknown parameter {unknown:?}; known: {}",
                known.join(", ")
            )));
        }
        Ok(Self { map })
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        let v: i64 = raw
            .parse()
            .map_err(|_| ApiError::bad(format!("{name} must be an integer, got {raw:?}")))?;
        if !(min..=max).contains(&v) {
            return Err(ApiError::bad(format!(
                "{name} must be in {min}..={max}, got {v}"
            )));
        }
        Ok(Some(v))
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad(format!(
                "{name} must be true or false, got {other:?}"
            ))),
        }
    }

    pub fn limit(&self) -> Result<i64, ApiError> {
        Ok(self.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT))
    }

    /// `order=asc|desc`, ascending by default.
    pub fn descending(&self) -> Result<bool, ApiError> {
        match self.text("order") {
            None | Some("asc") => Ok(false),
            Some("desc") => Ok(true),
            Some(other) => Err(ApiError::bad(format!(
                "order must be asc or desc, got {other:?}"
            ))),
        }
    }

    pub fn object_id(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.text(name).map(|s| object_id(name, s)).transpose()
    }
}

/// A canonical object id or address (`0x` + 64 lower-case hex digits).
pub fn object_id(name: &str, raw: &str) -> Result<String, ApiError> {
    let id: ObjectId = raw
        .parse()
        .map_err(|e| ApiError::bad(format!("{name}: {e}")))?;
    Ok(format!("0x{}", hex::encode(id.0)))
}

/// A blob id in its text form (URL-safe base64 without padding).
pub fn blob_id(name: &str, raw: &str) -> Result<String, ApiError> {
    let id: BlobId = raw
        .parse()
        .map_err(|e| ApiError::bad(format!("{name}: {e}")))?;
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)], known: &[&str]) -> Result<Params, ApiError> {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            known,
        )
    }

    #[test]
    fn bad_values_name_the_parameter() {
        assert!(
            params(&[("ownr", "0x1")], &["owner"])
                .unwrap_err()
                .reason
                .contains("ownr")
        );
        let p = params(
            &[("limit", "1001"), ("deletable", "yes")],
            &["limit", "deletable"],
        )
        .unwrap();
        assert!(p.limit().unwrap_err().reason.contains("limit"));
        assert!(
            p.boolean("deletable")
                .unwrap_err()
                .reason
                .contains("deletable")
        );
        let p = params(&[("limit", "x")], &["limit"]).unwrap();
        assert!(p.limit().is_err());
        let p = params(&[], &["limit"]).unwrap();
        assert_eq!(p.limit().unwrap(), DEFAULT_LIMIT);
        assert_eq!(object_id("o", "0x2").unwrap(), format!("0x{:0>64}", "2"));
        assert!(object_id("o", "0xzz").is_err());
        assert!(blob_id("b", "not base64!").is_err());
    }
}
