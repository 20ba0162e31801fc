//! Shared by the fault tests: a fault-injecting TCP proxy, process
//! signals, deterministic blob contents and a node's catch-up check.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

/// Blob contents regenerated from a seed (xorshift), so a check needs no
/// copy kept on the side.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `sig` (`-STOP`, `-KILL`, ...) to `pid`.
pub fn signal(pid: i32, sig: &str) {
    assert!(
        Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success(),
        "kill {sig} {pid}"
    );
}

/// Waits until `pid` has exited (a zombie not yet reaped counts).
pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(") Z ") {
            return;
        }
        assert!(Instant::now() < deadline, "process {pid} did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET url` with a 5 s budget: the status and the body.
pub fn get(url: &str) -> Option<(u16, String)> {
    let out = Command::new("curl")
        .args(["-s", "-m", "5", "-w", "\n%{http_code}", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.trim().parse().ok()?, body.to_owned()))
}

/// The value of an unlabelled Prometheus metric.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A node's recovery queue (blobs it still has to fetch slivers of).
pub fn recovery_queue(url: &str) -> Option<f64> {
    get(&format!("{url}/metrics"))
        .filter(|(code, _)| *code == 200)
        .and_then(|(_, text)| metric(&text, "floe_node_recovery_queue"))
}

/// Health 200, follower lag under 5 s, nothing queued for recovery.
pub fn caught_up(url: &str) -> bool {
    matches!(get(&format!("{url}/v1/health")), Some((200, _)))
        && get(&format!("{url}/metrics")).is_some_and(|(code, text)| {
            code == 200
                && metric(&text, "floe_node_follower_lag_ms").is_some_and(|v| v < 5_000.0)
                && metric(&text, "floe_node_recovery_queue").is_some_and(|v| v == 0.0)
        })
}
