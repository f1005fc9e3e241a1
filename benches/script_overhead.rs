//! Rhai call overhead: 100,000 `token::generate()` calls in one script,
//! beside the same count of `BootstrapTokenString::generate()` in a Rust
//! loop, and an empty script loop to separate loop cost from call cost.
//!
//!   cargo bench --bench script_overhead

use std::hint::black_box;
use std::time::{Duration, Instant};

use tokensmith::script::{RunControl, ScriptHost, ScriptOptions};
use tokensmith::token::BootstrapTokenString;

const N: u32 = 100_000;
const ROUNDS: usize = 5;

fn best<F: FnMut() -> Duration>(mut f: F) -> Duration {
    (0..ROUNDS).map(|_| f()).min().unwrap_or_default()
}

fn per_call(d: Duration) -> f64 {
    d.as_nanos() as f64 / f64::from(N)
}

fn main() {
    let host = ScriptHost::new(None, ScriptOptions::default());
    let run = |src: &str| {
        let script = host
            .compile_str("bench.rhai", src)
            .expect("bench script compiles");
        let host = host.clone();
        move || {
            let start = Instant::now();
            let v = host
                .run(&script, &RunControl::default())
                .expect("bench script runs");
            let took = start.elapsed();
            drop(black_box(v));
            took
        }
    };
    let script_calls = best(run(&format!(
        "let last = (); for i in 0..{N} {{ last = token::generate(); }} last.id"
    )));
    let script_loop = best(run(&format!(
        "let last = (); for i in 0..{N} {{ last = i; }} last"
    )));
    let rust_calls = best(|| {
        let start = Instant::now();
        for _ in 0..N {
            black_box(BootstrapTokenString::generate());
        }
        start.elapsed()
    });

    // Fixed cost of one run (engine, sandbox, thread): what a daemon pays per job.
    const RUNS: u32 = 1_000;
    let trivial = host.compile_str("one.rhai", "1").expect("compiles");
    let per_run = best(|| {
        let start = Instant::now();
        for _ in 0..RUNS {
            drop(black_box(host.run(&trivial, &RunControl::default())));
        }
        start.elapsed()
    });

    println!("{N} calls, best of {ROUNDS} rounds");
    println!(
        "script: token::generate() in a loop   {:>9.1} ms   {:>7.0} ns/call",
        script_calls.as_secs_f64() * 1e3,
        per_call(script_calls)
    );
    println!(
        "script: the same loop, no call        {:>9.1} ms   {:>7.0} ns/iteration",
        script_loop.as_secs_f64() * 1e3,
        per_call(script_loop)
    );
    println!(
        "rust:   BootstrapTokenString::generate {:>8.1} ms   {:>7.0} ns/call",
        rust_calls.as_secs_f64() * 1e3,
        per_call(rust_calls)
    );
    println!(
        "one run of a trivial script (engine + sandbox + thread): {:.1} µs",
        per_run.as_secs_f64() * 1e6 / f64::from(RUNS)
    );
    println!(
        "Rhai call overhead (script call - loop - rust call): {:.0} ns/call",
        per_call(script_calls) - per_call(script_loop) - per_call(rust_calls)
    );
}
