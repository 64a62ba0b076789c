//! What a run of the region measured, printed for people and kept as JSON.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use edufed_proto::v1 as pb;

use super::check::{Divergence, Effects};
use super::layout::Role;
use super::load::{Effect, Load};
use super::nodes::{Memory, Phase};
use super::setup::Region;

/// A fault made during the load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fault {
    pub what: String,
    pub node: String,
    /// Seconds into the load it began and ended.
    pub at_secs: f64,
    pub until_secs: f64,
    #[serde(skip)]
    window: Option<(Instant, Instant)>,
}

/// How long after a fault ends writes still count as made during it: the
/// followers' reconnection backs off up to this long.
const AFTERMATH: Duration = Duration::from_secs(30);

impl Fault {
    pub fn new(what: &str, node: &str, (from, to): (Instant, Instant), started: Instant) -> Self {
        Self {
            what: what.into(),
            node: node.into(),
            at_secs: from.duration_since(started).as_secs_f64(),
            until_secs: to.duration_since(started).as_secs_f64(),
            window: Some((from, to)),
        }
    }

    /// Something done during the load that is no fault of the network.
    pub fn event(what: &str, node: &str, at: Instant, started: Instant) -> Self {
        let secs = at.duration_since(started).as_secs_f64();
        Self {
            what: what.into(),
            node: node.into(),
            at_secs: secs,
            until_secs: secs,
            window: None,
        }
    }

    /// Whether a write sent at `at` met this fault or its aftermath.
    fn met(&self, at: Instant) -> bool {
        self.window
            .is_some_and(|(from, to)| at >= from && at <= to + AFTERMATH)
    }
}

/// Median, 99th percentile and maximum, in milliseconds, of `count` samples.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Spread {
    pub count: usize,
    pub median_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Spread {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        let at = |q: f64| {
            samples
                .get(((samples.len() as f64 - 1.0) * q).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Self {
            count: samples.len(),
            median_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// One node kind's resources in one phase.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Usage {
    pub phase: String,
    pub role: Role,
    pub nodes: usize,
    /// The most any node of the kind held resident.
    pub max_rss_mb: f64,
    pub mean_rss_mb: f64,
    /// The most anonymous memory any node of the kind held: its own, not
    /// the pages of the binary and database files it maps.
    pub max_anon_mb: f64,
    /// The most proportional memory: pages shared with other processes
    /// (the binary's, with every other node here) counted by their share.
    pub max_pss_mb: f64,
    /// Mean and most share of one core over the phase.
    pub mean_cpu_percent: f64,
    pub max_cpu_percent: f64,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub nodes: usize,
    pub cities: usize,
    pub organizations: usize,
    pub rate: f64,
    pub setup_secs: f64,
    pub usage: Vec<Usage>,
    /// Publication on a school's node until the regional hub shows it.
    pub school_to_regional: Spread,
    /// The same from any institution.
    pub institution_to_regional: Spread,
    /// A registration forwarded from a school to a university of another
    /// city until the regional hub's copy of the course counts it.
    pub forwarded_to_regional: Spread,
    /// The same, of the writes sent outside every fault and the 30 s after
    /// it.
    pub school_to_regional_outside_faults: Spread,
    pub forwarded_to_regional_outside_faults: Spread,
    pub probes_abandoned: u64,
    pub faults: Vec<Fault>,
    pub catch_up_secs: Option<f64>,
    pub catch_up_publications: usize,
    pub writes: u64,
    pub writes_per_second: f64,
    pub effects: Effects,
    pub subscriptions_checked: usize,
    pub digest_records: u64,
    pub convergence_secs: f64,
    pub divergences: Vec<Divergence>,
    /// The regional hub's report over the whole region.
    pub regional_activities_ms: f64,
    pub regional_indicators_ms: f64,
    pub regional_activities_scheduled: u64,
    /// Bytes through every link, and per entry of an institution's log as
    /// its city hub read it.
    pub wire_bytes: u64,
    pub wire_bytes_per_write: f64,
    pub wire_bytes_per_entry: f64,
}

impl Report {
    pub fn new(region: &Region, rate: f64) -> Self {
        Self {
            nodes: region.nodes.len(),
            cities: region.layout.of_role(Role::CityHub).count(),
            organizations: region.nodes.iter().map(|n| n.spec.organizations).sum(),
            rate,
            ..Self::default()
        }
    }

    pub fn converged(&self) -> bool {
        self.divergences.is_empty()
            && self.effects.lost == 0
            && self.effects.duplicated == 0
            && self.effects.seat_mismatches == 0
    }

    pub fn usage(&mut self, phase: &str, region: &Region, samples: &Phase) {
        for role in [
            Role::Regional,
            Role::CityHub,
            Role::School,
            Role::University,
            Role::Technopark,
            Role::Museum,
        ] {
            let of: Vec<(Memory, f64)> = region
                .nodes
                .iter()
                .filter(|n| n.spec.role == role)
                .filter_map(|n| samples.of(n.spec.index))
                .collect();
            if of.is_empty() {
                continue;
            }
            let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
            let most = |f: fn(&Memory) -> u64| of.iter().map(|(m, _)| mb(f(m))).fold(0.0, f64::max);
            let count = of.len() as f64;
            self.usage.push(Usage {
                phase: phase.into(),
                role,
                nodes: of.len(),
                max_rss_mb: most(|m| m.rss),
                mean_rss_mb: of.iter().map(|(m, _)| mb(m.rss)).sum::<f64>() / count,
                max_anon_mb: most(|m| m.anon),
                max_pss_mb: most(|m| m.pss),
                mean_cpu_percent: of.iter().map(|(_, c)| c * 100.0).sum::<f64>() / count,
                max_cpu_percent: of.iter().map(|(_, c)| c * 100.0).fold(0.0, f64::max),
            });
        }
    }

    pub fn latencies(&mut self, load: &Load) {
        let published = load.seen.published.lock().expect("not poisoned").clone();
        let forwarded = load.seen.forwarded.lock().expect("not poisoned").clone();
        let calm = |at: &Instant| !self.faults.iter().any(|f| f.met(*at));
        let schools = || published.iter().filter(|(r, _, _)| *r == Role::School);
        self.school_to_regional = Spread::of(schools().map(|(_, _, d)| *d).collect());
        self.school_to_regional_outside_faults = Spread::of(
            schools()
                .filter(|(_, at, _)| calm(at))
                .map(|(_, _, d)| *d)
                .collect(),
        );
        self.institution_to_regional = Spread::of(published.iter().map(|(_, _, d)| *d).collect());
        self.forwarded_to_regional = Spread::of(forwarded.iter().map(|(_, d)| *d).collect());
        self.forwarded_to_regional_outside_faults = Spread::of(
            forwarded
                .iter()
                .filter(|(at, _)| calm(at))
                .map(|(_, d)| *d)
                .collect(),
        );
        self.probes_abandoned = load
            .seen
            .abandoned
            .load(std::sync::atomic::Ordering::Relaxed);
    }

    pub fn writes(&mut self, ledger: &[Effect], stopped: Instant) {
        self.writes = ledger.len() as u64;
        if let Some(first) = ledger.iter().map(|e| e.sent).min() {
            let span = stopped.duration_since(first).as_secs_f64();
            if span > 0.0 {
                self.writes_per_second = ledger.len() as f64 / span;
            }
        }
    }

    /// Runs the regional hub's reports over the whole region, timed.
    pub async fn regional_report(&mut self, region: &Region) -> anyhow::Result<()> {
        let hub = &region.nodes[0];
        let today = chrono::Utc::now().date_naive();
        let request = pb::ReportRequest {
            from: today.to_string(),
            to: (today + chrono::Duration::days(365)).to_string(),
            network: true,
            ..Default::default()
        };
        let started = Instant::now();
        let activities = hub
            .operator
            .reports()
            .activities_report(request.clone())
            .await?
            .into_inner();
        self.regional_activities_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.regional_activities_scheduled = activities
            .total
            .map_or(0, |t| u64::from(t.occurrences_scheduled));
        let started = Instant::now();
        hub.operator.reports().indicators_report(request).await?;
        self.regional_indicators_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(())
    }

    /// Bytes through the links, and per log entry on the links from the
    /// city hubs to their institutions (what the hubs read of their logs).
    pub async fn wire(&mut self, region: &Region) -> anyhow::Result<()> {
        self.wire_bytes = region
            .links
            .values()
            .map(|l| {
                let (a, b) = l.bytes();
                a + b
            })
            .sum();
        if self.writes > 0 {
            self.wire_bytes_per_write = self.wire_bytes as f64 / self.writes as f64;
        }
        let restored: Vec<&str> = self
            .faults
            .iter()
            .filter(|f| f.what.contains("restored from"))
            .map(|f| f.node.as_str())
            .collect();
        let (mut bytes, mut entries) = (0u64, 0u64);
        for hub in region.nodes.iter().filter(|n| n.spec.role == Role::CityHub) {
            let subscriptions = hub
                .operator
                .federation()
                .list_subscriptions(pb::ListSubscriptionsRequest {})
                .await?
                .into_inner()
                .subscriptions;
            for node in region
                .nodes
                .iter()
                .filter(|n| n.spec.city == hub.spec.city && !n.spec.role.is_hub())
            {
                if restored.contains(&node.spec.name.as_str()) {
                    continue;
                }
                let Some(status) = subscriptions.iter().find(|s| s.node_id == node.id) else {
                    continue;
                };
                if let Some(link) = region.links.get(&(hub.spec.index, node.spec.index)) {
                    bytes += link.bytes().1;
                    entries += status.latest_seen;
                }
            }
        }
        if entries > 0 {
            self.wire_bytes_per_entry = bytes as f64 / entries as f64;
        }
        Ok(())
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nRegion: {} nodes, {} cities, {} organizations; set up in {:.0} s",
            self.nodes, self.cities, self.organizations, self.setup_secs
        );
        let _ = writeln!(
            out,
            "Load: {} writes at {:.1}/s (asked {:.1}/s)",
            self.writes, self.writes_per_second, self.rate
        );
        let spread = |s: &Spread| {
            format!(
                "median {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} writes)",
                s.median_ms, s.p99_ms, s.max_ms, s.count
            )
        };
        let _ = writeln!(out, "\nUntil the regional hub shows it:");
        let _ = writeln!(
            out,
            "  a school's publication:        {}",
            spread(&self.school_to_regional)
        );
        let _ = writeln!(
            out,
            "  any institution's publication: {}",
            spread(&self.institution_to_regional)
        );
        let _ = writeln!(
            out,
            "  a forwarded registration:      {}",
            spread(&self.forwarded_to_regional)
        );
        if self.faults.iter().any(|f| f.window.is_some()) {
            let _ = writeln!(
                out,
                "  of the writes sent outside the faults and the 30 s after each:"
            );
            let _ = writeln!(
                out,
                "  a school's publication:        {}",
                spread(&self.school_to_regional_outside_faults)
            );
            let _ = writeln!(
                out,
                "  a forwarded registration:      {}",
                spread(&self.forwarded_to_regional_outside_faults)
            );
        }
        if self.probes_abandoned > 0 {
            let _ = writeln!(
                out,
                "  ({} writes not seen within a minute or while the hub was stopped)",
                self.probes_abandoned
            );
        }
        let _ = writeln!(
            out,
            "\nMemory (MB: resident; anonymous, without the mapped binary and files; proportional, shared pages by their share) and CPU (share of one core):"
        );
        let _ = writeln!(
            out,
            "  {:<7} {:<13} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "phase",
            "node",
            "count",
            "max RSS",
            "mean RSS",
            "max anon",
            "max PSS",
            "mean CPU",
            "max CPU"
        );
        for u in &self.usage {
            let _ = writeln!(
                out,
                "  {:<7} {:<13} {:>5} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8.1}% {:>8.1}%",
                u.phase,
                u.role.label(),
                u.nodes,
                u.max_rss_mb,
                u.mean_rss_mb,
                u.max_anon_mb,
                u.max_pss_mb,
                u.mean_cpu_percent,
                u.max_cpu_percent
            );
        }
        if let Some(secs) = self.catch_up_secs {
            let _ = writeln!(
                out,
                "\nThe regional hub caught up in {secs:.1} s (the last publication of each of {} institutions)",
                self.catch_up_publications
            );
        }
        let _ = writeln!(
            out,
            "\nRegional report over the whole region: activities {:.0} ms ({} occurrences to come), indicators {:.0} ms",
            self.regional_activities_ms,
            self.regional_activities_scheduled,
            self.regional_indicators_ms
        );
        let _ = writeln!(
            out,
            "Wire: {:.1} MB through the links, {:.0} bytes per write, {:.0} bytes per log entry a city hub read",
            self.wire_bytes as f64 / 1e6,
            self.wire_bytes_per_write,
            self.wire_bytes_per_entry
        );
        if !self.faults.is_empty() {
            let _ = writeln!(out, "\nFaults:");
            for f in &self.faults {
                let _ = writeln!(
                    out,
                    "  {:>6.1}–{:>6.1} s: {}: {}",
                    f.at_secs, f.until_secs, f.node, f.what
                );
            }
        }
        let e = &self.effects;
        let _ = writeln!(
            out,
            "\nRegistrations and bookings: {} acknowledged, {} refused, {} uncertain; {} lost, {} duplicated, {} gone with the restore; {} courses with seats off",
            e.acknowledged,
            e.refused,
            e.uncertain,
            e.lost,
            e.duplicated,
            e.lost_to_restore,
            e.seat_mismatches
        );
        for example in &e.examples {
            let _ = writeln!(out, "  {example}");
        }
        let _ = writeln!(
            out,
            "Digests: {} subscriptions, {} records, {} differ, compared within {:.1} s of the load's end",
            self.subscriptions_checked,
            self.digest_records,
            self.divergences.len(),
            self.convergence_secs
        );
        for d in self.divergences.iter().take(20) {
            let _ = writeln!(
                out,
                "  {} of {}: mirrors {} / origin shows {}",
                d.follower, d.origin, d.mirrored, d.shown
            );
        }
        let _ = writeln!(
            out,
            "{}",
            if self.converged() {
                "CONVERGED"
            } else {
                "DID NOT CONVERGE"
            }
        );
        out
    }
}
