//! Gas of the TEE path (issue 20) beside the optimistic lifecycle, in one run on the embedded
//! devchain: enclave registration and renewal (2 of 3 attestors), and a TEE task (ZkProof mode,
//! `TeeResultVerifier`: create, assign, submitProof) against an optimistic task (create, assign,
//! submitResult, finalize), both unaudited (`audit_bps` 0, deployed with `min_audit_bps` 0).
//!
//! `cargo run -p verity-settlement --example tee_gas` (gas is deterministic: the machine does
//! not matter). Every figure includes the 21 000 intrinsic gas.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use verity_devchain::DevchainConfig;
use verity_settlement::{
    DeployConfig, Mode, OperatorProfile, Settlement, TaskRequest, TeeConfig, TxOptions, deploy,
    deploy_tee, tee_verifier_id,
};
use verity_tee::{
    AttestRequest, DevnetInsecureBackend, EnclaveKey, Policy, RegistryDomain, attest,
    devnet::DEFAULT_DEVNET_MEASUREMENT, parse_collateral, registration_signatures,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let chain = verity_devchain::spawn(DevchainConfig {
        accounts: 6,
        ..DevchainConfig::default()
    })
    .await?;
    let keys: Vec<_> = chain
        .chain
        .accounts()
        .iter()
        .map(|a| a.signer.clone())
        .collect();
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(chain.url.parse()?);
    let a: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let (owner, client, keeper, op) = (a[0], a[1], a[2], a[3]);
    let mut cfg = DeployConfig::devnet(owner);
    cfg.min_audit_bps = 0;
    let s = Settlement::new(
        provider.clone(),
        deploy(provider, &cfg).await?,
        TxOptions::default(),
    );
    let unit = U256::from(10u64).pow(U256::from(18u64));
    for who in [client, op] {
        s.mint(owner, who, U256::from(100_000u64) * unit).await?;
        s.approve_market(who, U256::MAX).await?;
        s.approve_registry(who, U256::MAX).await?;
    }
    let profile = OperatorProfile {
        signer: op,
        hardware_hash: keccak256("hw"),
        metadata_cid: Bytes::from_static(&[1, 0x55, 0x12, 0x20]),
        region: 276,
        capabilities: 1,
    };
    s.register(op, &profile).await?;
    s.stake(op, U256::from(10_000u64) * unit).await?;

    let attestors: Vec<PrivateKeySigner> = (1..=3u8)
        .map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)))
        .collect::<Result<_, _>>()?;
    let tee = deploy_tee(
        &s,
        owner,
        &TeeConfig {
            validity: 86_400,
            attestors: attestors.iter().map(|k| k.address()).collect(),
            threshold: 2,
            measurements: vec![B256::from(DEFAULT_DEVNET_MEASUREMENT)],
            signers: vec![],
        },
    )
    .await?;
    s.set_verifier(owner, tee_verifier_id(), tee.verifier)
        .await?;
    let domain = RegistryDomain {
        chain_id: s.chain_id(),
        registry: tee.enclaves,
    };
    let collateral = parse_collateral(include_bytes!(
        "../../tee/tests/data/tdx_quote_collateral.json"
    ))?;
    let policy = Policy::default().allow_insecure_devnet(31337)?;
    let key = EnclaveKey::random();
    let mut rows = Vec::new();
    for (name, challenge) in [("register (2 of 3 attestors)", 1u8), ("renew", 2)] {
        let challenge = B256::repeat_byte(challenge);
        let quote =
            key.registration_quote(&DevnetInsecureBackend::new(), &domain, op, challenge)?;
        let req = AttestRequest {
            operator: op,
            enclave_key: key.address(),
            challenge,
            max_validity: 86_400,
        };
        let at = s.chain_time().await?;
        let signed = attestors[..2]
            .iter()
            .map(|k| attest(&quote, &collateral, &policy, at, &req, &domain, k))
            .collect::<Result<Vec<_>, _>>()?;
        let r = s
            .register_enclave(
                op,
                &tee,
                &signed[0].attestation,
                registration_signatures(&signed),
            )
            .await?;
        rows.push((name.to_string(), r.gas_used));
    }

    let now = s.chain_time().await?;
    let request = |mode: Mode| TaskRequest {
        mode,
        replication: 1,
        quorum: 1,
        program_digest: keccak256("program"),
        input_digest: keccak256("input"),
        bounty: U256::from(100u64) * unit,
        collateral: U256::from(50u64) * unit,
        assign_deadline: now + 1_000,
        commit_deadline: now + 2_000,
        reveal_deadline: 0,
        challenge_window: if mode == Mode::Optimistic { 60 } else { 0 },
        verifier_id: if mode == Mode::ZkProof {
            tee_verifier_id()
        } else {
            B256::ZERO
        },
        audit_bps: 0,
    };
    // A first task of each kind pays one-time storage (first credits); the second is measured.
    for round in ["first", "steady"] {
        let mut tee_calls = Vec::new();
        let (id, r) = s.create_task(client, &request(Mode::ZkProof)).await?;
        tee_calls.push(("createTask", r.gas_used));
        tee_calls.push(("assign", s.assign(owner, id, &[op]).await?.gas_used));
        let result = keccak256("out");
        let d = s.deployment();
        let proof = key.sign_result(
            d.chain_id,
            d.market,
            id,
            op,
            keccak256("program"),
            keccak256("input"),
            result,
        )?;
        tee_calls.push((
            "submitProof",
            s.submit_proof(op, id, result, proof).await?.gas_used,
        ));
        lifecycle(&mut rows, &format!("TEE task ({round})"), &tee_calls);

        let mut opt_calls = Vec::new();
        let (id, r) = s.create_task(client, &request(Mode::Optimistic)).await?;
        opt_calls.push(("createTask", r.gas_used));
        opt_calls.push(("assign", s.assign(owner, id, &[op]).await?.gas_used));
        opt_calls.push((
            "submitResult",
            s.submit_result(op, id, result).await?.gas_used,
        ));
        let target = s.chain_time().await? + 61;
        let _: serde_json::Value = s
            .provider()
            .raw_request("evm_setNextBlockTimestamp".into(), (target,))
            .await?;
        opt_calls.push(("finalize", s.finalize(keeper, id).await?.gas_used));
        lifecycle(&mut rows, &format!("optimistic task ({round})"), &opt_calls);
    }
    for (name, g) in rows {
        println!("{name:<40} {g:>9}");
    }
    Ok(())
}

fn lifecycle(rows: &mut Vec<(String, u64)>, name: &str, calls: &[(&str, u64)]) {
    rows.push((format!("{name}, total"), calls.iter().map(|(_, g)| g).sum()));
    for (c, g) in calls {
        rows.push((format!("  {c}"), *g));
    }
}
