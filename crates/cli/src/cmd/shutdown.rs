//! Stopping long-running subcommands: on Ctrl-C or SIGTERM a service is cancelled and waited
//! for, so the step it is in (a transaction being sent) completes.

use std::future::Future;

use eyre::WrapErr as _;
use tokio_util::sync::CancellationToken;

/// Ctrl-C and SIGTERM, listened for from [`Shutdown::listen`] on: a signal that arrives before
/// [`Shutdown::wait`] is kept, and does not kill the process with the default action (a
/// devnet that printed its summary must stop gracefully even when the signal comes at once).
pub(crate) struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    /// Installs the handlers now.
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                signals: signal(SignalKind::terminate())
                    .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves on the first Ctrl-C or SIGTERM since [`Shutdown::listen`].
    pub(crate) async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = self.signals {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there are Unix signals.
pub(crate) async fn wait_for_shutdown() {
    Shutdown::listen().wait().await
}

/// Runs `service` (which stops when `cancel` is cancelled) until it ends by itself or a
/// shutdown signal arrives; on a signal, cancels it and waits for it to finish. `name` goes in
/// the log line and the error context.
pub(crate) async fn run_until_shutdown<F, E>(
    name: &'static str,
    cancel: CancellationToken,
    service: F,
) -> eyre::Result<()>
where
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut task = tokio::spawn(service);
    tokio::select! {
        done = &mut task => done.wrap_err_with(|| format!("{name} task"))??,
        () = wait_for_shutdown() => {
            tracing::info!(target: "verity", service = name, "shutting down: finishing the current step");
            cancel.cancel();
            task.await.wrap_err_with(|| format!("{name} task"))??;
        }
    }
    Ok(())
}
