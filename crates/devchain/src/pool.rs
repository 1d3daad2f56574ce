//! Admitting transactions: decoding, signature recovery and validation against the chain.

use alloy::{
    consensus::{
        SignableTransaction as _, Transaction as _, TxEnvelope, crypto::SECP256K1N_HALF,
        transaction::Recovered,
    },
    eips::Decodable2718 as _,
    primitives::U256,
    rpc::types::TransactionRequest,
    signers::SignerSync as _,
};

use crate::{
    config::{DevAccount, GWEI},
    error::{Error, Result},
    evm::{intrinsic_gas, tx_env_from_envelope},
    state::{ChainState, PendingTx, Target},
};

/// Decodes an `eth_sendRawTransaction` payload and recovers its sender.
pub(crate) fn decode_raw(bytes: &[u8]) -> Result<PendingTx> {
    let tx = TxEnvelope::decode_2718_exact(bytes)
        .map_err(|e| Error::invalid_tx(format!("Invalid transaction: cannot decode it: {e}")))?;
    match tx {
        TxEnvelope::Eip4844(_) => {
            return Err(Error::invalid_tx(
                "Invalid transaction: blob (EIP-4844) transactions are not supported by the devchain",
            ));
        }
        TxEnvelope::Eip7702(_) => {
            return Err(Error::invalid_tx(
                "Invalid transaction: EIP-7702 transactions need Prague; the devchain runs Cancun",
            ));
        }
        _ => {}
    }
    let signature = tx.signature();
    if signature.s() > SECP256K1N_HALF {
        return Err(Error::invalid_tx(
            "Invalid transaction: signature s value is too high (EIP-2)",
        ));
    }
    let sender = signature
        .recover_address_from_prehash(&tx.signature_hash())
        .map_err(|e| Error::invalid_tx(format!("Invalid transaction: bad signature: {e}")))?;
    let hash = *tx.tx_hash();
    Ok(PendingTx {
        tx: Recovered::new_unchecked(tx, sender),
        hash,
    })
}

impl ChainState {
    /// Checks a transaction against the next block, with Hardhat's error texts.
    pub(crate) fn validate(&self, chain_id: u64, ptx: &PendingTx, automine: bool) -> Result<()> {
        let tx = ptx.tx.inner();
        let sender = ptx.tx.signer();
        if self.find_tx(&ptx.hash).is_some() {
            return Err(Error::invalid_tx(format!(
                "Known transaction: {}",
                ptx.hash
            )));
        }
        if let Some(id) = tx.chain_id()
            && id != chain_id
        {
            return Err(Error::invalid_tx(format!(
                "Trying to send a raw transaction with an invalid chainId. The expected chainId \
                 is {chain_id} but the transaction's is {id}"
            )));
        }
        let expected = self.pending_nonce(sender);
        if tx.nonce() < expected {
            return Err(Error::invalid_tx(format!(
                "Nonce too low. Expected nonce to be {expected} but got {}.",
                tx.nonce()
            )));
        }
        if tx.nonce() > expected {
            let note = if automine {
                " Note that transactions can't be queued when automining."
            } else {
                " The devchain does not queue transactions with a future nonce."
            };
            return Err(Error::invalid_tx(format!(
                "Nonce too high. Expected nonce to be {expected} but got {}.{note}",
                tx.nonce()
            )));
        }
        if tx.gas_limit() > self.gas_limit {
            return Err(Error::invalid_tx(format!(
                "Transaction gas limit is {} and exceeds block gas limit of {}",
                tx.gas_limit(),
                self.gas_limit
            )));
        }
        let env = tx_env_from_envelope(tx, sender);
        let intrinsic = intrinsic_gas(&env);
        if tx.gas_limit() < intrinsic {
            return Err(Error::invalid_tx(format!(
                "Transaction requires at least {intrinsic} gas but got {}",
                tx.gas_limit()
            )));
        }
        if let Some(priority) = tx.max_priority_fee_per_gas()
            && priority > tx.max_fee_per_gas()
        {
            return Err(Error::invalid_tx(format!(
                "maxPriorityFeePerGas ({priority}) is bigger than maxFeePerGas ({})",
                tx.max_fee_per_gas()
            )));
        }
        let base_fee = u128::from(self.next_block_base_fee());
        if tx.max_fee_per_gas() < base_fee {
            let field = if tx.is_dynamic_fee() {
                "maxFeePerGas"
            } else {
                "gasPrice"
            };
            return Err(Error::invalid_tx(format!(
                "Transaction {field} ({}) is too low for the next block, which has a \
                 baseFeePerGas of {base_fee}",
                tx.max_fee_per_gas()
            )));
        }
        let balance = Self::account(&self.db, sender).balance;
        let upfront = U256::from(tx.gas_limit())
            .saturating_mul(U256::from(tx.max_fee_per_gas()))
            .saturating_add(tx.value());
        if upfront > balance {
            return Err(Error::invalid_tx(format!(
                "Sender doesn't have enough funds to send tx. The max upfront cost is: {upfront} \
                 and the sender's balance is: {balance}."
            )));
        }
        Ok(())
    }

    /// Fills an `eth_sendTransaction` request for a dev account and signs it.
    pub(crate) fn sign_request(
        &self,
        chain_id: u64,
        account: &DevAccount,
        mut req: TransactionRequest,
    ) -> Result<PendingTx> {
        req.from = Some(account.address);
        req.chain_id.get_or_insert(chain_id);
        if req.nonce.is_none() {
            req.nonce = Some(self.pending_nonce(account.address));
        }
        if req.gas.is_none() {
            req.gas = Some(self.estimate_gas(chain_id, &req, Target::Pending)?);
        }
        if req.gas_price.is_none() {
            let base_fee = u128::from(self.next_block_base_fee());
            match (req.max_fee_per_gas, req.max_priority_fee_per_gas) {
                (None, None) => {
                    req.max_priority_fee_per_gas = Some(u128::from(GWEI));
                    req.max_fee_per_gas = Some(2 * base_fee + u128::from(GWEI));
                }
                (Some(max_fee), None) => {
                    req.max_priority_fee_per_gas = Some(max_fee.min(u128::from(GWEI)));
                }
                (None, Some(tip)) => req.max_fee_per_gas = Some(2 * base_fee + tip),
                (Some(_), Some(_)) => {}
            }
        }
        req.input.normalize_input();
        let typed = req.build_typed_tx().map_err(|req| {
            Error::invalid_tx(format!(
                "cannot build a transaction from the request (missing fields?): {req:?}"
            ))
        })?;
        let signature = account.signer.sign_hash_sync(&typed.signature_hash())?;
        let tx = TxEnvelope::from((typed, signature));
        let hash = *tx.tx_hash();
        Ok(PendingTx {
            tx: Recovered::new_unchecked(tx, account.address),
            hash,
        })
    }
}
