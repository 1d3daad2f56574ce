//! The web dashboard in real headless Chromium, against the coordinator's HTTP server on a
//! loopback socket over the realistic fixture: the rendered DOM must show every node with its
//! status, stake, reputation and earnings, every task with its state, verification and
//! latency, and the stats cards; a screenshot is saved for people to look at.
//!
//! Chromium is found through `VERITY_CHROMIUM`, else `/usr/bin/chromium` (`scripts/chromium.sh`
//! installs it). Without it the test fails, unless it is opted out with `VERITY_SKIP_CHROMIUM=1`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use verity_coordinator::{api, clock::unix_now};

use crate::{
    api_world::{LATENCIES, world},
    disputes::escalation,
    support::{TestDb, operator},
};

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("VERITY_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// Runs Chromium headless with `args` after the common flags; at most `limit` wall time.
fn run_chromium(bin: &Path, profile: &Path, args: &[String], limit: Duration) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let started = Instant::now();
    // Bounded wait: Chromium must finish within `limit`.
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("chromium did not finish within {limit:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `<tr ...>` opening tag whose attribute `attr` is `value`, and the row's text up to
/// `</tr>`.
fn row<'a>(dom: &'a str, attr: &str, value: &str) -> &'a str {
    let needle = format!("{attr}=\"{value}\"");
    let start = dom
        .find(&needle)
        .unwrap_or_else(|| panic!("no row with {needle} in the DOM"));
    let end = dom[start..].find("</tr>").expect("row closes") + start;
    &dom[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_nodes_tasks_and_stats_in_headless_chromium() {
    if std::env::var("VERITY_SKIP_CHROMIUM").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED the_dashboard_renders_nodes_tasks_and_stats_in_headless_chromium: VERITY_SKIP_CHROMIUM=1"
        );
        return;
    }
    let Some(bin) = chromium() else {
        panic!(
            "no chromium found (VERITY_CHROMIUM, /usr/bin/chromium): install it with \
             scripts/chromium.sh, or opt out with VERITY_SKIP_CHROMIUM=1"
        );
    };
    let db = TestDb::sqlite();
    // Real time: the page shows heartbeat ages against the browser's clock.
    let w = world(&db, unix_now()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, w.app.clone(), async {
        let _ = stopped.await;
    }));

    let profile = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/");
    let dom = {
        let (bin, profile, url) = (bin.clone(), profile.path().to_owned(), url.clone());
        tokio::task::spawn_blocking(move || {
            run_chromium(
                &bin,
                &profile,
                &[
                    "--virtual-time-budget=5000".into(),
                    "--dump-dom".into(),
                    url,
                ],
                Duration::from_secs(90),
            )
        })
        .await
        .unwrap()
    };

    // Loaded: every fetch answered and rendered.
    assert!(
        dom.contains("<body data-loaded=\"true\">"),
        "the page never finished loading:\n{dom}"
    );
    assert!(dom.contains("chain 31337"), "header shows the chain");
    // The fixture follows no deployment: the escalations say why they are missing, and the
    // rest of the page is unaffected.
    assert!(
        dom.contains("data-escalations=\"unavailable\"")
            && dom.contains("escalations unavailable: this coordinator follows no deployment"),
        "escalations without a court: {}",
        &dom[dom.find("id=\"escalations\"").expect("escalations section")..][..400]
    );

    // Every node, with its status, stake, earnings and reputation.
    let hex = |n: u8| format!("{:#x}", operator(n));
    for (n, status) in [
        (1, "live"),
        (2, "late"),
        (3, "down"),
        (4, "jailed"),
        (5, "unknown"),
        (6, "deregistered"),
    ] {
        let r = row(&dom, "data-operator", &hex(n));
        assert!(
            r.contains(&format!("data-status=\"{status}\""))
                && r.contains(&format!(">{status}</span>")),
            "node {n} should show {status}: {r}"
        );
    }
    let veteran = row(&dom, "data-operator", &hex(1));
    assert!(
        veteran.contains(">10000</td>"),
        "stake in tokens: {veteran}"
    );
    assert!(
        veteran.contains(">12.50</td>"),
        "earnings in tokens: {veteran}"
    );
    assert!(veteran.contains(">42</td>"), "completed counter: {veteran}");
    let rep = |r: &str| -> u32 {
        let end = r.find("%</span>").expect("reputation shown");
        let start = r[..end].rfind('>').unwrap() + 1;
        r[start..end].parse().unwrap()
    };
    let jailed = row(&dom, "data-operator", &hex(4));
    assert!(
        rep(veteran) > rep(jailed),
        "the slashed node ranks below the veteran: {} vs {}",
        rep(veteran),
        rep(jailed)
    );
    assert!(dom.matches("data-operator=").count() == 6);

    // Every task, newest first, with state, verification and latency.
    assert_eq!(dom.matches("data-task=").count(), 8);
    let first = dom.find("data-task=\"8\"").unwrap();
    let last = dom.find("data-task=\"1\"").unwrap();
    assert!(first < last, "newest task first");
    for (id, status, verification) in [
        (1, "open", "pending"),
        (2, "assigned", "pending"),
        (3, "submitted", "challenge window"),
        (4, "challenged", "disputed"),
        (5, "finalized", "verified"),
        (6, "refunded", "refunded"),
        (8, "finalized", "verified"),
    ] {
        let r = row(&dom, "data-task", &id.to_string());
        assert!(
            r.contains(&format!(">{status}</span>"))
                && r.contains(&format!(">{verification}</span>")),
            "task {id} should show {status} / {verification}: {r}"
        );
    }
    let t8 = row(&dom, "data-task", "8");
    assert!(t8.contains(">4.00 s</td>"), "latency of task 8: {t8}");
    assert!(t8.contains("bafkrei"), "result CID of task 8: {t8}");
    assert_eq!(LATENCIES.iter().max(), Some(&4_000));

    // Stats cards.
    let card = |k: &str| {
        let start = dom
            .find(&format!("data-stat=\"{k}\""))
            .unwrap_or_else(|| panic!("no {k} card"));
        &dom[start..start + dom[start..].find("</div></div>").unwrap() + "</div></div>".len()]
    };
    assert!(
        card("nodes live").contains(">3<small>/ 5</small>"),
        "{}",
        card("nodes live")
    );
    assert!(card("queue").contains(">1<"), "{}", card("queue"));
    assert!(
        card("p50 latency").contains("1.80 s"),
        "{}",
        card("p50 latency")
    );
    assert!(card("indexed").contains(">4<"), "{}", card("indexed"));

    // A screenshot for people.
    let dir = std::env::var_os("VERITY_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    {
        let (bin, profile, shot) = (bin, profile.path().to_owned(), shot.clone());
        tokio::task::spawn_blocking(move || {
            run_chromium(
                &bin,
                &profile,
                &[
                    "--virtual-time-budget=5000".into(),
                    format!("--screenshot={}", shot.display()),
                    "--window-size=1400,900".into(),
                    url,
                ],
                Duration::from_secs(90),
            )
        })
        .await
        .unwrap();
    }
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "suspiciously small screenshot: {} bytes",
        png.len()
    );
    eprintln!("dashboard screenshot: {}", shot.display());

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// The page's DOM after its scripts ran, from a fresh headless Chromium.
async fn dump_dom(bin: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let (bin, dir, url) = (bin.to_owned(), profile.path().to_owned(), url.to_owned());
    tokio::task::spawn_blocking(move || {
        run_chromium(
            &bin,
            &dir,
            &[
                "--virtual-time-budget=5000".into(),
                "--dump-dom".into(),
                url,
            ],
            Duration::from_secs(90),
        )
    })
    .await
    .unwrap()
}

/// Issue 15: the arbiter sees each escalation with its evidence and the command that decides
/// it, on a real escalated case; once decided, the section says nothing waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_an_escalation_with_its_evidence_and_the_arbiter_command() {
    if std::env::var("VERITY_SKIP_CHROMIUM").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED the_dashboard_shows_an_escalation_with_its_evidence_and_the_arbiter_command: VERITY_SKIP_CHROMIUM=1"
        );
        return;
    }
    let Some(bin) = chromium() else {
        panic!(
            "no chromium found (VERITY_CHROMIUM, /usr/bin/chromium): install it with \
             scripts/chromium.sh, or opt out with VERITY_SKIP_CHROMIUM=1"
        );
    };
    let db = TestDb::sqlite();
    let e = escalation(&db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, e.app.clone(), async {
        let _ = stopped.await;
    }));

    let dom = dump_dom(&bin, &url).await;
    assert!(
        dom.contains("<body data-loaded=\"true\">"),
        "the page never finished loading:\n{dom}"
    );
    assert_eq!(
        dom.matches("data-escalation=").count(),
        1,
        "one escalation (the case still drawing is not one)"
    );
    let start = dom
        .find(&format!("data-escalation=\"{}\"", e.task))
        .unwrap_or_else(|| panic!("task {} not shown as escalated:\n{dom}", e.task));
    let block = &dom[start..start + dom[start..].find("</section>").expect("section closes")];
    for (what, text) in [
        ("task id", format!("task {}", e.task)),
        ("claimed digest", format!("{}", e.claimed)),
        ("dissenting digest", format!("{}", e.dissent)),
        ("votes", "agree 1 · disagree 1 · revealed 2 of 3".to_owned()),
        (
            "program CID",
            verity_store::Cid::from_digest(alloy::primitives::keccak256("program").0).to_string(),
        ),
        ("arbiter", format!("{:#x}", e.arbiter)),
        (
            "overturn command",
            format!("verity dispute arbitrate {} --overturn", e.task),
        ),
        (
            "uphold command",
            format!("verity dispute arbitrate {} --uphold", e.task),
        ),
    ] {
        assert!(
            block.contains(&text),
            "{what} ({text}) missing from the escalation:\n{block}"
        );
    }
    assert!(
        block.contains("arbiter decides until ") && !block.contains("until –"),
        "the deadline is shown: {block}"
    );
    let section = &dom[dom.find("id=\"escalations-section\"").unwrap()..];
    assert!(
        section.contains("never by the browser"),
        "the section says who signs"
    );

    // Decided by the arbiter's key: the empty state.
    e.net.s.arbitrate(e.arbiter, e.task, false).await.unwrap();
    let dom = dump_dom(&bin, &url).await;
    assert!(dom.contains("<body data-loaded=\"true\">"), "{dom}");
    assert!(
        dom.contains("data-escalations=\"none\"") && !dom.contains("data-escalation="),
        "the empty state once decided:\n{dom}"
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
