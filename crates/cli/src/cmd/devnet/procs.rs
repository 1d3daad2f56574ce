//! The devnet's child processes: the coordinator and the nodes run as separate `verity`
//! processes, so the network crosses real sockets. Each writes its logs to a file in the devnet
//! directory, and its process id to a `.pid` file beside the log.
//!
//! No child outlives the devnet, however it ends:
//! - a graceful stop sends SIGTERM and waits (then kills), and dropping a [`Proc`] kills it;
//! - the children share one process group of their own, so one `kill -- -PGID` reaches all;
//! - each child asks Linux for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`, set by the
//!   child at start-up through [`die_with_parent`], since the workspace forbids the unsafe
//!   `pre_exec`), so a `kill -9` of the devnet takes the children with it.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use eyre::WrapErr;
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::process::{Child, Command};

/// Set in a child's environment to the devnet's process id: the child dies with that process.
const PARENT_ENV: &str = "VERITY_DIE_WITH_PARENT";

/// Called first thing by every `verity` process: if the devnet started it, asks the kernel for
/// SIGKILL when the devnet dies, and exits at once if the devnet is already gone (it may have
/// died between the fork and this call).
pub(crate) fn die_with_parent() {
    let Some(parent) = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return;
    };
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL) {
        eprintln!("warning: cannot ask to die with the devnet (prctl): {e}");
    }
    if nix::unistd::getppid() != Pid::from_raw(parent) {
        eprintln!("the devnet (process {parent}) is gone; exiting");
        std::process::exit(1);
    }
}

/// A running `verity` child process.
#[derive(Debug)]
pub(super) struct Proc {
    pub(super) name: String,
    pub(super) log: PathBuf,
    args: Vec<String>,
    child: Child,
    /// How many times it was started again after it died.
    pub(super) restarts: u32,
    /// Its last death was reported and it stays down.
    given_up: bool,
}

/// The process group every child joins: the first child's, `None` before it.
static GROUP: std::sync::Mutex<Option<i32>> = std::sync::Mutex::new(None);

fn start(name: &str, args: &[String], log: &Path) -> eyre::Result<Child> {
    let exe = std::env::current_exe().wrap_err("locating the verity executable")?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .wrap_err_with(|| format!("opening {}", log.display()))?;
    let err = file.try_clone().wrap_err("duplicating the log handle")?;
    let mut group = GROUP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env(PARENT_ENV, std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        // 0: a new group led by this child; later children join it.
        .process_group(group.unwrap_or(0))
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        // The group's leader may be gone (it died and is being restarted): start a new one.
        Err(_) if group.is_some() => {
            *group = None;
            cmd.process_group(0)
                .spawn()
                .wrap_err_with(|| format!("starting {name}"))?
        }
        Err(e) => return Err(e).wrap_err_with(|| format!("starting {name}")),
    };
    if group.is_none() {
        *group = child.id().and_then(|p| i32::try_from(p).ok());
    }
    tracing::info!(target: "devnet", %name, pid = child.id(), log = %log.display(), "started");
    // Beside the log, for operators and tests that signal one process of the network.
    if let Some(pid) = child.id() {
        let pid_file = log.with_extension("pid");
        std::fs::write(&pid_file, format!("{pid}\n"))
            .wrap_err_with(|| format!("writing {}", pid_file.display()))?;
    }
    Ok(child)
}

/// Starts this same executable with `args`, stdout and stderr appended to `log`.
pub(super) fn spawn(name: &str, args: &[String], log: &Path) -> eyre::Result<Proc> {
    let child = start(name, args, log)?;
    Ok(Proc {
        name: name.to_string(),
        log: log.to_path_buf(),
        args: args.to_vec(),
        child,
        restarts: 0,
        given_up: false,
    })
}

fn signal(pid: Option<u32>, sig: Signal) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
    }
}

impl Proc {
    /// `Some(status)` once the process has exited.
    pub(super) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Starts the process again with the same arguments (after it died).
    pub(super) fn restart(&mut self) -> eyre::Result<()> {
        self.child = start(&self.name, &self.args, &self.log)?;
        self.restarts += 1;
        Ok(())
    }

    /// Asks the process to stop (SIGTERM: the node finishes or hands back its work), waits up
    /// to `grace`, then kills it.
    pub(super) async fn stop(mut self, grace: Duration) {
        signal(self.child.id(), Signal::SIGTERM);
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(_) => tracing::info!(target: "devnet", name = %self.name, "stopped"),
            Err(_) => {
                tracing::warn!(target: "devnet", name = %self.name, "did not stop in time; killing");
                let _ = self.child.kill().await;
            }
        }
    }
}

/// One look at every child: a dead one is started again (up to `max_restarts` times) and
/// reported on stderr either way. Returns what happened, one line per death.
pub(super) fn supervise(procs: &mut [Proc], max_restarts: u32) -> Vec<String> {
    let mut events = Vec::new();
    for p in procs.iter_mut() {
        let Some(status) = p.exited() else { continue };
        if p.given_up {
            continue;
        }
        if p.restarts >= max_restarts {
            p.given_up = true;
            let line = format!(
                "{} exited with {status}; not restarted (restarted {} of {max_restarts} times); log {}",
                p.name,
                p.restarts,
                p.log.display()
            );
            tracing::warn!(target: "devnet", "{line}");
            eprintln!("devnet: {line}");
            events.push(line);
            continue;
        }
        let line = match p.restart() {
            Ok(()) => format!(
                "{} exited with {status}; restarted ({} of {max_restarts}); log {}",
                p.name,
                p.restarts,
                p.log.display()
            ),
            Err(e) => {
                p.given_up = true;
                format!("{} exited with {status}; restarting failed: {e:#}", p.name)
            }
        };
        tracing::warn!(target: "devnet", "{line}");
        eprintln!("devnet: {line}");
        events.push(line);
    }
    events
}
