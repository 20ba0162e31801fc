//! The direct GET against a scripted server: each accepted connection
//! answers the requests it reads with the next scripted answers, written
//! in pieces, and the test sees how many connections were made.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use floe_core::encoding::PrimarySliver;
use tokio::net::TcpListener;

use super::*;

/// What one connection does with the requests it reads.
#[derive(Clone)]
enum Script {
    /// Answers every request with these bytes, cut into pieces of at most
    /// `piece` bytes, and keeps the connection open.
    Answer { bytes: Vec<u8>, piece: usize },
    /// Answers one request, then closes the connection.
    AnswerOnceThenClose(Vec<u8>),
    /// Reads the request and never answers.
    Silent,
}

/// A server on loopback following `script` on every connection; its URL
/// and its count of connections.
async fn server(script: Script) -> (Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                loop {
                    let mut chunk = [0u8; 1024];
                    let Ok(read) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&chunk[..read]);
                    if !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        continue;
                    }
                    request.clear();
                    match &script {
                        Script::Answer { bytes, piece } => {
                            for part in bytes.chunks(*piece) {
                                if socket.write_all(part).await.is_err() {
                                    return;
                                }
                                tokio::task::yield_now().await;
                            }
                        }
                        Script::AnswerOnceThenClose(bytes) => {
                            let _ = socket.write_all(bytes).await;
                            return;
                        }
                        Script::Silent => {}
                    }
                }
            });
        }
    });
    let url = Url::parse(&format!(
        "http://{address}/base/v1/blobs/x/slivers/3/primary"
    ))
    .unwrap();
    (url, connections)
}

fn limits() -> ClientLimits {
    ClientLimits {
        request_timeout_ms: 2_000,
        connect_timeout_ms: 1_000,
        ..ClientLimits::default()
    }
}

/// An answer with `status`, `headers` and `body`.
fn answer(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for header in headers {
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn sliver_of(len: usize) -> PrimarySliver {
    let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    PrimarySliver::new(data, 4, 3).unwrap()
}

fn ok_answer(body: &[u8]) -> Vec<u8> {
    answer(
        "200 OK",
        &[
            "content-type: application/octet-stream",
            &format!("content-length: {}", body.len()),
        ],
        body,
    )
}

#[tokio::test]
async fn a_sliver_arrives_in_place_and_the_connection_is_reused() {
    let sliver = sliver_of(40_000);
    for piece in [1, 7, 1000, 1 << 20] {
        let (url, connections) = server(Script::Answer {
            bytes: ok_answer(&sliver.to_bcs()),
            piece,
        })
        .await;
        let direct = DirectHttp::new(&limits());
        for _ in 0..3 {
            let mut dest = BytesMut::with_capacity(40_000);
            let start = dest.as_ptr();
            let parts = direct
                .get_sliver_into(&url, 1 << 20, 40_000, &mut dest)
                .await
                .unwrap();
            assert_eq!(parts, (4, 3));
            assert_eq!(&dest[..], sliver.data());
            assert_eq!(dest.as_ptr(), start, "received into the buffer given");
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1, "piece {piece}");
    }
}

#[tokio::test]
async fn a_connection_the_node_closed_is_replaced() {
    let sliver = sliver_of(400);
    let (url, connections) = server(Script::AnswerOnceThenClose(ok_answer(&sliver.to_bcs()))).await;
    let direct = DirectHttp::new(&limits());
    for _ in 0..3 {
        let mut dest = BytesMut::with_capacity(400);
        direct
            .get_sliver_into(&url, 1 << 20, 400, &mut dest)
            .await
            .unwrap();
        assert_eq!(&dest[..], sliver.data());
        // Let the server's close reach the pooled connection.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn error_statuses_come_back_with_their_body() {
    let body = br#"{"error":{"status":"NOT_FOUND","code":404,"message":"no such sliver"}}"#;
    let (url, _) = server(Script::Answer {
        bytes: answer(
            "404 Not Found",
            &[&format!("Content-Length: {}", body.len())],
            body,
        ),
        piece: 10,
    })
    .await;
    let mut dest = BytesMut::with_capacity(16);
    match DirectHttp::new(&limits())
        .get_sliver_into(&url, 1 << 20, 16, &mut dest)
        .await
    {
        Err(DirectError::Status { status, body: got }) => {
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert_eq!(got, body);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn what_it_does_not_handle_is_left_to_the_general_client() {
    let (url, _) = server(Script::Answer {
        bytes: answer("200 OK", &["Transfer-Encoding: chunked"], b"0\r\n\r\n"),
        piece: 100,
    })
    .await;
    let direct = DirectHttp::new(&limits());
    let mut dest = BytesMut::with_capacity(16);
    let got = direct.get_sliver_into(&url, 1 << 20, 16, &mut dest).await;
    assert!(matches!(got, Err(DirectError::Unsupported(_))), "{got:?}");
    assert!(dest.is_empty());
    let https = Url::parse("https://127.0.0.1:1/v1").unwrap();
    let got = direct.get_sliver_into(&https, 1 << 20, 16, &mut dest).await;
    assert!(matches!(got, Err(DirectError::Unsupported(_))), "{got:?}");
}

#[tokio::test]
async fn bad_answers_are_refused_with_a_reason() {
    let sliver = sliver_of(400);
    let bcs = sliver.to_bcs();
    let direct = DirectHttp::new(&limits());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Announces more than allowed.
        (
            answer("200 OK", &["Content-Length: 99999999"], b""),
            "larger than",
        ),
        // A sliver of another length.
        (
            ok_answer(&sliver_of(396).to_bcs()),
            "where a sliver of 400 bytes takes 406",
        ),
        // A Content-Length short of the sliver it carries.
        (
            answer(
                "200 OK",
                &[&format!("Content-Length: {}", bcs.len() - 10)],
                &bcs[..bcs.len() - 10],
            ),
            "Content-Length of 396 where",
        ),
        // Two lengths.
        (
            answer("200 OK", &["Content-Length: 4", "Content-Length: 5"], b""),
            "two different",
        ),
        // Not HTTP.
        (b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), "not an HTTP"),
        // A head without end.
        (
            [b"HTTP/1.1 200 OK\r\n".as_slice(), &[b'a'; 20_000]].concat(),
            "longer than 16384",
        ),
    ];
    for (bytes, expected) in cases {
        let (url, _) = server(Script::Answer { bytes, piece: 4096 }).await;
        let mut dest = BytesMut::with_capacity(400);
        let err = direct
            .get_sliver_into(&url, 1 << 20, 400, &mut dest)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} (wanted {expected:?})"
        );
        assert!(dest.len() <= 400);
    }
}

#[test]
fn the_body_length_of_a_sliver_is_its_bcs_length() {
    for len in [0, 1, 127, 128, 16_383, 16_384, 40_000, 3 << 20] {
        let data = vec![0u8; len * 2];
        let bcs = PrimarySliver::new(data, 2, 0).unwrap().to_bcs();
        assert_eq!(sliver_body_len(len * 2), bcs.len() as u64, "{len}");
    }
}

#[tokio::test]
async fn an_answer_cut_short_or_never_sent_fails_in_time() {
    let sliver = sliver_of(400);
    let mut cut = ok_answer(&sliver.to_bcs());
    cut.truncate(cut.len() - 50);
    let (url, _) = server(Script::AnswerOnceThenClose(cut)).await;
    let direct = DirectHttp::new(&limits());
    let mut dest = BytesMut::with_capacity(400);
    let err = direct
        .get_sliver_into(&url, 1 << 20, 400, &mut dest)
        .await
        .unwrap_err();
    assert!(matches!(err, DirectError::Io(_)), "{err:?}");

    let (url, _) = server(Script::Silent).await;
    let quick = DirectHttp::new(&ClientLimits {
        request_timeout_ms: 200,
        ..limits()
    });
    let err = quick
        .get_sliver_into(&url, 1 << 20, 400, &mut BytesMut::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DirectError::Timeout(_)), "{err:?}");

    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let url = Url::parse(&format!("http://{address}/v1")).unwrap();
    let err = direct
        .get_sliver_into(&url, 1 << 20, 400, &mut BytesMut::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DirectError::Connect(_)), "{err:?}");
}
