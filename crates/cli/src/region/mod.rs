//! `edufed region`: a simulated region on one machine. A regional hub, a
//! city hub per city and the institutions of each city run as `edufed
//! serve` processes of this binary, each on its own data directory and
//! loopback port, behind links that count their bytes and can be cut.
//! Institutions pin and follow their city hub, city hubs their
//! institutions and the regional hub, the regional hub every institution
//! through its city hub's relay, and each school the university of the
//! next city, which its registrations are forwarded to. A load of
//! publications, registrations and bookings runs at a set rate while the
//! region is measured (how soon the regional hub shows a write, each
//! node's memory and CPU), faults are made (a city hub killed, a link cut,
//! a school restored from an older copy), the regional hub is stopped and
//! catches up; then every subscription's digest and every write's effect
//! is checked.

mod check;
mod layout;
mod links;
mod load;
mod nodes;
mod report;
mod setup;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use edufed_proto::v1 as pb;
use rand::Rng as _;
use tokio_util::sync::CancellationToken;

use self::layout::{Layout, Role};
use self::load::{Load, Outcome};
use self::nodes::Phase;
use self::report::{Fault, Report};
use self::setup::Region;

/// Arguments of `edufed region`.
#[derive(Debug, Args)]
pub struct RegionArgs {
    /// Where the nodes keep their data [default: a new directory in the
    /// system's temporary directory, removed at the end unless --keep].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the nodes' data directories and logs.
    #[arg(long)]
    keep: bool,
    /// Cities, each with a city hub.
    #[arg(long, default_value_t = 10)]
    cities: usize,
    /// Institutions per city: a university, a technopark, a museum, the
    /// rest schools.
    #[arg(long, default_value_t = 10)]
    per_city: usize,
    /// Organizations over the whole region.
    #[arg(long, default_value_t = 10_000)]
    organizations: usize,
    /// Writes a second across the region.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Minutes of load with the whole region up.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Minutes of load more while the regional hub is stopped; 0 skips the
    /// outage.
    #[arg(long, default_value_t = 10.0)]
    outage_minutes: f64,
    /// Seconds the region idles before the load, to measure it at rest.
    #[arg(long, default_value_t = 30)]
    rest_secs: u64,
    /// Make the faults during the load: a city hub killed and restarted, a
    /// link cut and healed, a school restored from an older backup.
    #[arg(long)]
    faults: bool,
    /// An empty PostgreSQL database for the regional hub, then one for each
    /// of the first city hubs (repeatable); the other nodes run on SQLite.
    #[arg(long = "postgres")]
    postgres: Vec<String>,
    /// Write the measurements as JSON to this file too.
    #[arg(long)]
    report: Option<PathBuf>,
}

impl RegionArgs {
    /// Refuses a region the machine cannot run or a run that means nothing,
    /// naming the flag, before anything starts.
    fn check(&self) -> anyhow::Result<()> {
        let within = |value: f64, low: f64, high: f64| value >= low && value <= high;
        if !(1..=100).contains(&self.cities) {
            bail!("--cities must be 1 to 100");
        }
        if !(4..=100).contains(&self.per_city) {
            bail!(
                "--per-city must be 4 to 100 (a university, a technopark, a museum, then schools)"
            );
        }
        if self.organizations > 100_000 {
            bail!("--organizations must be at most 100 000");
        }
        if !(self.rate > 0.0 && self.rate <= 1000.0) {
            bail!("--rate must be above 0 and at most 1000 writes a second");
        }
        if !(self.minutes > 0.0 && self.minutes <= 1440.0) {
            bail!("--minutes must be above 0 and at most 1440 (a day)");
        }
        if !within(self.outage_minutes, 0.0, 1440.0) {
            bail!("--outage-minutes must be 0 to 1440 (a day)");
        }
        if self.rest_secs > 3600 {
            bail!("--rest-secs must be at most 3600");
        }
        if self.postgres.len() > self.cities + 1 {
            bail!("--postgres: at most one database for the regional hub and one per city hub");
        }
        Ok(())
    }
}

fn say(line: String) {
    let elapsed = START.get().map_or(0.0, |s| s.elapsed().as_secs_f64());
    eprintln!("[{elapsed:7.1}s] {line}");
}

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Samples every running node's memory and CPU into `phase` every two
/// seconds until `stop`.
fn sample(region: Arc<Region>, stop: CancellationToken) -> tokio::task::JoinHandle<Phase> {
    tokio::spawn(async move {
        let mut phase = Phase::default();
        loop {
            for node in &region.nodes {
                if let Some(pid) = node.process.lock().await.pid() {
                    phase.sample(node.spec.index, pid);
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
        phase
    })
}

/// Runs `phase_of` while sampling; returns its output and the samples.
async fn measured<T>(
    region: &Arc<Region>,
    work: impl std::future::Future<Output = T>,
) -> (T, Phase) {
    let stop = CancellationToken::new();
    let sampler = sample(region.clone(), stop.clone());
    let out = work.await;
    stop.cancel();
    (out, sampler.await.unwrap_or_default())
}

pub async fn region(args: RegionArgs) -> anyhow::Result<()> {
    START.get_or_init(Instant::now);
    args.check()?;
    let (root, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("edufed-region-{:08x}", rand::random::<u32>())),
            true,
        ),
    };
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let layout = Layout::new(
        args.cities,
        args.per_city,
        args.organizations,
        &args.postgres,
    );
    say(format!(
        "a region of {} nodes in {} cities under {}",
        layout.nodes.len(),
        args.cities,
        root.display()
    ));
    let setup_started = Instant::now();
    let region = Arc::new(Region::start(layout, &root, &|l| say(l)).await?);
    let outcome = run(&args, region.clone(), setup_started).await;
    region.stop().await;
    if temporary && !args.keep && outcome.is_ok() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        say(format!("data and logs kept in {}", root.display()));
    }
    let report = outcome?;
    print!("{}", report.text());
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !report.converged() {
        bail!("the region did not converge: see the report above");
    }
    Ok(())
}

async fn run(
    args: &RegionArgs,
    region: Arc<Region>,
    setup_started: Instant,
) -> anyhow::Result<Report> {
    region.populate(&|l| say(l)).await?;
    region.federate(&|l| say(l)).await?;
    let mut report = Report::new(&region, args.rate);
    report.setup_secs = setup_started.elapsed().as_secs_f64();

    say(format!("at rest for {} s", args.rest_secs));
    let ((), rest) = measured(
        &region,
        tokio::time::sleep(Duration::from_secs(args.rest_secs)),
    )
    .await;
    report.usage("rest", &region, &rest);

    let load = Load::new(region.clone());
    let stop = CancellationToken::new();
    let generator = tokio::spawn(load.clone().run(args.rate, stop.clone()));
    let phase = Duration::from_secs_f64(args.minutes * 60.0);
    say(format!(
        "load at {} writes/s for {:.1} min",
        args.rate, args.minutes
    ));
    let (faults, loaded) = measured(&region, async {
        if args.faults {
            faults(&region, phase).await
        } else {
            tokio::time::sleep(phase).await;
            Ok((Vec::new(), None))
        }
    })
    .await;
    let (faults, restored) = faults?;
    report.faults = faults;
    report.usage("load", &region, &loaded);
    report.latencies(&load);

    if args.outage_minutes > 0.0 {
        let outage = Duration::from_secs_f64(args.outage_minutes * 60.0);
        say(format!(
            "the regional hub stops for {:.1} min of load",
            args.outage_minutes
        ));
        load.regional_up.store(false, Ordering::SeqCst);
        region.nodes[0].process.lock().await.stop().await?;
        let ((), during) = measured(&region, tokio::time::sleep(outage)).await;
        report.usage("outage", &region, &during);
        // What each institution had acknowledged when the hub came back.
        let latest = latest_publications(&load, &region, restored);
        let restarted = Instant::now();
        region.nodes[0].process.lock().await.start().await?;
        let caught_up = catch_up(&region, &latest, Duration::from_secs(600)).await?;
        load.regional_up.store(true, Ordering::SeqCst);
        report.catch_up_secs = Some(caught_up.duration_since(restarted).as_secs_f64());
        report.catch_up_publications = latest.len();
        say(format!(
            "the regional hub caught up in {:.1} s",
            report.catch_up_secs.unwrap_or(0.0)
        ));
    }

    stop.cancel();
    let _ = generator.await;
    load.drain().await;
    let load_stopped = Instant::now();
    say("load stopped; comparing digests".into());
    let (took, divergences, records) = check::converge(&region, Duration::from_secs(300)).await;
    report.convergence_secs = took.as_secs_f64();
    report.divergences = divergences;
    report.digest_records = records;
    report.subscriptions_checked = region.layout.follows.len();
    let ledger = load.ledger.lock().expect("not poisoned").clone();
    report.effects = check::effects(&region, &ledger, restored).await?;
    report.writes(&ledger, load_stopped);
    report.regional_report(&region).await?;
    report.wire(&region).await?;
    Ok(report)
}

/// The faults, at random times of a load phase of `length`: a school's
/// backup early, a city hub killed and restarted, a link cut and healed,
/// the school restored from its backup late. Returns them and the
/// restored school with when its copy was begun.
async fn faults(
    region: &Arc<Region>,
    length: Duration,
) -> anyhow::Result<(Vec<Fault>, Option<(usize, Instant)>)> {
    let started = Instant::now();
    let at = |share: f64| started + length.mul_f64(share);
    let random = |from: f64, to: f64| rand::thread_rng().gen_range(from..to);
    let mut faults = Vec::new();
    let schools: Vec<usize> = region
        .layout
        .of_role(Role::School)
        .map(|n| n.index)
        .collect();
    let school = schools[rand::thread_rng().gen_range(0..schools.len())];
    let hubs: Vec<usize> = region
        .layout
        .of_role(Role::CityHub)
        .map(|n| n.index)
        .collect();
    let hub = hubs[rand::thread_rng().gen_range(0..hubs.len())];
    let institutions: Vec<usize> = region
        .layout
        .institutions()
        .map(|n| n.index)
        .filter(|i| *i != school)
        .collect();
    let cut = institutions[rand::thread_rng().gen_range(0..institutions.len())];
    let cut_hub = region
        .layout
        .hub_of(region.nodes[cut].spec.city.unwrap_or(0));
    let backup = region.root.join("school.edufed-backup");

    tokio::time::sleep_until(at(random(0.05, 0.15)).into()).await;
    let copied = Instant::now();
    region.nodes[school]
        .process
        .lock()
        .await
        .backup(&backup)
        .await?;
    say(format!("backed up {}", region.nodes[school].spec.name));
    faults.push(Fault::event(
        "backed up (the copy is restored later)",
        &region.nodes[school].spec.name,
        copied,
        started,
    ));

    tokio::time::sleep_until(at(random(0.2, 0.35)).into()).await;
    let killed = Instant::now();
    region.nodes[hub].process.lock().await.kill().await?;
    say(format!("killed {}", region.nodes[hub].spec.name));
    tokio::time::sleep(Duration::from_secs(10)).await;
    region.nodes[hub].process.lock().await.start().await?;
    say(format!("restarted {}", region.nodes[hub].spec.name));
    faults.push(Fault::new(
        "city hub killed (SIGKILL), restarted after 10 s",
        &region.nodes[hub].spec.name,
        (killed, Instant::now()),
        started,
    ));

    tokio::time::sleep_until(at(random(0.4, 0.55)).into()).await;
    let severed = Instant::now();
    for key in [(cut, cut_hub), (cut_hub, cut)] {
        region.links[&key].cut();
    }
    say(format!(
        "cut the link between {} and its city hub",
        region.nodes[cut].spec.name
    ));
    tokio::time::sleep(Duration::from_secs(15)).await;
    for key in [(cut, cut_hub), (cut_hub, cut)] {
        region.links[&key].heal();
    }
    say("healed it".into());
    faults.push(Fault::new(
        "link to its city hub cut both ways, healed after 15 s",
        &region.nodes[cut].spec.name,
        (severed, Instant::now()),
        started,
    ));

    tokio::time::sleep_until(at(random(0.6, 0.75)).into()).await;
    let restoring = Instant::now();
    {
        let mut process = region.nodes[school].process.lock().await;
        process.stop().await?;
        process.restore(&backup).await?;
        process.start().await?;
    }
    say(format!(
        "restored {} from its earlier backup",
        region.nodes[school].spec.name
    ));
    faults.push(Fault::new(
        "stopped, restored from the earlier backup, started",
        &region.nodes[school].spec.name,
        (restoring, Instant::now()),
        started,
    ));

    tokio::time::sleep_until(at(1.0).into()).await;
    Ok((faults, Some((school, copied))))
}

/// The last activity each institution acknowledged, by node.
/// What the restored school acknowledged after its copy was made is gone.
fn latest_publications(
    load: &Load,
    region: &Region,
    restored: Option<(usize, Instant)>,
) -> Vec<(usize, String)> {
    let ledger = load.ledger.lock().expect("not poisoned");
    region
        .layout
        .institutions()
        .filter_map(|n| {
            ledger
                .iter()
                .rev()
                .find(|e| {
                    e.home == n.index
                        && e.kind == load::Kind::Activity
                        && matches!(e.outcome, Outcome::Acked(_))
                        && !restored.is_some_and(|(school, at)| school == n.index && e.sent >= at)
                })
                .and_then(|e| match &e.outcome {
                    Outcome::Acked(id) => Some((n.index, id.clone())),
                    _ => None,
                })
        })
        .collect()
}

/// Waits until the regional hub holds each of `latest`.
async fn catch_up(
    region: &Region,
    latest: &[(usize, String)],
    patience: Duration,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + patience;
    let mut calendar = region.nodes[0].operator.calendar();
    for (node, id) in latest {
        loop {
            let found = calendar
                .get_activity(pb::GetActivityRequest {
                    activity_id: id.clone(),
                })
                .await;
            if found.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "the regional hub does not show {}'s activity {id} {} s after it came back",
                    region.nodes[*node].spec.name,
                    patience.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(Instant::now())
}
