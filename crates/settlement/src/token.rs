//! The ERC20 that stakes, bounties and bonds are paid in.

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
    rpc::types::TransactionReceipt,
};
use verity_contracts::TestToken;

use crate::{Error, Result, Settlement};

impl Settlement {
    fn token(&self) -> TestToken::TestTokenInstance<&DynProvider> {
        TestToken::new(self.deployment.token, &self.provider)
    }

    /// Token balance of `who`.
    pub async fn token_balance(&self, who: Address) -> Result<U256> {
        self.token()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| Error::from_contract("balanceOf", Address::ZERO, e))
    }

    /// Approves `spender` for `amount`.
    pub async fn approve(
        &self,
        from: Address,
        spender: Address,
        amount: U256,
    ) -> Result<TransactionReceipt> {
        self.send(
            "approve",
            from,
            self.token()
                .approve(spender, amount)
                .into_transaction_request(),
        )
        .await
    }

    /// Approves the market (bounties, bonds).
    pub async fn approve_market(&self, from: Address, amount: U256) -> Result<TransactionReceipt> {
        self.approve(from, self.deployment.market, amount).await
    }

    /// Approves the registry (stake).
    pub async fn approve_registry(
        &self,
        from: Address,
        amount: U256,
    ) -> Result<TransactionReceipt> {
        self.approve(from, self.deployment.registry, amount).await
    }

    /// Devnets only: mints test tokens (works only on `TestToken`).
    pub async fn mint(
        &self,
        from: Address,
        to: Address,
        amount: U256,
    ) -> Result<TransactionReceipt> {
        self.send(
            "mint",
            from,
            self.token().mint(to, amount).into_transaction_request(),
        )
        .await
    }
}
