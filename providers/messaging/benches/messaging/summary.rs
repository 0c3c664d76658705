//! The table printed after the run: each benchmark per message or call, and the provider's
//! ratios to raw NATS, from the estimates criterion wrote in this run.

use std::time::SystemTime;

use provider_testing::criterion::{Estimate, estimate};

use crate::{BENCHES, RATIOS};

/// Prints the summary of the run that started at `since`; `failures` per benchmark id.
pub fn print(since: SystemTime, failures: &[u64]) {
    let mut estimates: Vec<Estimate> = Vec::new();
    for bench in &BENCHES {
        match estimate(bench.group, bench.function, since) {
            Some(estimate) => estimates.push(estimate),
            None => {
                println!(
                    "summary skipped: this run wrote no estimates for {}/{}",
                    bench.group, bench.function
                );
                return;
            }
        }
    }
    // Per message or call: the iteration's time divided by the messages or calls in it (for
    // more than one, the amortized time, not the latency each sees), and how many per second.
    let each = |id: usize| {
        let n = BENCHES[id].per_iteration as f64;
        let estimate = &estimates[id];
        (
            estimate.mean / n / 1e3,
            n * 1e9 / estimate.mean,
            estimate.median / n / 1e3,
        )
    };

    println!();
    println!("Summary: 16 B messages, from criterion's estimates of this run");
    println!(
        "{:<14} {:<16} {:>13} {:>14} {:>12} {:>15} {:>14}",
        "group",
        "function",
        "mean µs/iter",
        "mean µs/each",
        "per second",
        "median µs/each",
        "lost/failed"
    );
    for (id, bench) in BENCHES.iter().enumerate() {
        let (mean, rate, median) = each(id);
        println!(
            "{:<14} {:<16} {:>13.1} {:>14.2} {:>12.0} {:>15.2} {:>14}",
            bench.group,
            bench.function,
            estimates[id].mean / 1e3,
            mean,
            rate,
            median,
            failures[id],
        );
    }
    println!();
    println!(
        "{:<14} {:<30} {:>12} {:>12} {:>14}",
        "group", "ratio", "time (mean)", "throughput", "time (median)"
    );
    for (provider, raw) in RATIOS {
        let (provider_mean, provider_rate, provider_median) = each(provider);
        let (raw_mean, raw_rate, raw_median) = each(raw);
        println!(
            "{:<14} {:<30} {:>11.2}x {:>11.2}x {:>13.2}x",
            BENCHES[provider].group,
            format!("{} / {}", BENCHES[provider].function, BENCHES[raw].function),
            provider_mean / raw_mean,
            provider_rate / raw_rate,
            provider_median / raw_median,
        );
    }
    println!(
        "(time ratio > 1: the provider takes longer; throughput ratio < 1: it carries fewer per \
         second)"
    );
}
