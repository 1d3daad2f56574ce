//! Stateful property test against a reference model (being written).

use std::time::Instant;

use alloy::primitives::U256;
use verity_settlement::Mode;

use crate::harness::*;

#[tokio::test]
async fn probe_speed() {
    let t0 = Instant::now();
    let net = Net::new().await;
    eprintln!("net {:?}", t0.elapsed());
    let op = net.op(0);
    for round in 0..10 {
        let t = Instant::now();
        for _ in 0..50 {
            let req = net.request(Mode::Optimistic, 1).await;
            net.s.create_task(net.client, &req).await.unwrap();
            net.s.stake(op, U256::from(1)).await.unwrap();
        }
        let tx = t.elapsed();
        let t = Instant::now();
        for _ in 0..100 {
            net.s.market_balance(op).await.unwrap();
        }
        let rd = t.elapsed();
        let t = Instant::now();
        for _ in 0..20 {
            net.next_block_at(net.now().await + 1).await;
        }
        eprintln!(
            "round {round}: 100 tx {tx:?}, 100 reads {rd:?}, 20 now+setts {:?}",
            t.elapsed()
        );
    }
}
