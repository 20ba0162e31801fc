use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use floe_core::bls::BlsSecretKey;

use super::*;

fn key(seed: u8) -> BlsPublicKey {
    BlsSecretKey::from_seed(&[seed; 32]).public_key()
}

fn record(seed: u8, address: &str) -> NodeRecord {
    NodeRecord {
        node_id: ObjectId([seed; 32]),
        name: format!("node-{seed}"),
        public_key: key(seed).to_bytes().to_vec(),
        network_address: address.to_owned(),
        network_public_key: vec![2; 33],
    }
}

#[test]
fn addresses_map_to_urls_with_the_chosen_scheme() {
    assert_eq!(
        endpoint_url(Scheme::Http, "127.0.0.1:9185").unwrap(),
        "http://127.0.0.1:9185"
    );
    assert_eq!(
        endpoint_url(Scheme::Https, "node-1.example.com:443").unwrap(),
        "https://node-1.example.com:443"
    );
    assert_eq!(
        endpoint_url(Scheme::Http, "[::1]:9185").unwrap(),
        "http://[::1]:9185"
    );
    let longest = format!(
        "{}.{}.{}.{}:65535",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    assert_eq!(longest.len(), 259);
    assert!(endpoint_url(Scheme::Http, &longest).is_ok());
}

#[test]
fn malformed_addresses_are_refused_with_a_reason() {
    assert_eq!(check_network_address(""), Err(AddressError::Empty));
    let long = format!("{}:1", "a".repeat(300));
    assert_eq!(
        check_network_address(&long),
        Err(AddressError::TooLong { len: 302 })
    );
    for (bad, why) in [
        ("http://127.0.0.1:9185", "scheme"),
        ("127.0.0.1", "port"),
        ("127.0.0.1:", "port"),
        ("127.0.0.1:70000", "port"),
        ("127.0.0.1:0", "port 0"),
        ("127.0.0.1:9185/v1", "port"),
        (":9185", "host"),
        ("no space.example:1", "host"),
        ("user@host:1", "host"),
        ("host/path:1", "host"),
        ("-bad.example:1", "host"),
        ("[::1:1", "host"),
        ("::1:9185", "host"),
    ] {
        match check_network_address(bad) {
            Err(AddressError::Malformed { reason, .. }) => {
                assert!(reason.contains(why), "{bad}: {reason}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // A hostile address is cut in the error message.
    let hostile = format!("{}!:1", "x".repeat(200));
    let message = check_network_address(&hostile).unwrap_err().to_string();
    assert!(message.len() < 200, "{message}");
}

#[test]
fn override_urls_are_checked() {
    assert_eq!(
        check_override_url("http://127.0.0.1:1/").unwrap(),
        "http://127.0.0.1:1"
    );
    assert!(check_override_url("ftp://x").is_err());
    assert!(check_override_url("http://").is_err());
    assert!(check_override_url("http://a b").is_err());
    assert!(check_override_url(&format!("http://{}", "a".repeat(3000))).is_err());
}

#[test]
fn the_map_resolves_keys_nodes_overrides_and_skips_bad_records() {
    let mut bad_key = record(4, "127.0.0.1:4");
    bad_key.public_key = vec![1, 2, 3];
    let snapshot = EndpointSnapshot {
        epoch: 7,
        records: vec![
            record(1, "127.0.0.1:1"),
            record(2, "not an address"),
            record(3, "127.0.0.1:3"),
            bad_key,
            record(1, "127.0.0.1:99"),
        ],
    };
    let overrides = HashMap::from([(key(3), "http://proxy:8".to_owned())]);
    let map = EndpointMap::resolve(snapshot, Scheme::Https, &overrides);
    assert_eq!(map.epoch(), 7);
    assert_eq!(
        map.iter().count(),
        3,
        "the bad key is left out, the duplicate too"
    );
    let one = map.by_key(&key(1)).unwrap();
    assert_eq!(one.url.as_deref(), Ok("https://127.0.0.1:1"));
    assert_eq!(one.network_public_key, vec![2; 33]);
    assert!(!one.overridden);
    assert_eq!(
        map.url_of(&ObjectId([1; 32]), &key(1)),
        Some("https://127.0.0.1:1")
    );
    let two = map.by_node(&ObjectId([2; 32])).unwrap();
    assert!(matches!(two.url, Err(AddressError::Malformed { .. })));
    assert_eq!(map.url_of(&ObjectId([2; 32]), &key(2)), None);
    let three = map.by_node(&ObjectId([3; 32])).unwrap();
    assert_eq!(three.url.as_deref(), Ok("http://proxy:8"));
    assert!(three.overridden);
    assert!(map.by_node(&ObjectId([4; 32])).is_none());
    // A committee key the pool no longer has is still found by node id.
    assert_eq!(
        map.url_of(&ObjectId([1; 32]), &key(9)),
        Some("https://127.0.0.1:1")
    );
}

/// A chain whose pools a test edits.
#[derive(Clone, Default)]
struct FakeChain {
    snapshot: Arc<Mutex<Option<EndpointSnapshot>>>,
    reads: Arc<AtomicUsize>,
}

impl FakeChain {
    fn set(&self, epoch: u32, address: &str) {
        *self.snapshot.lock().unwrap() = Some(EndpointSnapshot {
            epoch,
            records: vec![record(1, address), record(2, "127.0.0.1:2")],
        });
    }

    fn fail(&self) {
        *self.snapshot.lock().unwrap() = None;
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl EndpointSource for FakeChain {
    fn read(&self) -> BoxFuture<'_, Result<EndpointSnapshot, FloeError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let snapshot = self.snapshot.lock().unwrap().clone();
        Box::pin(async move { snapshot.ok_or_else(|| FloeError::Committee("chain down".into())) })
    }
}

fn url_of_one(map: &EndpointMap) -> String {
    map.url_of(&ObjectId([1; 32]), &key(1)).unwrap().to_owned()
}

fn config(refresh_ms: u64, min_refresh_ms: u64) -> DiscoveryConfig {
    DiscoveryConfig {
        scheme: Scheme::Http,
        refresh_ms,
        min_refresh_ms,
    }
}

#[tokio::test]
async fn an_address_changed_on_chain_is_followed_after_a_failure_or_an_epoch_change() {
    let chain = FakeChain::default();
    chain.set(3, "127.0.0.1:1");
    let cache = EndpointCache::new(chain.clone(), config(3_600_000, 0), HashMap::new());
    assert_eq!(
        url_of_one(&cache.current(Some(3)).await.unwrap()),
        "http://127.0.0.1:1"
    );
    assert_eq!(chain.reads(), 1);

    // The operator moves the node mid-epoch: the cache serves the old
    // address until a request fails...
    chain.set(3, "127.0.0.1:11");
    assert_eq!(
        url_of_one(&cache.current(Some(3)).await.unwrap()),
        "http://127.0.0.1:1"
    );
    assert_eq!(chain.reads(), 1, "fresh and not stale: no read");
    cache.stale_marker().mark();
    assert_eq!(
        url_of_one(&cache.current(Some(3)).await.unwrap()),
        "http://127.0.0.1:11"
    );
    assert_eq!(chain.reads(), 2);

    // ... or the committee moves to a newer epoch than the map's.
    chain.set(4, "127.0.0.1:12");
    assert_eq!(
        url_of_one(&cache.current(Some(3)).await.unwrap()),
        "http://127.0.0.1:11"
    );
    assert_eq!(
        url_of_one(&cache.current(Some(4)).await.unwrap()),
        "http://127.0.0.1:12"
    );
    assert_eq!(chain.reads(), 3);
    assert_eq!(
        url_of_one(&cache.current(None).await.unwrap()),
        "http://127.0.0.1:12"
    );
    assert_eq!(chain.reads(), 3);
}

#[tokio::test]
async fn the_map_is_re_read_when_old_and_kept_when_the_chain_fails() {
    let chain = FakeChain::default();
    chain.fail();
    let cache = EndpointCache::new(chain.clone(), config(50, 0), HashMap::new());
    assert!(cache.current(None).await.is_err(), "nothing cached yet");
    chain.set(1, "127.0.0.1:1");
    assert_eq!(
        url_of_one(&cache.current(None).await.unwrap()),
        "http://127.0.0.1:1"
    );
    chain.set(1, "127.0.0.1:21");
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(
        url_of_one(&cache.current(None).await.unwrap()),
        "http://127.0.0.1:21",
        "older than refresh_ms: re-read"
    );
    chain.fail();
    cache.mark_stale();
    assert_eq!(
        url_of_one(&cache.current(None).await.unwrap()),
        "http://127.0.0.1:21",
        "a failed re-read keeps the previous map"
    );
    // ... and is tried again at the next call, without waiting refresh_ms.
    chain.set(1, "127.0.0.1:22");
    assert_eq!(
        url_of_one(&cache.current(None).await.unwrap()),
        "http://127.0.0.1:22"
    );
}

#[tokio::test]
async fn re_reads_are_spaced_by_min_refresh() {
    let chain = FakeChain::default();
    chain.set(1, "127.0.0.1:1");
    let cache = EndpointCache::new(chain.clone(), config(3_600_000, 60_000), HashMap::new());
    cache.current(None).await.unwrap();
    for _ in 0..10 {
        cache.mark_stale();
        cache.current(Some(2)).await.unwrap();
    }
    assert_eq!(
        chain.reads(),
        1,
        "a dead node cannot make callers hammer the chain"
    );
}

#[test]
fn discovery_config_defaults_and_checks() {
    let c: DiscoveryConfig = serde_json::from_str("{}").unwrap();
    assert!(c.is_default());
    assert_eq!(c.scheme, Scheme::Http);
    let c: DiscoveryConfig = serde_json::from_str(r#"{"scheme": "https"}"#).unwrap();
    assert_eq!(c.scheme, Scheme::Https);
    assert!(serde_json::from_str::<DiscoveryConfig>(r#"{"scheme": "ftp"}"#).is_err());
    assert!(serde_json::from_str::<DiscoveryConfig>(r#"{"refresh": 1}"#).is_err());
    assert!(config(0, 0).validate().is_err());
    assert!(config(10, 20).validate().is_err());
    assert!(config(10, 10).validate().is_ok());
}
