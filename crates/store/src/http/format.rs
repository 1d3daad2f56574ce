//! Which response format the client asked for. We serve raw blocks only.

use axum::http::{HeaderMap, Uri, header::ACCEPT};

use super::{RAW_MEDIA_TYPE, error::ApiError};

/// Accepts the request if it asks for a raw block: `?format=raw` (which takes precedence, as the
/// trustless-gateway spec says) or an `Accept` header with `application/vnd.ipld.raw` (or a
/// wildcard covering it) at a non-zero quality.
pub(crate) fn require_raw(uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(format) = query_param(uri, "format") {
        return if format == "raw" {
            Ok(())
        } else {
            Err(ApiError::not_acceptable(&format!("format={format}")))
        };
    }
    let accept: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if accept.is_empty() {
        return Err(ApiError::format_missing());
    }
    if accept.iter().any(|v| accepts_raw(v)) {
        Ok(())
    } else {
        Err(ApiError::not_acceptable(&accept.join(", ")))
    }
}

fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether one `Accept` header value admits a raw block.
fn accepts_raw(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let matches = media.eq_ignore_ascii_case(RAW_MEDIA_TYPE)
            || media == "*/*"
            || media.eq_ignore_ascii_case("application/*");
        let quality_zero = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        matches && !quality_zero
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(query: &str, accept: Option<&str>) -> Result<(), u16> {
        let uri: Uri = format!("/ipfs/x{query}").parse().unwrap();
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        require_raw(&uri, &headers).map_err(|e| e.status.as_u16())
    }

    #[test]
    fn negotiation() {
        assert_eq!(check("?format=raw", None), Ok(()));
        assert_eq!(check("?filename=a&format=raw", None), Ok(()));
        assert_eq!(check("?format=car", Some(RAW_MEDIA_TYPE)), Err(406));
        assert_eq!(check("", Some(RAW_MEDIA_TYPE)), Ok(()));
        assert_eq!(
            check(
                "",
                Some("application/vnd.ipld.car, application/vnd.ipld.raw;q=0.5")
            ),
            Ok(())
        );
        assert_eq!(check("", Some("application/vnd.ipld.raw;q=0")), Err(406));
        assert_eq!(check("", Some("application/vnd.ipld.car")), Err(406));
        assert_eq!(check("", Some("text/html")), Err(406));
        assert_eq!(check("", Some("*/*")), Ok(()));
        assert_eq!(check("", None), Err(400));
        assert_eq!(check("?format=", None), Err(406));
    }
}
