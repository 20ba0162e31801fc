//! Raw HTTP/1.1 over `std::net` (one request per connection), so tests need
//! no HTTP client and see exactly the status and bytes a server sent.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::process::Proc;

/// How long a connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server may take to answer (a node may wait for a chain
/// event before it answers).
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A free TCP port on 127.0.0.1 (bound and released: a small race with
/// other processes is accepted; configs need the port before start).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A request; panics if the server cannot be reached or sends no HTTP.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    try_request(addr, method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// A request with a 10 s connect and 60 s read budget; returns status and
/// body (not de-chunked).
pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    s.set_read_timeout(Some(READ_TIMEOUT))?;
    s.set_write_timeout(Some(READ_TIMEOUT))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    // The server may answer (e.g. 413) and close before reading the body.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    Ok((status, raw[end + 4..].to_vec()))
}

/// `GET path` that must answer 200 with JSON; returns the JSON.
pub fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = request(addr, "GET", path, b"");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {}", String::from_utf8_lossy(&body)))
}

/// `PUT path` with a JSON body; returns status and the answer as JSON
/// (`Null` if it is not JSON).
pub fn put_json(
    addr: SocketAddr,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, answer) = request(addr, "PUT", path, body.to_string().as_bytes());
    (
        status,
        serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null),
    )
}

/// The error reason of a JSON error body (Walrus's error shape).
pub fn reason(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("JSON error body");
    v["error"]["details"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Waits until `GET path` on `addr` answers 200, for at most `limit`;
/// panics with the end of `proc`'s log otherwise.
pub fn wait_healthy(addr: SocketAddr, path: &str, limit: Duration, proc: Option<&Proc>) {
    let start = std::time::Instant::now();
    loop {
        if matches!(try_request(addr, "GET", path, b""), Ok((200, _))) {
            return;
        }
        if start.elapsed() > limit {
            panic!(
                "{addr}{path} did not answer 200 within {limit:?}; log:\n{}",
                proc.map(|p| p.log_tail(6000)).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
