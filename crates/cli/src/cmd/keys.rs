//! `verity keys new`: create a key file (mode 0600).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a new secp256k1 key file, readable only by its owner. Refuses to overwrite.
    ///
    /// Examples:
    ///   verity keys new --out keys/operator.key
    ///   verity keys new --out keys/node.key --json
    New(NewArgs),
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Where to write the key.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) fn run(cmd: KeysCommand) -> eyre::Result<()> {
    let KeysCommand::New(args) = cmd;
    let key = verity_config_files::keys::create(&args.out)?;
    if args.output.json {
        println!(
            "{}",
            serde_json::json!({ "address": key.address(), "path": args.out })
        );
    } else {
        println!("{}  {}", key.address(), args.out.display());
    }
    Ok(())
}
