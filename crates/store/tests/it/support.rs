//! Helpers shared by the tests: a real gateway on a loopback socket.

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use verity_store::{BlobStore, serve};

/// Our gateway over `store`, listening on 127.0.0.1 until dropped.
pub(crate) struct Gateway {
    pub(crate) url: String,
    cancel: CancellationToken,
    task: Option<JoinHandle<verity_store::Result<()>>>,
}

impl Gateway {
    pub(crate) async fn start(store: Arc<dyn BlobStore>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cancel = CancellationToken::new();
        let task = tokio::spawn(serve(listener, store, cancel.clone()));
        Self {
            url,
            cancel,
            task: Some(task),
        }
    }

    /// Stops the server gracefully and checks it stopped cleanly.
    pub(crate) async fn stop(mut self) {
        self.cancel.cancel();
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Any router (e.g. a lying gateway) on 127.0.0.1; the server stops with the test runtime.
pub(crate) async fn spawn_router(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}
