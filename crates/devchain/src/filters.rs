//! `eth_getLogs` and the polling filters (`eth_newFilter`, `eth_getFilterChanges`, ...).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{B256, U256},
    rpc::types::{Filter, FilterBlockOption, FilterChanges, Log},
};

use crate::{
    convert,
    error::{Error, Result},
    state::{ChainState, MinedBlock},
};

/// Most blocks one `eth_getLogs` may scan.
pub(crate) const MAX_LOG_BLOCK_RANGE: u64 = 10_000;
/// Most logs one `eth_getLogs` may return.
pub(crate) const MAX_LOG_RESULTS: usize = 10_000;
/// Most filters installed at once.
pub(crate) const MAX_FILTERS: usize = 1_024;
/// A filter not polled for this long is removed (geth's rule).
pub(crate) const FILTER_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Most pending transaction hashes a pending-transaction filter buffers between polls.
const MAX_PENDING_BUFFER: usize = 10_000;

/// Resolves a filter bound (`None` = `default`); numbers past the head are kept as they are.
fn bound(state: &ChainState, tag: Option<BlockNumberOrTag>, default: u64) -> Result<u64> {
    match tag {
        None => Ok(default),
        Some(BlockNumberOrTag::Number(n)) => Ok(n),
        Some(tag) => state.resolve_number(tag),
    }
}

/// The blocks a log filter covers, limited to `[floor, latest]`. Without a `floor` (a
/// one-shot query) a missing `fromBlock` means `latest`; with one (polling) it means "since
/// the last poll".
fn filter_blocks<'a>(
    state: &'a ChainState,
    filter: &Filter,
    floor: Option<u64>,
) -> Result<Vec<&'a MinedBlock>> {
    let latest = state.latest_number();
    match filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let block = state
                .block_by_hash(&hash)
                .ok_or_else(|| Error::NotFound(format!("block {hash} not found")))?;
            Ok(if block.header.number >= floor.unwrap_or(0) {
                vec![block.as_ref()]
            } else {
                Vec::new()
            })
        }
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => {
            let from = bound(state, from_block, floor.map_or(latest, |_| 0))?;
            let to = bound(state, to_block, latest)?;
            let explicit = matches!(
                (from_block, to_block),
                (
                    Some(BlockNumberOrTag::Number(_)),
                    Some(BlockNumberOrTag::Number(_))
                )
            );
            if explicit && from > to {
                return Err(Error::InvalidParams(format!(
                    "fromBlock ({from}) is greater than toBlock ({to})"
                )));
            }
            let from = from.max(floor.unwrap_or(0));
            let to = to.min(latest);
            if from > to {
                return Ok(Vec::new());
            }
            if to - from + 1 > MAX_LOG_BLOCK_RANGE {
                return Err(Error::LimitExceeded(format!(
                    "eth_getLogs block range {from}..={to} is larger than the \
                     {MAX_LOG_BLOCK_RANGE} blocks allowed; split the query"
                )));
            }
            Ok((from..=to)
                .filter_map(|n| state.block(n).map(AsRef::as_ref))
                .collect())
        }
    }
}

/// Logs of `blocks` that match `filter`, capped at [`MAX_LOG_RESULTS`].
fn matching_logs(blocks: &[&MinedBlock], filter: &Filter) -> Result<Vec<Log>> {
    let mut out = Vec::new();
    for block in blocks {
        if !filter.matches_bloom(block.header.logs_bloom) {
            continue;
        }
        for index in 0..block.txs.len() {
            for log in convert::tx_logs(block, index) {
                if filter.matches(&log.inner) {
                    if out.len() == MAX_LOG_RESULTS {
                        return Err(Error::LimitExceeded(format!(
                            "query returned more than {MAX_LOG_RESULTS} results; narrow the \
                             block range or the address/topic filter"
                        )));
                    }
                    out.push(log);
                }
            }
        }
    }
    Ok(out)
}

/// `eth_getLogs`.
pub(crate) fn get_logs(state: &ChainState, filter: &Filter) -> Result<Vec<Log>> {
    let blocks = filter_blocks(state, filter, None)?;
    matching_logs(&blocks, filter)
}

#[derive(Debug)]
enum Kind {
    Logs(Box<Filter>),
    Blocks,
    PendingTransactions(Vec<B256>),
}

#[derive(Debug)]
struct Installed {
    kind: Kind,
    /// First block not yet reported by `eth_getFilterChanges`.
    next_block: u64,
    polled: Instant,
}

/// The installed polling filters.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    next_id: u64,
    installed: HashMap<u64, Installed>,
}

impl Filters {
    fn install(&mut self, kind: Kind, state: &ChainState) -> Result<U256> {
        self.installed
            .retain(|_, f| f.polled.elapsed() < FILTER_TIMEOUT);
        if self.installed.len() >= MAX_FILTERS {
            return Err(Error::LimitExceeded(format!(
                "too many filters installed (at most {MAX_FILTERS}); uninstall some"
            )));
        }
        self.next_id += 1;
        self.installed.insert(
            self.next_id,
            Installed {
                kind,
                next_block: state.latest_number() + 1,
                polled: Instant::now(),
            },
        );
        Ok(U256::from(self.next_id))
    }

    /// `eth_newFilter`.
    pub(crate) fn new_log_filter(&mut self, filter: Filter, state: &ChainState) -> Result<U256> {
        // Validate the range now, like geth does.
        if let FilterBlockOption::Range {
            from_block: Some(from),
            to_block: Some(to),
        } = filter.block_option
            && let (Some(from), Some(to)) = (from.as_number(), to.as_number())
            && from > to
        {
            return Err(Error::InvalidParams(format!(
                "fromBlock ({from}) is greater than toBlock ({to})"
            )));
        }
        self.install(Kind::Logs(Box::new(filter)), state)
    }

    /// `eth_newBlockFilter`.
    pub(crate) fn new_block_filter(&mut self, state: &ChainState) -> Result<U256> {
        self.install(Kind::Blocks, state)
    }

    /// `eth_newPendingTransactionFilter`.
    pub(crate) fn new_pending_tx_filter(&mut self, state: &ChainState) -> Result<U256> {
        self.install(Kind::PendingTransactions(Vec::new()), state)
    }

    /// `eth_uninstallFilter`.
    pub(crate) fn uninstall(&mut self, id: U256) -> bool {
        key(id).is_some_and(|k| self.installed.remove(&k).is_some())
    }

    /// Records a transaction entering the pending pool.
    pub(crate) fn on_pending_tx(&mut self, hash: B256) {
        for f in self.installed.values_mut() {
            if let Kind::PendingTransactions(buf) = &mut f.kind
                && buf.len() < MAX_PENDING_BUFFER
            {
                buf.push(hash);
            }
        }
    }

    fn get(&mut self, id: U256) -> Result<&mut Installed> {
        key(id)
            .and_then(|k| self.installed.get_mut(&k))
            .ok_or_else(|| Error::InvalidParams(format!("filter not found: {id:#x}")))
    }

    /// `eth_getFilterChanges`: what happened since the last poll.
    pub(crate) fn changes(&mut self, id: U256, state: &ChainState) -> Result<FilterChanges> {
        let latest = state.latest_number();
        let f = self.get(id)?;
        f.polled = Instant::now();
        // After an `evm_revert` below the last reported block, start again from the head.
        let from = f.next_block.min(latest + 1);
        let changes = match &mut f.kind {
            Kind::Blocks => FilterChanges::Hashes(
                (from..=latest)
                    .filter_map(|n| state.block(n).map(|b| b.hash))
                    .collect(),
            ),
            Kind::PendingTransactions(buf) => FilterChanges::Hashes(std::mem::take(buf)),
            Kind::Logs(filter) => {
                let blocks = filter_blocks(state, filter, Some(from))?;
                FilterChanges::Logs(matching_logs(&blocks, filter)?)
            }
        };
        f.next_block = latest + 1;
        Ok(changes)
    }

    /// `eth_getFilterLogs`: every log of a log filter's whole range.
    pub(crate) fn logs(&mut self, id: U256, state: &ChainState) -> Result<Vec<Log>> {
        let f = self.get(id)?;
        f.polled = Instant::now();
        match &f.kind {
            Kind::Logs(filter) => get_logs(state, filter),
            _ => Err(Error::InvalidParams(format!(
                "filter {id:#x} is not a log filter"
            ))),
        }
    }
}

fn key(id: U256) -> Option<u64> {
    u64::try_from(id).ok()
}
