//! A client for any trustless gateway: fetches raw blocks and checks them against their CID.

use std::time::Duration;

use super::{RAW_MEDIA_TYPE, error::ErrorBody, server::UploadResponse};
use crate::{Cid, Limits, Result, StoreError};
use bytes::{Bytes, BytesMut};
use reqwest::{
    Response, StatusCode, Url,
    header::{ACCEPT, CONTENT_TYPE},
};

const TARGET: &str = "store::gateway";

/// Most bytes read from an upload answer or an error body.
const MAX_SMALL_BODY: u64 = 64 << 10;

/// Most bytes allocated up front for a fetch, whatever `Content-Length` the gateway claims.
const MAX_PREALLOC: u64 = 8 << 20;

/// Caps and timeouts of a [`GatewayClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayOptions {
    /// Largest blob fetched or uploaded; a response is cut off as soon as it exceeds this.
    pub max_blob_bytes: u64,
    /// Time for a whole request, body included.
    pub timeout: Duration,
    /// Time to connect.
    pub connect_timeout: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            max_blob_bytes: Limits::DEFAULT_MAX_BLOB_BYTES,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Talks to one gateway: ours or any IPFS trustless gateway.
///
/// Nothing the gateway says is trusted: fetched bytes are checked against the CID asked for,
/// and the CID our gateway names an upload by is checked against the one computed locally.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    base: String,
    http: reqwest::Client,
    options: GatewayOptions,
}

impl GatewayClient {
    /// A client for the gateway at `base_url` (e.g. `http://127.0.0.1:8080`; a path prefix is
    /// kept) with default options.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_options(base_url, GatewayOptions::default())
    }

    /// A client for the gateway at `base_url` with `options`.
    pub fn with_options(base_url: &str, options: GatewayOptions) -> Result<Self> {
        let bad = |reason: &str| StoreError::BadGatewayUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(base_url).map_err(|e| bad(&e.to_string()))?;
        match url.scheme() {
            "http" => {}
            "https" => return Err(bad("https needs TLS, which this build leaves out")),
            other => return Err(bad(&format!("scheme {other:?} is not http"))),
        }
        if url.host_str().is_none() {
            return Err(bad("no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a base URL has no query or fragment"));
        }
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
            http,
            options,
        })
    }

    /// The gateway's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The options.
    pub fn options(&self) -> GatewayOptions {
        self.options
    }

    /// The URL of the raw block `cid`: `{base}/ipfs/{cid}?format=raw`.
    pub fn block_url(&self, cid: &Cid) -> String {
        format!("{}/ipfs/{cid}?format=raw", self.base)
    }

    /// Fetches the raw block `cid` and checks it.
    ///
    /// Fails with [`StoreError::NotFound`] on 404, [`StoreError::TooLarge`] as soon as the
    /// declared or received length passes the cap (nothing more is read), and
    /// [`StoreError::Mismatch`] when the bytes do not hash to `cid`.
    pub async fn fetch(&self, cid: &Cid) -> Result<Bytes> {
        let url = self.block_url(cid);
        let resp = self
            .http
            .get(&url)
            .header(ACCEPT, RAW_MEDIA_TYPE)
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(StoreError::NotFound { cid: *cid }),
            status => return Err(gateway_error(&url, status, resp).await),
        }
        let bytes = read_capped(resp, &url, self.options.max_blob_bytes, Some(*cid)).await?;
        if let Err(m) = cid.verify(&bytes) {
            tracing::warn!(target: TARGET, gateway = %self.base, %cid, actual = %m.actual,
                "gateway returned bytes that do not match the CID");
            return Err(StoreError::Mismatch {
                cid: *cid,
                gateway: self.base.clone(),
                actual: m.actual,
            });
        }
        tracing::debug!(target: TARGET, gateway = %self.base, %cid, size = bytes.len(), "fetched");
        Ok(bytes)
    }

    /// Asks whether the gateway has `cid` (a `HEAD` request; nothing is verified).
    pub async fn has(&self, cid: &Cid) -> Result<bool> {
        let url = self.block_url(cid);
        let resp = self
            .http
            .head(&url)
            .header(ACCEPT, RAW_MEDIA_TYPE)
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            status => Err(gateway_error(&url, status, resp).await),
        }
    }

    /// Uploads `bytes` to our gateway (`POST {base}/ipfs`) and returns their CID, after
    /// checking that the gateway named them by the CID computed here.
    pub async fn upload(&self, bytes: Bytes) -> Result<Cid> {
        let expected = Cid::of(&bytes);
        let limit = self.options.max_blob_bytes;
        if bytes.len() as u64 > limit {
            return Err(StoreError::TooLarge {
                cid: Some(expected),
                size: bytes.len() as u64,
                limit,
            });
        }
        let url = format!("{}/ipfs", self.base);
        let resp = self
            .http
            .post(&url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(gateway_error(&url, status, resp).await);
        }
        let body = read_capped(resp, &url, MAX_SMALL_BODY, None).await?;
        let got = match serde_json::from_slice::<UploadResponse>(&body) {
            Ok(r) => r.cid,
            Err(_) => {
                return Err(StoreError::UploadMismatch {
                    url,
                    expected,
                    got: String::from_utf8_lossy(&body).chars().take(200).collect(),
                });
            }
        };
        if got != expected {
            return Err(StoreError::UploadMismatch {
                url,
                expected,
                got: got.to_string(),
            });
        }
        tracing::debug!(target: TARGET, gateway = %self.base, cid = %expected, "uploaded");
        Ok(expected)
    }
}

fn transport(url: &str, source: reqwest::Error) -> StoreError {
    StoreError::Transport {
        url: url.to_owned(),
        source,
    }
}

/// Reads a response body, stopping as soon as it is known to exceed `limit`.
async fn read_capped(mut resp: Response, url: &str, limit: u64, cid: Option<Cid>) -> Result<Bytes> {
    let too_large = |size| StoreError::TooLarge { cid, size, limit };
    let declared = resp.content_length();
    if let Some(len) = declared
        && len > limit
    {
        return Err(too_large(len));
    }
    let capacity = declared.unwrap_or(0).min(limit).min(MAX_PREALLOC);
    let mut buf = BytesMut::with_capacity(capacity as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(url, e))? {
        let size = (buf.len() + chunk.len()) as u64;
        if size > limit {
            return Err(too_large(size));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// An unexpected status, with the gateway's message when it sent one we can read.
async fn gateway_error(url: &str, status: StatusCode, resp: Response) -> StoreError {
    let message = match read_capped(resp, url, MAX_SMALL_BODY, None).await {
        Ok(body) => match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => e.error.message,
            Err(_) => String::from_utf8_lossy(&body).chars().take(200).collect(),
        },
        Err(_) => String::new(),
    };
    StoreError::Gateway {
        url: url.to_owned(),
        status: status.as_u16(),
        message,
    }
}
