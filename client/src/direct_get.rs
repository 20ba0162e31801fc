//! A sliver GET over plain HTTP/1.1 whose data go from the socket straight
//! into their place.
//!
//! Why: hyper receives a body into a buffer of its own and hands it out in
//! chunks, so a row read into place crossed the reader's memory twice: the
//! kernel's copy into hyper's buffer, then ours into the row (in a profile
//! of 100 MiB reads on a devnet, that second copy was the largest single
//! cost of the reading process after verification). Here the answer's head
//! is read into a small buffer and parsed (`httparse`), and once the
//! sliver's length prefix is known every `read` of the socket lands in the
//! row's own bytes; only the few header and trailer bytes go through a
//! scratch buffer.
//!
//! It handles what a node answers with, and nothing more: `http://` URLs
//! and a body with a `Content-Length`. Anything else (https, a chunked
//! answer) is [`DirectError::Unsupported`], the caller's cue to use the
//! general client. Connections are kept alive in a small pool per host; a
//! request on a pooled connection that the node closed in the meantime is
//! sent again once on a fresh one (a GET is safe to repeat, and nothing of
//! the answer had arrived).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use reqwest::{StatusCode, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::ClientLimits;
use crate::sliver_body::IncomingSliver;

/// Largest answer head (status line and headers) accepted.
const MAX_HEAD_BYTES: usize = 16 << 10;
/// Most headers parsed in an answer.
const MAX_HEADERS: usize = 64;
/// Largest error body read (a node's JSON status object).
const MAX_ERROR_BODY: u64 = 1 << 20;

/// Why a direct GET failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DirectError {
    /// No connection could be made.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The connection failed or closed during the exchange.
    #[error("connection failed: {0}")]
    Io(std::io::Error),
    /// The whole exchange took longer than the request timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The answer announced more bytes than allowed.
    #[error("answer larger than {0} bytes")]
    TooLarge(u64),
    /// Not a well-formed answer, or not the sliver expected.
    #[error("{0}")]
    Malformed(String),
    /// An error status, with its body (at most [`MAX_ERROR_BODY`] bytes).
    #[error("{status}")]
    Status { status: StatusCode, body: Vec<u8> },
    /// Nothing wrong, but not what this client handles: use the general
    /// one (nothing was written to the destination).
    #[error("{0}")]
    Unsupported(String),
}

/// Where a connection goes: host and port of the URL.
type HostKey = (String, u16);

/// Kept-alive connections by host, and the limits of every exchange.
#[derive(Debug)]
pub(crate) struct DirectHttp {
    idle: Mutex<HashMap<HostKey, Vec<TcpStream>>>,
    max_idle_per_host: usize,
    connect_timeout: Duration,
    request_timeout: Duration,
}

/// How one exchange on one connection ended badly.
enum Attempt {
    /// The connection was dead before any byte of the answer came (a
    /// pooled one the node had closed): worth one more try.
    Stale(std::io::Error),
    /// Anything else.
    Failed(DirectError),
}

impl From<DirectError> for Attempt {
    fn from(e: DirectError) -> Self {
        Attempt::Failed(e)
    }
}

impl DirectHttp {
    /// A pool with the client's timeouts, keeping as many idle connections
    /// per node as requests may run at once.
    pub(crate) fn new(limits: &ClientLimits) -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
            max_idle_per_host: limits.max_concurrent_requests.max(1),
            connect_timeout: Duration::from_millis(limits.connect_timeout_ms),
            request_timeout: Duration::from_millis(limits.request_timeout_ms),
        }
    }

    /// GET `url`, whose answer must be the BCS of a sliver of exactly
    /// `expected` data bytes in a body of at most `max_body` bytes; the
    /// data are appended to `dest`. The sliver's `(symbol_size, index)`.
    pub(crate) async fn get_sliver_into(
        &self,
        url: &Url,
        max_body: u64,
        expected: usize,
        dest: &mut BytesMut,
    ) -> Result<(u16, u16), DirectError> {
        let key = host_key(url)?;
        let request = request_head(url);
        let start = dest.len();
        let exchange = async {
            if let Some(connection) = self.take_idle(&key) {
                match exchange(connection, &request, max_body, expected, dest).await {
                    Err(Attempt::Stale(e)) => {
                        tracing::debug!(host = %key.0, error = %e, "pooled connection was closed");
                        dest.truncate(start);
                    }
                    Err(Attempt::Failed(e)) => return Err(e),
                    Ok((connection, parts)) => {
                        self.put_idle(key, connection);
                        return Ok(parts);
                    }
                }
            }
            let connection = self.connect(&key).await?;
            match exchange(connection, &request, max_body, expected, dest).await {
                Ok((connection, parts)) => {
                    self.put_idle(key, connection);
                    Ok(parts)
                }
                Err(Attempt::Stale(e)) => Err(DirectError::Io(e)),
                Err(Attempt::Failed(e)) => Err(e),
            }
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| DirectError::Timeout(self.request_timeout))?
    }

    fn take_idle(&self, key: &HostKey) -> Option<TcpStream> {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(key)?
            .pop()
    }

    fn put_idle(&self, key: HostKey, connection: Option<TcpStream>) {
        let Some(connection) = connection else {
            return;
        };
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let pool = idle.entry(key).or_default();
        if pool.len() < self.max_idle_per_host {
            pool.push(connection);
        }
    }

    async fn connect(&self, key: &HostKey) -> Result<TcpStream, DirectError> {
        // `host_str` writes an IPv6 address in brackets; connecting wants it bare.
        let host = key.0.trim_start_matches('[').trim_end_matches(']');
        let connecting = TcpStream::connect((host, key.1));
        let connection = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| {
                DirectError::Connect(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within {:?}", self.connect_timeout),
                ))
            })?
            .map_err(DirectError::Connect)?;
        // One small request per exchange: send it at once.
        connection.set_nodelay(true).map_err(DirectError::Connect)?;
        Ok(connection)
    }
}

/// Host and port of a URL this client can fetch.
fn host_key(url: &Url) -> Result<HostKey, DirectError> {
    if url.scheme() != "http" {
        return Err(DirectError::Unsupported(format!(
            "{} is not plain HTTP",
            url.scheme()
        )));
    }
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => Ok((host.to_owned(), port)),
        _ => Err(DirectError::Unsupported(format!("{url} names no host"))),
    }
}

/// The request's bytes: a GET of the URL's path and query.
fn request_head(url: &Url) -> Vec<u8> {
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let host = url.host_str().unwrap_or_default();
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/octet-stream\r\n\
         User-Agent: floe-client/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// Bytes of the BCS of a sliver of `data` bytes: the length as ULEB128,
/// the data, symbol size and index (two bytes each).
fn sliver_body_len(data: usize) -> u64 {
    let bits = usize::BITS - data.leading_zeros();
    let prefix = bits.div_ceil(7).max(1);
    u64::from(prefix) + data as u64 + 4
}

/// What the head of an answer says.
struct Head {
    status: StatusCode,
    content_length: Option<u64>,
    chunked: bool,
    keep_alive: bool,
    /// Bytes of the head; what follows them in the buffer is body.
    len: usize,
}

/// Parses `bytes` as an answer's head, `None` while it is incomplete.
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, DirectError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(DirectError::Malformed(format!(
                "not an HTTP/1.1 answer: {e}"
            )));
        }
    };
    let code = response.code.unwrap_or_default();
    let status = StatusCode::from_u16(code)
        .map_err(|_| DirectError::Malformed(format!("status {code} is not an HTTP status")))?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
        keep_alive: response.version == Some(1),
        len,
    };
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or_default().trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            let length: u64 = value.parse().map_err(|_| {
                DirectError::Malformed(format!("Content-Length {value:?} is not a number"))
            })?;
            if head.content_length.is_some_and(|l| l != length) {
                return Err(DirectError::Malformed(
                    "two different Content-Length headers".to_owned(),
                ));
            }
            head.content_length = Some(length);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = true;
        } else if header.name.eq_ignore_ascii_case("connection") {
            head.keep_alive &= !value.eq_ignore_ascii_case("close");
        }
    }
    Ok(Some(head))
}

/// One request and its answer on `connection`; the connection back when
/// it can carry another.
async fn exchange(
    mut connection: TcpStream,
    request: &[u8],
    max_body: u64,
    expected: usize,
    dest: &mut BytesMut,
) -> Result<(Option<TcpStream>, (u16, u16)), Attempt> {
    if let Err(e) = connection.write_all(request).await {
        return Err(Attempt::Stale(e));
    }
    let mut buffer = BytesMut::with_capacity(8 << 10);
    let head = loop {
        let room = MAX_HEAD_BYTES - buffer.len();
        let read = match connection.read_buf(&mut (&mut buffer).limit(room)).await {
            Ok(read) => read,
            Err(e) if buffer.is_empty() => return Err(Attempt::Stale(e)),
            Err(e) => return Err(DirectError::Io(e).into()),
        };
        if read == 0 {
            if buffer.is_empty() {
                return Err(Attempt::Stale(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "closed before answering",
                )));
            }
            return Err(DirectError::Malformed(
                "the connection closed in the middle of the answer's head".to_owned(),
            )
            .into());
        }
        if let Some(head) = parse_head(&buffer)? {
            break head;
        }
        if buffer.len() >= MAX_HEAD_BYTES {
            return Err(DirectError::Malformed(format!(
                "the answer's head is longer than {MAX_HEAD_BYTES} bytes"
            ))
            .into());
        }
    };
    let early = buffer.split_off(head.len);
    if head.chunked {
        return Err(DirectError::Unsupported("a chunked answer".to_owned()).into());
    }
    let Some(length) = head.content_length else {
        return Err(DirectError::Unsupported("an answer without Content-Length".to_owned()).into());
    };
    if early.len() as u64 > length {
        return Err(DirectError::Malformed(format!(
            "more bytes than the answer's Content-Length of {length}"
        ))
        .into());
    }
    if !head.status.is_success() {
        if length > MAX_ERROR_BODY {
            return Err(DirectError::TooLarge(MAX_ERROR_BODY).into());
        }
        let mut body = early.to_vec();
        let rest = length as usize - body.len();
        body.resize(length as usize, 0);
        let at = body.len() - rest;
        connection
            .read_exact(&mut body[at..])
            .await
            .map_err(DirectError::Io)?;
        return Err(DirectError::Status {
            status: head.status,
            body,
        }
        .into());
    }
    if length > max_body {
        return Err(DirectError::TooLarge(max_body).into());
    }
    let body_len = sliver_body_len(expected);
    if length != body_len {
        return Err(DirectError::Malformed(format!(
            "a Content-Length of {length} where a sliver of {expected} bytes takes {body_len}"
        ))
        .into());
    }
    let malformed = |e: String| Attempt::Failed(DirectError::Malformed(e));
    let mut incoming = IncomingSliver::new(expected);
    incoming.push(&early, dest).map_err(malformed)?;
    let mut left = length - early.len() as u64;
    let mut scratch = [0u8; 64];
    while left > 0 {
        let wanted = incoming.data_wanted();
        let read = if wanted > 0 {
            // The sliver's data, from the socket into their place.
            let want = usize::try_from(left).map_or(wanted, |left| wanted.min(left));
            let read = connection
                .read_buf(&mut (&mut *dest).limit(want))
                .await
                .map_err(DirectError::Io)?;
            incoming.took_data(read);
            read
        } else {
            let want = usize::try_from(left).map_or(scratch.len(), |l| l.min(scratch.len()));
            let read = connection
                .read(&mut scratch[..want])
                .await
                .map_err(DirectError::Io)?;
            incoming.push(&scratch[..read], dest).map_err(malformed)?;
            read
        };
        if read == 0 {
            return Err(DirectError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the answer ended {left} bytes before its Content-Length of {length}"),
            ))
            .into());
        }
        left -= read as u64;
    }
    let parts = incoming.finish().map_err(malformed)?;
    Ok((head.keep_alive.then_some(connection), parts))
}

#[cfg(test)]
mod tests;
