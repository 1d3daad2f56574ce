//! A local store that fills itself from gateways.

use std::sync::Arc;

use bytes::Bytes;

use crate::{BlobStore, BoxFuture, Cid, GatewayClient, Result, StoreError};

const TARGET: &str = "store::fetching";

/// Reads from a local store first; on a miss (or a corrupt local copy) asks each gateway in
/// order, keeps the first answer that matches the CID, and caches it locally.
///
/// Writes, `has`, `size` and `delete` are local only.
#[derive(Debug, Clone)]
pub struct FetchingStore {
    local: Arc<dyn BlobStore>,
    gateways: Vec<GatewayClient>,
}

impl FetchingStore {
    /// `local` backed by `gateways`, asked in this order.
    pub fn new(local: Arc<dyn BlobStore>, gateways: Vec<GatewayClient>) -> Self {
        Self { local, gateways }
    }

    /// The local store.
    pub fn local(&self) -> &Arc<dyn BlobStore> {
        &self.local
    }

    /// The gateways, in the order they are asked.
    pub fn gateways(&self) -> &[GatewayClient] {
        &self.gateways
    }

    async fn get_or_fetch(&self, cid: Cid) -> Result<Bytes> {
        match self.local.get(&cid).await {
            Ok(bytes) => return Ok(bytes),
            Err(StoreError::NotFound { .. }) => {}
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::warn!(target: TARGET, %cid, error = %e, "local copy corrupt; refetching");
            }
            Err(e) => return Err(e),
        }
        let mut last = None;
        let mut all_not_found = true;
        for gateway in &self.gateways {
            match gateway.fetch(&cid).await {
                Ok(bytes) => {
                    // `fetch` verified the bytes. Failing to cache them does not make them wrong.
                    if let Err(e) = self.local.put(bytes.clone()).await {
                        tracing::warn!(target: TARGET, %cid, error = %e, "could not cache fetched blob");
                    }
                    return Ok(bytes);
                }
                Err(e) => {
                    tracing::info!(target: TARGET, %cid, gateway = gateway.base_url(), error = %e,
                        "gateway could not provide blob");
                    all_not_found &= e.is_not_found();
                    last = Some(e);
                }
            }
        }
        match last {
            Some(last) if !all_not_found => Err(StoreError::Unavailable {
                cid,
                tried: self.gateways.len(),
                last: Box::new(last),
            }),
            _ => Err(StoreError::NotFound { cid }),
        }
    }
}

impl BlobStore for FetchingStore {
    fn put(&self, bytes: Bytes) -> BoxFuture<'_, Result<Cid>> {
        self.local.put(bytes)
    }

    fn get(&self, cid: &Cid) -> BoxFuture<'_, Result<Bytes>> {
        let cid = *cid;
        Box::pin(self.get_or_fetch(cid))
    }

    fn has(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        self.local.has(cid)
    }

    fn delete(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        self.local.delete(cid)
    }

    fn size(&self, cid: &Cid) -> BoxFuture<'_, Result<Option<u64>>> {
        self.local.size(cid)
    }

    fn max_blob_bytes(&self) -> u64 {
        self.local.max_blob_bytes()
    }
}
