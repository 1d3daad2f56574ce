//! The committed artifacts in `contracts/out/` must equal a fresh compile of the sources with the
//! pinned solc, so the bytecode Rust embeds is the bytecode the sources describe.

use std::{path::PathBuf, process::Command};

fn contracts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts")
}

#[test]
fn artifacts_match_a_fresh_compile_of_the_sources() {
    let dir = contracts_dir();
    assert!(
        dir.join("node_modules/solc").exists(),
        "contracts/node_modules is missing: run scripts/setup.sh (the pinned solc comes from npm)"
    );
    let out = Command::new("node")
        .arg("scripts/compile.js")
        .arg("--check")
        .current_dir(&dir)
        .output()
        .expect("running node (is Node.js installed?)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "artifacts drifted from the sources:\n{stderr}"
    );
    assert!(
        stderr.contains("artifacts match sources"),
        "unexpected checker output:\n{stderr}"
    );
}

#[test]
fn deployed_code_fits_the_eip170_limit() {
    for name in [
        "TaskMarket",
        "NodeRegistry",
        "VerifierRegistry",
        "TestToken",
        "MockResultVerifier",
        "EnclaveRegistry",
        "TeeResultVerifier",
    ] {
        let path = contracts_dir().join(format!("out/{name}.json"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("artifact")).expect("json");
        let code = json["deployedBytecode"].as_str().expect("deployedBytecode");
        let bytes = (code.len() - 2) / 2;
        assert!(
            bytes > 0 && bytes <= 24_576,
            "{name}: {bytes} bytes deployed"
        );
    }
}

#[test]
fn every_custom_error_selector_decodes_to_its_name() {
    use alloy::sol_types::SolError;
    use verity_contracts::{ContractError, NodeRegistry, TaskMarket};
    let e = TaskMarket::WrongStatus {
        taskId: alloy::primitives::U256::from(7),
        status: 5,
    };
    let decoded = ContractError::decode(&e.abi_encode());
    assert_eq!(decoded.name(), "WrongStatus");
    assert!(
        matches!(decoded, ContractError::Market(TaskMarket::TaskMarketErrors::WrongStatus(ref w)) if w.taskId == alloy::primitives::U256::from(7))
    );
    let e = NodeRegistry::NotMarket {
        caller: alloy::primitives::Address::repeat_byte(1),
    };
    assert_eq!(ContractError::decode(&e.abi_encode()).name(), "NotMarket");
    let e = TaskMarket::TaskMismatch {
        taskId: alloy::primitives::U256::from(3),
    };
    assert_eq!(
        ContractError::decode(&e.abi_encode()).name(),
        "TaskMismatch"
    );
    let e = TaskMarket::RevealMismatch {
        taskId: alloy::primitives::U256::from(3),
        seat: alloy::primitives::U256::from(1),
    };
    assert_eq!(
        ContractError::decode(&e.abi_encode()).name(),
        "RevealMismatch"
    );
    let junk = ContractError::decode(&[0xde, 0xad, 0xbe, 0xef]);
    assert!(matches!(junk, ContractError::Unrecognized(_)));
    let msg = ContractError::decode(&alloy::sol_types::Revert::from("nope").abi_encode());
    assert_eq!(msg, ContractError::Message("nope".into()));
}

#[test]
fn tee_errors_decode_to_their_names() {
    use alloy::{
        primitives::{Address, B256},
        sol_types::SolError,
    };
    use verity_contracts::{ContractError, EnclaveRegistry, TeeResultVerifier};
    let e = EnclaveRegistry::RegistrationExpired {
        enclaveKey: Address::repeat_byte(1),
        expiresAt: 9,
    };
    let decoded = ContractError::decode(&e.abi_encode());
    assert!(
        matches!(decoded, ContractError::Enclaves(EnclaveRegistry::EnclaveRegistryErrors::RegistrationExpired(ref r)) if r.expiresAt == 9),
        "{decoded:?}"
    );
    assert_eq!(decoded.name(), "RegistrationExpired");
    let e = TeeResultVerifier::BindingMismatch {
        expected: B256::repeat_byte(1),
        given: B256::repeat_byte(2),
    };
    let decoded = ContractError::decode(&e.abi_encode());
    assert!(
        matches!(decoded, ContractError::TeeVerifier(_)),
        "{decoded:?}"
    );
    assert_eq!(decoded.name(), "BindingMismatch");
}
