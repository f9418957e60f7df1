//! The fit check: does the configured sync fit the tenant in front of it? Read-only.
//!
//! `ping --config` runs every check; `sync` runs the tenant checks at start (cached for the
//! process: the schema cache is shared with the streams) and refuses to write when one fails,
//! with the same messages. Each check is one [`Check`] row: ✓ works, ! works with a difference
//! the operator should know, ✗ would make the sync fail.

use chrono::{DateTime, Duration, Utc};
use cin7_core_client::Cin7Client;
use cin7_core_client::fit::{ReferenceNames, ReferenceState};
use futures::TryStreamExt;
use infor_ion_client::cloudsuite::{
    BookmarkProbe, CloudSuiteSource, LmtsProbe, NounCheck, RecordDateProbe, RecordKind,
};
use infor_ion_client::transport::Published;
use infor_ion_client::vault::DEFAULT_KEY_ENV;
use std::collections::BTreeSet;
use sync_core::error::MappingKind;
use sync_core::mapping::Mappings;
use sync_core::model::SupplierInvoice;
use sync_core::source::{Source, Window};
use sync_core::store::StreamId;
use sync_core::time::SystemClock;

use crate::config::{Config, IonCredentials, Product, Stream, VaultKeySource, Wired};
use crate::ping::{self, Check, Cin7Ping, IonPing, IonSource, Mark};

/// The checks `sync` runs before it writes anything: every IDO or MI list the configured
/// streams read (two calls per IDO, cached for the streams; one per MI list) and the Cin7 reference
/// names the mappings produce (one list call per kind). Cin7 not answering is a warning here:
/// the streams report it themselves.
pub async fn start_checks(wired: &Wired, config: &Config) -> Vec<Check> {
    let streams: Vec<StreamId> = config.streams.iter().map(|s| s.id()).collect();
    let mut checks = schema_checks(&wired.source, &streams).await;
    checks.push(reference_row(&wired.cin7, &config.reference_names, Mark::Warn).await);
    checks
}

/// One row per IDO (CloudSuite Industrial) or MI list (M3) the streams read: ✓ when it fits, !
/// when optional properties are missing (records flow without them), ✗ when it cannot be read
/// or lacks a required property. Empty for the Data Lake.
pub async fn schema_checks(source: &CloudSuiteSource, streams: &[StreamId]) -> Vec<Check> {
    source
        .check_fit(streams)
        .await
        .checks
        .iter()
        .map(noun_row)
        .collect()
}

fn noun_row(check: &NounCheck) -> Check {
    let name = if check.ido == check.noun {
        format!("{} {}", check.read_from, check.ido)
    } else {
        format!("{} {} ({})", check.read_from, check.ido, check.noun)
    };
    if let Some(problem) = check.problem() {
        if check.config_key.starts_with("ion.routes.") {
            return Check::failed(
                &name,
                format!("{}: {problem}", check.stream.0),
                format!(
                    "this tenant does not serve the stream over MI: set {} = \"datalake\" to \
                     read the published BODs instead, or fix the query (ion.mi_queries) or the \
                     service account's access to the program",
                    check.config_key
                ),
            );
        }
        return Check::failed(
            &name,
            format!("{}: {problem}", check.stream.0),
            "map the tenant's name in the config (see docs/connecting-a-tenant.md), or give \
             the service account read access to the IDO",
        );
    }
    let warnings = check.warnings();
    match &check.outcome {
        Ok(fit) if !warnings.is_empty() => Check::warning(
            &name,
            format!(
                "{}: lacks optional {}; records flow without them",
                check.stream.0,
                fit.missing_optional()
                    .map(|m| format!("`{}`", m.site))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "if the tenant keeps them under other names, map them: {}",
                fit.missing_optional()
                    .map(|m| m.config_key.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        _ => Check::ok(
            &name,
            format!("{}: every property read exists", check.stream.0),
        ),
    }
}

/// The CloudSuite GL accounts that supplier invoices changed since `since` allocate to, with
/// no Cin7 account mapped: each of those invoices would fail. With `by_code` (the GL-accounts
/// stream runs and maps an account to the Cin7 account of the same code when Cin7 has one) an
/// unmapped account is a warning, not a failure.
pub async fn unmapped_gl_accounts(
    source: &CloudSuiteSource,
    mappings: &Mappings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    by_code: bool,
) -> Check {
    let name = "GL account mapping";
    let window = Window {
        from: Some(since),
        ceiling: DateTime::<Utc>::MAX_UTC,
    };
    let invoices: Result<Vec<SupplierInvoice>, _> = Source::<SupplierInvoice>::poll(source, window)
        .try_collect()
        .await;
    let invoices = match invoices {
        Ok(invoices) => invoices,
        Err(error) => {
            return Check::failed(
                name,
                format!("cannot read recent supplier invoices: {}", error.message),
                "fix the invoice stream's IDO rows above first",
            );
        }
    };
    let used: BTreeSet<&str> = invoices
        .iter()
        .flat_map(|i| i.lines.iter().map(|l| l.gl_account.as_str()))
        .collect();
    let unmapped: Vec<&str> = used
        .iter()
        .copied()
        .filter(|code| {
            mappings
                .map(MappingKind::GlAccount, code, "fit check")
                .is_err()
        })
        .collect();
    let days = (now - since).num_days();
    if unmapped.is_empty() {
        Check::ok(
            name,
            format!(
                "{} invoice(s) of the last {days} days allocate to {} account(s), all mapped",
                invoices.len(),
                used.len()
            ),
        )
    } else {
        let detail = format!(
            "invoices of the last {days} days allocate to CloudSuite account(s) with no Cin7 \
             account mapped: {}",
            unmapped.join(", ")
        );
        let fix = "add them to [mappings.tables.gl_account] values (CloudSuite code = Cin7 code)";
        if by_code {
            Check::warning(
                name,
                format!("{detail}; the gl_accounts stream maps them by code if Cin7 has them"),
                fix,
            )
        } else {
            Check::failed(name, detail, fix)
        }
    }
}

/// How far back `ping` looks for the GL accounts invoices use.
pub const RECENT_INVOICES: Duration = Duration::days(90);

/// Every check of `ping --config`: the credentials and token, then — read-only — every IDO
/// the configured streams read, bookmark paging, RecordDate's zone, the GL accounts recent
/// invoices use, and Cin7.
pub async fn ping_config(config: &Config, timeout: std::time::Duration) -> Vec<Check> {
    let mut checks = Vec::new();
    let source = match &config.ion.credentials {
        IonCredentials::IonApiFile(path) => IonSource::File(path.clone()),
        IonCredentials::Vault { path, key } => IonSource::Vault {
            path: path.clone(),
            tenant: config.tenant.clone(),
            key_file: match key {
                VaultKeySource::File(file) => Some(file.clone()),
                VaultKeySource::Env(_) => None,
            },
            key_env: match key {
                VaultKeySource::Env(var) => var.clone(),
                VaultKeySource::File(_) => DEFAULT_KEY_ENV.to_owned(),
            },
        },
    };
    let product = match &config.ion.product {
        Product::Csi {
            mongoose_config, ..
        } => Some(ping::Product::Csi(mongoose_config.clone())),
        Product::M3 { company, division } => Some(ping::Product::M3 {
            company: company.clone(),
            division: division.clone(),
        }),
        Product::DataLake { .. } => None,
    };
    let ion = IonPing {
        source,
        product,
        max_skew: std::time::Duration::from_secs(60),
        timeout,
    };
    checks.extend(ping::ping_ion(&ion).await);
    if checks.iter().all(Check::passed) {
        checks.extend(tenant_checks(config).await);
    }
    match (config.cin7_account(), config.cin7_key()) {
        (Ok(account_id), Ok(application_key)) => {
            let me = ping::ping_cin7(Cin7Ping {
                account_id,
                application_key,
                base_url: config
                    .cin7
                    .base_url
                    .clone()
                    .unwrap_or_else(|| cin7_core_client::DEFAULT_BASE_URL.to_owned()),
                timeout,
            })
            .await;
            let reached = me.passed();
            checks.push(me);
            if reached {
                checks.extend(cin7_checks(config).await);
            }
        }
        (Err(error), _) | (_, Err(error)) => checks.push(Check::failed(
            "Cin7 credentials",
            error.to_string(),
            "set the environment variable the config names",
        )),
    }
    checks
}

/// The Cin7 checks of a configured sync (after `me` answered): `Limit` honoured, every
/// reference name the mappings produce exists and is active, webhook subscriptions' state.
async fn cin7_checks(config: &Config) -> Vec<Check> {
    let client = match config.cin7_client(&SystemClock::shared()) {
        Ok(client) => client,
        Err(error) => {
            return vec![Check::failed(
                "Cin7 client",
                sdk_common::report::chain(&error),
                "see above",
            )];
        }
    };
    let mut checks = Vec::new();
    let name = "Cin7 paging";
    checks.push(match client.suppliers().list().probe(2).await {
        Ok(probe) if probe.limit_honoured() => Check::ok(
            name,
            format!(
                "{}: Limit {} honoured ({} row(s), Total {})",
                probe.endpoint,
                probe.limit,
                probe.returned,
                probe.total.map_or("absent".to_owned(), |t| t.to_string())
            ),
        ),
        Ok(probe) => Check::warning(
            name,
            format!(
                "{}: asked for {} row(s), got {} while Total says {}",
                probe.endpoint,
                probe.limit,
                probe.returned,
                probe.total.map_or("nothing".to_owned(), |t| t.to_string())
            ),
            "the endpoint caps its pages: the client reads on to Total, but set its page \
             size to the cap (Cin7ClientBuilder::max_page_size) to save calls",
        ),
        Err(error) => ping::cin7_failure(name, &error),
    });
    checks.push(reference_row(&client, &config.reference_names, Mark::Fail).await);
    if config.webhooks.is_some() {
        let name = "Cin7 webhooks";
        checks.push(match client.webhooks().list().await {
            Ok(hooks) => {
                let inactive: Vec<String> = hooks
                    .iter()
                    .filter(|h| h.is_active == Some(false))
                    .map(|h| h.name.clone().unwrap_or_else(|| h.external_url.clone()))
                    .collect();
                if inactive.is_empty() {
                    Check::ok(name, format!("{} subscription(s), all active", hooks.len()))
                } else {
                    Check::warning(
                        name,
                        format!("inactive subscription(s): {}", inactive.join(", ")),
                        "Cin7 switches a subscription off after failed deliveries: fix the \
                         intake, then `webhooks register` again",
                    )
                }
            }
            Err(error) => ping::cin7_failure(name, &error),
        });
    }
    checks
}

/// Every Cin7 reference name the mappings produce exists and is active (a name that does not
/// fails each record that uses it). `unreachable` is the mark when Cin7 could not be asked.
async fn reference_row(client: &Cin7Client, names: &ReferenceNames, unreachable: Mark) -> Check {
    let name = "Cin7 references";
    let findings = match client.check_references(names).await {
        Ok(findings) => findings,
        Err(error) => {
            return Check {
                mark: unreachable,
                ..ping::cin7_failure(name, &error)
            };
        }
    };
    let bad: Vec<String> = findings
        .iter()
        .filter_map(|f| match &f.state {
            ReferenceState::Ok => None,
            ReferenceState::Missing => Some(format!("{} `{}` does not exist", f.kind, f.name)),
            ReferenceState::Inactive(why) => {
                Some(format!("{} `{}` is inactive ({why})", f.kind, f.name))
            }
        })
        .collect();
    if bad.is_empty() {
        Check::ok(
            name,
            format!(
                "{} name(s) the mappings produce exist and are active",
                findings.len()
            ),
        )
    } else {
        Check::failed(
            name,
            bad.join("; "),
            "create or reactivate them in Cin7, or change [mappings.tables] and the \
             [mappings.purchases] defaults to names Cin7 has",
        )
    }
}

/// The CloudSuite checks of a configured sync (after the token worked).
async fn tenant_checks(config: &Config) -> Vec<Check> {
    let clock = SystemClock::shared();
    let client = match config.ion_client(&clock) {
        Ok(client) => client,
        Err(error) => {
            return vec![Check::failed(
                "ION client",
                sdk_common::report::chain(&error),
                "see above",
            )];
        }
    };
    let source = match config.source(&client) {
        Ok(source) => source,
        Err(error) => {
            return vec![Check::failed(
                "ION client",
                sdk_common::report::chain(&error),
                "see above",
            )];
        }
    };
    let streams: Vec<StreamId> = config.streams.iter().map(|s| s.id()).collect();
    let mut checks = schema_checks(&source, &streams).await;
    checks.extend(data_lake_checks(&source, config).await);
    let readable = checks.iter().all(Check::passed);
    if matches!(config.ion.product, Product::M3 { .. })
        && readable
        && config.streams.contains(&Stream::Suppliers)
    {
        checks.push(lmts_row(source.probe_lmts().await));
    }
    if !matches!(config.ion.product, Product::Csi { .. }) {
        return checks;
    }
    checks.push(match source.probe_bookmark_paging().await {
        Ok(Some(BookmarkProbe::Advances)) => Check::ok(
            "IDO bookmark paging",
            "a one-row page's bookmark leads to the next row",
        ),
        Ok(Some(BookmarkProbe::SingleRow) | None) => Check::ok(
            "IDO bookmark paging",
            "not testable: the suppliers' IDO has a single row",
        ),
        Ok(Some(BookmarkProbe::Stuck)) => Check::failed(
            "IDO bookmark paging",
            "the bookmark of a one-row page led back to the same row",
            "the IDO REST service does not page by bookmark: report it with the tenant's \
             CloudSuite version (reads would loop or stop early)",
        ),
        Err(error) => ping::ion_failure("IDO bookmark paging", &error),
    });
    checks.push(match source.probe_record_date().await {
        Ok(Some(probe)) => record_date_row(&probe),
        Ok(None) => Check::ok("RecordDate zone", "not applicable"),
        Err(error) => ping::ion_failure("RecordDate zone", &error),
    });
    if readable && config.streams.contains(&Stream::SupplierInvoices) {
        let now = clock.now();
        let by_code = config.streams.contains(&Stream::GlAccounts);
        let since = now - RECENT_INVOICES;
        checks.push(unmapped_gl_accounts(&source, &config.mappings, since, now, by_code).await);
    }
    checks
}

/// One row per stream read as BODs from the Data Lake (by `product = "datalake"` or an
/// `[ion.routes]` entry): one one-row list call for its document.
async fn data_lake_checks(source: &CloudSuiteSource, config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    for stream in &config.streams {
        let Some(kind) = RecordKind::of_stream(&stream.id().0) else {
            continue;
        };
        if let Some(probe) = source.probe_data_lake(kind).await {
            let key = match config.ion.product {
                Product::DataLake { .. } => "ion.product".to_owned(),
                _ => format!("ion.routes.{}", kind.stream()),
            };
            checks.push(data_lake_row(kind, &key, probe));
        }
    }
    checks
}

/// A Data Lake route's row: ✓ documents are published, ! none yet (the stream would read
/// nothing until ION publishes them), ✗ the listing cannot be read.
pub fn data_lake_row(
    kind: RecordKind,
    config_key: &str,
    probe: Result<Published, infor_ion_client::Error>,
) -> Check {
    let document = kind.document();
    let name = format!("Data Lake {document}");
    match probe {
        Err(error) => {
            let mut check = ping::ion_failure(&name, &error);
            check.fix = Some(format!(
                "{}; or read {} another way ({config_key})",
                check.fix.unwrap_or_default(),
                kind.stream()
            ));
            check
        }
        Ok(published) if published.first.is_none() => Check::warning(
            &name,
            format!(
                "{}: no {document} document is published to the Data Lake yet; the stream \
                 reads nothing until there is one",
                kind.stream()
            ),
            format!(
                "publish {document} from the tenant to the Data Lake (an ION document flow), \
                 or read {} another way ({config_key})",
                kind.stream()
            ),
        ),
        Ok(published) => Check::ok(
            &name,
            match published.total {
                Some(total) => format!("{}: {total} document(s) published", kind.stream()),
                None => format!("{}: documents are published", kind.stream()),
            },
        ),
    }
}

/// M3: whether `CRS620MI/LstSuppliers` selects by `LMTS` as the source sends it
/// (milliseconds since 1970 UTC, see docs/assumptions.md): ✓ it does, ! it ignores the stamp
/// (every run re-reads every supplier; nothing is lost), ✗ a stamp a century back selects
/// nothing (incremental runs would miss every change).
pub fn lmts_row(probe: Result<Option<LmtsProbe>, infor_ion_client::Error>) -> Check {
    let name = "M3 LMTS selection";
    match probe {
        Ok(Some(LmtsProbe::Selects)) => Check::ok(
            name,
            "CRS620MI/LstSuppliers: LMTS a day ahead selects no supplier, a century back selects them",
        ),
        Ok(Some(LmtsProbe::NoSuppliers)) => {
            Check::ok(name, "not testable: the company has no supplier")
        }
        Ok(None) => Check::ok(name, "not applicable (the tenant's own supplier list)"),
        Ok(Some(LmtsProbe::FutureSelects)) => Check::warning(
            name,
            "CRS620MI/LstSuppliers: LMTS a day ahead still selects suppliers; the stamp is \
             ignored or read in another format, so every run reads every supplier",
            "nothing is lost (unchanged suppliers are skipped), but report the tenant's M3 \
             version: the LMTS format is an assumption (docs/assumptions.md)",
        ),
        Ok(Some(LmtsProbe::PastSelectsNothing)) => Check::failed(
            name,
            "CRS620MI/LstSuppliers: LMTS a century back selects no supplier; the stamp is read \
             in another format and incremental runs would miss every change",
            "report the tenant's M3 version: the LMTS format is an assumption \
             (docs/assumptions.md)",
        ),
        Err(error) => ping::ion_failure(name, &error),
    }
}

/// ✓ when the newest stamp fits the configured zone; ! when it lies in the future (the tenant
/// stamps east of the zone: rows are read again, none lost) or is a near-whole number of hours
/// old (perhaps stamped west of the zone: changes would wait for the full scan).
pub fn record_date_row(probe: &RecordDateProbe) -> Check {
    let name = "RecordDate zone";
    let Some(lead) = probe.lead() else {
        return Check::ok(name, format!("not testable: {} has no rows", probe.ido));
    };
    let minutes = lead.num_minutes();
    let hours = (minutes as f64 / 60.0).round() as i64;
    let near_whole_hour = (minutes - hours * 60).abs() <= 5 && hours != 0;
    let seen = format!(
        "newest {} stamp {} read in {} is {} the gateway's clock",
        probe.ido,
        probe.newest.map(|n| n.to_string()).unwrap_or_default(),
        probe.zone,
        if minutes >= 0 {
            format!("{minutes} min ahead of")
        } else {
            format!("{} min behind", -minutes)
        }
    );
    if minutes > 5 {
        Check::warning(
            name,
            seen,
            format!(
                "the tenant seems to stamp RecordDate about {hours} h east of {}: set \
                 ion.record_date_zone to the site's IANA zone",
                probe.zone
            ),
        )
    } else if near_whole_hour && hours >= -14 {
        Check::warning(
            name,
            seen,
            format!(
                "if the tenant changed a record in the last minutes, it stamps RecordDate about \
                 {} h west of {} and changes would wait for the full scan: set \
                 ion.record_date_zone to the site's IANA zone",
                -hours, probe.zone
            ),
        )
    } else {
        Check::ok(name, seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(newest: &str, gateway: &str, zone: chrono_tz::Tz) -> RecordDateProbe {
        RecordDateProbe {
            ido: "SLVendors".into(),
            newest: chrono::NaiveDateTime::parse_from_str(newest, "%Y-%m-%d %H:%M").ok(),
            gateway: DateTime::parse_from_rfc3339(gateway)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            zone,
        }
    }

    #[test]
    fn a_data_lake_route_row_tells_unreadable_from_empty_from_published() {
        use infor_ion_client::transport::PayloadRef;
        let kind = RecordKind::SupplierInvoices;
        let key = "ion.routes.supplier_invoices";
        let refused = data_lake_row(
            kind,
            key,
            Err(infor_ion_client::Error::InvalidRequest("no".into())),
        );
        assert_eq!(refused.mark, Mark::Fail, "{refused}");
        assert!(refused.fix.as_deref().unwrap().contains(key), "{refused}");
        let empty = data_lake_row(kind, key, Ok(Published::new(Some(0), None)));
        assert_eq!(empty.mark, Mark::Warn, "{empty}");
        assert!(
            empty
                .detail
                .contains("no SyncSupplierInvoice document is published"),
            "{empty}"
        );
        let first = PayloadRef {
            dl_id: "1".into(),
            dl_document_name: None,
            event_date: None,
        };
        let published = data_lake_row(kind, key, Ok(Published::new(Some(3), Some(first))));
        assert_eq!(published.mark, Mark::Pass, "{published}");
        assert_eq!(
            published.detail,
            "supplier_invoices: 3 document(s) published"
        );
    }

    #[test]
    fn the_record_date_row_warns_when_stamps_disagree_with_the_zone() {
        let cases = [
            // Read in UTC, a Chicago stamp of a change made a minute ago looks 6 h old.
            (
                "2026-02-01 08:00",
                "2026-02-01T14:01:00Z",
                chrono_tz::UTC,
                Mark::Warn,
            ),
            // Read in Chicago, the same stamp fits.
            (
                "2026-02-01 08:00",
                "2026-02-01T14:01:00Z",
                chrono_tz::America::Chicago,
                Mark::Pass,
            ),
            // A stamp in the future: the tenant writes east of the configured zone.
            (
                "2026-02-01 15:00",
                "2026-02-01T14:00:00Z",
                chrono_tz::UTC,
                Mark::Warn,
            ),
            // Days old: nothing to tell.
            (
                "2026-01-20 08:17",
                "2026-02-01T14:00:00Z",
                chrono_tz::UTC,
                Mark::Pass,
            ),
            // 2 h 30 min old: not a whole-hour offset.
            (
                "2026-02-01 11:30",
                "2026-02-01T14:00:00Z",
                chrono_tz::UTC,
                Mark::Pass,
            ),
        ];
        for (newest, gateway, zone, mark) in cases {
            let row = record_date_row(&probe(newest, gateway, zone));
            assert_eq!(row.mark, mark, "{newest} in {zone} at {gateway}: {row}");
        }
        let empty = RecordDateProbe {
            newest: None,
            ..probe("2026-02-01 08:00", "2026-02-01T14:00:00Z", chrono_tz::UTC)
        };
        assert_eq!(record_date_row(&empty).mark, Mark::Pass);
    }
}
