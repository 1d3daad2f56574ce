//! Key files: one hex-encoded secp256k1 private key per file, created with mode 0600 and
//! refused on load if anyone but the owner can read them.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use alloy::signers::local::PrivateKeySigner;

/// Key file errors.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Refusing to overwrite an existing key.
    #[error("[V-KEY-001] {0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
    /// Reading or writing failed.
    #[error("[V-KEY-002] {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Group or others can read the file.
    #[error(
        "[V-KEY-003] {path} has mode {mode:o}; keys must not be readable by group or others (chmod 600)"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The contents are not a private key.
    #[error("[V-KEY-004] {0} does not hold a hex secp256k1 private key")]
    Malformed(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates a new random key at `path` (mode 0600, fsynced) and returns it.
pub fn create(path: &Path) -> Result<PrivateKeySigner, KeyError> {
    let key = PrivateKeySigner::random();
    save(path, &key)?;
    Ok(key)
}

/// Writes `key` to a new file at `path` (mode 0600, fsynced); refuses to overwrite.
pub fn save(path: &Path, key: &PrivateKeySigner) -> Result<(), KeyError> {
    if path.exists() {
        return Err(KeyError::Exists(path.to_path_buf()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io(path))?;
    writeln!(file, "0x{}", alloy::hex::encode(key.to_bytes())).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(())
}

/// Loads a key, refusing files readable by group or others.
pub fn load(path: &Path) -> Result<PrivateKeySigner, KeyError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = fs::read_to_string(path).map_err(io(path))?;
    text.trim()
        .parse()
        .map_err(|_| KeyError::Malformed(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_keys_are_private_reloadable_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/operator.key");
        let key = create(&path).unwrap();
        assert_eq!(load(&path).unwrap().address(), key.address());
        assert!(matches!(create(&path), Err(KeyError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load(&path),
                Err(KeyError::Permissions { mode: 0o644, .. })
            ));
        }
    }

    #[test]
    fn garbage_is_a_malformed_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.key");
        fs::write(&path, "not a key").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(matches!(load(&path), Err(KeyError::Malformed(_))));
    }
}
