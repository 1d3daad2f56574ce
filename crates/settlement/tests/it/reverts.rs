//! Every revert path (being written).
use crate::harness::*;

#[tokio::test]
async fn probe_time() {
    let net = Net::new().await;
    let t0 = net.now().await;
    net.advance(100).await;
    let t1 = net.now().await;
    net.next_block_at(t1 + 50).await;
    net.mine().await;
    let t2 = net.now().await;
    net.advance(10).await;
    let t3 = net.now().await;
    panic!("{t0} {t1} {t2} {t3}");
}
