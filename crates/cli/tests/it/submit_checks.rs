//! Issue 16, "checks before anything is sent": `verity task submit` refuses, with the reason,
//! a program the nodes would not run, limits no node grants, a deployment for another chain, a
//! bounty the account cannot pay and a task no live node can take; after every refusal the
//! client's nonce, the market's task count and the gateway's blobs are what they were.

use alloy::{
    primitives::Address,
    providers::{Provider, ProviderBuilder},
};

use super::user_devnet::{UserDevnet, refused};

/// Files under `dir`, recursively.
fn files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::await_holding_lock,
    reason = "the lock only serialises whole-network tests, each on its own runtime"
)]
async fn submit_refuses_with_the_reason_before_sending_or_uploading_anything() {
    let _serial = crate::network_lock();
    let net = UserDevnet::start("submit-checks");
    let profile = net.profile();
    let rpc = profile["rpc_url"].as_str().unwrap();
    let provider = ProviderBuilder::new().connect_http(rpc.parse().unwrap());
    let client: Address = {
        let key: alloy::signers::local::PrivateKeySigner =
            std::fs::read_to_string(profile["key_file"].as_str().unwrap())
                .unwrap()
                .trim()
                .parse()
                .unwrap();
        key.address()
    };
    let market: Address = profile["deployment"]["market"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let task_count = || async {
        verity_contracts::TaskMarket::new(market, &provider)
            .taskCount()
            .call()
            .await
            .unwrap()
    };
    let nonce = provider.get_transaction_count(client).await.unwrap();
    let tasks = task_count().await;
    let blobs = files(&net.dir.join("gateway"));

    let home = net.home.clone();
    let file = |name: &str, bytes: &[u8]| {
        let p = home.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let echo = file(
        "echo.wasm",
        &wat::parse_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../guests/wat/echo.wat"
        ))
        .unwrap(),
    );
    let text = file("notes.txt", b"this is a text file, not a program\n");
    let wasi = file(
        "clock.wasm",
        &wat::parse_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../guests/wat/wasi_clock.wat"
        ))
        .unwrap(),
    );
    let mut other_chain = profile["deployment"].clone();
    other_chain["chainId"] = 1.into();
    let other_chain = file("mainnet.json", other_chain.to_string().as_bytes());

    let submit = |extra: &[&str]| {
        let mut args = vec!["task", "submit"];
        args.extend_from_slice(extra);
        refused(&net.verity(&args))
    };
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--program", &text],
            vec![
                "program: not a module the nodes would run",
                "nothing was sent",
            ],
        ),
        (
            vec!["--program", &wasi],
            vec![
                "program: not a module the nodes would run",
                "forbidden import wasi_snapshot_preview1::clock_time_get",
            ],
        ),
        (
            vec!["--program", &echo, "--fuel", "100000000001"],
            vec!["task limits: fuel 100000000001 is above the 100000000000"],
        ),
        (
            vec!["--program", &echo, "--deployment", &other_chain],
            vec![
                "chain: the deployment is for chain 1 but",
                "serves chain 31337",
                "refusing to send anything",
            ],
        ),
        (
            vec!["--program", &echo, "--bounty", "1000001"],
            vec![
                "funds: the bounty is 1000001 tVRT but",
                "the account holds 1000000 tVRT (and 0 tVRT in the market)",
            ],
        ),
        (
            vec![
                "--program",
                &echo,
                "--mode",
                "replicated",
                "--replication",
                "3",
            ],
            vec!["coordinator: the task needs 3 operator(s) but only 1 live node(s) can take it"],
        ),
        (
            vec!["--program", &echo, "--collateral", "1001"],
            vec!["coordinator: the task needs 1 operator(s) but only 0 live node(s) can take it"],
        ),
    ];
    for (args, reasons) in cases {
        let stderr = submit(&args);
        for reason in reasons {
            assert!(
                stderr.to_lowercase().contains(&reason.to_lowercase()),
                "{args:?}: expected {reason:?} in:\n{stderr}"
            );
        }
        assert!(!stderr.contains("Location:"), "{stderr}");
        assert_eq!(
            provider.get_transaction_count(client).await.unwrap(),
            nonce,
            "{args:?} sent a transaction"
        );
        assert_eq!(task_count().await, tasks, "{args:?} created a task");
        assert_eq!(
            files(&net.dir.join("gateway")),
            blobs,
            "{args:?} uploaded a blob"
        );
    }
}
