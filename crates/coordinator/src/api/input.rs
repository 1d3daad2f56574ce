//! Turning request input into typed values, strictly: JSON bodies with no unknown fields or
//! trailing bytes, query strings with only known and unrepeated parameters, path segments that
//! are exactly a task id or an address.

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use axum::{
    body::Bytes,
    extract::rejection::BytesRejection,
    http::{HeaderMap, StatusCode, header},
};
use serde::de::DeserializeOwned;

use super::error::{ApiError, codes};
use crate::store::{Order, TaskStatus};

/// The largest page any list endpoint returns.
pub const MAX_LIMIT: u32 = 100;
/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Longest decimal task id (2^256 - 1 has 78 digits).
const MAX_ID_DIGITS: usize = 78;

/// Parses a JSON body strictly: right content type, within the size limit, every field
/// known, nothing after the value.
pub(crate) fn strict_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::NOT_JSON,
            "expected Content-Type: application/json",
        ));
    }
    let body = body.map_err(|r| {
        let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            codes::TOO_LARGE
        } else {
            codes::BAD_BODY
        };
        ApiError::new(r.status(), code, r.body_text())
    })?;
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(&body);
    let value: T = serde_ignored::deserialize(&mut de, |path| unknown.push(path.to_string()))
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| ApiError::bad_request(codes::BAD_JSON, format!("invalid JSON: {e}")))?;
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(
            codes::UNKNOWN_FIELD,
            format!("unknown fields: {}", unknown.join(", ")),
        ));
    }
    Ok(value)
}

/// A query string split into parameters, each known to the endpoint and given once.
#[derive(Debug)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    /// Splits `query`, refusing parameters outside `known` and repeated ones.
    pub(crate) fn parse(query: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if !known.contains(&k.as_ref()) {
                let allowed = if known.is_empty() {
                    "this endpoint takes no query parameters".to_owned()
                } else {
                    format!("known: {}", known.join(", "))
                };
                return Err(ApiError::bad_request(
                    codes::UNKNOWN_PARAM,
                    format!("unknown query parameter {:?} ({allowed})", clip(&k)),
                ));
            }
            if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                return Err(ApiError::bad_request(
                    codes::BAD_PARAM,
                    format!("query parameter {k:?} given more than once"),
                ));
            }
        }
        Ok(Self(map))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `limit`: 1..=[`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
    pub(crate) fn limit(&self) -> Result<u32, ApiError> {
        let Some(raw) = self.get("limit") else {
            return Ok(DEFAULT_LIMIT);
        };
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_param("limit", raw, "a whole number"));
        }
        // Digits only: parsing fails only on overflow, which is above the maximum anyway.
        let n = raw.parse::<u64>().unwrap_or(u64::MAX);
        if n == 0 {
            return Err(bad_param("limit", raw, "at least 1"));
        }
        if n > u64::from(MAX_LIMIT) {
            return Err(ApiError::bad_request(
                codes::LIMIT_TOO_LARGE,
                format!(
                    "limit {} is above the maximum page size {MAX_LIMIT}; page with `after`",
                    clip(raw)
                ),
            ));
        }
        Ok(n as u32)
    }

    /// `order`: `asc` (default) or `desc`.
    pub(crate) fn order(&self) -> Result<Order, ApiError> {
        match self.get("order") {
            None | Some("asc") => Ok(Order::Asc),
            Some("desc") => Ok(Order::Desc),
            Some(other) => Err(bad_param("order", other, "asc or desc")),
        }
    }

    /// `after` as a task id.
    pub(crate) fn after_task(&self) -> Result<Option<U256>, ApiError> {
        self.get("after")
            .map(|s| parse_task_id(s).map_err(|why| bad_param("after", s, &why)))
            .transpose()
    }

    /// `after` as an operator address.
    pub(crate) fn after_address(&self) -> Result<Option<Address>, ApiError> {
        self.get("after")
            .map(|s| parse_address(s).map_err(|why| bad_param("after", s, &why)))
            .transpose()
    }

    /// A boolean parameter: `true` or `false`, default `false`.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(bad_param(name, other, "true or false")),
        }
    }

    /// `status` as a task status.
    pub(crate) fn status(&self) -> Result<Option<TaskStatus>, ApiError> {
        self.get("status")
            .map(|s| {
                TaskStatus::parse(s).ok_or_else(|| {
                    bad_param(
                        "status",
                        s,
                        "one of open, assigned, submitted, challenged, finalized, refunded",
                    )
                })
            })
            .transpose()
    }
}

/// At most 64 characters of untrusted input, for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn bad_param(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError::bad_request(
        codes::BAD_PARAM,
        format!(
            "invalid query parameter {name}={:?}: expected {expected}",
            clip(value)
        ),
    )
}

/// A task id: decimal digits, below 2^256.
pub(crate) fn parse_task_id(s: &str) -> Result<U256, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a task id in decimal digits".into());
    }
    if s.len() > MAX_ID_DIGITS {
        return Err("a task id below 2^256".into());
    }
    U256::from_str_radix(s, 10).map_err(|_| "a task id below 2^256".into())
}

/// An address: `0x` and 40 hex digits; mixed case must be a valid EIP-55 checksum.
pub(crate) fn parse_address(s: &str) -> Result<Address, String> {
    let hex = s
        .strip_prefix("0x")
        .ok_or_else(|| "an address starting with 0x".to_owned())?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("an address of 40 hex digits after 0x".into());
    }
    let mixed =
        hex.bytes().any(|b| b.is_ascii_uppercase()) && hex.bytes().any(|b| b.is_ascii_lowercase());
    if mixed {
        return Address::parse_checksummed(s, None)
            .map_err(|_| "an address with a valid EIP-55 checksum (or all one case)".into());
    }
    s.parse()
        .map_err(|_| "an address of 40 hex digits after 0x".into())
}

/// A path segment as a task id.
pub(crate) fn path_task_id(s: &str) -> Result<U256, ApiError> {
    parse_task_id(s).map_err(|why| {
        ApiError::bad_request(
            codes::BAD_PATH,
            format!("invalid task id {:?}: expected {why}", clip(s)),
        )
    })
}

/// A path segment as an operator address.
pub(crate) fn path_address(s: &str) -> Result<Address, ApiError> {
    parse_address(s).map_err(|why| {
        ApiError::bad_request(
            codes::BAD_PATH,
            format!("invalid operator address {:?}: expected {why}", clip(s)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_decimal_and_below_2_pow_256() {
        assert_eq!(parse_task_id("42").unwrap(), U256::from(42));
        let max = U256::MAX.to_string();
        assert_eq!(parse_task_id(&max).unwrap(), U256::MAX);
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert!(parse_task_id(over).is_err());
        assert!(parse_task_id(&"9".repeat(200)).is_err());
        for bad in ["", "0x2a", "-1", "+1", "1e3", "4 2", "１"] {
            assert!(parse_task_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_need_0x_40_hex_and_a_valid_checksum_when_mixed_case() {
        let lower = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
        let checksummed = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        assert_eq!(
            parse_address(lower).unwrap(),
            parse_address(checksummed).unwrap()
        );
        assert!(parse_address(&lower.to_uppercase().replace("0X", "0x")).is_ok());
        assert!(parse_address("0x70997970C51812dc3A010C7d01b50e0d17dc79c8").is_err());
        assert!(parse_address(&lower[2..]).is_err());
        assert!(parse_address(&lower[..41]).is_err());
        assert!(parse_address("0xzz997970c51812dc3a010c7d01b50e0d17dc79c8").is_err());
    }

    #[test]
    fn params_reject_unknown_and_repeated_names_and_bound_the_limit() {
        let p = Params::parse(Some("limit=100&order=desc"), &["limit", "order"]).unwrap();
        assert_eq!(p.limit().unwrap(), 100);
        assert_eq!(p.order().unwrap(), Order::Desc);
        let e = Params::parse(Some("limit=1&bogus=2"), &["limit"]).unwrap_err();
        assert_eq!(e.code(), codes::UNKNOWN_PARAM);
        let e = Params::parse(Some("limit=1&limit=2"), &["limit"]).unwrap_err();
        assert_eq!(e.code(), codes::BAD_PARAM);
        let limit = |q: &str| Params::parse(Some(q), &["limit"]).unwrap().limit();
        assert_eq!(
            limit("limit=101").unwrap_err().code(),
            codes::LIMIT_TOO_LARGE
        );
        assert_eq!(
            limit("limit=99999999999999999999999").unwrap_err().code(),
            codes::LIMIT_TOO_LARGE
        );
        for bad in ["limit=0", "limit=", "limit=-1", "limit=1.5", "limit=ten"] {
            assert_eq!(limit(bad).unwrap_err().code(), codes::BAD_PARAM, "{bad}");
        }
        assert_eq!(
            Params::parse(None, &["limit"]).unwrap().limit().unwrap(),
            DEFAULT_LIMIT
        );
    }
}
