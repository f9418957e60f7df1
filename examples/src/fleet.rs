//! `sync --tenants DIR`: many tenants from a directory of TOML files, served by one pool of
//! workers (see `sync_core::fleet` and docs/operations.md, "Running a fleet").
//!
//! Every `*.toml` file in the directory is one tenant, except `defaults.toml`, whose keys every
//! tenant file starts from (a tenant's own value wins; tables merge key by key). Relative paths
//! are taken from the directory. The directory is read again every `reload_every`: a new file
//! adds a tenant, a changed one rewires it (jobs running finish on the old wiring), a removed
//! one takes it out. A file that does not parse or wire, or a tenant that does not fit (the
//! single-tenant runner's pre-write checks), is reported and skipped; the others run.
//!
//! All tenants share one store, named by their `store` key (put it in `defaults.toml`): with
//! SQLite the fleet runs in this process; with PostgreSQL any number of processes serve the
//! same directory, coordinating through the store's leases (each process needs its own
//! worker name).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sync_core::fleet::{Fleet, FleetTenant, JobBoard, LocalBoard};
use sync_core::model::hash_value;
use sync_core::runner::ShutdownSignal;
use sync_core::store::SyncStore;
use sync_core::time::SharedClock;

use crate::config::{Config, ConfigError, OpenedStore, wire_with_store};

/// The file every tenant file of a directory starts from.
pub const DEFAULTS_FILE: &str = "defaults.toml";

/// One tenant file as read: its name, a hash of what it says (with the defaults), and the
/// configuration or why it is not usable.
#[derive(Debug)]
pub struct TenantFile {
    /// The file.
    pub path: PathBuf,
    /// Changes when the file or the defaults change.
    pub fingerprint: String,
    /// The tenant's configuration.
    pub config: Result<Config, ConfigError>,
}

/// Read every tenant file of `dir` (sorted by name), each merged onto `defaults.toml`.
pub fn read_dir(dir: &Path) -> Result<Vec<TenantFile>, ConfigError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let parse = |path: &Path, text: &str| {
        text.parse::<toml::Table>().map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    };
    let defaults_path = dir.join(DEFAULTS_FILE);
    let defaults = match defaults_path.exists() {
        true => parse(&defaults_path, &read(&defaults_path)?)?,
        false => toml::Table::new(),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| ConfigError::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "toml")
                && p.file_name().is_some_and(|n| n != DEFAULTS_FILE)
        })
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|path| {
            let merged = read(&path).and_then(|text| {
                let mut table = defaults.clone();
                merge(&mut table, parse(&path, &text)?);
                Ok(toml::to_string(&table).unwrap_or_default())
            });
            let fingerprint = match &merged {
                Ok(text) => hash_value(&json!(text), &[]).0,
                Err(error) => hash_value(&json!(error.to_string()), &[]).0,
            };
            let config = merged.and_then(|text| {
                Config::parse(&text, dir).map_err(|e| match e {
                    ConfigError::Parse { message, .. } => ConfigError::Parse {
                        path: path.clone(),
                        message,
                    },
                    other => other,
                })
            });
            TenantFile {
                path,
                fingerprint,
                config,
            }
        })
        .collect())
}

/// `over` laid onto `base`: tables merge key by key, any other value replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base)), toml::Value::Table(over)) => merge(base, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The jobs' affinity of a tenant: its Cin7 account (hashed: the account id is not kept in
/// the jobs table).
fn affinity(config: &Config) -> Result<String, ConfigError> {
    use secrecy::ExposeSecret;
    let account = config.cin7_account()?;
    let base = config
        .cin7
        .base_url
        .clone()
        .unwrap_or_else(|| cin7_core_client::DEFAULT_BASE_URL.to_owned());
    Ok(format!(
        "cin7:{}",
        hash_value(&json!([base, account.expose_secret()]), &[]).0
    ))
}

/// A fleet serving a tenant directory.
pub struct TenantFleet {
    dir: PathBuf,
    fleet: Fleet,
    store: Arc<dyn SyncStore>,
    clock: SharedClock,
    loaded: BTreeMap<PathBuf, (String, String)>,
    /// Files refused, by fingerprint: not tried again until they change.
    refused: BTreeMap<PathBuf, String>,
}

/// What one reload did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reload {
    /// Tenants added or rewired.
    pub put: Vec<String>,
    /// Tenants taken out.
    pub removed: Vec<String>,
    /// Files that could not be used, with why.
    pub refused: Vec<(PathBuf, String)>,
}

impl TenantFleet {
    /// Open the store the directory's tenants name and read them. `worker` names this process
    /// in the PostgreSQL store's leases (unique per process).
    pub async fn open(
        dir: &Path,
        worker: &str,
        clock: SharedClock,
    ) -> Result<(TenantFleet, Reload), ConfigError> {
        let files = read_dir(dir)?;
        let store_of = |file: &TenantFile| file.config.as_ref().ok().map(|c| c.store.clone());
        let first = files.iter().find_map(|f| store_of(f).map(|s| (f, s)));
        let Some((first, settings)) = first else {
            return Err(ConfigError::Invalid {
                key: "tenants",
                message: format!("{} holds no usable tenant file", dir.display()),
            });
        };
        if let Some(other) = files
            .iter()
            .find(|f| store_of(f).is_some_and(|s| s != settings))
        {
            return Err(ConfigError::Invalid {
                key: "store",
                message: format!(
                    "{} and {} name different stores; a fleet's tenants share one (put `store` in {DEFAULTS_FILE})",
                    first.path.display(),
                    other.path.display()
                ),
            });
        }
        let config = first.config.as_ref().map_err(|e| ConfigError::Invalid {
            key: "store",
            message: e.to_string(),
        })?;
        let (store, board): (Arc<dyn SyncStore>, Arc<dyn JobBoard>) =
            match config.open_store_as(&clock).await? {
                OpenedStore::Sqlite(store) => {
                    (Arc::new(store), Arc::new(LocalBoard::new(clock.clone())))
                }
                OpenedStore::Postgres(store) => {
                    let worker = store.worker(worker);
                    (Arc::new(worker.clone()), Arc::new(worker))
                }
            };
        let mut fleet = TenantFleet {
            dir: dir.to_path_buf(),
            fleet: Fleet::new(board, clock.clone()),
            store,
            clock,
            loaded: BTreeMap::new(),
            refused: BTreeMap::new(),
        };
        let reload = fleet.reload().await?;
        Ok((fleet, reload))
    }

    /// The fleet.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The store the tenants share.
    pub fn store(&self) -> Arc<dyn SyncStore> {
        self.store.clone()
    }

    /// Read the directory again: add new tenants, rewire changed ones, take removed ones out.
    pub async fn reload(&mut self) -> Result<Reload, ConfigError> {
        let files = read_dir(&self.dir)?;
        let mut reload = Reload::default();
        let mut seen = Vec::new();
        for file in files {
            seen.push(file.path.clone());
            let unchanged = |print: &String| *print == file.fingerprint;
            if self
                .loaded
                .get(&file.path)
                .is_some_and(|(print, _)| unchanged(print))
                || self.refused.get(&file.path).is_some_and(unchanged)
            {
                continue;
            }
            match self.wire(&file).await {
                Ok(tenant) => {
                    self.refused.remove(&file.path);
                    reload.put.push(tenant.clone());
                    let before = self.loaded.insert(
                        file.path.clone(),
                        (file.fingerprint.clone(), tenant.clone()),
                    );
                    // The file now names another tenant: the one it named is taken out.
                    if let Some((_, renamed)) = before.filter(|(_, name)| *name != tenant) {
                        self.fleet
                            .remove_tenant(&renamed)
                            .await
                            .map_err(ConfigError::Store)?;
                        reload.removed.push(renamed);
                    }
                }
                Err(error) => {
                    let why = sdk_common::report::chain(&error);
                    tracing::error!(file = %file.path.display(), %why, "a tenant file cannot be used; the tenant keeps its last good wiring, if any");
                    self.refused
                        .insert(file.path.clone(), file.fingerprint.clone());
                    reload.refused.push((file.path.clone(), why));
                }
            }
        }
        let gone: Vec<PathBuf> = self
            .loaded
            .keys()
            .filter(|p| !seen.contains(p))
            .cloned()
            .collect();
        self.refused.retain(|p, _| seen.contains(p));
        for path in gone {
            if let Some((_, tenant)) = self.loaded.remove(&path) {
                self.fleet
                    .remove_tenant(&tenant)
                    .await
                    .map_err(ConfigError::Store)?;
                reload.removed.push(tenant);
            }
        }
        Ok(reload)
    }

    async fn wire(&self, file: &TenantFile) -> Result<String, ConfigError> {
        let config = match &file.config {
            Ok(config) => config,
            Err(error) => {
                return Err(ConfigError::Invalid {
                    key: "tenant file",
                    message: sdk_common::report::chain(error),
                });
            }
        };
        if config.dry_run {
            // A dry run needs a throwaway store of its own; the fleet's is shared and real.
            return Err(ConfigError::Invalid {
                key: "dry_run",
                message: "a fleet does not dry-run a tenant; try it with `sync --config <file> --dry-run`".into(),
            });
        }
        let wired = wire_with_store(config, self.store.clone(), self.clock.clone(), None).await?;
        // As the single-tenant runner: a tenant that does not fit is never written to (it is
        // refused until its file changes). Only the CloudSuite rows, which can fail: the Cin7
        // reference-data row only warns, and every process reading it for every tenant at
        // start would spend the accounts' budgets outside their affinity.
        let streams: Vec<sync_core::store::StreamId> =
            config.streams.iter().map(|s| s.id()).collect();
        let misfits: Vec<String> = crate::fit::schema_checks(&wired.source, &streams)
            .await
            .into_iter()
            .filter(|check| !check.passed())
            .map(|check| check.to_string())
            .collect();
        if !misfits.is_empty() {
            return Err(ConfigError::Invalid {
                key: "tenant",
                message: format!(
                    "{} does not fit the configured sync; nothing is written to it:\n{}",
                    config.tenant,
                    misfits.join("\n")
                ),
            });
        }
        let runner = wired.assembled.runner;
        self.fleet
            .put_tenant(FleetTenant {
                runner: Arc::new(runner),
                cadence: config.schedule.clone(),
                affinity: affinity(config)?,
            })
            .await
            .map_err(ConfigError::Store)?;
        Ok(config.tenant.clone())
    }

    /// Serve until `shutdown` with `workers` workers, reading the directory again every
    /// `reload_every`.
    pub async fn run(mut self, workers: usize, reload_every: Duration, shutdown: ShutdownSignal) {
        let fleet = self.fleet.clone();
        let serving = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { fleet.run(workers, shutdown).await }
        });
        while !shutdown.is_triggered() {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = self.clock.sleep(reload_every) => {}
            }
            match self.reload().await {
                Ok(reload) if reload != Reload::default() => {
                    tracing::info!(?reload.put, ?reload.removed, refused = reload.refused.len(), "tenants reloaded")
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "cannot read the tenant directory"),
            }
        }
        if let Err(error) = serving.await {
            tracing::error!(%error, "the fleet stopped abnormally");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_file_is_laid_over_the_defaults() {
        let mut base: toml::Table =
            "store = \"fleet.sqlite\"\n[cin7]\ncalls_per_minute = 60\nbase_url = \"https://x\"\n"
                .parse()
                .unwrap_or_default();
        let over: toml::Table = "tenant = \"ACME\"\n[cin7]\ncalls_per_minute = 30\n"
            .parse()
            .unwrap_or_default();
        merge(&mut base, over);
        assert_eq!(base["store"].as_str(), Some("fleet.sqlite"));
        assert_eq!(base["tenant"].as_str(), Some("ACME"));
        assert_eq!(base["cin7"]["calls_per_minute"].as_integer(), Some(30));
        assert_eq!(base["cin7"]["base_url"].as_str(), Some("https://x"));
    }
}
