//! [`Blobs`] over the store crate: a local disk store in front of IPFS trustless gateways.
//! Fetched bytes are verified against their CID by the store before the node sees them.

use alloy::primitives::B256;
use tracing::warn;
use verity_store::{BlobStore, Cid, FetchingStore, GatewayClient};

use crate::blobs::{BlobError, Blobs};

/// Local store + gateways; outputs are also uploaded to `upload_to` when set.
#[derive(Debug)]
pub struct StoreBlobs {
    store: FetchingStore,
    upload_to: Option<GatewayClient>,
}

impl StoreBlobs {
    /// Wraps a fetching store.
    pub fn new(store: FetchingStore, upload_to: Option<GatewayClient>) -> Self {
        Self { store, upload_to }
    }
}

impl Blobs for StoreBlobs {
    async fn fetch(&self, digest: B256) -> Result<Vec<u8>, BlobError> {
        let cid = Cid::from_digest(digest.0);
        match self.store.get(&cid).await {
            Ok(bytes) => Ok(bytes.to_vec()),
            Err(e) if e.is_not_found() => Err(BlobError::NotFound(digest)),
            Err(e) => Err(BlobError::Unavailable {
                digest,
                reason: e.to_string(),
            }),
        }
    }

    async fn publish(&self, bytes: Vec<u8>) -> Result<B256, BlobError> {
        let bytes = bytes::Bytes::from(bytes);
        let digest = B256::from(Cid::of(&bytes).digest());
        self.store
            .local()
            .put(bytes.clone())
            .await
            .map_err(|e| BlobError::Unavailable {
                digest,
                reason: e.to_string(),
            })?;
        if let Some(gateway) = &self.upload_to
            && let Err(e) = gateway.upload(bytes).await
        {
            // The result is already decided; the output stays served from the local store.
            warn!(target: "node::store", %digest, error = %e, "uploading the output failed");
        }
        Ok(digest)
    }
}
