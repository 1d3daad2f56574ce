//! The HTTP endpoint: axum router, server loop, interval miner, spawned handle.

use std::net::{Ipv4Addr, SocketAddr};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    devchain::Devchain,
    error::{Error, Result},
    rpc,
};

/// Largest accepted request body (contract deployments of ~100 KB fit easily).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The JSON-RPC router: `POST /` takes single and batch JSON-RPC 2.0 requests.
pub fn app(chain: Devchain) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(chain)
}

async fn handle(State(chain): State<Devchain>, body: Bytes) -> Response {
    // EVM work is synchronous and may take a while (gas estimation): keep it off the
    // async workers.
    let answer = tokio::task::spawn_blocking(move || rpc::handle_body(&chain, &body)).await;
    match answer {
        Ok(Some(value)) => (
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rpc handler panicked");
            (
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": null,
                    "error": { "code": -32603, "message": "internal error: the handler panicked" },
                })
                .to_string(),
            )
                .into_response()
        }
    }
}

/// Serves `chain` on `listener` until `cancel` fires. With a configured `block_time`, also
/// mines a block every `block_time`.
pub async fn serve(
    chain: Devchain,
    listener: TcpListener,
    cancel: CancellationToken,
) -> Result<()> {
    // A child token: stopping the miner must not cancel the caller's token.
    let miner_cancel = cancel.child_token();
    let miner = chain.block_time().map(|period| {
        let chain = chain.clone();
        let cancel = miner_cancel.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = ticker.tick() => {
                        let chain = chain.clone();
                        match tokio::task::spawn_blocking(move || chain.mine()).await {
                            Ok(Ok(number)) => tracing::debug!(number, "interval block mined"),
                            Ok(Err(e)) => tracing::warn!(error = %e, "interval mining failed"),
                            Err(e) => tracing::error!(error = %e, "interval miner panicked"),
                        }
                    }
                }
            }
        })
    });
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, chain_id = chain.chain_id(), "devchain JSON-RPC listening");
    }
    let served = axum::serve(listener, app(chain))
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await;
    miner_cancel.cancel();
    if let Some(miner) = miner {
        let _ = miner.await;
    }
    served.map_err(Error::Io)
}

/// A devchain served in a background task; dropping it stops the server.
#[derive(Debug)]
pub struct DevchainHandle {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The chain (a clone of the served one).
    pub chain: Devchain,
    cancel: CancellationToken,
    task: Option<JoinHandle<Result<()>>>,
}

impl DevchainHandle {
    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) -> Result<()> {
        self.cancel.cancel();
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| Error::Internal(format!("server task failed: {e}")))?,
            None => Ok(()),
        }
    }
}

impl Drop for DevchainHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Creates a chain and serves it on `127.0.0.1:0` (a free port) in a tokio task.
pub async fn spawn(cfg: crate::DevchainConfig) -> Result<DevchainHandle> {
    let chain = Devchain::new(cfg)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let task = tokio::spawn(serve(chain.clone(), listener, cancel.clone()));
    Ok(DevchainHandle {
        url: format!("http://{addr}"),
        addr,
        chain,
        cancel,
        task: Some(task),
    })
}
