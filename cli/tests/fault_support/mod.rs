//! Shared by the fault tests: a fault-injecting TCP proxy; process
//! signals, deterministic blob contents and a node's catch-up check come
//! from `floe_testkit::devnet`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use floe_testkit::devnet::{caught_up, get, pseudo_random, recovery_queue, signal, wait_gone};

/// What the proxy does to a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Forwards both ways untouched.
    Pass = 0,
    /// Holds every answer back for two seconds.
    Delay = 1,
    /// Accepts and resets the connection at once (RST).
    Reset = 2,
    /// Forwards the request, then only the first 200 bytes of the answer,
    /// then closes.
    Truncate = 3,
    /// Forwards answers 512 bytes every 50 ms.
    SlowBody = 4,
    /// Accepts and never answers (a partition that still completes the
    /// TCP handshake, the worst kind for a client).
    Blackhole = 5,
}

impl Fault {
    fn from_u8(v: u8) -> Fault {
        match v {
            1 => Fault::Delay,
            2 => Fault::Reset,
            3 => Fault::Truncate,
            4 => Fault::SlowBody,
            5 => Fault::Blackhole,
            _ => Fault::Pass,
        }
    }
}

/// A TCP proxy in front of `upstream` whose behaviour for new connections
/// is switched with [`FaultProxy::set`].
pub struct FaultProxy {
    pub url: String,
    mode: Arc<AtomicU8>,
    /// Connections accepted so far (proof that traffic went through it).
    pub connections: Arc<AtomicUsize>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(Fault::Pass as u8));
        let connections = Arc::new(AtomicUsize::new(0));
        let (m, c) = (mode.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let fault = Fault::from_u8(m.load(Ordering::SeqCst));
                tokio::spawn(handle(client, upstream, fault));
            }
        });
        FaultProxy {
            url,
            mode,
            connections,
        }
    }

    pub fn set(&self, fault: Fault) {
        self.mode.store(fault as u8, Ordering::SeqCst);
    }
}

async fn handle(client: TcpStream, upstream: SocketAddr, fault: Fault) {
    match fault {
        Fault::Reset => {
            let _ = client.set_zero_linger();
            drop(client);
        }
        Fault::Blackhole => {
            let mut client = client;
            let mut sink = [0u8; 4096];
            while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        _ => {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                let _ = server_write.shutdown().await;
            });
            if fault == Fault::Delay {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            let mut buf = vec![0u8; 16 << 10];
            let mut sent = 0usize;
            loop {
                let n = match server_read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                let ok = match fault {
                    Fault::Truncate => {
                        let room = 200usize.saturating_sub(sent);
                        let part = &chunk[..room.min(n)];
                        let _ = client_write.write_all(part).await;
                        sent += part.len();
                        sent < 200
                    }
                    Fault::SlowBody => {
                        let mut ok = true;
                        for piece in chunk.chunks(512) {
                            if client_write.write_all(piece).await.is_err() {
                                ok = false;
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        ok
                    }
                    _ => client_write.write_all(chunk).await.is_ok(),
                };
                if !ok {
                    break;
                }
            }
            let _ = client_write.shutdown().await;
        }
    }
}
