//! A minimal HTTP/1.1 client over TCP (one request per connection), so the
//! tests need no HTTP client crate.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use floe_core::bls::BlsSecretKey;
use floe_core::move_types::ObjectId;
use floe_core::{Axis, BlobId, EncodedBlob, EncodingConfig, encode_blob, pair_to_shard};
use floe_node::api::router;
use floe_node::chain_view::{ChainView, CommitteeView};
use floe_node::config::Limits;
use floe_node::context::NodeContext;
use floe_node::store::{BlobObjectInfo, NodeStore};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Http(pub SocketAddr);

pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

impl Http {
    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None).await
    }
    pub async fn put(&self, path: &str, body: &[u8]) -> Reply {
        self.request("PUT", path, Some(body)).await
    }
    pub async fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.request("POST", path, Some(body)).await
    }

    pub async fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Reply {
        let mut stream = TcpStream::connect(self.0).await.unwrap();
        let body = body.unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            self.0,
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (413) and close before reading the body.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        parse(&raw)
    }
}

impl Http {
    /// Sends only the head of a request announcing `content_length` body
    /// bytes (with `content_type`, if any) and leaves the connection open:
    /// the server must answer without the body, or the caller sends it.
    pub async fn send_head(
        &self,
        method: &str,
        path: &str,
        content_length: usize,
        content_type: Option<&str>,
    ) -> TcpStream {
        let mut stream = TcpStream::connect(self.0).await.unwrap();
        let content_type = content_type
            .map(|t| format!("Content-Type: {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             {content_type}Content-Length: {content_length}\r\n\r\n",
            self.0,
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
    }
}

/// Reads the answer on `stream` (the server closes the connection).
pub async fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let rest = &raw[end + 4..];
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply { status, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

// The in-process node every API test starts.

pub const N: u16 = 10;
pub const EPOCH: u32 = 3;
pub const OWNED: [u16; 4] = [0, 3, 4, 8];

pub struct Fixture {
    pub http: Http,
    /// The node context behind the API (what the follower would drive).
    pub ctx: NodeContext,
    pub store: Arc<NodeStore>,
    pub key: BlsSecretKey,
    pub _dir: tempfile::TempDir,
}

pub async fn start(limits: Limits) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(NodeStore::open(dir.path()).unwrap());
    let committee = CommitteeView::new(EPOCH, N, OWNED).unwrap();
    let key = BlsSecretKey::from_seed(&[5; 32]);
    let ctx = NodeContext::new(
        store.clone(),
        ChainView::new(committee),
        BlsSecretKey::from_seed(&[5; 32]),
        &limits,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = ctx.clone();
    tokio::spawn(async move { axum::serve(listener, router(app, limits)).await });
    Fixture {
        http: Http(addr),
        ctx,
        store,
        key,
        _dir: dir,
    }
}

pub fn encoded(len: usize, seed: u8) -> EncodedBlob {
    let blob: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(13) ^ seed)
        .collect();
    encode_blob(&EncodingConfig::new(N).unwrap(), &blob).unwrap()
}

pub fn register(store: &NodeStore, id: &BlobId, object: u8, deletable: bool) {
    let info = BlobObjectInfo {
        deletable,
        registered_epoch: EPOCH,
        end_epoch: EPOCH + 5,
        certified_epoch: None,
        deleted: false,
    };
    store
        .put_blob_object(id, &ObjectId([object; 32]), &info, None)
        .unwrap();
}

pub fn metadata_body(blob: &EncodedBlob) -> Vec<u8> {
    bcs::to_bytes(blob.metadata.metadata()).unwrap()
}

/// The pair index whose shard this node owns / does not own.
pub fn pair_on(id: &BlobId, owned: bool) -> u16 {
    (0..N)
        .find(|&p| OWNED.contains(&pair_to_shard(p, id, N)) == owned)
        .unwrap()
}

pub fn sliver_path(id: &BlobId, pair: u16, axis: Axis) -> String {
    format!("/v1/blobs/{id}/slivers/{pair}/{axis}")
}

pub fn sliver_body(blob: &EncodedBlob, pair: u16, axis: Axis) -> Vec<u8> {
    match axis {
        Axis::Primary => blob.primary[usize::from(pair)].to_bcs(),
        Axis::Secondary => blob.secondary[usize::from(N - 1 - pair)].to_bcs(),
    }
}

pub fn assert_error(reply: &Reply, status: u16, reason: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["error"]["details"][0]["reason"], reason, "{json}");
}
