//! The collateral's validity window, checked before the signatures so that "expired" and "not
//! yet valid" come back typed, with the item and its date.
//!
//! Covers the two signed JSON documents (TCB info, QE identity), whose `nextUpdate` is the
//! usual first expiry (30 days after issue). CRLs and certificates are checked by dcap-qvl
//! itself (webpki enforces their dates); their expiry reaches the caller through
//! `verify::classify` as the same error variants, with dcap-qvl's wording.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use crate::{Collateral, Result, TeeError};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dated {
    issue_date: String,
    next_update: String,
}

pub(crate) fn check(collateral: &Collateral, at: u64) -> Result<()> {
    for (name, json) in [
        ("TCB info", &collateral.tcb_info),
        ("QE identity", &collateral.qe_identity),
    ] {
        let dated: Dated =
            serde_json::from_str(json).map_err(|e| TeeError::MalformedCollateral {
                reason: format!("{name}: {e}"),
            })?;
        let issue = unix(name, "issueDate", &dated.issue_date)?;
        let next = unix(name, "nextUpdate", &dated.next_update)?;
        if at < issue {
            return Err(TeeError::CollateralNotYetValid {
                at,
                what: format!("{name} issued {} ({issue})", rfc3339(issue)),
            });
        }
        if at > next {
            return Err(TeeError::CollateralExpired {
                at,
                what: format!("{name} nextUpdate {} ({next})", rfc3339(next)),
            });
        }
    }
    Ok(())
}

fn unix(name: &str, field: &str, s: &str) -> Result<u64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|t| u64::try_from(t.timestamp()).ok())
        .ok_or_else(|| TeeError::MalformedCollateral {
            reason: format!("{name}: {field} {s:?} is not an RFC 3339 date after 1970"),
        })
}

/// A unix time as RFC 3339, for messages.
pub(crate) fn rfc3339(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_as_utc() {
        assert_eq!(rfc3339(1_751_328_000), "2025-07-01T00:00:00Z");
    }
}
