//! `verity`: the Verity command. Parses arguments and hands off to the libraries.

mod cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    cmd::die_with_parent();
    let cli = cmd::Cli::parse();
    cmd::init_tracing(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes on one line; the source locations and the backtrace only
            // when asked for.
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                eprintln!("error: {e:?}");
            } else {
                eprintln!("error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
