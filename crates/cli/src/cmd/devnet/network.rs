//! Brings up the off-chain half of the devnet around a running chain: the blob gateway (in this
//! process), the coordinator and the nodes (child processes), runs the sample workload and
//! prints its summary.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use eyre::{WrapErr, bail};
use tokio_util::sync::CancellationToken;
use verity_sdk::Requester;
use verity_settlement::Settlement;
use verity_store::{BlobStore, DiskStore, GatewayClient, Limits};

use super::{
    procs::{self, Proc},
    report, workload,
};
use crate::cmd::shutdown::Shutdown;

/// How the network is laid out.
#[derive(Debug, Clone)]
pub(super) struct Options {
    pub(super) dir: Option<PathBuf>,
    pub(super) nodes: u32,
    pub(super) node_concurrency: u32,
    pub(super) byzantine: bool,
    pub(super) sample_rate: f64,
    pub(super) coordinator_port: u16,
    pub(super) gateway_port: u16,
    pub(super) plan: workload::Plan,
    pub(super) once: bool,
    pub(super) json: bool,
    /// The profile to write once the network is up.
    pub(super) profile: String,
    /// How many times each dead child is started again (0: deaths are only reported).
    pub(super) max_restarts: u32,
}

/// Dev account roles: 0 owns the contracts and coordinates, 1 submits the sample workload,
/// 2.. operate the nodes.
const REQUESTER: usize = 1;
const FIRST_OPERATOR: usize = 2;

/// The faulty nodes `--byzantine` adds: (role in the summary, the node's `[fault] behaviour`).
/// The `self_challenger` posts wrong optimistic results, and its second address (the
/// `accomplice` watchtower) challenges each of them at once, racing the honest watchtower for
/// the challenger's share of its own slashed collateral.
const FAULTS: [(&str, &str); 5] = [
    ("wrong_result", "wrong_result"),
    ("copy_commitments", "copy_commitments"),
    ("silent", "silent"),
    ("idle_member", "idle_member"),
    ("self_challenger", "self_challenger"),
];

/// The role of the self-challenger's second address in the summary.
const ACCOMPLICE: &str = "accomplice";

/// ISO 3166-1 numeric regions the nodes spread over (Germany, USA, Japan, Brazil).
const REGIONS: [u16; 4] = [276, 840, 392, 76];

/// How often the devnet looks for dead children.
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);

/// The file in the devnet directory that names the devnet process using it.
const DIR_LOCK: &str = "devnet.pid";

/// Takes `dir` for this devnet. A directory another running devnet uses is refused, naming
/// that process. A directory an earlier devnet left behind is reused: its keys and logs are
/// kept, but the databases that follow the earlier devnet's chain (the coordinator's index, the
/// nodes' and the watchtower's task records) are removed, because every devnet starts a new
/// chain and those records describe blocks and tasks this one does not have.
fn claim_dir(dir: &Path) -> eyre::Result<()> {
    let lock = dir.join(DIR_LOCK);
    if let Ok(text) = std::fs::read_to_string(&lock)
        && let Ok(pid) = text.trim().parse::<i32>()
        && pid != std::process::id() as i32
        && devnet_alive(pid)
    {
        bail!(
            "--dir {} is in use by the devnet running as process {pid}; stop it or choose \
             another directory",
            dir.display()
        );
    }
    if dir.join("devnet.json").exists() {
        let mut stale: Vec<PathBuf> =
            ["coordinator.db", "coordinator.db-wal", "coordinator.db-shm"]
                .iter()
                .map(|f| dir.join("coordinator").join(f))
                .collect();
        stale.push(dir.join("watchtower").join("data"));
        stale.push(dir.join(ACCOMPLICE).join("data"));
        for entry in
            std::fs::read_dir(dir).wrap_err_with(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("node-") {
                stale.push(entry.path().join("data"));
            }
        }
        for path in stale {
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).wrap_err_with(|| {
                        format!(
                            "removing {} (an earlier devnet's chain state)",
                            path.display()
                        )
                    });
                }
            }
        }
        eprintln!(
            "devnet: reusing {}: keys and logs kept; the earlier devnet's chain state removed \
             (each devnet starts a new chain)",
            dir.display()
        );
    }
    write(&lock, &format!("{}\n", std::process::id()))
}

/// Whether `pid` is a running `verity devnet`.
fn devnet_alive(pid: i32) -> bool {
    let running = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    let state_ok = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            // The state follows the parenthesised command name; Z is a zombie.
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(true);
    let is_devnet = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| c.split(|b| *b == 0).any(|arg| arg == b"devnet"))
        .unwrap_or(true);
    running && state_ok && is_devnet
}

fn free_port(wanted: u16) -> eyre::Result<u16> {
    if wanted != 0 {
        return Ok(wanted);
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").wrap_err("finding a free port")?;
    Ok(l.local_addr()?.port())
}

fn write(path: &Path, text: &str) -> eyre::Result<()> {
    std::fs::write(path, text).wrap_err_with(|| format!("writing {}", path.display()))
}

/// What differs between the devnet's nodes.
struct NodeSetup<'a> {
    region: u16,
    /// Tasks at once.
    concurrency: u32,
    /// Capability bits (1: run WASM, 2: prove ZkProof tasks).
    capabilities: u32,
    /// `[fault] behaviour`.
    fault: &'a str,
}

fn node_config(dir: &Path, rpc: &str, gateway: &str, coordinator: &str, n: &NodeSetup) -> String {
    let d = dir.display();
    let NodeSetup {
        region,
        concurrency,
        capabilities,
        fault,
    } = *n;
    format!(
        r#"# Written by `verity devnet`.
[chain]
rpc_url = "{rpc}"
deployment = "{d}/../deployment.json"
poll_interval_ms = 100

[keys]
operator = "{d}/operator.key"
node = "{d}/node.key"

[operator]
stake = 1000
region = {region}
capabilities = {capabilities}
max_concurrent_tasks = {concurrency}

[store]
data_dir = "{d}/data"
gateways = ["{gateway}"]

[heartbeat]
coordinator_url = "{coordinator}"
interval_secs = 2

[metrics]
listen = ""

[fault]
behaviour = "{fault}"
"#
    )
}

fn coordinator_config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"# Written by `verity devnet`. The chain, deployment, key and listener come as flags.
[database]
url = "sqlite://{d}/coordinator.db"

[heartbeat]
interval_secs = 2
allowed_misses = 3

[indexer]
# The embedded devchain never reorganizes, and with instant mining a block comes only with a
# transaction: waiting for confirmations would leave the newest events unindexed.
confirmations = 0
poll_ms = 100

[assigner]
interval_ms = 100
# Up to four `assignBatch` transactions of 32 tasks each, sent together into one block.
max_per_pass = 128
"#
    )
}

/// Starts everything, runs the workload, prints the summary; with `once` unset, stays up until
/// Ctrl-C or SIGTERM. Stops every child process before returning.
pub(super) async fn run(
    opts: &Options,
    summary_json: &str,
    s: &Settlement,
    keys: &[PrivateKeySigner],
) -> eyre::Result<()> {
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("verity-devnet-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    claim_dir(&dir)?;
    // The bare deployment is what every component reads; the summary adds the dev accounts.
    write(
        &dir.join("deployment.json"),
        &serde_json::to_string_pretty(s.deployment())?,
    )?;
    write(&dir.join("devnet.json"), summary_json)?;
    let rpc = serde_json::from_str::<serde_json::Value>(summary_json)?["rpcUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The blob gateway every party uploads to and fetches from.
    let store: Arc<dyn BlobStore> = Arc::new(
        DiskStore::open(dir.join("gateway"), Limits::default())
            .wrap_err("opening the gateway store")?,
    );
    let gw_port = free_port(opts.gateway_port)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", gw_port))
        .await
        .wrap_err_with(|| format!("binding the gateway on 127.0.0.1:{gw_port}"))?;
    let gateway = format!("http://{}", listener.local_addr()?);
    let cancel = CancellationToken::new();
    let gw_task = tokio::spawn(verity_store::serve(listener, store, cancel.clone()));

    let mut procs: Vec<Proc> = Vec::new();
    let started = start_processes(opts, &dir, &rpc, &gateway, s, keys, &mut procs).await;
    let outcome = match started {
        Ok(coordinator_url) => {
            match super::profile::write(
                &opts.profile,
                super::profile::Endpoints {
                    rpc_url: &rpc,
                    deployment: *s.deployment(),
                    coordinator: Some(coordinator_url.clone()),
                    gateway: Some(gateway.clone()),
                },
                &keys[keys.len() - 1],
            ) {
                Ok(path) => {
                    eprintln!(
                        "profile {:?} written to {}: `verity task ...` reaches this network",
                        opts.profile,
                        path.display()
                    );
                    workload_and_summary(opts, s, keys, &gateway, &coordinator_url, &mut procs)
                        .await
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    if outcome.is_ok() && !opts.once {
        // Listening before saying so: whoever reads the line may signal at once.
        let shutdown = Shutdown::listen();
        eprintln!(
            "devnet up: directory {}, gateway {gateway}; Ctrl-C or SIGTERM stops",
            dir.display()
        );
        // Until Ctrl-C or SIGTERM, a child that dies is started again (or reported).
        let shutdown = shutdown.wait();
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(SUPERVISE_EVERY);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {
                    procs::supervise(&mut procs, opts.max_restarts);
                }
            }
        }
    }
    let _ = std::fs::remove_file(dir.join(DIR_LOCK));
    for p in procs {
        p.stop(Duration::from_secs(10)).await;
    }
    cancel.cancel();
    let _ = gw_task.await;
    outcome
}

async fn start_processes(
    opts: &Options,
    dir: &Path,
    rpc: &str,
    gateway: &str,
    s: &Settlement,
    keys: &[PrivateKeySigner],
    procs: &mut Vec<Proc>,
) -> eyre::Result<String> {
    let coord_dir = dir.join("coordinator");
    std::fs::create_dir_all(&coord_dir)?;
    let coord_key = coord_dir.join("operator.key");
    if !coord_key.exists() {
        verity_node::keys::save(&coord_key, &keys[0])?;
    }
    let coord_port = free_port(opts.coordinator_port)?;
    let coordinator_url = format!("http://127.0.0.1:{coord_port}");
    let coord_toml = coord_dir.join("coordinator.toml");
    write(&coord_toml, &coordinator_config(&coord_dir))?;
    procs.push(procs::spawn(
        "coordinator",
        &[
            "coordinator".into(),
            "run".into(),
            "--config".into(),
            coord_toml.display().to_string(),
            "--rpc-url".into(),
            rpc.to_string(),
            "--deployment".into(),
            dir.join("deployment.json").display().to_string(),
            "--coordinator-key".into(),
            coord_key.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{coord_port}"),
        ],
        &coord_dir.join("coordinator.log"),
    )?);

    let faulty = if opts.byzantine { FAULTS.len() } else { 0 };
    for i in 0..opts.nodes as usize + faulty {
        let (role, fault) = i
            .checked_sub(opts.nodes as usize)
            .map_or(("honest", "none"), |f| FAULTS[f]);
        let node_dir = dir.join(format!("node-{}", i + 1));
        std::fs::create_dir_all(&node_dir)?;
        let op_key = node_dir.join("operator.key");
        if !op_key.exists() {
            verity_node::keys::save(&op_key, &keys[FIRST_OPERATOR + i])?;
        }
        let node_key = node_dir.join("node.key");
        if !node_key.exists() {
            verity_node::keys::create(&node_key)?;
        }
        let toml = node_dir.join("node.toml");
        write(
            &toml,
            &node_config(
                &node_dir,
                rpc,
                gateway,
                &coordinator_url,
                &NodeSetup {
                    region: REGIONS[i % REGIONS.len()],
                    concurrency: opts.node_concurrency,
                    // The first half of the honest nodes (at least one) can also prove ZkProof
                    // tasks (bit 1); the coordinator routes those tasks to them only.
                    capabilities: if fault == "none" && i < (opts.nodes as usize).div_ceil(2) {
                        3
                    } else {
                        1
                    },
                    fault,
                },
            ),
        )?;
        procs.push(procs::spawn(
            &format!(
                "node-{}{}",
                i + 1,
                if fault == "none" {
                    String::new()
                } else {
                    format!(" ({role})")
                }
            ),
            &[
                "node".into(),
                "run".into(),
                "--config".into(),
                toml.display().to_string(),
            ],
            &node_dir.join("node.log"),
        )?);
    }

    if opts.byzantine {
        let wt_dir = dir.join("watchtower");
        std::fs::create_dir_all(&wt_dir)?;
        let key = wt_dir.join("watchtower.key");
        if !key.exists() {
            verity_node::keys::save(&key, &keys[FIRST_OPERATOR + opts.nodes as usize + faulty])?;
        }
        procs.push(procs::spawn(
            "watchtower",
            &[
                "watchtower".into(),
                "run".into(),
                "--rpc-url".into(),
                rpc.to_string(),
                "--deployment".into(),
                dir.join("deployment.json").display().to_string(),
                "--key".into(),
                key.display().to_string(),
                "--data-dir".into(),
                wt_dir.join("data").display().to_string(),
                "--gateway".into(),
                gateway.to_string(),
                "--sample-rate".into(),
                opts.sample_rate.to_string(),
                "--metrics-listen".into(),
                String::new(),
            ],
            &wt_dir.join("watchtower.log"),
        )?);

        // The self-challenger's second address: a watchtower that challenges its partner's
        // every result unchecked and nobody else's.
        let partner = keys[FIRST_OPERATOR + opts.nodes as usize + faulty - 1].address();
        let acc_dir = dir.join(ACCOMPLICE);
        std::fs::create_dir_all(&acc_dir)?;
        let key = acc_dir.join("accomplice.key");
        if !key.exists() {
            verity_node::keys::save(
                &key,
                &keys[FIRST_OPERATOR + opts.nodes as usize + faulty + 1],
            )?;
        }
        procs.push(procs::spawn(
            ACCOMPLICE,
            &[
                "watchtower".into(),
                "run".into(),
                "--rpc-url".into(),
                rpc.to_string(),
                "--deployment".into(),
                dir.join("deployment.json").display().to_string(),
                "--key".into(),
                key.display().to_string(),
                "--data-dir".into(),
                acc_dir.join("data").display().to_string(),
                "--gateway".into(),
                gateway.to_string(),
                "--accomplice-of".into(),
                partner.to_string(),
                "--metrics-listen".into(),
                String::new(),
            ],
            &acc_dir.join("accomplice.log"),
        )?);
    }

    // Every node registered and staked before any task is posted.
    let operators: Vec<Address> = (0..opts.nodes as usize + faulty)
        .map(|i| keys[FIRST_OPERATOR + i].address())
        .collect();
    for _ in 0..600 {
        for p in procs.iter_mut() {
            if let Some(status) = p.exited() {
                bail!(
                    "{} exited with {status} during start-up; see {}",
                    p.name,
                    p.log.display()
                );
            }
        }
        let mut ready = 0;
        for op in &operators {
            if s.operator(*op).await.is_ok_and(|o| !o.stake.is_zero()) {
                ready += 1;
            }
        }
        if ready == operators.len() {
            tracing::info!(target: "devnet", nodes = ready, "every node is registered and staked");
            return Ok(coordinator_url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the nodes did not register and stake within 60 s; logs are in {}",
        dir.display()
    )
}

/// Every account whose pay the summary reports, with its role: the nodes' operators, then the
/// watchtower's account with `--byzantine`.
fn roles(opts: &Options, keys: &[PrivateKeySigner]) -> Vec<(Address, &'static str)> {
    let faulty = if opts.byzantine { FAULTS.len() } else { 0 };
    let mut out: Vec<_> = (0..opts.nodes as usize + faulty)
        .map(|i| {
            let role = i
                .checked_sub(opts.nodes as usize)
                .map_or("honest", |f| FAULTS[f].0);
            (keys[FIRST_OPERATOR + i].address(), role)
        })
        .collect();
    if opts.byzantine {
        out.push((keys[FIRST_OPERATOR + out.len()].address(), "watchtower"));
        out.push((keys[FIRST_OPERATOR + out.len()].address(), ACCOMPLICE));
    }
    out
}

async fn workload_and_summary(
    opts: &Options,
    s: &Settlement,
    keys: &[PrivateKeySigner],
    gateway: &str,
    coordinator_url: &str,
    procs: &mut [Proc],
) -> eyre::Result<()> {
    if opts.plan.tasks == 0 {
        return Ok(());
    }
    let accounts = roles(opts, keys);
    let from_block = s.deployment().deployed_block;
    let mut before = Vec::new();
    for (op, _) in &accounts {
        before.push(report::holdings(s, *op).await?);
    }
    let sdk = Requester::new(
        s.clone(),
        GatewayClient::new(gateway)?,
        keys[REQUESTER].address(),
    );
    // The workload, with a look at the children every second: a dead one is started again
    // and the summary says so.
    let mut restarts = Vec::new();
    let runs = {
        let work = workload::run(&sdk, &opts.plan);
        tokio::pin!(work);
        let mut tick = tokio::time::interval(SUPERVISE_EVERY);
        loop {
            tokio::select! {
                r = &mut work => break r?,
                _ = tick.tick() => restarts.extend(procs::supervise(procs, opts.max_restarts)),
            }
        }
    };
    restarts.extend(procs::supervise(procs, opts.max_restarts));
    let mut payouts = Vec::new();
    for ((op, role), b) in accounts.iter().zip(before) {
        payouts.push(report::payout(
            *op,
            role,
            b,
            report::holdings(s, *op).await?,
            report::court_withdrawn(s, *op, from_block).await?,
        ));
    }
    let r = report::Report {
        modes: report::modes(&runs),
        tasks: report::outcomes(s, &runs, from_block).await?,
        payouts,
        slashes: report::slashes(s, from_block).await?,
        penalties: report::penalties(s, from_block).await?,
        audits: report::audits(s, from_block).await?,
        dashboard: format!("{coordinator_url}/"),
        restarts,
    };
    if opts.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        report::print(&r);
    }
    Ok(())
}
