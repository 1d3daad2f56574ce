//! The configfs-tsm TDX backend on a machine that is not a TDX guest.

use verity_tee::{AttestationBackend, TdxConfigfsBackend, TeeError, TeeKind};

#[test]
fn configfs_backend_reports_a_missing_interface() {
    // This machine (and CI) is no TDX guest: the standard path does not exist. If it ever does,
    // this test is not meaningful there and says so instead of failing.
    let backend = TdxConfigfsBackend::new();
    if backend.root().exists() {
        eprintln!(
            "{} exists: this is a configfs-tsm host, skipping",
            backend.root().display()
        );
        return;
    }
    assert_eq!(backend.kind(), TeeKind::Tdx);
    let err = backend.quote([0; 64]).unwrap_err();
    match &err {
        TeeError::BackendUnavailable { kind, path, .. } => {
            assert_eq!(*kind, TeeKind::Tdx);
            assert_eq!(path, backend.root());
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().starts_with("[V-TEE-012]"), "{err}");
    assert!(!err.is_refusal());
}

#[test]
fn configfs_backend_at_a_plain_directory_fails_typed_and_cleans_up() {
    // A plain directory is not configfs: mkdir makes an empty directory with no `provider`.
    let root = std::env::temp_dir().join(format!("verity-tee-fake-tsm-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let err = TdxConfigfsBackend::at(&root).quote([0; 64]).unwrap_err();
    assert_eq!(err.code(), "V-TEE-013", "{err}");
    assert!(err.to_string().contains("provider"), "{err}");
    // The report directory it made was removed again.
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    std::fs::remove_dir(&root).unwrap();
}
