//! `verity account balance`: what an account holds in the network's token, in the market, in
//! the registry (staked, locked as collateral, unbonding) and in native currency for gas.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use serde_json::json;

use super::{
    OutputArgs,
    conn::{ConnArgs, Token, units},
};

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Token, market and native balances of an account, and its stake if it operates a node.
    /// Needs no key when an address is given.
    ///
    /// Examples:
    ///   verity account balance
    ///   verity account balance 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json
    #[command(verbatim_doc_comment)]
    Balance(BalanceArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BalanceArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// The account (default: the requester key's).
    address: Option<Address>,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) async fn run(cmd: AccountCommand) -> eyre::Result<()> {
    match cmd {
        AccountCommand::Balance(a) => balance(a).await,
    }
}

async fn balance(a: BalanceArgs) -> eyre::Result<()> {
    let net = a.conn.resolve()?;
    let who = a.address.or(net.account()).ok_or_else(|| {
        eyre::eyre!("no account: give an address, a key, or a profile with a key file")
    })?;
    let s = net.reader()?;
    let token = Token::of(&s).await?;
    let wallet = s
        .token_balance(who)
        .await
        .wrap_err("chain: reading the token balance")?;
    let in_market = s
        .market_balance(who)
        .await
        .wrap_err("chain: reading the market balance")?;
    let native = s
        .provider()
        .get_balance(who)
        .await
        .wrap_err("chain: reading the native balance")?;
    let op = s
        .operator(who)
        .await
        .wrap_err("chain: reading the registry")?;
    let (staked, locked, unbonding) = if op.registered {
        (op.stake, op.locked, op.unbonding)
    } else {
        (U256::ZERO, U256::ZERO, U256::ZERO)
    };
    if a.output.json {
        println!(
            "{}",
            json!({
                "account": who,
                "token": token.symbol,
                "decimals": token.decimals,
                "wallet": wallet.to_string(),
                "market": in_market.to_string(),
                "native": native.to_string(),
                "operator": op.registered,
                "staked": staked.to_string(),
                "locked": locked.to_string(),
                "unbonding": unbonding.to_string(),
            })
        );
        return Ok(());
    }
    println!("account    {who}");
    println!("wallet     {}", token.show(wallet));
    println!(
        "market     {}  (pays bounties first; `withdraw` returns it)",
        token.show(in_market)
    );
    println!("native     {} ETH  (gas)", units(native, 18));
    if op.registered {
        println!(
            "staked     {}  ({} locked as collateral, {} unbonding)",
            token.show(staked),
            token.show(locked),
            token.show(unbonding)
        );
    }
    Ok(())
}
