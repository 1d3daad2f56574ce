//! `verity tee`: TEE attestation (issue 20). Verifies Intel SGX/TDX DCAP quotes with
//! `verity-tee`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use eyre::WrapErr;
use verity_tee::{
    Measurement, Measurements, Policy, TcbStatus, VerifiedQuote, load_collateral, load_quote,
    verify_quote,
};

use super::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum TeeCommand {
    /// Verify an SGX or TDX DCAP quote against its collateral and a policy; print the TCB
    /// status, the measurements and the report data. Exits non-zero, with a [V-TEE-0NN] code on
    /// stderr, if the quote is refused.
    ///
    /// Examples:
    ///   verity tee verify-quote quote.bin --collateral collateral.json
    ///   verity tee verify-quote crates/tee/tests/data/tdx_quote \
    ///     --collateral crates/tee/tests/data/tdx_quote_collateral.json --at 1751328000 --json
    ///   verity tee verify-quote sgx_quote --collateral c.json --accept-status any --mrsigner 0x…
    VerifyQuote(VerifyQuoteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyQuoteArgs {
    /// The quote file: raw bytes, or hex text.
    quote: PathBuf,
    /// The collateral, as JSON (dcap-qvl's QuoteCollateralV3, as a PCCS serves it).
    #[arg(long)]
    collateral: PathBuf,
    /// Verify as of this time (unix seconds) instead of now: collateral expires after 30 days.
    #[arg(long)]
    at: Option<u64>,
    /// Accepted TCB statuses, comma-separated, or `any` (Revoked is refused regardless).
    #[arg(long, value_delimiter = ',', default_value = "UpToDate")]
    accept_status: Vec<String>,
    /// Allowed SGX MRENCLAVE (hex); repeat for several. Without it any MRENCLAVE passes.
    #[arg(long)]
    mrenclave: Vec<String>,
    /// Allowed SGX MRSIGNER (hex); repeatable.
    #[arg(long)]
    mrsigner: Vec<String>,
    /// Allowed TDX MRTD (hex); repeatable.
    #[arg(long)]
    mrtd: Vec<String>,
    /// A policy file (JSON, the fields of verity_tee::Policy) instead of the flags above.
    #[arg(long, conflicts_with_all = ["accept_status", "mrenclave", "mrsigner", "mrtd"])]
    policy: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) fn run(cmd: TeeCommand) -> eyre::Result<()> {
    let TeeCommand::VerifyQuote(args) = cmd;
    let policy = policy(&args)?;
    let quote = load_quote(&args.quote)?;
    let collateral = load_collateral(&args.collateral)?;
    let at = match args.at {
        Some(at) => at,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .wrap_err("system clock before 1970")?
            .as_secs(),
    };
    let verified = verify_quote(&quote, &collateral, at, &policy)?;
    if args.output.json {
        println!("{}", serde_json::to_string_pretty(&verified)?);
    } else {
        print_human(&verified);
    }
    Ok(())
}

fn policy(args: &VerifyQuoteArgs) -> eyre::Result<Policy> {
    if let Some(path) = &args.policy {
        let text = std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
        return serde_json::from_slice(&text)
            .wrap_err_with(|| format!("parsing policy {}", path.display()));
    }
    let mut policy = Policy::strict();
    policy.tcb_statuses.clear();
    for s in &args.accept_status {
        if s.eq_ignore_ascii_case("any") {
            policy.tcb_statuses.extend(TcbStatus::ALL);
        } else {
            policy
                .tcb_statuses
                .insert(s.parse().map_err(|e: String| eyre::eyre!(e))?);
        }
    }
    for m in &args.mrenclave {
        policy = policy.allow_mr_enclave(Measurement::from_hex(m)?);
    }
    for m in &args.mrsigner {
        policy = policy.allow_mr_signer(Measurement::from_hex(m)?);
    }
    for m in &args.mrtd {
        policy = policy.allow_mr_td(Measurement::from_hex(m)?);
    }
    Ok(policy)
}

fn print_human(v: &VerifiedQuote) {
    let row = |k: &str, v: &dyn std::fmt::Display| println!("{k:<22} {v}");
    row("tee", &v.tee);
    match v.tcb_status {
        Some(s) => row("tcb_status", &s),
        None => row("tcb_status", &"none (insecure devnet stand-in)"),
    }
    if !v.advisory_ids.is_empty() {
        row("advisory_ids", &v.advisory_ids.join(","));
    }
    match &v.measurements {
        Measurements::Sgx {
            mr_enclave,
            mr_signer,
            isv_prod_id,
            isv_svn,
        } => {
            row("mr_enclave", mr_enclave);
            row("mr_signer", mr_signer);
            row("isv_prod_id", isv_prod_id);
            row("isv_svn", isv_svn);
        }
        Measurements::Tdx {
            mr_td,
            rtmr,
            mr_config_id,
            mr_owner,
            mr_seam,
        } => {
            row("mr_td", mr_td);
            for (i, r) in rtmr.iter().enumerate() {
                row(&format!("rtmr{i}"), r);
            }
            row("mr_config_id", mr_config_id);
            row("mr_owner", mr_owner);
            row("mr_seam", mr_seam);
        }
        Measurements::DevnetInsecure { measurement } => row("devnet_measurement", measurement),
    }
    row("report_data", &Measurement(v.report_data.to_vec()));
    row("verified_at", &v.verified_at);
    if let Some(t) = v.collateral_expires_at {
        row("collateral_expires_at", &t);
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::cmd::{Cli, Command};

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tee/tests/data/");

    fn parse(sample: &str, extra: &[&str]) -> Result<VerifyQuoteArgs, clap::Error> {
        let mut argv: Vec<String> = ["verity", "tee", "verify-quote"]
            .into_iter()
            .map(String::from)
            .collect();
        argv.push(format!("{DATA}{sample}_quote"));
        argv.push("--collateral".into());
        argv.push(format!("{DATA}{sample}_quote_collateral.json"));
        argv.push("--at".into());
        argv.push("1751328000".into());
        argv.extend(extra.iter().map(|s| s.to_string()));
        let cli = Cli::try_parse_from(argv)?;
        match cli.command {
            Command::Tee(TeeCommand::VerifyQuote(args)) => Ok(args),
            other => panic!("{other:?}"),
        }
    }

    fn verify(sample: &str, extra: &[&str]) -> eyre::Result<()> {
        run(TeeCommand::VerifyQuote(parse(sample, extra)?))
    }

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn samples_verify_and_refusals_carry_their_code() {
        verify("tdx", &["--json"]).unwrap();
        // The SGX sample's status is ConfigurationAndSWHardeningNeeded: refused by default.
        let err = verify("sgx", &[]).unwrap_err();
        assert!(format!("{err:?}").contains("[V-TEE-005]"), "{err:?}");
        verify("sgx", &["--accept-status", "any"]).unwrap();
        verify(
            "sgx",
            &[
                "--accept-status",
                "UpToDate,ConfigurationAndSWHardeningNeeded",
            ],
        )
        .unwrap();
        let err = verify("tdx", &["--mrtd", &"00".repeat(48)]).unwrap_err();
        assert!(format!("{err:?}").contains("[V-TEE-006]"), "{err:?}");
    }

    #[test]
    fn policy_file_excludes_the_policy_flags() {
        assert!(parse("tdx", &["--policy", "p.json", "--mrtd", "00"]).is_err());
    }
}
