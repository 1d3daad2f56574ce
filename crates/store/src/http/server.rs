//! Our gateway: `GET`/`HEAD /ipfs/{cid}` in the trustless-gateway shape, plus `POST /ipfs`.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, State},
    http::{
        HeaderMap, HeaderValue, StatusCode, Uri,
        header::{
            CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
            LOCATION, VARY, X_CONTENT_TYPE_OPTIONS,
        },
    },
    response::{IntoResponse, Response},
    routing::{get, post},
};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{RAW_MEDIA_TYPE, error::ApiError, format::require_raw};
use crate::{BlobStore, Cid, Result, StoreError};

const TARGET: &str = "store::http";

/// Content never changes under a CID: one year, the value IPFS gateways use.
const IMMUTABLE: &str = "public, max-age=29030400, immutable";

type Store = Arc<dyn BlobStore>;

/// The answer to `POST /ipfs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    /// The CID the bytes are stored under.
    pub cid: Cid,
}

/// The gateway's routes over `store`:
///
/// - `GET /ipfs/{cid}?format=raw` (or `Accept: application/vnd.ipld.raw`): the verified bytes;
/// - `HEAD /ipfs/{cid}?format=raw`: the same headers, no body;
/// - `POST /ipfs` with the bytes as body: stores them, answers `201 {"cid": "..."}`.
///
/// Errors are `{"error": {"code": "V-...", "message": "..."}}` with 400 (malformed CID, no
/// format asked for), 404 (unknown CID), 406 (a format other than raw), 413 (over the blob
/// cap), 507 (store full), 500 (corrupt or unreadable blob), 502 (upstream gateway failure).
pub fn app(store: Arc<dyn BlobStore>) -> Router {
    Router::new()
        .route("/ipfs/{cid}", get(get_blob).head(head_blob))
        .route("/ipfs", post(upload))
        .fallback(|uri: Uri| async move { ApiError::no_route(uri.path()) })
        .with_state(store)
}

/// Serves [`app`] on `listener` until `cancel` fires, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn BlobStore>,
    cancel: CancellationToken,
) -> Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(target: TARGET, %addr, "blob gateway listening");
    }
    axum::serve(listener, app(store))
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
        .map_err(StoreError::Serve)?;
    tracing::info!(target: TARGET, "blob gateway stopped");
    Ok(())
}

/// The headers of a raw block response.
fn block_headers(cid: &Cid) -> HeaderMap {
    let mut h = HeaderMap::new();
    let value = |s: String| HeaderValue::from_str(&s).expect("CIDs are ASCII");
    h.insert(CONTENT_TYPE, HeaderValue::from_static(RAW_MEDIA_TYPE));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    h.insert(ETAG, etag(cid));
    h.insert(
        CONTENT_DISPOSITION,
        value(format!("attachment; filename=\"{cid}.bin\"")),
    );
    h.insert("x-ipfs-path", value(format!("/ipfs/{cid}")));
    h.insert(VARY, HeaderValue::from_static("Accept"));
    h
}

fn etag(cid: &Cid) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{cid}.raw\"")).expect("CIDs are ASCII")
}

/// A cached copy is still right: what a CID names never changes.
fn not_modified(cid: &Cid, headers: &HeaderMap) -> Option<Response> {
    let tag = etag(cid);
    let tag = tag.to_str().expect("ASCII");
    let hit = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*");
    hit.then(|| {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        resp.headers_mut().insert(ETAG, etag(cid));
        resp.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        resp
    })
}

/// Parses the path and checks the format; shared by GET and HEAD.
fn block_request(raw: &str, uri: &Uri, headers: &HeaderMap) -> Result<Cid, ApiError> {
    let cid: Cid = raw.parse().map_err(StoreError::from)?;
    require_raw(uri, headers)?;
    Ok(cid)
}

async fn get_blob(
    State(store): State<Store>,
    Path(raw): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cid = block_request(&raw, &uri, &headers)?;
    if let Some(resp) = not_modified(&cid, &headers) {
        return Ok(resp);
    }
    // `get` verifies: bytes that do not match the CID never leave.
    let bytes = store.get(&cid).await?;
    tracing::debug!(target: TARGET, %cid, size = bytes.len(), "served");
    Ok((block_headers(&cid), bytes).into_response())
}

async fn head_blob(
    State(store): State<Store>,
    Path(raw): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cid = block_request(&raw, &uri, &headers)?;
    if let Some(resp) = not_modified(&cid, &headers) {
        return Ok(resp);
    }
    let size = store
        .size(&cid)
        .await?
        .ok_or(StoreError::NotFound { cid })?;
    let mut headers = block_headers(&cid);
    headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
    Ok((headers, Body::empty()).into_response())
}

async fn upload(
    State(store): State<Store>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limit = store.max_blob_bytes();
    let bytes = read_capped(body, &headers, limit).await?;
    let size = bytes.len();
    let cid = store.put(bytes).await?;
    tracing::info!(target: TARGET, %cid, size, "uploaded");
    let location = HeaderValue::from_str(&format!("/ipfs/{cid}")).expect("CIDs are ASCII");
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(UploadResponse { cid }),
    )
        .into_response())
}

/// Reads the request body, failing with 413 as soon as it is known to exceed `limit`.
async fn read_capped(mut body: Body, headers: &HeaderMap, limit: u64) -> Result<Bytes, ApiError> {
    let too_large = |size: u64| StoreError::TooLarge {
        cid: None,
        size,
        limit,
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > limit
    {
        return Err(too_large(len).into());
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "V-STO-023",
                format!("[V-STO-023] reading the request body failed: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            let size = (buf.len() + data.len()) as u64;
            if size > limit {
                return Err(too_large(size).into());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
