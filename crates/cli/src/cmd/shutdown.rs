//! Stopping long-running subcommands: on Ctrl-C or SIGTERM a service is cancelled and waited
//! for, so the step it is in (a transaction being sent) completes.

use std::future::Future;

use eyre::WrapErr as _;
use tokio_util::sync::CancellationToken;

/// Resolves on Ctrl-C, or on SIGTERM where there are Unix signals.
pub(crate) async fn wait_for_shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
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
