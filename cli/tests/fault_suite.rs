//! Fault suite (slow: one devnet, about two minutes): a fault-injecting TCP
//! proxy stands between clients and one storage node (25 of 100 shards,
//! f = 33) and, mode by mode, delays its answers, resets connections, cuts
//! answers short, trickles them, or swallows requests and never answers (a
//! partition). In every mode a store through that node's proxy must be
//! acknowledged and read back byte for byte, and a blob stored before the
//! fault must stay readable. Then the ledger is paused (SIGSTOP) in the
//! middle of a store: once it resumes, the store completes and the blob
//! reads back, and blobs acknowledged before are unharmed.
//!
//! Node-to-node traffic is not proxied (nodes find each other on chain);
//! the faults here are the ones a client meets. Kill -9 of nodes and of
//! Postgres during ingest are in `client_e2e`, `node_e2e` and the
//! indexer's `pipeline` tests; the soak (`scripts/soak/run`) combines them
//! under load.

mod devnet_support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use devnet_support::{Running, floe, pid_of};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Fault {
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

struct FaultProxy {
    url: String,
    mode: Arc<AtomicU8>,
    connections: Arc<AtomicUsize>,
}

impl FaultProxy {
    async fn start(upstream: SocketAddr) -> FaultProxy {
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

    fn set(&self, fault: Fault) {
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

struct Devnet {
    _process: Running,
    dir: tempfile::TempDir,
}

impl Devnet {
    fn try_run(&self, config: &Path, args: &[&str]) -> Output {
        floe()
            .arg("--json")
            .args(args)
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .output()
            .expect("run floe")
    }

    fn run(&self, config: &Path, args: &[&str]) -> Vec<u8> {
        let out = self.try_run(config, args);
        assert!(
            out.status.success(),
            "floe {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn store(&self, config: &Path, data: &[u8], tag: &str) -> String {
        let file = self.dir.path().join(format!("blob-{tag}"));
        std::fs::write(&file, data).unwrap();
        let v: Value = serde_json::from_slice(&self.run(
            config,
            &["store", file.to_str().unwrap(), "--yes", "--epochs", "3"],
        ))
        .unwrap();
        v[0]["newlyCreated"]["blobObject"]["blobId"]
            .as_str()
            .unwrap_or_else(|| panic!("stored: {v}"))
            .to_owned()
    }

    fn read(&self, config: &Path, blob_id: &str) -> Vec<u8> {
        let out = self.dir.path().join(format!("read-{blob_id}"));
        self.run(config, &["read", blob_id, "--out", out.to_str().unwrap()]);
        std::fs::read(out).unwrap()
    }
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
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

fn signal(pid: i32, sig: &str) {
    assert!(
        Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn client_faults_at_one_node_and_a_paused_ledger_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (process, _ready) = devnet_support::start(dir.path(), &["--no-indexer", "--nodes", "4"]);
    let net = Devnet {
        _process: process,
        dir,
    };
    let manifest = devnet_support::manifest(net.dir.path());
    let node = &manifest["nodes"][0];
    let upstream: SocketAddr = node["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(FaultProxy::start(upstream));
    let plain: PathBuf = net.dir.path().join("client.yaml");
    let yaml = std::fs::read_to_string(&plain).unwrap();
    let faulty = net.dir.path().join("faulty.yaml");
    std::fs::write(
        &faulty,
        format!(
            "{yaml}node_overrides:\n  - public_key: \"{}\"\n    url: \"{}\"\n",
            node["public_key"].as_str().unwrap(),
            proxy.url
        ),
    )
    .unwrap();

    let before = pseudo_random(120_000, 1);
    let before_id = net.store(&plain, &before, "before");
    let mut stored = vec![(before_id, before)];
    for (i, fault) in [
        Fault::Pass,
        Fault::Delay,
        Fault::Reset,
        Fault::Truncate,
        Fault::SlowBody,
        Fault::Blackhole,
    ]
    .into_iter()
    .enumerate()
    {
        proxy.set(fault);
        let connections = proxy.connections.load(Ordering::SeqCst);
        let data = pseudo_random(100_000 + i * 7_919, 10 + i as u64);
        let id = net.store(&faulty, &data, &format!("{fault:?}"));
        assert!(
            net.read(&faulty, &id) == data,
            "{fault:?}: the blob stored through the fault reads back"
        );
        for (old_id, old) in &stored {
            assert!(
                net.read(&faulty, old_id) == *old,
                "{fault:?}: an earlier blob reads back"
            );
        }
        assert!(
            proxy.connections.load(Ordering::SeqCst) > connections,
            "{fault:?}: the faulty node was reached through the proxy"
        );
        stored.push((id, data));
    }
    proxy.set(Fault::Pass);

    // The ledger paused in the middle of a store.
    let ledger = pid_of(&manifest, "ledger");
    let data = pseudo_random(150_000, 99);
    let file = net.dir.path().join("paused");
    std::fs::write(&file, &data).unwrap();
    let store = floe()
        .args([
            "--json",
            "store",
            file.to_str().unwrap(),
            "--yes",
            "--config",
        ])
        .arg(&plain)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(ledger, "-STOP");
    std::thread::sleep(Duration::from_secs(3));
    signal(ledger, "-CONT");
    let out = store.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "a store across a 3 s ledger pause completes: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v[0]["newlyCreated"]["blobObject"]["blobId"]
        .as_str()
        .unwrap_or_else(|| panic!("stored: {v}"))
        .to_owned();
    assert!(net.read(&plain, &id) == data, "the paused store reads back");
    for (old_id, old) in &stored {
        assert!(
            net.read(&plain, old_id) == *old,
            "blobs acknowledged before the pause read back"
        );
    }
    drop(runtime);
}
