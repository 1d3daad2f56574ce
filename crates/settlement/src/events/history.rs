//! Reading a fixed block range once (a task's past events, a report's slashes): the same
//! chunked log query the stream pages with, without following the head.

use alloy::rpc::types::Log;

use super::{LogSource, StreamError};

/// Every log `source` selects in `from..=to`, in chain order, one query per `chunk_blocks`
/// blocks (at least 1).
pub async fn history(
    source: &dyn LogSource,
    from: u64,
    to: u64,
    chunk_blocks: u64,
) -> Result<Vec<Log>, StreamError> {
    if from > to {
        return Err(StreamError::EmptyRange { from, to });
    }
    let chunk = chunk_blocks.max(1);
    let mut out = Vec::new();
    let mut start = from;
    loop {
        let end = to.min(start.saturating_add(chunk - 1));
        out.extend(source.logs(start, end).await?);
        if end >= to {
            break;
        }
        start = end + 1;
    }
    Ok(out)
}

/// [`history`] from `from` to the source's head (nothing if `from` is past it).
pub async fn history_to_head(
    source: &dyn LogSource,
    from: u64,
    chunk_blocks: u64,
) -> Result<Vec<Log>, StreamError> {
    let head = source.head().await?;
    if from > head {
        return Ok(Vec::new());
    }
    history(source, from, head, chunk_blocks).await
}
