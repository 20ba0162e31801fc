//! The explorer in a real browser: one `floe devnet` (ledger, nodes,
//! indexer, explorer as processes), three blobs stored with `floe store`,
//! one deleted with `floe delete`, one given an attribute; then headless
//! Chromium (through chromedriver) opens every page and checks what a
//! person would see: no console errors, search finding the blob by each
//! kind of key, paging reaching the last item, the deleted blob shown
//! deleted, charts drawn with data, a node's parameter proposal listed
//! (filtered too) and shown with its tally picture and vote. A screenshot of each page goes to
//! `$CARGO_TARGET_DIR/explorer-screenshots/`.
//!
//! Skips (loudly) only when Chromium, chromedriver or PostgreSQL is not
//! installed; `.ci/run` installs all three.

use floe_testkit::devnet as devnet_support;
mod webdriver;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use devnet_support::floe;
use serde_json::Value;
use webdriver::Browser;

const SHARDS: usize = 8;

/// `target/explorer-screenshots`, next to the test binaries.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // target/debug/floe -> target
            floe_testkit::floe_bin()
                .ancestors()
                .nth(2)
                .expect("target dir")
                .to_path_buf()
        });
    let dir = target.join("explorer-screenshots");
    std::fs::create_dir_all(&dir).expect("create screenshot dir");
    dir
}

fn run_json(dir: &Path, args: &[&str]) -> Value {
    let out = floe()
        .arg("--json")
        .args(args)
        .arg("--config")
        .arg(dir.join("client.yaml"))
        .stdin(Stdio::null())
        .output()
        .expect("run floe");
    assert!(
        out.status.success(),
        "floe {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        devnet_support::logs(dir)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Polls the indexer until `ready` accepts its answer for `path`.
async fn wait_indexed(indexer: &str, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = reqwest::get(format!("{indexer}{path}")).await
            && r.status().is_success()
            && let Ok(v) = r.json::<Value>().await
            && ready(&v["data"])
        {
            return v["data"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the indexer never showed {path} as expected"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A link's target as a full URL (attributes hold what the page wrote).
fn absolute(explorer: &str, href: &str) -> String {
    if href.starts_with('/') {
        format!("{}{href}", explorer.trim_end_matches('/'))
    } else {
        href.to_owned()
    }
}

/// Opens `url`, checks the console is clean, saves a screenshot as `name`.
async fn visit(browser: &Browser, url: &str, name: &str, shots: &Path) {
    browser.goto(url).await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "{url}: console errors {errors:?}");
    browser.screenshot(&shots.join(format!("{name}.png"))).await;
}

/// Types `key` into the search box of the current page and submits it;
/// returns the URL it leads to.
async fn search(browser: &Browser, explorer: &str, key: &str) -> String {
    browser.goto(explorer).await;
    let input = browser.find("header input[name=q]").await;
    browser.type_into(&input, key).await;
    let button = browser.find("header button[type=submit]").await;
    browser.click(&button).await;
    // The form submits asynchronously from the driver's view.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = browser.url().await;
        if !url
            .trim_end_matches('/')
            .ends_with(explorer.trim_end_matches('/'))
        {
            return url;
        }
        assert!(Instant::now() < deadline, "search for {key} went nowhere");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_pages_work_in_a_real_browser() {
    let Some((chromium, driver)) = webdriver::find_browser() else {
        eprintln!(
            "\n!!! SKIPPED explorer_browser: chromium and chromedriver are not installed \
             (Debian: apt-get install chromium chromium-driver; .ci/run installs them) !!!\n"
        );
        return;
    };
    if floe_indexer::postgres::find_bindir().is_none() && std::env::var_os("DATABASE_URL").is_none()
    {
        eprintln!(
            "\n!!! SKIPPED explorer_browser: PostgreSQL is not installed, so the devnet has no \
             indexer to explore (apt-get install postgresql; .ci/run installs it) !!!\n"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let (_devnet, ready) = devnet_support::start(
        &dir,
        &["--nodes", "4", "--shards", "8", "--epoch-duration", "8s"],
    );
    let explorer = ready["explorer"]
        .as_str()
        .unwrap_or_else(|| panic!("no explorer in the ready line {ready}"))
        .to_owned();
    let manifest = devnet_support::manifest(&dir);
    assert_eq!(manifest["explorer_url"], explorer.as_str());
    let indexer = ready["indexer"].as_str().expect("indexer").to_owned();
    let daemon = ready["daemon"].as_str().expect("daemon").to_owned();
    let wallet = ready["wallet"].as_str().expect("wallet").to_owned();

    // Three blobs in one store; the third is deleted, the first gets an
    // attribute.
    let files: Vec<(PathBuf, Vec<u8>)> = (0..3u8)
        .map(|i| {
            let data: Vec<u8> = (0..(3000 + 5000 * usize::from(i)))
                .map(|j| (j as u8).wrapping_mul(7).wrapping_add(i))
                .collect();
            let path = tmp.path().join(format!("file-{i}"));
            std::fs::write(&path, &data).unwrap();
            (path, data)
        })
        .collect();
    let mut args = vec!["store"];
    args.extend(files.iter().map(|(p, _)| p.to_str().unwrap()));
    args.extend(["--epochs", "20", "--yes"]);
    let stored = run_json(&dir, &args);
    let blob_ids: Vec<String> = stored
        .as_array()
        .expect("one result per file")
        .iter()
        .map(|r| {
            r["newlyCreated"]["blobObject"]["blobId"]
                .as_str()
                .unwrap_or_else(|| panic!("store answer {r}"))
                .to_owned()
        })
        .collect();
    let object_of = |data: &Value| {
        data["objects"][0]["object_id"]
            .as_str()
            .expect("object id")
            .to_owned()
    };
    let mut objects = Vec::new();
    for id in &blob_ids {
        let data = wait_indexed(&indexer, &format!("/v1/blob-ids/{id}"), |d| {
            d["objects"][0]["status"] == "certified"
        })
        .await;
        objects.push(object_of(&data));
    }
    run_json(&dir, &["delete", "--object-id", &objects[2], "--yes"]);
    run_json(
        &dir,
        &[
            "set-blob-attribute",
            &objects[0],
            "--attr",
            "content-type=text/plain",
        ],
    );
    wait_indexed(&indexer, &format!("/v1/blobs/{}", objects[2]), |d| {
        d["status"] == "deleted"
    })
    .await;
    wait_indexed(&indexer, &format!("/v1/blobs/{}", objects[0]), |d| {
        d["attributes"]["content-type"] == "text/plain"
    })
    .await;
    let node = wait_indexed(&indexer, "/v1/nodes", |d| {
        d.as_array().is_some_and(|a| !a.is_empty())
    })
    .await[0]["node_id"]
        .as_str()
        .expect("node id")
        .to_owned();
    // A parameter proposal by node 0 (with its own vote), so the
    // governance pages have a proposal, a vote and a tally to show.
    let node_config = manifest["nodes"][0]["config"]
        .as_str()
        .expect("node config")
        .to_owned();
    let out = floe()
        .args(["--json", "governance", "propose", "base-subsidy", "1000"])
        .args(["--config", &node_config])
        .stdin(Stdio::null())
        .output()
        .expect("run floe");
    assert!(
        out.status.success(),
        "propose: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proposed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let proposal = format!(
        "parameter-{}",
        proposed["id"].as_u64().expect("proposal id")
    );
    wait_indexed(&indexer, &format!("/v1/governance/{proposal}"), |d| {
        d["votes"].as_array().is_some_and(|v| v.len() == 1)
    })
    .await;
    let stats = wait_indexed(&indexer, "/v1/stats", |d| d["system"]["epoch"].is_i64()).await;
    let epoch = stats["system"]["epoch"].as_i64().unwrap();

    // Plain HTTP: statuses a browser does not expose.
    let http = reqwest::Client::new();
    let status = |path: String| {
        let http = http.clone();
        let url = format!("{explorer}{path}");
        async move {
            http.get(url)
                .send()
                .await
                .expect("explorer answers")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("/health".into()).await, 200);
    assert_eq!(status(format!("/blobs/{}", "A".repeat(43))).await, 404);
    assert_eq!(status("/blobs/not-a-blob-id".into()).await, 400);
    assert_eq!(status("/search?q=what%3F".into()).await, 400);
    assert_eq!(status("/epochs/99999".into()).await, 404);
    assert_eq!(status("/blobs?limit=0".into()).await, 400);
    assert_eq!(status("/no/such/page".into()).await, 404);
    let metrics = http
        .get(format!("{explorer}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("floe_explorer_http_requests_total"),
        "{metrics}"
    );

    let (browser, shots) = (Browser::start(&chromium, &driver).await, screenshot_dir());

    // Overview: the epoch, counts and a chart with data.
    visit(&browser, &explorer, "home", &shots).await;
    let text = browser.body_text().await;
    assert!(text.contains("Network at a glance"), "{text}");
    assert!(text.contains("Current epoch"), "{text}");
    let bars = browser.find_all("svg.chart rect.bar").await;
    assert!(!bars.is_empty(), "no bars on the overview chart");
    let mut tallest = 0.0f64;
    for bar in &bars {
        let h: f64 = browser
            .attribute(bar, "height")
            .await
            .and_then(|h| h.parse().ok())
            .unwrap_or(0.0);
        tallest = tallest.max(h);
    }
    assert!(tallest > 0.0, "the stored-bytes chart has no data");
    assert!(!browser.find_all("svg.chart circle.point").await.is_empty());

    // Search finds the blob by blob id and by object id, the wallet by
    // address, a node by id, an epoch by number.
    for (key, expected) in [
        (blob_ids[0].clone(), format!("/blobs/{}", blob_ids[0])),
        (objects[0].clone(), format!("/objects/{}", objects[0])),
        (wallet.clone(), format!("/accounts/{wallet}")),
        (node.clone(), format!("/nodes/{node}")),
        (epoch.to_string(), format!("/epochs/{epoch}")),
    ] {
        let url = search(&browser, &explorer, &key).await;
        assert!(
            url.ends_with(&expected),
            "search {key}: landed on {url}, expected {expected}"
        );
    }

    // The blob page: certified, its attribute, a download that serves the
    // bytes; the deleted blob says deleted.
    visit(
        &browser,
        &format!("{explorer}/blobs/{}", blob_ids[0]),
        "blob",
        &shots,
    )
    .await;
    let status_badge = browser.find(".blob-summary .status").await;
    assert_eq!(browser.text(&status_badge).await, "certified");
    let text = browser.body_text().await;
    assert!(text.contains("content-type"), "{text}");
    assert!(text.contains("BlobCertified"), "no timeline: {text}");
    let download = browser.find("a.download").await;
    let href = browser.attribute(&download, "href").await.expect("href");
    assert_eq!(href, format!("{daemon}/v1/blobs/{}", blob_ids[0]));
    let bytes = http.get(&href).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(
        bytes.as_ref(),
        files[0].1.as_slice(),
        "download serves the blob"
    );
    visit(
        &browser,
        &format!("{explorer}/blobs/{}", blob_ids[2]),
        "blob-deleted",
        &shots,
    )
    .await;
    let status_badge = browser.find(".blob-summary .status").await;
    assert_eq!(browser.text(&status_badge).await, "deleted");
    assert!(browser.body_text().await.contains("BlobDeleted"));
    visit(
        &browser,
        &format!("{explorer}/objects/{}", objects[0]),
        "object",
        &shots,
    )
    .await;

    // Paging one blob at a time reaches the last one.
    let mut seen = Vec::new();
    let mut url = format!("{explorer}/blobs?limit=1");
    for page in 0.. {
        assert!(page < 20, "paging did not end");
        visit(
            &browser,
            &url,
            if page == 0 { "blobs" } else { "blobs-next" },
            &shots,
        )
        .await;
        for link in browser.find_all("table.blobs a[href^='/objects/']").await {
            seen.push(browser.attribute(&link, "href").await.unwrap_or_default());
        }
        match browser.find_all("a.next").await.first() {
            Some(next) => {
                let href = browser.attribute(next, "href").await.expect("next href");
                url = absolute(&explorer, &href);
            }
            None => break,
        }
    }
    assert!(!browser.find_all(".last-page").await.is_empty());
    for object in &objects {
        assert!(
            seen.iter().any(|s| s.ends_with(object.as_str())),
            "paging never showed {object}: {seen:?}"
        );
    }
    // And the account's blobs, two at a time.
    let mut url = format!("{explorer}/accounts/{wallet}/blobs?limit=2");
    let mut account_rows = 0;
    for page in 0.. {
        assert!(page < 10, "account paging did not end");
        visit(&browser, &url, "account-blobs", &shots).await;
        account_rows += browser.find_all("table.blobs tbody tr").await.len();
        match browser.find_all("a.next").await.first() {
            Some(next) => {
                let href = browser.attribute(next, "href").await.expect("next href");
                url = absolute(&explorer, &href);
            }
            None => break,
        }
    }
    assert_eq!(
        account_rows, 2,
        "the wallet owns the two blobs it did not delete"
    );
    visit(
        &browser,
        &format!("{explorer}/accounts/{wallet}"),
        "account",
        &shots,
    )
    .await;
    assert!(browser.body_text().await.contains("Payments"));

    // Epochs: the list and the current epoch's shard map, one square per
    // shard.
    visit(&browser, &format!("{explorer}/epochs"), "epochs", &shots).await;
    visit(
        &browser,
        &format!("{explorer}/epochs/{epoch}"),
        "epoch",
        &shots,
    )
    .await;
    assert_eq!(
        browser.find_all("svg.shard-map rect.shard").await.len(),
        SHARDS
    );

    // Nodes: the list and one node with its shards chart.
    visit(&browser, &format!("{explorer}/nodes"), "nodes", &shots).await;
    visit(
        &browser,
        &format!("{explorer}/nodes/{node}"),
        "node",
        &shots,
    )
    .await;
    assert!(!browser.find_all("svg.chart circle.point").await.is_empty());

    // Governance: the list (all, then filtered by kind), the proposal with
    // its tally picture and its one vote, subsidies.
    visit(
        &browser,
        &format!("{explorer}/governance"),
        "governance",
        &shots,
    )
    .await;
    assert!(browser.find_all("h1").await.len() == 1);
    let links = browser.find_all("table.proposals a.proposal").await;
    assert_eq!(links.len(), 1, "one proposal listed");
    visit(
        &browser,
        &format!("{explorer}/governance?kind=parameter&limit=1"),
        "governance-filtered",
        &shots,
    )
    .await;
    assert!(!browser.find_all(".last-page").await.is_empty());
    let link = browser.find("table.proposals a.proposal").await;
    let href = browser.attribute(&link, "href").await.expect("href");
    assert_eq!(href, format!("/governance/{proposal}"));
    visit(&browser, &absolute(&explorer, &href), "proposal", &shots).await;
    let text = browser.body_text().await;
    assert!(text.contains("base-subsidy"), "{text}");
    assert!(text.contains("end of epoch"), "no deadline: {text}");
    assert_eq!(browser.find_all("svg.tally rect.for").await.len(), 1);
    assert_eq!(browser.find_all("svg.tally line.quorum").await.len(), 1);
    let for_bar = browser.find("svg.tally rect.for").await;
    let width: f64 = browser
        .attribute(&for_bar, "width")
        .await
        .and_then(|w| w.parse().ok())
        .unwrap_or(0.0);
    assert!(width > 0.0, "the proposer's vote is drawn");
    assert_eq!(browser.find_all("table.votes tbody tr").await.len(), 1);
    visit(
        &browser,
        &format!("{explorer}/subsidies"),
        "subsidies",
        &shots,
    )
    .await;
    assert_eq!(
        status(format!("/governance/parameter-{}", 1u64 << 40)).await,
        404
    );
    assert_eq!(status("/governance?status=won".into()).await, 400);
    assert_eq!(status("/governance/no%20such".into()).await, 400);

    // Friendly errors (the browser logs the 4xx itself, so no console
    // check here).
    browser
        .goto(&format!("{explorer}/blobs/{}", "A".repeat(43)))
        .await;
    let h1 = browser.find("h1").await;
    assert_eq!(browser.text(&h1).await, "Not found");
    browser.screenshot(&shots.join("not-found.png")).await;
    browser.goto(&format!("{explorer}/search?q=what%3F")).await;
    let h1 = browser.find("h1").await;
    assert_eq!(browser.text(&h1).await, "Bad request");
    assert!(browser.body_text().await.contains("neither a blob id"));
    browser.screenshot(&shots.join("bad-request.png")).await;
    browser
        .goto(&format!("{explorer}/governance/parameter-{}", 1u64 << 40))
        .await;
    let h1 = browser.find("h1").await;
    assert_eq!(browser.text(&h1).await, "Not found");
    browser
        .screenshot(&shots.join("governance-not-found.png"))
        .await;
    let _ = browser.console_errors().await;

    browser.quit().await;
    eprintln!("explorer screenshots in {}", shots.display());
}
