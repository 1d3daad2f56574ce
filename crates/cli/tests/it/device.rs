//! `verity device` through the binary: key files, the registry root, signed readings and the
//! query digest agree with the zk library; bad input fails with a clear error and no stdout.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use verity_zk::device::{Device, verify_reading};
use verity_zk::encoding::fr_to_hex;
use verity_zk::input::{TaskInput, point_to_json, reading_from_json, reading_to_json};
use verity_zk::registry::Registry;
use verity_zk::statement::Query;

use crate::verity;

fn run(args: &[&str]) -> Output {
    verity()
        .arg("device")
        .args(args)
        .output()
        .expect("run verity")
}

fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "verity device {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Asserts failure, nothing on stdout, and `needle` in stderr.
#[track_caller]
fn fails_with(args: &[&str], needle: &str) {
    let out = run(args);
    assert!(!out.status.success(), "verity device {args:?} succeeded");
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn device_keys_root_signatures_and_digest_agree_with_the_zk_library() {
    let dir = Dir(std::env::temp_dir().join(format!("verity-device-it-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).expect("dir");
    let paths: Vec<PathBuf> = (0..3).map(|i| dir.0.join(format!("d{i}.json"))).collect();
    for (i, p) in paths.iter().enumerate() {
        let seed = i.to_string();
        let out = ok_json(&["keygen", "--seed", &seed, "--out", s(p)]);
        assert_eq!(
            out["public"],
            point_to_json(&Device::from_seed(i as u64).public_key()),
            "seeded key {i} is the library's"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "key file is private");
        }
    }
    // A random key is a valid subgroup point and differs from the seeded ones.
    let random = dir.0.join("random.json");
    let out = ok_json(&["keygen", "--out", s(&random)]);
    assert_ne!(
        out["public"],
        point_to_json(&Device::from_seed(0).public_key())
    );

    let root = ok_json(&[
        "register-root",
        s(&paths[0]),
        s(&paths[1]),
        s(&paths[2]),
        s(&random),
    ]);
    let mut registry = Registry::new(10).expect("registry");
    for i in 0..3 {
        registry
            .register(Device::from_seed(i).public_key())
            .expect("register");
    }
    let random_public =
        verity_zk::input::point_from_json(&out["public"], "random").expect("random public");
    registry
        .register(random_public)
        .expect("random key registers");
    assert_eq!(root["root"], fr_to_hex(registry.root()));
    assert_eq!(root["devices"][3]["index"], 3);

    let signed = ok_json(&[
        "sign",
        "--key",
        s(&paths[1]),
        "--value",
        "42",
        "--timestamp",
        "1700000000",
    ]);
    let reading = reading_from_json(&signed, "reading").expect("reading");
    assert!(verify_reading(&reading), "the printed signature verifies");
    assert_eq!(reading, Device::from_seed(1).sign(42, 1_700_000_000));
    let mut tampered = reading;
    tampered.value = 43;
    assert!(!verify_reading(&tampered), "a changed value does not");
    // Signing with the random key verifies under the random public key.
    let signed = ok_json(&[
        "sign",
        "--key",
        s(&random),
        "--value",
        "7",
        "--timestamp",
        "9",
    ]);
    let r = reading_from_json(&signed, "reading").expect("reading");
    assert_eq!(r.device, random_public);
    assert!(verify_reading(&r));

    let digest = ok_json(&[
        "query-digest",
        "--root",
        root["root"].as_str().expect("root"),
        "--window",
        "1700000000:1700003600",
        "--range",
        "0:1000",
    ]);
    let query =
        Query::new(registry.root(), (1_700_000_000, 1_700_003_600), (0, 1000)).expect("query");
    assert_eq!(digest["inputDigest"], fr_to_hex(query.digest()));

    // The task input blob from the key files and two signed readings.
    let r0 = dir.0.join("r0.json");
    let r1 = dir.0.join("r1.json");
    std::fs::write(
        &r0,
        reading_to_json(&Device::from_seed(0).sign(5, 1_700_000_100)).to_string(),
    )
    .expect("write");
    std::fs::write(
        &r1,
        reading_to_json(&Device::from_seed(2).sign(2_000, 1_700_000_200)).to_string(),
    )
    .expect("write");
    let blob = run(&[
        "task-input",
        "--window",
        "1700000000:1700003600",
        "--range",
        "0:1000",
        "--keys",
        s(&paths[0]),
        s(&paths[1]),
        s(&paths[2]),
        s(&random),
        "--readings",
        s(&r0),
        s(&r1),
    ]);
    assert!(
        blob.status.success(),
        "{}",
        String::from_utf8_lossy(&blob.stderr)
    );
    let input = TaskInput::from_bytes(&blob.stdout).expect("a task input blob");
    assert_eq!(input.query, query, "same query, so the same inputDigest");
    assert_eq!(input.shape.slots, 16);
    assert_eq!(input.readings.len(), 2);
    let w = input.witness([1; 32]).expect("provable");
    assert_eq!(w.claimed.count, 1, "the reading of 2000 is out of range");
    let mut forged = reading_to_json(&Device::from_seed(1).sign(5, 1_700_000_100));
    forged["value"] = serde_json::json!(6);
    std::fs::write(&r1, forged.to_string()).expect("write");
    fails_with(
        &[
            "task-input",
            "--window",
            "1700000000:1700003600",
            "--range",
            "0:1000",
            "--keys",
            s(&paths[0]),
            s(&paths[1]),
            "--readings",
            s(&r0),
            s(&r1),
        ],
        "reading 1: signature does not verify",
    );

    // Bad input: clear errors, nothing on stdout.
    fails_with(
        &["keygen", "--seed", "9", "--out", s(&paths[0])],
        "creating",
    );
    fails_with(
        &[
            "sign",
            "--key",
            s(&dir.0.join("missing.json")),
            "--value",
            "1",
            "--timestamp",
            "1",
        ],
        "missing.json",
    );
    fails_with(
        &[
            "sign",
            "--key",
            s(&paths[0]),
            "--value",
            "4294967296",
            "--timestamp",
            "1",
        ],
        "--value",
    );
    let forged = dir.0.join("forged.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&paths[0]).expect("read")).expect("json");
    v["public"] = point_to_json(&Device::from_seed(2).public_key());
    std::fs::write(&forged, v.to_string()).expect("write");
    fails_with(
        &[
            "sign",
            "--key",
            s(&forged),
            "--value",
            "1",
            "--timestamp",
            "1",
        ],
        "public key does not match the private key",
    );
    let not_on_curve = dir.0.join("bad-point.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&paths[0]).expect("read")).expect("json");
    v["public"]["x"] = Value::String(fr_to_hex(verity_zk::Fr::from(5u64)));
    std::fs::write(&not_on_curve, v.to_string()).expect("write");
    fails_with(
        &["register-root", s(&not_on_curve)],
        "not a BabyJubJub point",
    );
    fails_with(
        &[
            "query-digest",
            "--root",
            "0x12",
            "--window",
            "1:2",
            "--range",
            "3:4",
        ],
        "root",
    );
    fails_with(
        &[
            "query-digest",
            "--root",
            root["root"].as_str().expect("root"),
            "--window",
            "5:1",
            "--range",
            "0:1",
        ],
        "window is empty",
    );
    fails_with(
        &[
            "query-digest",
            "--root",
            root["root"].as_str().expect("root"),
            "--window",
            "5-1",
            "--range",
            "0:1",
        ],
        "expected lo:hi",
    );
}
