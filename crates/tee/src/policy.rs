//! What a verifier accepts: TEE types, TCB statuses, measurement allow-lists.

use std::{collections::BTreeSet, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Result, TeeError};

/// The chain id of the local devnet, the only chain where the insecure devnet type may be
/// accepted.
pub const DEVNET_CHAIN_ID: u64 = 31337;

/// Which kind of TEE produced a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TeeKind {
    /// Intel SGX enclave, DCAP quote v3.
    Sgx,
    /// Intel TDX trust domain, DCAP quote v4/v5.
    Tdx,
    /// Not a TEE: a self-signed stand-in for devnets (chain id 31337) only. Anyone can make one.
    DevnetInsecure,
}

impl fmt::Display for TeeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sgx => "SGX",
            Self::Tdx => "TDX",
            Self::DevnetInsecure => "DEVNET-INSECURE",
        })
    }
}

/// The TCB status Intel's collateral assigns to the platform and quoting enclave, merged as
/// Intel's QVL does. Names as in Intel's TCB info JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TcbStatus {
    /// Fully patched.
    UpToDate,
    /// Patched, but software mitigations (e.g. for LVI) are needed in the enclave.
    SWHardeningNeeded,
    /// Patched, but the platform configuration needs a change (e.g. disable SMT).
    ConfigurationNeeded,
    /// Both of the above.
    ConfigurationAndSWHardeningNeeded,
    /// The platform or QE misses security updates.
    OutOfDate,
    /// Out of date and needs a configuration change.
    OutOfDateConfigurationNeeded,
    /// TDX 1.5: launched out of date, current TCB fine: relaunch the TD.
    TDRelaunchAdvised,
    /// TDX 1.5: relaunch advised and a configuration change needed.
    TDRelaunchAdvisedConfigurationNeeded,
    /// Keys compromised. dcap-qvl refuses such quotes before any policy is applied.
    Revoked,
}

impl TcbStatus {
    /// Every status, in the order above.
    pub const ALL: [Self; 9] = [
        Self::UpToDate,
        Self::SWHardeningNeeded,
        Self::ConfigurationNeeded,
        Self::ConfigurationAndSWHardeningNeeded,
        Self::OutOfDate,
        Self::OutOfDateConfigurationNeeded,
        Self::TDRelaunchAdvised,
        Self::TDRelaunchAdvisedConfigurationNeeded,
        Self::Revoked,
    ];

    /// The name Intel's collateral uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpToDate => "UpToDate",
            Self::SWHardeningNeeded => "SWHardeningNeeded",
            Self::ConfigurationNeeded => "ConfigurationNeeded",
            Self::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            Self::OutOfDate => "OutOfDate",
            Self::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            Self::TDRelaunchAdvised => "TDRelaunchAdvised",
            Self::TDRelaunchAdvisedConfigurationNeeded => "TDRelaunchAdvisedConfigurationNeeded",
            Self::Revoked => "Revoked",
        }
    }
}

impl From<dcap_qvl::TcbStatus> for TcbStatus {
    fn from(s: dcap_qvl::TcbStatus) -> Self {
        use dcap_qvl::TcbStatus as D;
        match s {
            D::UpToDate => Self::UpToDate,
            D::SWHardeningNeeded => Self::SWHardeningNeeded,
            D::ConfigurationNeeded => Self::ConfigurationNeeded,
            D::ConfigurationAndSWHardeningNeeded => Self::ConfigurationAndSWHardeningNeeded,
            D::OutOfDate => Self::OutOfDate,
            D::OutOfDateConfigurationNeeded => Self::OutOfDateConfigurationNeeded,
            D::TDRelaunchAdvised => Self::TDRelaunchAdvised,
            D::TDRelaunchAdvisedConfigurationNeeded => Self::TDRelaunchAdvisedConfigurationNeeded,
            D::Revoked => Self::Revoked,
        }
    }
}

impl fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TcbStatus {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown TCB status {s:?} (one of {})", names.join(", "))
            })
    }
}

/// A measurement register value (MRENCLAVE, MRSIGNER, MRTD, RTMRn, ...): raw bytes, shown and
/// serialized as lowercase hex.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Measurement(pub Vec<u8>);

impl Measurement {
    /// Parses hex, with or without a `0x` prefix.
    pub fn from_hex(s: &str) -> Result<Self> {
        let digits = s.trim().trim_start_matches("0x");
        hex::decode(digits)
            .map(Self)
            .map_err(|e| TeeError::InvalidHex {
                what: format!("measurement {s:?}"),
                reason: e.to_string(),
            })
    }

    /// Lowercase hex, no prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Measurement({})", self.to_hex())
    }
}

impl Serialize for Measurement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Measurement {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// An optional allow-list: `None` accepts any value, `Some(set)` only the values in `set`.
pub type AllowList = Option<BTreeSet<Measurement>>;

/// What a verifier accepts. Loadable from JSON/TOML (every field defaults).
///
/// The default is strict about the platform and open about the software: SGX and TDX quotes
/// with TCB status `UpToDate`, any measurement. A registry that trusts enclaves for results must
/// set the allow-lists; the default only answers "is this a genuine, patched Intel TEE".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// TEE types accepted among SGX and TDX. The devnet type is never accepted through this
    /// set, only through `insecure_devnet_chain_id`.
    pub tee_types: BTreeSet<TeeKind>,
    /// Accept the insecure devnet stand-in: must be 31337 (the devnet's chain id), anything
    /// else is refused with [`TeeError::DevnetOnly`]. Set by
    /// [`Policy::allow_insecure_devnet`].
    pub insecure_devnet_chain_id: Option<u64>,
    /// TCB statuses accepted (SGX and TDX).
    pub tcb_statuses: BTreeSet<TcbStatus>,
    /// SGX MRENCLAVE (32 bytes): the hash of the enclave's code and initial data.
    pub mr_enclave: AllowList,
    /// SGX MRSIGNER (32 bytes): the hash of the key that signed the enclave.
    pub mr_signer: AllowList,
    /// TDX MRTD (48 bytes): the initial contents of the TD (the virtual firmware).
    pub mr_td: AllowList,
    /// TDX RTMR0..RTMR3 (48 bytes each): runtime measurements (firmware config, kernel,
    /// command line, application), each checked against its own list.
    pub rtmr: [AllowList; 4],
    /// The devnet stand-in's 32-byte measurement.
    pub devnet_measurement: AllowList,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            tee_types: BTreeSet::from([TeeKind::Sgx, TeeKind::Tdx]),
            tcb_statuses: BTreeSet::from([TcbStatus::UpToDate]),
            insecure_devnet_chain_id: None,
            mr_enclave: None,
            mr_signer: None,
            mr_td: None,
            rtmr: [None, None, None, None],
            devnet_measurement: None,
        }
    }
}

impl Policy {
    /// The default: SGX and TDX, `UpToDate` only, any measurement.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Accepts one more TCB status.
    pub fn accept_status(mut self, status: TcbStatus) -> Self {
        self.tcb_statuses.insert(status);
        self
    }

    /// Accepts only these TEE types among SGX and TDX (listing the devnet type here does not
    /// accept it: see [`Policy::allow_insecure_devnet`]).
    pub fn only_tee_types(mut self, kinds: impl IntoIterator<Item = TeeKind>) -> Self {
        self.tee_types = kinds.into_iter().collect();
        self
    }

    /// Adds an MRENCLAVE to the allow-list (creating the list: other values are then refused).
    pub fn allow_mr_enclave(mut self, m: Measurement) -> Self {
        self.mr_enclave.get_or_insert_with(BTreeSet::new).insert(m);
        self
    }

    /// Adds an MRSIGNER to the allow-list.
    pub fn allow_mr_signer(mut self, m: Measurement) -> Self {
        self.mr_signer.get_or_insert_with(BTreeSet::new).insert(m);
        self
    }

    /// Adds an MRTD to the allow-list.
    pub fn allow_mr_td(mut self, m: Measurement) -> Self {
        self.mr_td.get_or_insert_with(BTreeSet::new).insert(m);
        self
    }

    /// Adds a value to the allow-list of RTMR`index` (0..=3).
    ///
    /// # Panics
    /// If `index > 3`.
    pub fn allow_rtmr(mut self, index: usize, m: Measurement) -> Self {
        self.rtmr[index].get_or_insert_with(BTreeSet::new).insert(m);
        self
    }

    /// Accepts the insecure devnet stand-in, and only on the devnet's chain id (31337): anyone
    /// can produce such a "quote", so on any other chain this returns
    /// [`TeeError::DevnetOnly`].
    pub fn allow_insecure_devnet(mut self, chain_id: u64) -> Result<Self> {
        if chain_id != DEVNET_CHAIN_ID {
            return Err(TeeError::DevnetOnly { chain_id });
        }
        self.insecure_devnet_chain_id = Some(chain_id);
        Ok(self)
    }

    pub(crate) fn check_tee_type(&self, kind: TeeKind) -> Result<()> {
        match kind {
            TeeKind::DevnetInsecure => match self.insecure_devnet_chain_id {
                Some(DEVNET_CHAIN_ID) => Ok(()),
                Some(chain_id) => Err(TeeError::DevnetOnly { chain_id }),
                None => Err(TeeError::TeeTypeNotAccepted {
                    kind,
                    hint: " (an insecure devnet stand-in: accepted only on chain 31337, by a \
                           policy built with allow_insecure_devnet)",
                }),
            },
            _ if self.tee_types.contains(&kind) => Ok(()),
            _ => Err(TeeError::TeeTypeNotAccepted { kind, hint: "" }),
        }
    }

    pub(crate) fn check_status(&self, status: TcbStatus) -> Result<()> {
        if self.tcb_statuses.contains(&status) {
            return Ok(());
        }
        let accepted: Vec<_> = self.tcb_statuses.iter().map(|s| s.as_str()).collect();
        Err(TeeError::TcbStatusNotAccepted {
            status,
            accepted: accepted.join(", "),
        })
    }
}

/// Checks `value` against an allow-list.
pub(crate) fn check_allowed(name: &'static str, list: &AllowList, value: &[u8]) -> Result<()> {
    match list {
        Some(set) if !set.iter().any(|m| m.0 == value) => Err(TeeError::MeasurementNotAllowed {
            name,
            value: hex::encode(value),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_is_refused_off_chain_31337() {
        let err = Policy::default().allow_insecure_devnet(1).unwrap_err();
        assert_eq!(err.code(), "V-TEE-011");
        let p = Policy::default().allow_insecure_devnet(31337).unwrap();
        assert!(p.check_tee_type(TeeKind::DevnetInsecure).is_ok());
        assert_eq!(
            Policy::default()
                .check_tee_type(TeeKind::DevnetInsecure)
                .unwrap_err()
                .code(),
            "V-TEE-008"
        );
    }

    #[test]
    fn a_config_file_cannot_accept_the_devnet_type_off_chain_31337() {
        let p: Policy = serde_json::from_str(
            r#"{"tee_types":["Sgx","Tdx","DevnetInsecure"],"insecure_devnet_chain_id":1}"#,
        )
        .unwrap();
        let err = p.check_tee_type(TeeKind::DevnetInsecure).unwrap_err();
        assert_eq!(err.code(), "V-TEE-011");
    }

    #[test]
    fn only_tee_types_cannot_smuggle_the_devnet_type() {
        let p = Policy::default().only_tee_types([TeeKind::DevnetInsecure, TeeKind::Tdx]);
        assert!(p.check_tee_type(TeeKind::DevnetInsecure).is_err());
        assert!(p.check_tee_type(TeeKind::Tdx).is_ok());
        assert!(p.check_tee_type(TeeKind::Sgx).is_err());
    }

    #[test]
    fn status_names_round_trip() {
        for s in TcbStatus::ALL {
            assert_eq!(s.as_str().parse::<TcbStatus>().unwrap(), s);
        }
        assert!("Fine".parse::<TcbStatus>().is_err());
    }

    #[test]
    fn policy_parses_from_json_with_defaults() {
        let p: Policy = serde_json::from_str(
            r#"{"tcb_statuses":["UpToDate","SWHardeningNeeded"],"mr_td":["0xAB01"]}"#,
        )
        .unwrap();
        assert_eq!(p.tee_types, Policy::default().tee_types);
        assert_eq!(p.tcb_statuses.len(), 2);
        assert_eq!(
            p.mr_td.unwrap().into_iter().next().unwrap().to_hex(),
            "ab01"
        );
    }
}
