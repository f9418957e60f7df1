//! `sync --tenants DIR`: two tenants (each its own simulated CloudSuite and Cin7 account) from
//! one directory, sharing `defaults.toml` and one SQLite store, served by one pool of workers;
//! a broken tenant file is reported and skipped while the others run; the directory is read
//! again without a restart.

use std::path::Path;

use cin7_core_client::simulator::DEFAULT_APPLICATION_KEY;
use examples::fleet::TenantFleet;
use infor_ion_client::simulator::SimulatorConfig as IonConfig;
use sync_core::time::SystemClock;

use crate::common::*;

/// `sims`' runner config as a tenant file named after its tenant (its paths made absolute,
/// its store left to the defaults).
fn tenant_file(sims: &Sims, seq: u64, dir: &Path) -> std::path::PathBuf {
    let tenant = sims.ion.tenant();
    let config = sims.config(seq, "", "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("store = \"sync.sqlite\"\n", "")
        .replace(
            "ionapi = \"sim.ionapi\"",
            &format!("ionapi = {:?}", sims.dir.path().join("sim.ionapi")),
        )
        .replacen(
            &format!("tenant = \"{}\"", sims.ion.tenant()),
            &format!("tenant = \"{tenant}\""),
            1,
        );
    let path = dir.join(format!("{}.toml", tenant.to_lowercase()));
    std::fs::write(&path, text).unwrap();
    path
}

/// A tenant file wired without calling anything: the key variable is one every process has
/// (wiring checks it is set; nothing is sent).
fn offline(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text.replace(&format!("\"{KEY_ENV}\""), "\"PATH\"")).unwrap();
}

/// Simulators of a CloudSuite tenant named `name` and its own Cin7 account.
async fn tenant(name: &str, seq: u64, suppliers: usize) -> Sims {
    let name = name.to_owned();
    start_shaped(seq, suppliers, move |config| IonConfig {
        tenant: name,
        ..config
    })
    .await
}

async fn fleet_once(dir: &Path) -> std::process::Output {
    let dir = dir.to_str().unwrap();
    sync_binary(&["--tenants", dir, "--once", "--workers", "2"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_directory_two_tenants_one_store() {
    let (acme, beta) = (tenant("ACME", 98, 6).await, tenant("BETA", 99, 4).await);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("defaults.toml"),
        "store = \"fleet.sqlite\"\n",
    )
    .unwrap();
    tenant_file(&acme, 98, dir.path());
    tenant_file(&beta, 99, dir.path());
    std::fs::write(
        dir.path().join("broken.toml"),
        "tenant = \"BROKEN\"\n[ion\n",
    )
    .unwrap();
    // A third tenant whose CloudSuite does not fit the sync (its vendors IDO is renamed).
    let drifted = start_shaped(104, 3, |config| IonConfig {
        tenant: "DRIFT".into(),
        schema: infor_ion_client::simulator::SchemaProfile::default()
            .serve_as("SLVendors", "ACME_Vendors"),
        ..config
    })
    .await;
    tenant_file(&drifted, 104, dir.path());

    let first = fleet_once(dir.path()).await;
    let printed = text(&first);
    assert_eq!(
        first.status.code(),
        Some(1),
        "a broken tenant file fails the run: {printed}"
    );
    assert!(
        printed.contains("skipped") && printed.contains("broken.toml"),
        "{printed}"
    );
    assert!(
        printed.contains("DRIFT does not fit the configured sync; nothing is written"),
        "{printed}"
    );
    assert_eq!(drifted.cin7_writes(), 0, "{printed}");
    assert!(printed.contains("fleet of 2 tenant(s)"), "{printed}");
    assert_eq!(acme.suppliers_by_vendor().len(), 6, "{printed}");
    assert_eq!(beta.suppliers_by_vendor().len(), 4, "{printed}");
    for tenant in ["ACME", "BETA"] {
        assert!(
            printed.contains(&format!("{tenant:<20} suppliers")),
            "{printed}"
        );
    }
    assert!(
        dir.path().join("fleet.sqlite").exists(),
        "one store for both"
    );

    // Fixed; the next pass writes nothing new.
    std::fs::remove_file(dir.path().join("broken.toml")).unwrap();
    std::fs::remove_file(dir.path().join("drift.toml")).unwrap();
    let writes = (acme.cin7_writes(), beta.cin7_writes());
    let second = fleet_once(dir.path()).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(
        (acme.cin7_writes(), beta.cin7_writes()),
        writes,
        "{}",
        text(&second)
    );
}

/// A tenant added to, changed in or removed from the directory is picked up by the next read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_is_read_again_without_a_restart() {
    let (acme, beta) = (tenant("ACME", 100, 2).await, tenant("BETA", 101, 2).await);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("defaults.toml"),
        "store = \"fleet.sqlite\"\n",
    )
    .unwrap();
    offline(&tenant_file(&acme, 100, dir.path()));
    let (mut fleet, loaded) = TenantFleet::open(dir.path(), "w1", SystemClock::shared())
        .await
        .unwrap();
    assert_eq!(loaded.put, ["ACME"]);
    assert_eq!(fleet.fleet().tenant_names(), ["ACME"]);

    offline(&tenant_file(&beta, 101, dir.path()));
    let reload = fleet.reload().await.unwrap();
    assert_eq!(
        (reload.put, reload.removed),
        (vec!["BETA".to_owned()], vec![])
    );

    let unchanged = fleet.reload().await.unwrap();
    assert!(
        unchanged.put.is_empty() && unchanged.removed.is_empty(),
        "{unchanged:?}"
    );

    std::fs::remove_file(dir.path().join("acme.toml")).unwrap();
    let reload = fleet.reload().await.unwrap();
    assert_eq!(reload.removed, ["ACME"]);
    assert_eq!(fleet.fleet().tenant_names(), ["BETA"]);
}

/// Served until SIGTERM: the workers finish, give their jobs back and the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_stops_cleanly_on_sigterm() {
    let acme = tenant("ACME", 103, 3).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("defaults.toml"),
        "store = \"fleet.sqlite\"\n",
    )
    .unwrap();
    tenant_file(&acme, 103, dir.path());
    // One stream: the test waits for it, not for the others to take their turns.
    let file = dir.path().join("acme.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("streams = [\"suppliers\"]\n{text}")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sync"))
        .args(["--tenants", dir.path().to_str().unwrap(), "--workers", "2"])
        .env(KEY_ENV, DEFAULT_APPLICATION_KEY)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Once ACME's suppliers are in Cin7 the fleet idles; then it is asked to stop.
    let synced = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while acme.suppliers_by_vendor().len() < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(synced.is_ok(), "the fleet synced ACME");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut printed = String::new();
        use std::io::Read;
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut printed)
            .unwrap();
        (status, printed)
    })
    .await
    .unwrap();
    assert!(output.0.success(), "{output:?}");
    assert!(output.1.contains("fleet stopped."), "{output:?}");
}
