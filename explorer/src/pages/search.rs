//! Search: one box for a blob id, a blob object id, a node id, an
//! address or an epoch number; answers with a redirect to the page.
//!
//! A blob id is 43 characters of URL-safe base64; object ids, node ids
//! and addresses share one form (`0x` + hex), so the indexer is asked
//! which it is: a blob object, else a node, else an account.

use std::collections::HashMap;

use axum::extract::{Query as AxumQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use floe_core::BlobId;
use floe_core::move_types::ObjectId;

use super::{PageError, Query};
use crate::AppState;
use crate::indexer::FetchError;

/// Longest search text looked at.
const MAX_QUERY: usize = 200;

/// What a search text names.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Epoch(u32),
    Blob(BlobId),
    /// A blob object, node or account: the indexer tells which.
    Object(ObjectId),
}

/// Classifies `q` without asking the indexer.
pub fn classify(q: &str) -> Result<Target, String> {
    let q = q.trim();
    if q.is_empty() {
        return Err("type a blob id, an object id, an address or an epoch number".into());
    }
    if q.len() > MAX_QUERY {
        return Err(format!("a search is at most {MAX_QUERY} characters"));
    }
    if q.bytes().all(|b| b.is_ascii_digit()) {
        return q
            .parse()
            .map(Target::Epoch)
            .map_err(|_| format!("{q} is too large for an epoch number"));
    }
    let hex_form =
        q.starts_with("0x") || (q.len() == 64 && q.bytes().all(|b| b.is_ascii_hexdigit()));
    if !hex_form && let Ok(id) = q.parse::<BlobId>() {
        return Ok(Target::Blob(id));
    }
    if hex_form {
        return q
            .parse::<ObjectId>()
            .map(Target::Object)
            .map_err(|e| format!("not an object id or address: {e}"));
    }
    Err(format!(
        "{q:?} is neither a blob id (43 characters of URL-safe base64), an object id or address (0x and up to 64 hex digits), nor an epoch number"
    ))
}

pub async fn search(
    State(s): State<AppState>,
    AxumQuery(q): AxumQuery<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let q = Query::new(q, &["q"])?;
    let target = classify(q.text("q").unwrap_or("")).map_err(PageError::bad)?;
    let to = match target {
        Target::Epoch(e) => format!("/epochs/{e}"),
        Target::Blob(id) => format!("/blobs/{id}"),
        Target::Object(id) => {
            let blob = s
                .indexer
                .get("/v1/blobs/{object_id}", &format!("/v1/blobs/{id}"), &[])
                .await;
            match blob {
                Ok(_) => format!("/objects/{id}"),
                Err(FetchError::NotFound(_)) => {
                    let node = s
                        .indexer
                        .get("/v1/nodes/{node_id}", &format!("/v1/nodes/{id}"), &[])
                        .await;
                    match node {
                        Ok(_) => format!("/nodes/{id}"),
                        Err(FetchError::NotFound(_)) => format!("/accounts/{id}"),
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok(Redirect::to(&to).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_key_is_recognised() {
        assert_eq!(classify(" 7 "), Ok(Target::Epoch(7)));
        assert!(classify("99999999999").is_err());
        let id = BlobId([7; 32]);
        assert_eq!(classify(&id.to_string()), Ok(Target::Blob(id)));
        assert_eq!(
            classify("0x2"),
            Ok(Target::Object(ObjectId({
                let mut b = [0; 32];
                b[31] = 2;
                b
            })))
        );
        let hex = "ab".repeat(32);
        assert_eq!(classify(&hex), Ok(Target::Object(ObjectId([0xab; 32]))));
        assert!(classify("").is_err());
        assert!(classify("0xnothex").unwrap_err().contains("object id"));
        assert!(classify("hello world").unwrap_err().contains("neither"));
        assert!(classify(&"a".repeat(201)).is_err());
    }
}
