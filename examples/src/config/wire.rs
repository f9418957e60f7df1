//! Wiring: clients, source, target, store and the assembled pipelines of one tenant, built from a
//! validated [`Config`].

use super::*;

impl Config {
    /// The `.ionapi` file, from its path or the vault; its tenant must be the config's.
    pub(super) fn ion_file(&self) -> Result<IonApiFile, ConfigError> {
        let file = match &self.ion.credentials {
            IonCredentials::IonApiFile(path) => {
                IonApiFile::from_path(path).map_err(|e| invalid("ion.ionapi", chain(&e)))?
            }
            IonCredentials::Vault { path, key } => {
                let key = match key {
                    VaultKeySource::Env(var) => {
                        if std::env::var_os(var).is_none() {
                            return Err(ConfigError::EnvNotSet {
                                var: var.clone(),
                                key: "ion.vault_key_env",
                            });
                        }
                        VaultKey::from_env(var)
                            .map_err(|e| invalid("ion.vault_key_env", e.to_string()))?
                    }
                    VaultKeySource::File(file) => VaultKey::from_file(file)
                        .map_err(|e| invalid("ion.vault_key_file", e.to_string()))?,
                };
                let vault = Vault::open(path, key).map_err(|e| invalid("ion.vault", chain(&e)))?;
                vault
                    .load(&self.tenant)
                    .map_err(|e| invalid("ion.vault", e.to_string()))?
            }
        };
        if file.tenant() != self.tenant {
            return Err(invalid(
                "tenant",
                format!(
                    "the config says `{}` but the ION credentials are for tenant `{}`",
                    self.tenant,
                    file.tenant()
                ),
            ));
        }
        Ok(file)
    }

    /// The ION client.
    pub fn ion_client(&self, clock: &SharedClock) -> Result<IonClient, ConfigError> {
        IonClient::builder(self.ion_file()?)
            .clock(clock.clone())
            .build()
            .map_err(|e| ConfigError::Client(format!("cannot build the ION client: {}", chain(&e))))
    }

    /// The CloudSuite source.
    pub fn source(&self, client: &IonClient) -> Result<CloudSuiteSource, ConfigError> {
        let client = client.clone();
        let mut source = match &self.ion.product {
            Product::Csi {
                mongoose_config,
                site,
            } => {
                let shape = &self.ion.shape;
                let csi = client
                    .csi(mongoose_config.clone())
                    .with_record_date_zone(self.ion.record_date_zone);
                let source = CloudSuiteSource::csi(csi, site.clone())
                    .distributions(shape.distributions.clone());
                shape.idos.iter().fold(source, |source, (noun, map)| {
                    source.property_map(noun.clone(), map.clone())
                })
            }
            Product::M3 { company, division } => {
                let entity = match division {
                    Some(division) => format!("{company}_{division}"),
                    None => company.clone(),
                };
                // Every MI call runs in the configured company (and division): without `cono`
                // M3 answers from the service account's default company.
                let mut m3 = client.m3().company(company.clone());
                if let Some(division) = division {
                    m3 = m3.division(division.clone());
                }
                let m3 = self.ion.shape.mi.apply(m3)?;
                CloudSuiteSource::m3(m3, self.tenant.clone(), entity)
                    .supplier_status(self.ion.shape.supplier_status.clone())
            }
            Product::DataLake { accounting_entity } => CloudSuiteSource::data_lake(
                client.data_lake(),
                self.tenant.clone(),
                accounting_entity.clone(),
            ),
        };
        if !matches!(self.ion.product, Product::DataLake { .. }) {
            for stream in &self.ion.lake_streams {
                if let Some(kind) = RecordKind::of_stream(stream.name()) {
                    source = source.route(kind, client.data_lake());
                }
            }
        }
        source = source.m3_queries(self.ion.mi_queries.clone());
        if let Some(currency) = &self.ion.default_currency {
            source = source.default_currency(currency.clone());
        }
        if let Some(size) = self.ion.page_size {
            source = source.page_size(size);
        }
        Ok(source)
    }

    /// The return direction's parts (`None` without a `[returns]` section); in a dry run the
    /// writer only logs.
    fn return_parts(
        &self,
        ion: &IonClient,
        cin7: &Cin7Client,
        dry_run: Option<&Arc<DryRunLog>>,
    ) -> Option<ReturnParts> {
        let settings = self.returns.as_ref()?;
        // Validation pairs each writer with the product whose records it reads back.
        let (writer, entity): (Arc<dyn SourcePurchaseWriter>, &str) =
            match (&settings.write, &self.ion.product) {
                (
                    ReturnWrite::Ido | ReturnWrite::Bods { .. },
                    Product::Csi {
                        mongoose_config,
                        site,
                    },
                ) => {
                    let mode = match &settings.write {
                        ReturnWrite::Bods { logical_id } => PoWriteMode::Bods {
                            ims: ion.ims(logical_id.clone()),
                            logical_id: logical_id.clone(),
                        },
                        _ => PoWriteMode::Ido,
                    };
                    let mut writer =
                        CloudSuitePoWriter::new(ion.csi(mongoose_config.clone()), mode)
                            .with_accounting_entity(site.clone())
                            .with_voucher_numbering(settings.voucher_numbering.clone());
                    if let Some(property) = &settings.external_ref_property {
                        writer = writer.with_external_ref_property(property.clone());
                    }
                    for (ido, values) in &settings.insert_defaults {
                        for (property, value) in values {
                            writer = match value.as_str() {
                                "" => writer.without_insert_default(ido, property),
                                _ => {
                                    writer.with_insert_default(ido, property.clone(), value.clone())
                                }
                            };
                        }
                    }
                    (Arc::new(writer), site)
                }
                (
                    ReturnWrite::M3 {
                        company,
                        division,
                        facility,
                        warehouse,
                        responsible,
                    },
                    Product::DataLake { accounting_entity },
                ) => {
                    let mut m3 = ion.m3().company(company.clone());
                    if let Some(division) = division {
                        m3 = m3.division(division.clone());
                    }
                    let mut writer_config = M3WriterConfig::new(
                        facility.clone(),
                        warehouse.clone(),
                        responsible.clone(),
                    );
                    if let Some(field) = &settings.external_ref_property {
                        writer_config.external_ref_field = field.clone();
                    }
                    (
                        Arc::new(M3PoWriter::new(m3, writer_config)),
                        accounting_entity,
                    )
                }
                _ => return None,
            };
        let writer: Arc<dyn SourcePurchaseWriter> = match dry_run {
            Some(log) => Arc::new(DryRunWriter::new(writer, log.clone())),
            None => writer,
        };
        let mut config = ReturnConfig::new(SourceIdentity::new(
            infor_ion_client::cloudsuite::SYSTEM,
            self.tenant.clone(),
            entity,
            "",
        ));
        if let Some(prefix) = &settings.po_number_prefix {
            config.po_number_prefix = prefix.clone();
        }
        config.create_from = settings.create_from;
        config.policy = settings.policy;
        config.items = settings.items.clone();
        config.locations = settings.locations.clone();
        if let Some(currency) = &self.ion.default_currency {
            config.default_currency = currency.clone();
        }
        Some(ReturnParts {
            writer,
            cin7: Cin7PurchaseSource::new(cin7.clone(), settings.cin7_account_name.clone()),
            config,
            invoices: settings.invoices,
        })
    }

    /// The Cin7 client this configuration describes (key from its environment variable).
    pub fn cin7_client(&self, clock: &SharedClock) -> Result<Cin7Client, ConfigError> {
        let limit = RateLimit::new(self.cin7.calls_per_minute, Duration::from_secs(60))
            .map_err(|e| invalid("cin7.calls_per_minute", e.to_string()))?;
        let mut builder = Cin7Client::builder()
            .account_id(self.cin7_account()?)
            .application_key(self.cin7_key()?)
            .rate_limit(limit)
            // Every client the runner builds for this account (the sync's, the fit check's, the
            // webhook commands') draws from one budget in the process.
            .limiter_scope(cin7_core_client::LimiterScope::Account)
            .clock(clock.clone());
        if let Some(url) = &self.cin7.base_url {
            builder = builder.base_url(url.clone());
        }
        builder.build().map_err(|e| {
            ConfigError::Client(format!("cannot build the Cin7 client: {}", chain(&e)))
        })
    }

    /// Open the store named by the config.
    pub async fn open_store(&self, clock: &SharedClock) -> Result<Arc<dyn SyncStore>, ConfigError> {
        Ok(match self.open_store_as(clock).await? {
            OpenedStore::Sqlite(store) => Arc::new(store),
            OpenedStore::Postgres(store) => Arc::new(store),
        })
    }

    /// Open the store named by the config, as its backend.
    pub async fn open_store_as(&self, clock: &SharedClock) -> Result<OpenedStore, ConfigError> {
        Ok(match &self.store {
            StoreSettings::Sqlite(path) => {
                OpenedStore::Sqlite(SqliteStore::open(path, clock.clone()).await?)
            }
            StoreSettings::Postgres { url, schema } => {
                let url = match url {
                    PgUrl::Inline(url) => SecretString::from(url.clone()),
                    PgUrl::Env(var) => env_var(var, "store")?,
                };
                let config = PgConfig {
                    url,
                    ..PgConfig::new(String::new()).schema(schema.clone())
                };
                OpenedStore::Postgres(PgStore::connect(config, clock.clone()).await?)
            }
        })
    }
}

/// A store opened by [`Config::open_store_as`].
#[derive(Debug)]
pub enum OpenedStore {
    /// The embedded store: one process.
    Sqlite(SqliteStore),
    /// The scale-out store: many processes coordinate through its leases.
    Postgres(PgStore),
}

/// One tenant's pipelines built from a [`Config`] (see [`Assembled`]), plus what a dry run
/// did not write.
pub struct Wired {
    /// The pipelines, runner and store (a throwaway in-memory store in a dry run, so the real
    /// store's cursors, cross-references and audit trail are never touched by one).
    pub assembled: Assembled,
    /// In a dry run, the writes that were not made.
    pub dry_run: Option<Arc<DryRunLog>>,
    /// The CloudSuite source the streams read (clones share its checked schemas).
    pub source: CloudSuiteSource,
    /// The Cin7 client the streams write with (the pre-write checks read reference data).
    pub cin7: Cin7Client,
}

impl std::ops::Deref for Wired {
    type Target = Assembled;
    fn deref(&self) -> &Assembled {
        &self.assembled
    }
}

impl fmt::Debug for Wired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wired")
            .field("assembled", &self.assembled)
            .field("dry_run", &self.dry_run.is_some())
            .finish()
    }
}

impl Wired {
    /// What `what` would replay; see [`Assembled::preview`].
    pub async fn preview(&self, what: &ReplayTarget) -> Result<Vec<AuditEntry>, ConfigError> {
        Ok(self.assembled.preview(what).await?)
    }

    /// Replay what `what` names; see [`Assembled::replay`].
    pub async fn replay(
        &self,
        what: &ReplayTarget,
        mode: ReplayMode,
    ) -> Result<Vec<ReplayResult>, ConfigError> {
        Ok(self.assembled.replay(what, mode).await?)
    }
}

/// Build the clients, open the store and wire the pipelines for `config`.
pub async fn wire(
    config: &Config,
    clock: SharedClock,
    progress: Option<ProgressFn>,
) -> Result<Wired, ConfigError> {
    config.check_environment()?;
    // A dry run writes nothing anywhere: a throwaway store (and a logging target).
    let store: Arc<dyn SyncStore> = match config.dry_run {
        true => Arc::new(MemoryStore::new()),
        false => config.open_store(&clock).await?,
    };
    wire_with_store(config, store, clock, progress).await
}

/// [`wire`] onto a store opened by the caller (a fleet's, shared by its tenants).
pub async fn wire_with_store(
    config: &Config,
    store: Arc<dyn SyncStore>,
    clock: SharedClock,
    progress: Option<ProgressFn>,
) -> Result<Wired, ConfigError> {
    config.check_environment()?;
    let ion = config.ion_client(&clock)?;
    let cin7 = config.cin7_client(&clock)?;
    let target = Arc::new(Cin7Target::new(cin7.clone()));
    let dry = config.dry_run.then(|| DryRunTarget::new(target.clone()));
    let log = dry.as_ref().map(DryRunTarget::log);
    let returns = config.return_parts(&ion, &cin7, log.as_ref());
    // Streams read as BODs keep the newest variation of each document in the store, so a
    // stale one published late never overwrites newer data, and queue deletions there.
    let source = config.source(&ion)?.store(store.clone());
    let mut assembled = match dry {
        Some(dry) => {
            assemble(config.parts(Arc::new(dry), &source, returns, store, clock, progress))
        }
        None => assemble(config.parts(target, &source, returns, store, clock, progress)),
    }?;
    if config.ion_push.is_some() {
        // Records ION pushes are queued per stream; the intake wakes the runner to sync them.
        let wake = assembled.wake();
        assembled.runner = assembled.runner.with_pushes().with_wake(wake);
    } else if source.reads_bods() {
        // Documents a Data Lake window reads as deleted are queued per stream the same way.
        assembled.runner = assembled.runner.with_pushes();
    }
    Ok(Wired {
        assembled,
        dry_run: log,
        source,
        cin7,
    })
}

impl Config {
    /// The [`Parts`] of this configuration with the given target and store.
    fn parts<T>(
        &self,
        target: Arc<T>,
        source: &CloudSuiteSource,
        returns: Option<ReturnParts>,
        store: Arc<dyn SyncStore>,
        clock: SharedClock,
        progress: Option<ProgressFn>,
    ) -> Parts<T> {
        Parts {
            tenant: self.tenant.clone(),
            source: source.clone(),
            target,
            store,
            clock,
            mappings: self.mappings.clone(),
            engine: self.engine.clone(),
            streams: self.streams.clone(),
            returns,
            progress,
        }
    }
}
