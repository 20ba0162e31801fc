//! Connections to one or more gRPC endpoints with timeouts, retries and
//! failover.
//!
//! Every call goes through [`ChainClient::call`]: it runs on the endpoint
//! that last worked, and on a transient failure (unavailable, deadline
//! exceeded, connection refused) moves to the next endpoint and retries
//! after an exponential backoff with jitter, up to a bounded number of
//! attempts. Other failures are returned at once, naming the endpoint.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{ChainError, is_transient_code};
use crate::stream::Trust;

/// Largest gRPC message we accept. Checkpoints with many transactions can be
/// several MiB; the bound keeps a hostile server from making us allocate
/// without limit.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// How hard to try before giving up on a call.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts across all endpoints (at least 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt` (1-based retry count), doubled each
    /// time, capped, with up to 50% random jitter so that many clients
    /// restarting together do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let jitter = base.mul_f64(rand::random::<f64>() * 0.5);
        base.saturating_add(jitter).min(self.max_backoff)
    }
}

/// Connection settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// gRPC endpoints, e.g. `http://127.0.0.1:9000`; tried in order.
    pub endpoints: Vec<String>,
    /// Bound on each unary call (connect + request + response).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Which validator committee this client's checkpoint streams verify
    /// against, unless a stream names its own
    /// ([`StreamConfig::trust`](crate::StreamConfig::trust)).
    pub trust: Trust,
}

impl ClientConfig {
    pub fn new<I, S>(endpoints: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            trust: Trust::default(),
        }
    }

    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) uri: String,
    pub(crate) client: sui_rpc::Client,
}

/// A chain client over one or more endpoints. Cheap to clone; clones share
/// connections and the current-endpoint choice.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use floe_chain::{ChainClient, ClientConfig, Keystore, StreamConfig};
///
/// let keys = Keystore::open("/home/me/.sui/sui_config/sui.keystore")?;
/// let me = keys.select(None)?; // the default key; or an alias / address
/// let client = ChainClient::new(ClientConfig::new([
///     "http://127.0.0.1:9000",
///     "http://127.0.0.1:9001", // used when the first is unreachable
/// ]))?;
///
/// let coins = client
///     .list_all_owned_objects(me.address(), Some("0x2::coin::Coin<0x2::sui::SUI>"), 1000)
///     .await?;
/// let tx = client.transfer_sui(me, "0x2".parse()?, 1_000).await?.ensure_success()?;
/// println!("{} coins; sent in {}", coins.len(), tx.digest);
///
/// let mut checkpoints = client.checkpoint_stream(0, StreamConfig::default());
/// while let Some(checkpoint) = checkpoints.next().await {
///     let checkpoint = checkpoint?;
///     println!("{}: {} txs", checkpoint.sequence_number, checkpoint.transactions.len());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ChainClient {
    pub(crate) endpoints: Arc<[Endpoint]>,
    /// Index of the endpoint that last answered; calls start there.
    current: Arc<AtomicUsize>,
    pub(crate) config: Arc<ClientConfig>,
}

impl std::fmt::Debug for ChainClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainClient")
            .field("endpoints", &self.config.endpoints)
            .finish()
    }
}

impl ChainClient {
    /// Prepares connections to every endpoint. Connections are opened
    /// lazily, so this fails only on malformed URIs; use
    /// [`service_info`](Self::service_info) to check reachability.
    pub fn new(config: ClientConfig) -> Result<Self, ChainError> {
        if config.endpoints.is_empty() {
            return Err(ChainError::NoEndpoints);
        }
        let endpoints = config
            .endpoints
            .iter()
            .map(|uri| {
                let client = sui_rpc::Client::new(uri.as_str()).map_err(|e| {
                    ChainError::InvalidEndpoint {
                        endpoint: uri.clone(),
                        reason: e.message().to_owned(),
                    }
                })?;
                let client = client
                    .with_response_headers_timeout(config.request_timeout)
                    .with_max_decoding_message_size(MAX_MESSAGE_BYTES);
                Ok(Endpoint {
                    uri: uri.clone(),
                    client,
                })
            })
            .collect::<Result<Vec<_>, ChainError>>()?;
        Ok(Self {
            endpoints: endpoints.into(),
            current: Arc::new(AtomicUsize::new(0)),
            config: Arc::new(config),
        })
    }

    /// Shorthand for one endpoint with default settings.
    pub fn connect_single(uri: &str) -> Result<Self, ChainError> {
        Self::new(ClientConfig::new([uri]))
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The endpoint calls currently go to.
    pub fn current_endpoint(&self) -> &str {
        &self.endpoint(self.current.load(Ordering::Relaxed)).uri
    }

    fn endpoint(&self, index: usize) -> &Endpoint {
        &self.endpoints[index % self.endpoints.len()]
    }

    /// Moves to the endpoint after `failed`, unless another caller already
    /// moved on.
    pub(crate) fn fail_over(&self, failed: usize) {
        let next = (failed + 1) % self.endpoints.len();
        let _ = self
            .current
            .compare_exchange(failed, next, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The client and index of the current endpoint.
    pub(crate) fn pick(&self) -> (usize, &Endpoint) {
        let index = self.current.load(Ordering::Relaxed) % self.endpoints.len();
        (index, self.endpoint(index))
    }

    /// Runs `f` against the current endpoint with the request timeout,
    /// retrying transient failures with backoff and failover.
    pub async fn call<T, F, Fut>(&self, op: &'static str, mut f: F) -> Result<T, ChainError>
    where
        F: FnMut(sui_rpc::Client) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        let policy = &self.config.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (index, endpoint) = self.pick();
            let outcome =
                tokio::time::timeout(self.config.request_timeout, f(endpoint.client.clone())).await;
            let status = match outcome {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(status)) => status,
                Err(_) => tonic::Status::deadline_exceeded(format!(
                    "no answer within {:?}",
                    self.config.request_timeout
                )),
            };
            if !is_transient_code(status.code()) {
                return Err(ChainError::Rpc {
                    endpoint: endpoint.uri.clone(),
                    op,
                    code: status.code(),
                    message: status.message().to_owned(),
                });
            }
            if attempt >= max_attempts {
                return Err(ChainError::Exhausted {
                    op,
                    attempts: attempt,
                    endpoint: endpoint.uri.clone(),
                    code: status.code(),
                    message: status.message().to_owned(),
                });
            }
            tracing::debug!(
                op,
                endpoint = %endpoint.uri,
                code = ?status.code(),
                message = status.message(),
                attempt,
                "transient chain error; retrying"
            );
            self.fail_over(index);
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }

    /// Reports a response that could not be used, naming the current
    /// endpoint.
    pub(crate) fn malformed(&self, op: &'static str, reason: impl ToString) -> ChainError {
        ChainError::Malformed {
            endpoint: self.current_endpoint().to_owned(),
            op,
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn fast_policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        assert!(p.backoff(1) >= Duration::from_millis(100));
        assert!(p.backoff(1) <= Duration::from_millis(150));
        assert!(p.backoff(3) >= Duration::from_millis(400));
        assert!(p.backoff(40) <= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn transient_errors_fail_over_and_retry() {
        let config = ClientConfig::new(["http://127.0.0.1:1", "http://127.0.0.1:2"])
            .with_retry(fast_policy(5));
        let client = ChainClient::new(config).unwrap();
        let calls = AtomicU32::new(0);
        let value = client
            .call("test", |_| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        Err(tonic::Status::unavailable("down"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(value, 2);
        // Two failures moved the client twice: back to the first endpoint.
        assert_eq!(client.current_endpoint(), "http://127.0.0.1:1");
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let client =
            ChainClient::new(ClientConfig::new(["http://127.0.0.1:1"]).with_retry(fast_policy(5)))
                .unwrap();
        let calls = AtomicU32::new(0);
        let err = client
            .call("get thing", |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err::<(), _>(tonic::Status::not_found("no such thing")) }
            })
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let text = err.to_string();
        assert!(text.contains("get thing on http://127.0.0.1:1"), "{text}");
        assert!(text.contains("no such thing"), "{text}");
    }

    #[tokio::test]
    async fn connection_refused_is_retried_then_reported() {
        // Nothing listens on port 1: every attempt is refused.
        let client = ChainClient::new(
            ClientConfig::new(["http://127.0.0.1:1", "http://127.0.0.1:9"])
                .with_retry(fast_policy(3))
                .with_request_timeout(Duration::from_secs(5)),
        )
        .unwrap();
        let err = client.service_info().await.unwrap_err();
        assert!(
            matches!(err, ChainError::Exhausted { attempts: 3, .. }),
            "{err}"
        );
        assert!(err.is_transient());
    }

    #[test]
    fn bad_endpoints_are_rejected() {
        assert!(matches!(
            ChainClient::new(ClientConfig::new(Vec::<String>::new())),
            Err(ChainError::NoEndpoints)
        ));
        assert!(matches!(
            ChainClient::connect_single("not a uri"),
            Err(ChainError::InvalidEndpoint { .. })
        ));
    }
}
