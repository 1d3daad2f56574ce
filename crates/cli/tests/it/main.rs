//! The `verity` binary, end to end.

mod byzantine;
mod chaos;
mod cli_profile;
mod device;
mod devnet;
mod devnet_faults;
mod hostile;
mod node_process;
mod submit_checks;
mod user_devnet;
mod zk_ceremony;

/// Tests that run a whole network (a chain, a coordinator and several node processes) take
/// this lock, so on a small machine they run one after another instead of starving each other
/// of CPU and missing their deadlines.
fn network_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ProviderBuilder},
};

fn verity() -> Command {
    Command::new(env!("CARGO_BIN_EXE_verity"))
}

#[tokio::test]
async fn devnet_serves_deployed_contracts_and_stops_on_sigterm() {
    let mut child = verity()
        .args([
            "devnet", "--nodes", "0", "--port", "0", "--json", "--log", "warn",
        ])
        // The profile goes to a directory of the test's, not into the user's home.
        .env(
            "VERITY_HOME",
            std::env::temp_dir().join(format!("verity-sigterm-it-{}", std::process::id())),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn verity");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("summary line");
    let summary: serde_json::Value = serde_json::from_str(&line).expect("JSON summary on stdout");

    let url = summary["rpcUrl"].as_str().expect("rpcUrl");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(summary["chainId"], 31337);
    let accounts = summary["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 10);
    // Hardhat's first dev account.
    assert_eq!(
        accounts[0]["address"].as_str().unwrap().to_lowercase(),
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    );

    let provider = ProviderBuilder::new().connect_http(url.parse().unwrap());
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);
    for key in ["token", "registry", "market", "verifiers"] {
        let addr: Address = summary["deployment"][key]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let code = provider.get_code_at(addr).await.unwrap();
        assert!(!code.is_empty(), "{key} at {addr} has no code");
    }
    let token: Address = summary["deployment"]["token"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let holder: Address = accounts[3]["address"].as_str().unwrap().parse().unwrap();
    let balance = verity_contracts::TestToken::new(token, &provider)
        .balanceOf(holder)
        .call()
        .await
        .unwrap();
    assert_eq!(
        balance,
        U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );

    // SIGTERM: a graceful, successful exit.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "devnet exited with {exit}");
}

#[test]
fn deploy_rejects_a_malformed_key_with_a_clear_error() {
    let out = verity()
        .args([
            "contracts",
            "deploy",
            "--private-key",
            "0xnot-a-key",
            "--rpc-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("parsing the private key"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
}

#[test]
fn keys_new_writes_a_private_key_file_and_refuses_to_overwrite() {
    let dir = std::env::temp_dir().join(format!("verity-keys-{}", std::process::id()));
    let path = dir.join("node.key");
    let out = verity()
        .args(["keys", "new", "--out", path.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let address: Address = json["address"].as_str().unwrap().parse().unwrap();
    let key: alloy::signers::local::PrivateKeySigner = std::fs::read_to_string(&path)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(key.address(), address);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let again = verity()
        .args(["keys", "new", "--out", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    std::fs::remove_dir_all(dir).unwrap();
}
