//! Times quote verification on the dcap-qvl samples.
//!
//! ```text
//! cargo run -p verity-tee --example bench_verify -- [N]
//! ```
//!
//! The dev profile is enough: the workspace builds every dependency (dcap-qvl, ring, webpki)
//! at opt-level 3 in dev, and all the work happens there.
//!
//! For each sample: N calls of `verity_tee::verify_quote` (this crate: pre-checks, dcap-qvl,
//! policy), and as the peer N calls of dcap-qvl's own `verify` on the same bytes, interleaved
//! in rounds so both see the same machine state. Prints mean and median per quote. The quote
//! bytes and collateral are parsed/loaded once, outside the timing; collateral JSON parsing is
//! not part of the figure.

use std::time::{Duration, Instant};

use verity_tee::{Policy, TcbStatus, parse_collateral, verify_quote};

const PINNED_AT: u64 = 1_751_328_000; // 2025-07-01T00:00:00Z, inside the samples' collateral

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("N must be a number"))
        .unwrap_or(200);
    let samples = [
        (
            "SGX",
            &include_bytes!("../tests/data/sgx_quote")[..],
            &include_bytes!("../tests/data/sgx_quote_collateral.json")[..],
        ),
        (
            "TDX",
            &include_bytes!("../tests/data/tdx_quote")[..],
            &include_bytes!("../tests/data/tdx_quote_collateral.json")[..],
        ),
    ];
    let policy = Policy::strict().accept_status(TcbStatus::ConfigurationAndSWHardeningNeeded);
    println!("N = {n} per row; times per quote");
    for (name, quote, collateral_json) in samples {
        let collateral = parse_collateral(collateral_json).expect("sample collateral");
        // Warm up both paths (and check they accept).
        verify_quote(quote, &collateral, PINNED_AT, &policy).expect("sample verifies");
        dcap_qvl::verify::verify(quote, &collateral, PINNED_AT).expect("sample verifies");
        let mut ours = Vec::with_capacity(n);
        let mut peer = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let v = verify_quote(quote, &collateral, PINNED_AT, &policy);
            ours.push(t.elapsed());
            assert!(v.is_ok());
            let t = Instant::now();
            let v = dcap_qvl::verify::verify(quote, &collateral, PINNED_AT);
            peer.push(t.elapsed());
            assert!(v.is_ok());
        }
        report(&format!("{name} verity_tee::verify_quote"), &mut ours);
        report(&format!("{name} dcap_qvl::verify (peer)"), &mut peer);
    }
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    let total: Duration = times.iter().sum();
    let mean = total / u32::try_from(times.len()).unwrap_or(u32::MAX).max(1);
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    println!(
        "{label:<36} mean {:>8.3} ms  median {:>8.3} ms",
        mean.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3
    );
}
