//! Optional JWT authentication of the publisher (Walrus's
//! publisher can require a JWT whose claims bound the store).
//!
//! With auth configured, `PUT /v1/blobs` needs `Authorization: Bearer
//! <JWT>` signed with HS256 (a shared secret) or EdDSA (an Ed25519 key
//! whose public half the daemon holds). Claims:
//!
//! | claim | meaning |
//! |---|---|
//! | `exp` (required) | expiry, seconds since the Unix epoch; at most `max_token_lifetime` ahead |
//! | `jti` or `nonce` (required) | token id: a token is accepted once (replay protection) |
//! | `iat`, `nbf` | optional; `nbf` in the future is refused |
//! | `max_size` / `size` | the body may be at most / must be exactly this many bytes |
//! | `max_epochs` / `epochs` | the query's `epochs` must be a count at most / exactly this |
//! | `send_object_to` | the query must send the Blob object to this address |
//!
//! Accepted token ids are remembered until their `exp`, in a set bounded by
//! `max_tracked_tokens`: when it is full of live tokens, new tokens are
//! refused (503) rather than an old id forgotten, which would allow its
//! replay. A token is spent when it is accepted, even if the store fails
//! later (the store may have paid by then).

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use floe_chain::sui_sdk_types::Address;
use http::{HeaderValue, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::{StoreRequest, error, invalid_query, parse_store_query};
use crate::store::Epochs;

/// Longest token id accepted (ids are stored until the token expires).
pub const MAX_TOKEN_ID_BYTES: usize = 256;

/// How tokens are checked.
#[derive(Clone)]
pub enum JwtKey {
    /// HS256 with this shared secret (at least 32 bytes).
    Hs256(Vec<u8>),
    /// EdDSA (Ed25519) with this public key in PEM (`PUBLIC KEY`).
    EdDsaPem(Vec<u8>),
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        match self {
            JwtKey::Hs256(_) => f.write_str("Hs256(..)"),
            JwtKey::EdDsaPem(_) => f.write_str("EdDsaPem(..)"),
        }
    }
}

/// The publisher's auth settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub key: JwtKey,
    /// Tokens whose `exp` is further ahead are refused, which bounds how
    /// long a token id must be remembered.
    pub max_token_lifetime: Duration,
    /// Most token ids remembered at once.
    pub max_tracked_tokens: usize,
}

/// Why the configured key is unusable.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("the HS256 secret is {0} bytes; use at least 32 random bytes")]
    ShortSecret(usize),
    #[error("the HS256 secret is unusable: {0}")]
    BadSecret(jsonwebtoken::errors::Error),
    #[error("the EdDSA public key is not an Ed25519 PEM public key: {0}")]
    BadPublicKey(jsonwebtoken::errors::Error),
    #[error("max_tracked_tokens must be above zero")]
    NoTokens,
}

/// The claims floe reads (unknown claims are ignored, as RFC 7519 asks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_object_to: Option<String>,
}

impl Claims {
    /// The byte bound the body must keep, if the token sets one.
    pub(crate) fn body_limit(&self) -> Option<u64> {
        self.size.or(self.max_size)
    }
}

/// Token ids seen and not yet expired.
#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<String>,
    by_expiry: BTreeSet<(u64, String)>,
}

/// Checks tokens; shared by the store route's requests.
pub(crate) struct Authenticator {
    key: DecodingKey,
    validation: Validation,
    config: AuthConfig,
    /// Epochs a store without `epochs` buys (checked against the claims).
    default_epochs: u32,
    seen: Mutex<Seen>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .finish()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A refusal: status, reason code, message.
type Refusal = (StatusCode, &'static str, String);

impl Authenticator {
    pub(crate) fn new(config: AuthConfig, default_epochs: u32) -> Result<Self, AuthConfigError> {
        if config.max_tracked_tokens == 0 {
            return Err(AuthConfigError::NoTokens);
        }
        let (key, algorithm) = match &config.key {
            JwtKey::Hs256(secret) if secret.len() < 32 => {
                return Err(AuthConfigError::ShortSecret(secret.len()));
            }
            JwtKey::Hs256(secret) => (
                DecodingKey::from_secret(secret).map_err(AuthConfigError::BadSecret)?,
                Algorithm::HS256,
            ),
            JwtKey::EdDsaPem(pem) => (
                DecodingKey::from_ed_pem(pem).map_err(AuthConfigError::BadPublicKey)?,
                Algorithm::EdDSA,
            ),
        };
        // One algorithm only: a token cannot pick a weaker one.
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        validation.validate_aud = false;
        Ok(Self {
            key,
            validation,
            config,
            default_epochs,
            seen: Mutex::new(Seen::default()),
        })
    }

    /// Verifies the signature and the standard claims.
    fn decode(&self, token: &str) -> Result<Claims, Refusal> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let reason = match e.kind() {
                    ErrorKind::ExpiredSignature => "TOKEN_EXPIRED",
                    ErrorKind::ImmatureSignature => "TOKEN_NOT_YET_VALID",
                    ErrorKind::InvalidSignature => "INVALID_SIGNATURE",
                    _ => "INVALID_TOKEN",
                };
                (
                    StatusCode::UNAUTHORIZED,
                    reason,
                    format!("the token is refused: {e}"),
                )
            })
    }

    /// Checks the claims against the request.
    fn check(&self, claims: &Claims, request: &StoreRequest) -> Result<String, Refusal> {
        let forbidden = |reason, message: String| (StatusCode::FORBIDDEN, reason, message);
        let id = match (&claims.jti, &claims.nonce) {
            (Some(id), _) | (None, Some(id)) => id.clone(),
            (None, None) => {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "INVALID_TOKEN",
                    "the token has no `jti` (or `nonce`): it could be replayed".into(),
                ));
            }
        };
        if id.is_empty() || id.len() > MAX_TOKEN_ID_BYTES {
            return Err((
                StatusCode::UNAUTHORIZED,
                "INVALID_TOKEN",
                format!("the token id must be 1..={MAX_TOKEN_ID_BYTES} bytes"),
            ));
        }
        let horizon = now_secs().saturating_add(self.config.max_token_lifetime.as_secs());
        if claims.exp > horizon {
            return Err((
                StatusCode::UNAUTHORIZED,
                "TOKEN_LIFETIME_TOO_LONG",
                format!(
                    "the token expires more than {} s from now",
                    self.config.max_token_lifetime.as_secs()
                ),
            ));
        }
        if claims.size.is_some() && claims.max_size.is_some() {
            return Err(forbidden(
                "INVALID_SIZES",
                "the token sets both `size` and `max_size`".into(),
            ));
        }
        if claims.epochs.is_some() || claims.max_epochs.is_some() {
            let Epochs::Ahead(asked) = request.epochs_or(self.default_epochs) else {
                return Err(forbidden(
                    "INVALID_EPOCHS",
                    "the token bounds epochs: give `epochs` as a number".into(),
                ));
            };
            match (claims.epochs, claims.max_epochs) {
                (Some(_), Some(_)) => {
                    return Err(forbidden(
                        "INVALID_EPOCHS",
                        "the token sets both `epochs` and `max_epochs`".into(),
                    ));
                }
                (Some(exact), None) if asked != exact => {
                    return Err(forbidden(
                        "INVALID_EPOCHS",
                        format!("the token allows exactly {exact} epochs, the query asks {asked}"),
                    ));
                }
                (None, Some(max)) if asked > max => {
                    return Err(forbidden(
                        "EPOCHS_ABOVE_MAX",
                        format!("the token allows at most {max} epochs, the query asks {asked}"),
                    ));
                }
                _ => {}
            }
        }
        if let Some(expected) = &claims.send_object_to {
            let expected: Address = expected.parse().map_err(|e| {
                forbidden(
                    "INVALID_SEND_OBJECT_TO",
                    format!("the token's send_object_to is not an address: {e}"),
                )
            })?;
            match request.send_object_to {
                Some(actual) if actual == expected => {}
                Some(actual) => {
                    return Err(forbidden(
                        "INVALID_SEND_OBJECT_TO",
                        format!("the token sends the blob to {expected}, the query to {actual}"),
                    ));
                }
                None => {
                    return Err(forbidden(
                        "MISSING_SEND_OBJECT_TO",
                        format!("the token requires send_object_to={expected}"),
                    ));
                }
            }
        }
        Ok(id)
    }

    /// Records `id` as used until `exp`; refuses a replay.
    fn spend(&self, id: String, exp: u64) -> Result<(), Refusal> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = now_secs();
        // Forget ids whose tokens have expired (with the leeway): they
        // cannot be presented again.
        let cutoff = now.saturating_sub(self.validation.leeway);
        while let Some(first) = seen.by_expiry.first().cloned() {
            if first.0 >= cutoff {
                break;
            }
            seen.by_expiry.pop_first();
            seen.ids.remove(&first.1);
        }
        if seen.ids.contains(&id) {
            return Err((
                StatusCode::FORBIDDEN,
                "TOKEN_ALREADY_USED",
                "this token was used already; each token is accepted once".into(),
            ));
        }
        if seen.ids.len() >= self.config.max_tracked_tokens {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "TOO_MANY_TOKENS",
                "the publisher tracks too many live tokens; retry later".into(),
            ));
        }
        seen.ids.insert(id.clone());
        seen.by_expiry.insert((exp, id));
        Ok(())
    }

    /// Everything but the body: token present, verified, claims fit the
    /// query, not replayed.
    pub(crate) fn authorize(
        &self,
        authorization: Option<&HeaderValue>,
        request: &StoreRequest,
    ) -> Result<Claims, Refusal> {
        let token = authorization
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                (
                    StatusCode::UNAUTHORIZED,
                    "MISSING_TOKEN",
                    "this publisher requires `Authorization: Bearer <JWT>`".to_owned(),
                )
            })?;
        let claims = self.decode(token)?;
        let id = self.check(&claims, request)?;
        self.spend(id, claims.exp)?;
        Ok(claims)
    }
}

/// The middleware in front of the store route (outside its queue, so
/// requests without a valid token never take a queue slot). The accepted
/// claims travel to the handler in the request's extensions.
pub(crate) async fn require_token(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let store = match parse_store_query(request.uri()) {
        Ok(store) => store,
        Err(message) => return invalid_query(message),
    };
    match auth.authorize(request.headers().get(header::AUTHORIZATION), &store) {
        Ok(claims) => {
            request.extensions_mut().insert(claims);
            next.run(request).await
        }
        Err((status, reason, message)) => {
            let mut response = error(status, reason, message);
            if status == StatusCode::UNAUTHORIZED {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }
    }
}

#[cfg(test)]
mod tests;
