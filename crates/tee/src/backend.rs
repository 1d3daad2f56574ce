//! The node side: something that produces quotes over chosen report data.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{Result, TeeError, TeeKind};

/// Produces attestation quotes over 64 bytes of report data chosen by the caller (normally
/// [`crate::key_binding_report_data`] of the node's enclave key and a verifier's nonce).
pub trait AttestationBackend: fmt::Debug + Send + Sync {
    /// Which TEE type the quotes are.
    fn kind(&self) -> TeeKind;

    /// A fresh quote whose report data is `report_data`.
    fn quote(&self, report_data: [u8; 64]) -> Result<Vec<u8>>;
}

/// TDX quotes through the Linux kernel's configfs-tsm report interface
/// (`Documentation/ABI/testing/configfs-tsm`, Linux 6.7+): make a directory under
/// `/sys/kernel/config/tsm/report`, write the report data to its `inblob`, read the quote from
/// its `outblob`, and check `generation` did not move in between (another writer).
///
/// Runs only inside a TDX guest whose kernel has `CONFIG_TSM_REPORTS` and `CONFIG_TDX_GUEST_DRIVER`
/// with configfs mounted; elsewhere [`AttestationBackend::quote`] returns
/// [`TeeError::BackendUnavailable`]. Not run against real hardware in this repository.
#[derive(Debug, Clone)]
pub struct TdxConfigfsBackend {
    root: PathBuf,
}

/// Where the kernel exposes configfs-tsm reports.
pub const CONFIGFS_TSM_REPORT: &str = "/sys/kernel/config/tsm/report";

/// The `provider` a TDX guest's report directory names.
const TDX_PROVIDER: &str = "tdx_guest";

static REPORT_SEQ: AtomicU64 = AtomicU64::new(0);

impl Default for TdxConfigfsBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl TdxConfigfsBackend {
    /// The backend at the kernel's standard path.
    pub fn new() -> Self {
        Self::at(CONFIGFS_TSM_REPORT)
    }

    /// The backend at another configfs-tsm report root (for a non-standard configfs mount).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The report root this backend uses.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> TeeError {
        let path = path.to_path_buf();
        move |source| TeeError::BackendIo {
            kind: TeeKind::Tdx,
            path,
            source,
        }
    }

    fn read_trimmed(&self, path: &Path) -> Result<String> {
        Ok(fs::read_to_string(path)
            .map_err(self.io(path))?
            .trim()
            .to_owned())
    }
}

impl AttestationBackend for TdxConfigfsBackend {
    fn kind(&self) -> TeeKind {
        TeeKind::Tdx
    }

    fn quote(&self, report_data: [u8; 64]) -> Result<Vec<u8>> {
        if !self.root.is_dir() {
            return Err(TeeError::BackendUnavailable {
                kind: TeeKind::Tdx,
                path: self.root.clone(),
                hint: "not a TDX guest, or the kernel lacks CONFIG_TSM_REPORTS, or configfs is \
                       not mounted at /sys/kernel/config",
            });
        }
        let dir = self.root.join(format!(
            "verity-{}-{}",
            std::process::id(),
            REPORT_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&dir).map_err(self.io(&dir))?;
        let report = ReportDir(dir);
        let file = |name: &str| report.0.join(name);

        let provider = self.read_trimmed(&file("provider"))?;
        if provider != TDX_PROVIDER {
            return Err(TeeError::BackendProtocol {
                kind: TeeKind::Tdx,
                reason: format!("provider is {provider:?}, expected {TDX_PROVIDER:?}"),
            });
        }
        fs::write(file("inblob"), report_data).map_err(self.io(&file("inblob")))?;
        let before = self.read_trimmed(&file("generation"))?;
        let quote = fs::read(file("outblob")).map_err(self.io(&file("outblob")))?;
        let after = self.read_trimmed(&file("generation"))?;
        if before != after {
            return Err(TeeError::BackendProtocol {
                kind: TeeKind::Tdx,
                reason: format!(
                    "generation moved from {before} to {after} while the quote was made: \
                     another writer used {}",
                    report.0.display()
                ),
            });
        }
        if quote.is_empty() {
            return Err(TeeError::BackendProtocol {
                kind: TeeKind::Tdx,
                reason: "outblob is empty".into(),
            });
        }
        Ok(quote)
    }
}

/// Removes the report directory when the quote is done (or failed).
struct ReportDir(PathBuf);

impl Drop for ReportDir {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir(&self.0) {
            tracing::warn!(target: "tee::backend", path = %self.0.display(), "removing report dir: {e}");
        }
    }
}
