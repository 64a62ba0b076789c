use std::time::{Duration, Instant};

/// Runs `run` `runs` times, timing each call until it returns; returns the
/// times and what the last call returned. A result is dropped outside the
/// timing: a run that assigns its result instead has the previous one's drop
/// timed with it.
pub async fn timed<T>(runs: usize, mut run: impl AsyncFnMut() -> T) -> (Vec<Duration>, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let result = run().await;
        times.push(started.elapsed());
        last = Some(result);
    }
    (times, last.expect("at least one run"))
}

/// The time `percent` of the way through `times`, which it sorts: for 50
/// the median (the upper one of an even count).
pub fn percentile(times: &mut [Duration], percent: usize) -> Duration {
    times.sort();
    times[times.len() * percent / 100]
}

/// In milliseconds, for printing with the precision a bench needs.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The CPU time the host took from this machine while something ran
/// (`steal` in `/proc/stat`): a virtual machine loses it to its neighbours,
/// and it slows everything measured, so the benches print it beside their
/// numbers to explain the spread between runs.
pub struct Steal {
    /// (stolen, all) CPU time so far, in clock ticks.
    start: (u64, u64),
}

impl Steal {
    /// Starts counting.
    pub fn start() -> Self {
        Self { start: cpu_ticks() }
    }

    /// The share of all CPU time stolen since the start, in percent.
    pub fn percent(&self) -> f64 {
        let (stolen, all) = cpu_ticks();
        let all = all.saturating_sub(self.start.1);
        if all == 0 {
            return 0.0;
        }
        100.0 * stolen.saturating_sub(self.start.0) as f64 / all as f64
    }

    /// The share stolen, worded the same in every bench's output so that
    /// runs of different benches read alike.
    pub fn taken(&self) -> String {
        format!(
            "the host took {:.0}% of the CPU time (steal)",
            self.percent()
        )
    }
}

/// (stolen, all) CPU time of every CPU since boot, in clock ticks; zeros
/// where `/proc/stat` is missing.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|field| field.parse().ok())
        .collect();
    (ticks.get(7).copied().unwrap_or(0), ticks.iter().sum())
}
