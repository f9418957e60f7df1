//! A fleet at scale (issue 21): `--processes` real `sync --tenants` processes share one
//! PostgreSQL store and serve `--tenants` tenants, each with its own simulated CloudSuite and
//! its own simulated Cin7 account limited to `--limit` calls a minute (real time). One process
//! is killed with SIGKILL mid-run and started again. Printed: writes made twice, throttled
//! answers, each account's rate use while it had a backlog, the takeover time of the killed
//! process's jobs, Cin7 calls against the minimum, and CPU and memory per tenant (busy and
//! idle at a one-minute cadence).
//!
//! Needs the `sync` binary beside this one: `cargo build --release -p examples --bins`, then
//! `target/release/bench fleet`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_APPLICATION_KEY, SimRateLimit, SimulatorConfig as Cin7Config,
};
use examples::demo::RUNNER_MAPPINGS as MAPPINGS;
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig};
use sqlx::Row;

const KEY_ENV: &str = "BENCH_FLEET_CIN7_KEY";

#[derive(clap::Args, Clone)]
pub struct FleetArgs {
    /// Tenants (each its own CloudSuite and Cin7 account).
    #[arg(long, default_value_t = 50)]
    tenants: usize,
    /// `sync --tenants` processes.
    #[arg(long, default_value_t = 4)]
    processes: usize,
    /// Workers per process.
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// CloudSuite suppliers per tenant.
    #[arg(long, default_value_t = 30)]
    suppliers: usize,
    /// CloudSuite purchase orders per tenant.
    #[arg(long, default_value_t = 10)]
    pos: usize,
    /// Cin7 calls per minute per account (server limit and client limiter).
    #[arg(long, default_value_t = 60)]
    limit: u32,
    /// Seconds after the start when the second process is killed (SIGKILL) and restarted.
    #[arg(long, default_value_t = 20)]
    kill_after: u64,
    /// Seconds of idle running (one-minute cadence) measured after the backlog is synced.
    #[arg(long, default_value_t = 120)]
    idle: u64,
    /// PostgreSQL URL (`DATABASE_URL` otherwise, else the machine's).
    #[arg(long)]
    database: Option<String>,
}

struct Tenant {
    name: String,
    /// Kept alive: the tenant's CloudSuite serves while this lives.
    _ion: IonSimulator,
    cin7: Cin7Simulator,
}

fn cin7_calls(cin7: &Cin7Simulator) -> u64 {
    cin7.state().calls.values().sum()
}

/// CPU seconds (user + system) and peak and current RSS in KiB of a process.
fn usage(pid: u32) -> Option<(f64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some((ticks / 100.0, kib("VmHWM:"), kib("VmRSS:")))
}

fn spawn(
    sync: &Path,
    dir: &Path,
    name: &str,
    workers: usize,
    log: &Path,
) -> std::io::Result<Child> {
    Command::new(sync)
        .args(["--tenants", &dir.to_string_lossy(), "--worker-name", name])
        .args([
            "--workers",
            &workers.to_string(),
            "--reload-every",
            "1h",
            "--log",
            "warn",
        ])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
}

pub async fn run(args: FleetArgs) -> Result<(), Box<dyn std::error::Error>> {
    let sync = std::env::current_exe()?.with_file_name("sync");
    if !sync.exists() {
        return Err(format!(
            "{} is missing: build it first (cargo build --release -p examples --bins)",
            sync.display()
        )
        .into());
    }
    let url = args
        .database
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/test".into());
    let schema = format!("bench_fleet_{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // Simulators: one CloudSuite and one Cin7 account per tenant.
    let mut tenants = Vec::new();
    for n in 0..args.tenants {
        let name = format!("T{n:03}");
        let ion = IonSimulator::start(IonConfig {
            tenant: name.clone(),
            seed: Seed {
                seed: 100 + n as u64,
                suppliers: args.suppliers,
                purchase_orders: args.pos,
                lines_per_order: 2,
                invoices: 0,
                payments: 0,
                customers: 0,
                items: 10,
                ..Seed::default()
            },
            ..IonConfig::default()
        })
        .await?;
        let account = format!("5a1e0c7e-51a0-4c1d-9c0e-{:012x}", 0xf1ee_0000 + n);
        let cin7 = Cin7Simulator::start(
            Cin7Config::new(account.clone(), DEFAULT_APPLICATION_KEY)
                .with_rate_limit(SimRateLimit::new(args.limit, Duration::from_secs(60)))
                .with_seed(3),
        )
        .await?;
        let ionapi = dir.as_path().join(format!("{name}.ionapi"));
        ion.write_ionapi(&ionapi)?;
        std::fs::write(
            dir.as_path().join(format!("{name}.toml")),
            format!(
                "tenant = \"{name}\"\n[ion]\nionapi = {ionapi:?}\nproduct = \"csi\"\nmongoose_config = \"{}\"\nsite = \"MAIN\"\ndefault_currency = \"USD\"\n[cin7]\naccount_id = \"{account}\"\nbase_url = \"{}\"\n",
                ion.mongoose_config(),
                cin7.base_url()
            ),
        )?;
        tenants.push(Tenant {
            name,
            _ion: ion,
            cin7,
        });
    }
    std::fs::write(
        dir.as_path().join("defaults.toml"),
        format!(
            "store = \"{url}\"\nstore_schema = \"{schema}\"\nstreams = [\"suppliers\", \"purchase_orders\"]\n[cin7]\napplication_key_env = \"{KEY_ENV}\"\ncalls_per_minute = {}\n[engine]\nsafety_lag = \"1s\"\nmax_writes_per_window = 20\n[schedule]\ncadence = \"interval\"\nevery = \"1m\"\n{MAPPINGS}",
            args.limit
        ),
    )?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await?;

    // The processes.
    let logs: Vec<PathBuf> = (0..=args.processes)
        .map(|n| dir.as_path().join(format!("w{n}.log")))
        .collect();
    let start = Instant::now();
    let mut children: Vec<(String, Child)> = Vec::new();
    for (n, log) in logs.iter().take(args.processes).enumerate() {
        let name = format!("w{n}");
        children.push((
            name.clone(),
            spawn(&sync, dir.as_path(), &name, args.workers, log)?,
        ));
    }

    // Sample every account's calls until each has its backlog synced; kill one process on the way.
    let progress = |t: &Tenant| {
        let state = t.cin7.state();
        let suppliers = state
            .suppliers
            .iter()
            .filter(|s| s.additional_attribute(1).is_some_and(|v| !v.is_empty()))
            .count();
        (suppliers, state.purchases.len())
    };
    let mut series: Vec<Vec<(f64, u64)>> = vec![Vec::new(); tenants.len()];
    let mut done_at: Vec<Option<f64>> = vec![None; tenants.len()];
    let mut killed: Option<(Instant, Vec<(String, String)>)> = None;
    let mut takeover = BTreeMap::new();
    let deadline = Duration::from_secs(900);
    while done_at.iter().any(Option::is_none) && start.elapsed() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = start.elapsed().as_secs_f64();
        for (i, t) in tenants.iter().enumerate() {
            series[i].push((now, cin7_calls(&t.cin7)));
            if done_at[i].is_none() && progress(t) == (args.suppliers, args.pos) {
                done_at[i] = Some(now);
            }
        }
        if killed.is_none() && start.elapsed() >= Duration::from_secs(args.kill_after) {
            let (name, child) = &mut children[1.min(args.processes - 1)];
            let held: Vec<(String, String)> = sqlx::query(&format!(
                "SELECT tenant, stream FROM \"{schema}\".jobs WHERE holder = $1 AND lease_until > now()"
            ))
            .bind(name.as_str())
            .fetch_all(&pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            Command::new("kill")
                .args(["-9", &child.id().to_string()])
                .status()?;
            let _ = child.wait();
            let restarted = format!("{name}-restarted");
            let replacement = spawn(
                &sync,
                dir.as_path(),
                &restarted,
                args.workers,
                &logs[args.processes],
            )?;
            children.push((restarted, replacement));
            killed = Some((Instant::now(), held));
        }
        if let Some((at, held)) = &killed {
            for (tenant, stream) in held {
                if takeover.contains_key(&(tenant.clone(), stream.clone())) {
                    continue;
                }
                let victim = format!("w{}", 1.min(args.processes - 1));
                let row = sqlx::query(&format!(
                    "SELECT holder, next_due > now() FROM \"{schema}\".jobs WHERE tenant = $1 AND stream = $2"
                ))
                .bind(tenant)
                .bind(stream)
                .fetch_optional(&pool)
                .await?;
                // Taken over: held by another process, or already run and released by one.
                let moved = row.is_some_and(|r| {
                    let holder: Option<String> = r.get(0);
                    let released: bool = r.get(1);
                    match holder {
                        Some(h) => h != victim,
                        None => released,
                    }
                });
                if moved {
                    takeover.insert((tenant.clone(), stream.clone()), at.elapsed().as_secs_f64());
                }
            }
        }
    }
    let backlog_elapsed = start.elapsed();
    let busy: Vec<(f64, u64, u64)> = children.iter().filter_map(|(_, c)| usage(c.id())).collect();

    // Idle: the backlog is synced; every job runs once a minute.
    let calls_before_idle: u64 = tenants.iter().map(|t| cin7_calls(&t.cin7)).sum();
    tokio::time::sleep(Duration::from_secs(args.idle)).await;
    let idle: Vec<(f64, u64, u64)> = children.iter().filter_map(|(_, c)| usage(c.id())).collect();
    let calls_after_idle: u64 = tenants.iter().map(|t| cin7_calls(&t.cin7)).sum();
    for (_, child) in &mut children {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
    }

    // Figures.
    let throttled: u64 = tenants.iter().map(|t| t.cin7.state().throttled).sum();
    let mut twice = 0usize;
    for t in &tenants {
        let state = t.cin7.state();
        let mut by_vendor: BTreeMap<String, usize> = BTreeMap::new();
        for s in &state.suppliers {
            if let Some(v) = s.additional_attribute(1).filter(|v| !v.is_empty()) {
                *by_vendor.entry(v.to_owned()).or_default() += 1;
            }
        }
        twice += by_vendor.values().map(|n| n - 1).sum::<usize>();
        // Every PO is one purchase: more purchases than POs is a PO written twice.
        twice += state.purchases.len().saturating_sub(args.pos);
    }
    // Rate use while an account had a backlog: its calls from its first to its last before the
    // backlog was synced, against the limit over that time.
    let per_second = f64::from(args.limit) / 60.0;
    let hit: Vec<&str> = killed
        .as_ref()
        .map(|(_, held)| held.iter().map(|(t, _)| t.as_str()).collect())
        .unwrap_or_default();
    let rate_of = |affected: bool| {
        let mut use_: Vec<f64> = series
            .iter()
            .zip(&done_at)
            .zip(&tenants)
            .filter(|(_, t)| hit.contains(&t.name.as_str()) == affected)
            .filter_map(|((points, done), _)| {
                let done = (*done)?;
                let first = points.iter().find(|(_, c)| *c > 0)?;
                let last = points.iter().rfind(|(t, _)| *t <= done)?;
                let calls = last.1.saturating_sub(first.1) as f64;
                let seconds = last.0 - first.0;
                (seconds > 5.0).then(|| calls / (seconds * per_second))
            })
            .collect();
        use_.sort_by(f64::total_cmp);
        use_
    };
    let (rate_use, rate_use_hit) = (rate_of(false), rate_of(true));
    let made: u64 = tenants.iter().map(|t| cin7_calls(&t.cin7)).sum::<u64>()
        - (calls_after_idle - calls_before_idle);
    // The fewest calls that sync a tenant into an empty account: one supplier index page,
    // one create per supplier, and a header and an order write per PO.
    let minimum = (tenants.len() * (1 + args.suppliers + 2 * args.pos)) as u64;
    let cpu_busy: f64 = busy.iter().map(|u| u.0).sum();
    let cpu_idle: f64 = idle.iter().map(|u| u.0).sum::<f64>() - cpu_busy;
    let peak_kib: u64 = busy.iter().chain(&idle).map(|u| u.1).max().unwrap_or(0);
    let rss_kib: u64 = idle.iter().map(|u| u.2).sum();
    let idle_minutes = args.idle as f64 / 60.0;
    let per_tenant_minute = cpu_idle / (tenants.len() as f64 * idle_minutes);
    let mut takeovers: Vec<f64> = takeover.values().copied().collect();
    takeovers.sort_by(f64::total_cmp);
    let synced = done_at.iter().filter(|d| d.is_some()).count();

    println!(
        "# Fleet: {} processes x {} workers, {} tenants ({} suppliers, {} POs each), {} Cin7 calls/min per account, PostgreSQL\n",
        args.processes, args.workers, args.tenants, args.suppliers, args.pos, args.limit
    );
    println!("| figure | value | target |\n|---|---:|---|");
    println!(
        "| tenants whose backlog was synced | {synced} / {} | all |",
        tenants.len()
    );
    println!(
        "| backlog synced in | {:.1} s | |",
        backlog_elapsed.as_secs_f64()
    );
    println!("| Cin7 records written twice | {twice} | 0 |");
    println!("| throttled answers (429) | {throttled} | 0 |");
    for (which, rates) in [
        ("accounts the kill did not touch", &rate_use),
        ("accounts whose job the killed process held", &rate_use_hit),
    ] {
        if let (Some(low), Some(mid)) = (rates.first(), rates.get(rates.len() / 2)) {
            println!(
                "| rate use while backlogged, {which} (lowest / median of {}) | {:.1} % / {:.1} % | ≥ 95 % |",
                rates.len(),
                low * 100.0,
                mid * 100.0
            );
        }
    }
    println!(
        "| jobs the killed process held | {} | |",
        killed.as_ref().map_or(0, |(_, h)| h.len())
    );
    match takeovers.last() {
        Some(max) => println!(
            "| takeover of its jobs (median / max) | {:.1} s / {:.1} s | ≤ lease TTL (60 s) + claim poll (5 s) |",
            takeovers[takeovers.len() / 2],
            max
        ),
        None => println!("| takeover of its jobs | none held at the kill | |"),
    }
    println!(
        "| Cin7 calls made for the backlog / minimum | {made} / {minimum} = {:.3} | ≤ 1.05 |",
        made as f64 / minimum.max(1) as f64
    );
    println!(
        "| idle Cin7 calls in {} s (all tenants) | {} | |",
        args.idle,
        calls_after_idle - calls_before_idle
    );
    println!("| CPU while syncing the backlog (all processes) | {cpu_busy:.1} s | |");
    println!(
        "| CPU idle per tenant per minute | {:.3} s → {:.0} tenants per core at a 1-minute cadence | |",
        per_tenant_minute,
        60.0 / per_tenant_minute.max(1e-9)
    );
    println!(
        "| memory: RSS of all processes / peak of one | {:.0} MiB / {:.0} MiB ({:.2} MiB per tenant) | |",
        rss_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
        rss_kib as f64 / 1024.0 / tenants.len() as f64
    );
    let mut by_endpoint: BTreeMap<String, u64> = BTreeMap::new();
    for t in &tenants {
        for (call, n) in t.cin7.state().calls {
            *by_endpoint.entry(call).or_default() += n;
        }
    }
    println!("\nCin7 calls by endpoint, all tenants, backlog and idle: {by_endpoint:?}");
    let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&pool)
        .await;
    let late: Vec<&str> = tenants
        .iter()
        .zip(&done_at)
        .filter(|(_, d)| d.is_none())
        .map(|(t, _)| t.name.as_str())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    if !late.is_empty() {
        println!("\nnot synced within the deadline: {}", late.join(", "));
    }
    Ok(())
}
