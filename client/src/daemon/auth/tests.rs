//! The publisher's JWT auth over HTTP, against the fake backend.

use jsonwebtoken::{EncodingKey, Header, encode};

use super::*;
use crate::daemon::tests::{Fake, small_limits, start};
use crate::daemon::{DaemonConfig, Mode};

const SECRET: &[u8] = b"a shared secret of at least 32 bytes!!";

/// RFC 8410's example Ed25519 key pair (section 10).
const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

fn auth(key: JwtKey, max_tracked_tokens: usize) -> DaemonConfig {
    DaemonConfig {
        mode: Mode::Publisher,
        auth: Some(AuthConfig {
            key,
            max_token_lifetime: Duration::from_secs(3600),
            max_tracked_tokens,
        }),
        ..small_limits()
    }
}

fn claims(id: &str) -> Claims {
    Claims {
        exp: now_secs() + 600,
        jti: Some(id.to_owned()),
        ..Claims::default()
    }
}

fn hs256(claims: &Claims) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap()
}

/// `PUT /v1/blobs?{query}` with `body` and an optional bearer token:
/// (status, error reason).
async fn put(base: &str, query: &str, body: &'static [u8], token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .put(format!("{base}/v1/blobs?{query}"))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let json: serde_json::Value = response.json().await.unwrap_or_default();
    let reason = json["error"]["reason"].as_str().unwrap_or("").to_owned();
    (status, reason)
}

#[tokio::test]
async fn a_token_is_required_checked_and_accepted_once() {
    let fake = Arc::new(Fake::default());
    let base = start(fake.clone(), auth(JwtKey::Hs256(SECRET.to_vec()), 100)).await;

    let response = reqwest::Client::new()
        .put(format!("{base}/v1/blobs"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");

    let token = hs256(&claims("one"));
    assert_eq!(
        put(&base, "", b"x", Some(&token)).await,
        (200, String::new())
    );
    assert_eq!(
        put(&base, "", b"x", Some(&token)).await,
        (403, "TOKEN_ALREADY_USED".into()),
        "a replay is refused"
    );

    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("two"),
        &EncodingKey::from_secret(b"another secret of at least 32 bytes!!!").unwrap(),
    )
    .unwrap();
    assert_eq!(
        put(&base, "", b"x", Some(&forged)).await,
        (401, "INVALID_SIGNATURE".into())
    );
    let expired = hs256(&Claims {
        exp: now_secs() - 120,
        ..claims("three")
    });
    assert_eq!(
        put(&base, "", b"x", Some(&expired)).await,
        (401, "TOKEN_EXPIRED".into())
    );
    let too_long = hs256(&Claims {
        exp: now_secs() + 7200,
        ..claims("four")
    });
    assert_eq!(
        put(&base, "", b"x", Some(&too_long)).await,
        (401, "TOKEN_LIFETIME_TOO_LONG".into())
    );
    let no_id = hs256(&Claims {
        jti: None,
        ..claims("")
    });
    assert_eq!(put(&base, "", b"x", Some(&no_id)).await.0, 401);
    let nonce = hs256(&Claims {
        jti: None,
        nonce: Some("n-1".into()),
        ..claims("")
    });
    assert_eq!(put(&base, "", b"x", Some(&nonce)).await.0, 200);
    assert_eq!(put(&base, "", b"x", Some("not.a.jwt")).await.0, 401);
    assert_eq!(
        fake.blobs.lock().unwrap().len(),
        1,
        "only accepted tokens stored"
    );
}

#[tokio::test]
async fn claims_bound_epochs_size_and_recipient() {
    let fake = Arc::new(Fake::default());
    let base = start(fake.clone(), auth(JwtKey::Hs256(SECRET.to_vec()), 100)).await;
    let token = |id: &str, f: &dyn Fn(&mut Claims)| {
        let mut c = claims(id);
        f(&mut c);
        hs256(&c)
    };

    let t = token("e1", &|c| c.max_epochs = Some(2));
    assert_eq!(
        put(&base, "epochs=3", b"x", Some(&t)).await,
        (403, "EPOCHS_ABOVE_MAX".into())
    );
    let t = token("e2", &|c| c.max_epochs = Some(2));
    assert_eq!(
        put(&base, "epochs=max", b"x", Some(&t)).await,
        (403, "INVALID_EPOCHS".into())
    );
    let t = token("e3", &|c| c.epochs = Some(2));
    assert_eq!(put(&base, "epochs=1", b"x", Some(&t)).await.0, 403);
    let t = token("e4", &|c| c.max_epochs = Some(2));
    assert_eq!(put(&base, "epochs=2", b"x", Some(&t)).await.0, 200);

    let t = token("s1", &|c| c.max_size = Some(4));
    assert_eq!(
        put(&base, "", b"0123456789", Some(&t)).await,
        (413, "BODY_TOO_LARGE".into())
    );
    let t = token("s2", &|c| c.size = Some(4));
    assert_eq!(
        put(&base, "", b"012", Some(&t)).await,
        (403, "SIZE_INCORRECT".into())
    );
    let t = token("s3", &|c| c.size = Some(4));
    assert_eq!(put(&base, "", b"0123", Some(&t)).await.0, 200);

    let to = "0x0000000000000000000000000000000000000000000000000000000000000abc";
    let t = token("r1", &|c| c.send_object_to = Some(to.into()));
    assert_eq!(
        put(&base, "", b"x", Some(&t)).await,
        (403, "MISSING_SEND_OBJECT_TO".into())
    );
    let t = token("r2", &|c| c.send_object_to = Some(to.into()));
    assert_eq!(
        put(&base, "send_object_to=0x1", b"x", Some(&t)).await,
        (403, "INVALID_SEND_OBJECT_TO".into())
    );
    let t = token("r3", &|c| c.send_object_to = Some(to.into()));
    assert_eq!(
        put(&base, &format!("send_object_to={to}"), b"x", Some(&t))
            .await
            .0,
        200
    );
    let options = fake.stored_options.lock().unwrap();
    assert_eq!(options.len(), 3);
    assert_eq!(options[2].send_object_to, Some(to.parse().unwrap()));
}

#[tokio::test]
async fn eddsa_tokens_verify_and_other_algorithms_do_not() {
    let fake = Arc::new(Fake::default());
    let base = start(fake, auth(JwtKey::EdDsaPem(ED_PUBLIC.into()), 100)).await;
    let key = EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap();
    let token = encode(&Header::new(Algorithm::EdDSA), &claims("ed"), &key).unwrap();
    assert_eq!(put(&base, "", b"x", Some(&token)).await.0, 200);
    // An HS256 token keyed with the public key's text (the classic
    // algorithm confusion) is refused: only EdDSA is accepted.
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &claims("hs"),
        &EncodingKey::from_secret(ED_PUBLIC.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(put(&base, "", b"x", Some(&confused)).await.0, 401);
}

#[tokio::test]
async fn remembered_token_ids_are_bounded() {
    let base = start(
        Arc::new(Fake::default()),
        auth(JwtKey::Hs256(SECRET.to_vec()), 2),
    )
    .await;
    assert_eq!(
        put(&base, "", b"x", Some(&hs256(&claims("a")))).await.0,
        200
    );
    assert_eq!(
        put(&base, "", b"x", Some(&hs256(&claims("b")))).await.0,
        200
    );
    // Both are live: forgetting one would allow its replay, so a third
    // token waits for one of them to expire.
    assert_eq!(
        put(&base, "", b"x", Some(&hs256(&claims("c")))).await,
        (503, "TOO_MANY_TOKENS".into())
    );
}

#[test]
fn weak_secrets_and_bad_keys_are_refused_at_start() {
    let config = |key| AuthConfig {
        key,
        max_token_lifetime: Duration::from_secs(60),
        max_tracked_tokens: 10,
    };
    assert!(matches!(
        Authenticator::new(config(JwtKey::Hs256(b"short".to_vec())), 1),
        Err(AuthConfigError::ShortSecret(5))
    ));
    assert!(matches!(
        Authenticator::new(config(JwtKey::EdDsaPem(b"not pem".to_vec())), 1),
        Err(AuthConfigError::BadPublicKey(_))
    ));
}
