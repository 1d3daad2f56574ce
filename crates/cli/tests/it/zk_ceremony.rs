//! `verity zk ceremony` through the binary (issue 19), on a small sensor circuit (N = 1,
//! depth 2) over an INSECURE test powers of tau: init, three contributions, the beacon, and
//! verify; a tampered file and a wrong initial key are refused with their codes and no stdout.

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use verity_zk::ceremony::insecure_ptau::{KnownTau, write_insecure_ptau};
use verity_zk::ceremony::{Ceremony, Qap, initial::needed_power};

use crate::verity;

fn run(args: &[&str]) -> Output {
    verity()
        .args(["zk", "ceremony"])
        .args(args)
        .output()
        .expect("run verity")
}

fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "verity zk ceremony {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[track_caller]
fn fails_with(args: &[&str], needle: &str) {
    let out = run(args);
    assert!(
        !out.status.success(),
        "verity zk ceremony {args:?} succeeded"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn ceremony_init_contribute_finalize_verify_through_the_binary() {
    let dir = std::env::temp_dir().join(format!("verity-cli-ceremony-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let shape = verity_zk::Shape { slots: 1, depth: 2 };
    let power = needed_power(&Qap::sensor(shape).expect("qap")).expect("power");
    let ptau = dir.join("insecure.ptau");
    write_insecure_ptau(&ptau, power, KnownTau::insecure_test()).expect("ptau");
    let f = |i: usize| dir.join(format!("c{i}.zkc"));

    let init = ok_json(&[
        "init",
        "--slots",
        "1",
        "--depth",
        "2",
        "--ptau",
        p(&ptau),
        "--out",
        p(&f(0)),
        "--json",
    ]);
    assert_eq!(init["slots"], 1);
    let mut hashes = Vec::new();
    for (i, name) in ["alice", "bob", "carol"].iter().enumerate() {
        let c = ok_json(&[
            "contribute",
            "--in",
            p(&f(i)),
            "--out",
            p(&f(i + 1)),
            "--name",
            name,
            "--json",
        ]);
        assert_eq!(c["index"], i);
        hashes.push(c["transcript_hash"].as_str().expect("hash").to_owned());
    }
    let keys = dir.join("keys");
    let sol = dir.join("Verifier.sol");
    let fin = ok_json(&[
        "finalize",
        "--in",
        p(&f(3)),
        "--out",
        p(&f(4)),
        "--beacon",
        "0xabcdef",
        "--iterations-exp",
        "3",
        "--keys-dir",
        p(&keys),
        "--solidity",
        p(&sol),
        "--json",
    ]);
    assert_eq!(fin["index"], 3);
    assert!(keys.join("sensor-n1-d2.pk").exists() && keys.join("sensor-n1-d2.vk").exists());
    assert!(
        std::fs::read_to_string(&sol)
            .expect("sol")
            .contains("contract SensorGroth16VerifierN1")
    );

    let (f0, f4) = (f(0), f(4));
    for initial in [vec!["--initial", p(&f0)], vec!["--ptau", p(&ptau)]] {
        let mut args = vec!["verify", "--ceremony", p(&f4), "--final", "--json"];
        args.extend(initial);
        let v = ok_json(&args);
        assert_eq!(v["ok"], true);
        assert_eq!(v["finalized"], true);
        assert_eq!(
            v["known_insecure"], true,
            "its phase 1 is the insecure test file"
        );
        let names: Vec<_> = v["contributions"]
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c["name"].as_str().expect("name").to_owned())
            .collect();
        assert_eq!(names, ["alice", "bob", "carol", "beacon"]);
        for (i, h) in hashes.iter().enumerate() {
            assert_eq!(
                v["contributions"][i]["transcript_hash"].as_str(),
                Some(h.as_str())
            );
        }
    }
    // Not finalized yet, when --final asks for it.
    fails_with(
        &[
            "verify",
            "--ceremony",
            p(&f(3)),
            "--initial",
            p(&f(0)),
            "--final",
        ],
        "V-ZKC-015",
    );
    // Verifying against a later file as the initial key is refused.
    fails_with(
        &["verify", "--ceremony", p(&f(4)), "--initial", p(&f(1))],
        "contributions",
    );
    // A tampered file: bob's proof of knowledge no longer holds.
    let mut c = Ceremony::load(&f(4)).expect("load");
    c.contributions[1].sr_g1 = c.contributions[0].sr_g1;
    let bad = dir.join("bad.zkc");
    c.save(&bad).expect("save");
    fails_with(
        &["verify", "--ceremony", p(&bad), "--initial", p(&f(0))],
        "V-ZKC-005",
    );
    // No contribution after the beacon; a malformed beacon; a file that is not a ceremony.
    fails_with(
        &[
            "contribute",
            "--in",
            p(&f(4)),
            "--out",
            p(&dir.join("late.zkc")),
            "--name",
            "late",
        ],
        "V-ZKC-014",
    );
    fails_with(
        &[
            "finalize",
            "--in",
            p(&f(3)),
            "--out",
            p(&dir.join("x.zkc")),
            "--beacon",
            "0xabc",
        ],
        "V-ZKC-016",
    );
    fails_with(
        &[
            "contribute",
            "--in",
            p(&ptau),
            "--out",
            p(&dir.join("y.zkc")),
            "--name",
            "x",
        ],
        "V-ZKC-002",
    );
    std::fs::remove_dir_all(&dir).ok();
}
