//! The devnet's child processes: the coordinator and the nodes run as separate `verity`
//! processes, so the network crosses real sockets. Each writes its logs to a file in the devnet
//! directory, and its process id to a `.pid` file beside the log; dropping a [`Proc`] kills it,
//! so no process outlives the devnet.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use eyre::WrapErr;
use tokio::process::{Child, Command};

/// A running `verity` child process.
#[derive(Debug)]
pub(super) struct Proc {
    pub(super) name: String,
    pub(super) log: PathBuf,
    child: Child,
}

/// Starts this same executable with `args`, stdout and stderr appended to `log`.
pub(super) fn spawn(name: &str, args: &[String], log: &Path) -> eyre::Result<Proc> {
    let exe = std::env::current_exe().wrap_err("locating the verity executable")?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .wrap_err_with(|| format!("opening {}", log.display()))?;
    let err = file.try_clone().wrap_err("duplicating the log handle")?;
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .kill_on_drop(true)
        .spawn()
        .wrap_err_with(|| format!("starting {name}"))?;
    tracing::info!(target: "devnet", %name, pid = child.id(), log = %log.display(), "started");
    // Beside the log, for operators and tests that signal one process of the network.
    if let Some(pid) = child.id() {
        let pid_file = log.with_extension("pid");
        std::fs::write(&pid_file, format!("{pid}\n"))
            .wrap_err_with(|| format!("writing {}", pid_file.display()))?;
    }
    Ok(Proc {
        name: name.to_string(),
        log: log.to_path_buf(),
        child,
    })
}

impl Proc {
    /// `Some(status)` once the process has exited.
    pub(super) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process to stop (SIGTERM: the node finishes or hands back its work), waits up
    /// to `grace`, then kills it.
    pub(super) async fn stop(mut self, grace: Duration) {
        if let Some(pid) = self.child.id() {
            // SIGTERM through kill(1): the workspace forbids unsafe code, so no libc::kill.
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(_) => tracing::info!(target: "devnet", name = %self.name, "stopped"),
            Err(_) => {
                tracing::warn!(target: "devnet", name = %self.name, "did not stop in time; killing");
                let _ = self.child.kill().await;
            }
        }
    }
}
