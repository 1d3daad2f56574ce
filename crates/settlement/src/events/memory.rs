//! [`MemoryChain`]: an in-memory [`LogSource`], the stand-in for the chain in tests of the
//! stream and of its consumers. Blocks are appended with their logs; [`MemoryChain::rewind`]
//! drops the newest blocks so the next appended ones replace them (a reorg). Every block gets
//! a hash no other block had, so a replaced block never looks like the one it replaced.

use std::sync::Mutex;

use alloy::{
    primitives::{B256, Log as PrimitiveLog, keccak256},
    rpc::types::Log,
};

use super::{BlockRef, BoxFuture, Header, LogSource, StreamError};

#[derive(Debug, Clone)]
struct Block {
    hash: B256,
    timestamp: u64,
    logs: Vec<PrimitiveLog>,
}

#[derive(Debug)]
struct Inner {
    blocks: Vec<Block>,
    minted: u64,
}

impl Inner {
    fn mint(&mut self) -> B256 {
        self.minted += 1;
        keccak256(self.minted.to_be_bytes())
    }
}

/// An in-memory chain: block 0 (no logs) and whatever was appended since.
#[derive(Debug)]
pub struct MemoryChain {
    inner: Mutex<Inner>,
}

impl Default for MemoryChain {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryChain {
    /// A chain of one empty block (number 0).
    pub fn new() -> Self {
        let mut inner = Inner {
            blocks: Vec::new(),
            minted: 0,
        };
        let hash = inner.mint();
        inner.blocks.push(Block {
            hash,
            timestamp: 0,
            logs: Vec::new(),
        });
        Self {
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a block holding `logs` (in that order); returns it.
    pub fn push_block(&self, logs: Vec<PrimitiveLog>) -> BlockRef {
        let mut inner = self.lock();
        let hash = inner.mint();
        let number = inner.blocks.len() as u64;
        inner.blocks.push(Block {
            hash,
            timestamp: 1_000 + number * 12,
            logs,
        });
        BlockRef { number, hash }
    }

    /// Drops every block above `number` (block 0 always stays): the blocks appended next
    /// replace them.
    pub fn rewind(&self, number: u64) {
        let mut inner = self.lock();
        let keep = usize::try_from(number.saturating_add(1)).unwrap_or(usize::MAX);
        inner.blocks.truncate(keep.max(1));
    }

    /// The newest block's number.
    pub fn head_number(&self) -> u64 {
        self.lock().blocks.len() as u64 - 1
    }
}

impl LogSource for MemoryChain {
    fn head(&self) -> BoxFuture<'_, Result<u64, StreamError>> {
        let head = self.head_number();
        Box::pin(async move { Ok(head) })
    }

    fn header(&self, number: u64) -> BoxFuture<'_, Result<Option<Header>, StreamError>> {
        let header = usize::try_from(number)
            .ok()
            .and_then(|i| self.lock().blocks.get(i).cloned())
            .map(|b| Header {
                number,
                hash: b.hash,
                timestamp: b.timestamp,
            });
        Box::pin(async move { Ok(header) })
    }

    fn logs(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<Log>, StreamError>> {
        let inner = self.lock();
        let mut out = Vec::new();
        for (number, block) in inner.blocks.iter().enumerate() {
            let number = number as u64;
            if number < from || number > to {
                continue;
            }
            for (i, log) in block.logs.iter().enumerate() {
                let mut tx = [0u8; 40];
                tx[..32].copy_from_slice(block.hash.as_slice());
                tx[32..].copy_from_slice(&(i as u64).to_be_bytes());
                out.push(Log {
                    inner: log.clone(),
                    block_hash: Some(block.hash),
                    block_number: Some(number),
                    block_timestamp: Some(block.timestamp),
                    transaction_hash: Some(keccak256(tx)),
                    transaction_index: Some(i as u64),
                    log_index: Some(i as u64),
                    removed: false,
                });
            }
        }
        drop(inner);
        Box::pin(async move { Ok(out) })
    }
}
