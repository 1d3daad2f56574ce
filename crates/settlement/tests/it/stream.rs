//! The event stream alone, against the in-memory chain: chunk boundaries, confirmation depth,
//! a reorg's replaced blocks re-emitted after a rollback marker, and (stateful property) that
//! any sequence of appended blocks and reorgs leaves a consumer that rolls back on the marker
//! with exactly the canonical chain's events, once each.

use std::sync::{Arc, Mutex};

use alloy::{
    primitives::{Address, Log as PrimitiveLog, U256, address},
    rpc::types::Log,
    sol_types::SolEvent,
};
use proptest::prelude::*;
use verity_contracts::TaskMarket;
use verity_settlement::events::{
    BoxFuture, ChainEvent, Contracts, Event, EventStream, Header, LogSource, MarketEvent,
    MemoryChain, StreamConfig, StreamError, StreamItem, history,
};

const MARKET: Address = address!("0x00000000000000000000000000000000000000aa");
const REGISTRY: Address = address!("0x00000000000000000000000000000000000000bb");
const OTHER: Address = address!("0x00000000000000000000000000000000000000cc");

fn contracts() -> Contracts {
    Contracts {
        market: MARKET,
        registry: REGISTRY,
    }
}

/// A market `Deposited` log whose amount is `tag` (how the tests tell events apart).
fn deposited(tag: u64) -> PrimitiveLog {
    let ev = TaskMarket::Deposited {
        account: Address::repeat_byte(1),
        amount: U256::from(tag),
    };
    PrimitiveLog {
        address: MARKET,
        data: ev.encode_log_data(),
    }
}

fn tag(e: &ChainEvent) -> u64 {
    match &e.event {
        Event::Market(MarketEvent::Deposited(d)) => d.amount.to::<u64>(),
        other => panic!("unexpected event {other:?}"),
    }
}

fn cfg(chunk: u64, confirmations: u64) -> StreamConfig {
    StreamConfig {
        confirmations,
        chunk_blocks: chunk,
        start_block: 0,
        keep_blocks: 1_000,
    }
}

/// A [`LogSource`] that records the ranges asked for.
#[derive(Debug)]
struct Recording {
    chain: Arc<MemoryChain>,
    ranges: Mutex<Vec<(u64, u64)>>,
}

impl Recording {
    fn ranges(&self) -> Vec<(u64, u64)> {
        std::mem::take(&mut *self.ranges.lock().unwrap())
    }
}

impl LogSource for Recording {
    fn head(&self) -> BoxFuture<'_, Result<u64, StreamError>> {
        self.chain.head()
    }
    fn header(&self, number: u64) -> BoxFuture<'_, Result<Option<Header>, StreamError>> {
        self.chain.header(number)
    }
    fn logs(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<Log>, StreamError>> {
        self.ranges.lock().unwrap().push((from, to));
        self.chain.logs(from, to)
    }
}

fn tags(items: &[StreamItem]) -> Vec<(u64, u64)> {
    items
        .iter()
        .map(|i| match i {
            StreamItem::Event(e) => (e.block.number, tag(e)),
            StreamItem::Reorged { from_block } => panic!("unexpected reorg at {from_block}"),
        })
        .collect()
}

/// Blocks 1..=25, with events in blocks 1, 9, 10, 19, 20 and 25 (the tag is the block number).
fn chain_25() -> Arc<MemoryChain> {
    let chain = Arc::new(MemoryChain::new());
    for n in 1..=25u64 {
        let logs = if [1, 9, 10, 19, 20, 25].contains(&n) {
            vec![deposited(n)]
        } else {
            Vec::new()
        };
        chain.push_block(logs);
    }
    chain
}

#[tokio::test]
async fn pages_in_chunks_of_the_configured_size() {
    let rec = Arc::new(Recording {
        chain: chain_25(),
        ranges: Mutex::default(),
    });
    let mut s = EventStream::new(rec.clone(), contracts(), cfg(10, 0));
    let b = s.next_batch().await.unwrap();
    assert_eq!(tags(&b.items), vec![(1, 1), (9, 9)]);
    assert_eq!(rec.ranges(), vec![(0, 9)]);
    assert_eq!(s.next_block(), 10);
    let b = s.next_batch().await.unwrap();
    assert_eq!(tags(&b.items), vec![(10, 10), (19, 19)]);
    assert_eq!(rec.ranges(), vec![(10, 19)]);
    let b = s.next_batch().await.unwrap();
    assert_eq!(tags(&b.items), vec![(20, 20), (25, 25)]);
    assert_eq!(rec.ranges(), vec![(20, 25)]);
    assert!(!b.caught_up);
    let b = s.next_batch().await.unwrap();
    assert!(b.caught_up && b.items.is_empty());
    assert_eq!(
        rec.ranges(),
        Vec::<(u64, u64)>::new(),
        "idle asks for no logs"
    );
    assert_eq!(s.next_block(), 26);
}

#[tokio::test]
async fn catch_up_stops_at_its_step_budget() {
    let mut s = EventStream::new(chain_25(), contracts(), cfg(5, 0));
    let b = s.catch_up(2).await.unwrap();
    assert!(!b.caught_up);
    assert_eq!(tags(&b.items), vec![(1, 1), (9, 9)]);
    assert_eq!(s.next_block(), 10);
    let b = s.catch_up(100).await.unwrap();
    assert!(b.caught_up);
    assert_eq!(tags(&b.items), vec![(10, 10), (19, 19), (20, 20), (25, 25)]);
}

#[tokio::test]
async fn confirmation_depth_holds_back_the_newest_blocks() {
    let chain = chain_25();
    let mut s = EventStream::new(chain.clone(), contracts(), cfg(100, 5));
    let b = s.catch_up(10).await.unwrap();
    assert!(b.caught_up);
    assert_eq!(
        tags(&b.items),
        vec![(1, 1), (9, 9), (10, 10), (19, 19), (20, 20)]
    );
    assert_eq!(s.next_block(), 21);
    for _ in 0..4 {
        chain.push_block(Vec::new());
    }
    assert!(
        s.catch_up(10).await.unwrap().items.is_empty(),
        "block 25 has 4 on top"
    );
    chain.push_block(Vec::new());
    assert_eq!(tags(&s.catch_up(10).await.unwrap().items), vec![(25, 25)]);
}

#[tokio::test]
async fn a_reorg_rolls_back_and_re_emits_the_replaced_blocks() {
    let chain = Arc::new(MemoryChain::new());
    for n in 1..=5 {
        chain.push_block(vec![deposited(n)]);
    }
    let mut s = EventStream::new(chain.clone(), contracts(), cfg(100, 0));
    let first = s.catch_up(10).await.unwrap();
    assert_eq!(
        tags(&first.items),
        (1..=5).map(|n| (n, n)).collect::<Vec<_>>()
    );
    // Blocks 4 and 5 are replaced by three blocks with other events.
    chain.rewind(3);
    chain.push_block(vec![deposited(40), deposited(41)]);
    chain.push_block(Vec::new());
    chain.push_block(vec![deposited(60)]);
    let b = s.catch_up(10).await.unwrap();
    assert_eq!(b.items[0], StreamItem::Reorged { from_block: 4 });
    assert_eq!(tags(&b.items[1..]), vec![(4, 40), (4, 41), (6, 60)]);
    let replaced = match &b.items[1] {
        StreamItem::Event(e) => e.block,
        other => panic!("{other:?}"),
    };
    assert_eq!(chain.header(4).await.unwrap().unwrap().hash, replaced.hash);
    assert_eq!(s.next_block(), 7);
}

#[tokio::test]
async fn a_reorg_inside_the_confirmation_depth_is_never_seen() {
    let chain = Arc::new(MemoryChain::new());
    for n in 1..=5 {
        chain.push_block(vec![deposited(n)]);
    }
    let mut s = EventStream::new(chain.clone(), contracts(), cfg(100, 2));
    assert_eq!(
        tags(&s.catch_up(10).await.unwrap().items),
        vec![(1, 1), (2, 2), (3, 3)]
    );
    chain.rewind(3);
    chain.push_block(vec![deposited(44)]);
    chain.push_block(vec![deposited(55)]);
    chain.push_block(Vec::new());
    assert_eq!(tags(&s.catch_up(10).await.unwrap().items), vec![(4, 44)]);
}

#[tokio::test]
async fn logs_of_other_addresses_are_skipped() {
    let chain = Arc::new(MemoryChain::new());
    let mut foreign = deposited(7);
    foreign.address = OTHER;
    chain.push_block(vec![foreign, deposited(8)]);
    let mut s = EventStream::new(chain, contracts(), cfg(100, 0));
    let b = s.catch_up(10).await.unwrap();
    assert_eq!(tags(&b.items), vec![(1, 8)]);
    match &b.items[0] {
        StreamItem::Event(e) => assert_eq!(e.log_index, 1),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn history_reads_a_range_in_chunks() {
    let rec = Recording {
        chain: chain_25(),
        ranges: Mutex::default(),
    };
    let logs = history(&rec, 3, 21, 8).await.unwrap();
    assert_eq!(rec.ranges(), vec![(3, 10), (11, 18), (19, 21)]);
    let blocks: Vec<u64> = logs.iter().map(|l| l.block_number.unwrap()).collect();
    assert_eq!(blocks, vec![9, 10, 19, 20]);
    assert!(matches!(
        history(&rec, 5, 4, 8).await,
        Err(StreamError::EmptyRange { from: 5, to: 4 })
    ));
}

/// What the property test does to the chain between reads.
#[derive(Debug, Clone)]
enum Op {
    /// Append a block with this many events.
    Append(u8),
    /// Drop this many of the newest blocks (never block 0), then append this many.
    Reorg(u8, u8),
    /// Let the consumer read, at most this many steps.
    Read(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4).prop_map(Op::Append),
        1 => (1u8..6, 0u8..7).prop_map(|(d, n)| Op::Reorg(d, n)),
        3 => (1u8..4).prop_map(Op::Read),
    ]
}

/// A consumer that keeps what the stream yields and rolls back on the marker.
fn apply(kept: &mut Vec<(u64, u64)>, items: Vec<StreamItem>) {
    for item in items {
        match item {
            StreamItem::Event(e) => kept.push((e.block.number, tag(&e))),
            StreamItem::Reorged { from_block } => kept.retain(|(b, _)| *b < from_block),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn a_rolling_back_consumer_ends_with_the_canonical_events_once(
        ops in proptest::collection::vec(op(), 1..60),
        chunk in 1u64..6,
        confirmations in 0u64..3,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let chain = Arc::new(MemoryChain::new());
            // The chain's events by block: each tag is used once, so a duplicate shows.
            let mut canonical: Vec<Vec<u64>> = vec![Vec::new()];
            let mut next_tag = 0u64;
            let mut push = |chain: &MemoryChain, canonical: &mut Vec<Vec<u64>>, n: u8| {
                let tags: Vec<u64> = (0..n).map(|_| { next_tag += 1; next_tag }).collect();
                chain.push_block(tags.iter().map(|t| deposited(*t)).collect());
                canonical.push(tags);
            };
            let mut s = EventStream::new(chain.clone(), contracts(), cfg(chunk, confirmations));
            let mut kept = Vec::new();
            for op in ops {
                match op {
                    Op::Append(n) => push(&chain, &mut canonical, n),
                    Op::Reorg(depth, n) => {
                        let keep = chain.head_number().saturating_sub(u64::from(depth));
                        chain.rewind(keep);
                        canonical.truncate(keep as usize + 1);
                        for i in 0..n {
                            push(&chain, &mut canonical, i % 3);
                        }
                    }
                    Op::Read(steps) => apply(&mut kept, s.catch_up(usize::from(steps)).await.unwrap().items),
                }
            }
            let last = s.catch_up(10_000).await.unwrap();
            prop_assert!(last.caught_up);
            apply(&mut kept, last.items);
            // Everything confirmed is read; more may be if the chain shrank since (a reorg to
            // a shorter branch leaves blocks read at the old depth that are still on it).
            let read_to = s.next_block().checked_sub(1);
            if let Some(confirmed) = chain.head_number().checked_sub(confirmations) {
                prop_assert!(read_to >= Some(confirmed), "read to {read_to:?}, confirmed {confirmed}");
            }
            prop_assert!(read_to.is_none_or(|r| r <= chain.head_number()));
            let want: Vec<(u64, u64)> = canonical
                .iter()
                .enumerate()
                .filter(|(b, _)| read_to.is_some_and(|r| *b as u64 <= r))
                .flat_map(|(b, tags)| tags.iter().map(move |t| (b as u64, *t)))
                .collect();
            prop_assert_eq!(kept, want);
            Ok(())
        })?;
    }
}
