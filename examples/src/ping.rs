//! The checks behind the `ping` binary, and the advice for each way they can fail.
//!
//! Each check returns a [`Check`]: what was checked, whether it worked, what was seen, and for
//! a failure the likely fix. The advice is chosen from the clients' typed errors
//! ([`infor_ion_client::Error`], [`cin7_core_client::Error`]), never from message text. Nothing
//! here formats a secret: the errors of both clients never hold one, and the checks print only
//! names, URLs without credentials, counts and times.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use infor_ion_client::ionapi::IonApiError;
use infor_ion_client::m3::MiCall;
use infor_ion_client::vault::{Vault, VaultError, VaultKey};
use infor_ion_client::{Grant, IonApiFile, IonClient, TransportKind};
use secrecy::SecretString;
use sync_core::retry::RetryPolicy;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// It works.
    Pass,
    /// It works, with a difference the operator should know about (e.g. an optional property
    /// the tenant lacks: records flow without it).
    Warn,
    /// It would make the sync fail.
    Fail,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Pass => "✓",
            Mark::Warn => "!",
            Mark::Fail => "✗",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `ION token`.
    pub name: String,
    /// How it came out.
    pub mark: Mark,
    /// What was seen (for a failure: the precise reason).
    pub detail: String,
    /// For a failure or a warning: what to do about it.
    pub fix: Option<String>,
}

impl Check {
    /// A check that passed.
    pub fn ok(name: &str, detail: impl Into<String>) -> Self {
        Check {
            name: name.to_owned(),
            mark: Mark::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A check that found a difference the sync can live with.
    pub fn warning(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name: name.to_owned(),
            mark: Mark::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A check that failed.
    pub fn failed(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name: name.to_owned(),
            mark: Mark::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// Whether the check did not fail (a warning passes).
    pub fn passed(&self) -> bool {
        self.mark != Mark::Fail
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:<22}  {}",
            self.mark.symbol(),
            self.name,
            self.detail
        )?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  {:<22} fix: {fix}", "")?;
        }
        Ok(())
    }
}

/// Print checks as a table and say how they came out; `true` when none failed.
pub fn report(checks: &[Check]) -> bool {
    for check in checks {
        println!("{check}");
    }
    let failed = checks.iter().filter(|c| !c.passed()).count();
    let warned = checks.iter().filter(|c| c.mark == Mark::Warn).count();
    if failed == 0 {
        match warned {
            0 => println!("all {} check(s) passed", checks.len()),
            n => println!("all {} check(s) passed, {n} with a warning", checks.len()),
        }
        true
    } else {
        println!("{failed} check(s) failed");
        false
    }
}

/// Where the ION credentials come from.
#[derive(Debug, Clone)]
pub enum IonSource {
    /// An `.ionapi` file.
    File(PathBuf),
    /// A tenant's entry in an encrypted vault.
    Vault {
        /// The vault file.
        path: PathBuf,
        /// The tenant id.
        tenant: String,
        /// A key file; when `None`, the key is read from `key_env`.
        key_file: Option<PathBuf>,
        /// The environment variable holding the key in base64.
        key_env: String,
    },
}

/// The one cheap CloudSuite call to make after the token.
#[derive(Debug, Clone)]
pub enum Product {
    /// CloudSuite Industrial: a one-row load of `SLCharts` with this Mongoose configuration.
    Csi(String),
    /// M3: `CRS620MI/LstSuppliers` with `maxrecs=1` in this company and, when given, division
    /// (without one, M3 uses the service account user's default division).
    M3 {
        /// The company (`CONO`).
        company: String,
        /// The division (`DIVI`).
        division: Option<String>,
    },
}

/// What to check on the ION side.
#[derive(Debug, Clone)]
pub struct IonPing {
    /// The credentials.
    pub source: IonSource,
    /// The product call, if any.
    pub product: Option<Product>,
    /// The largest acceptable difference between the gateway's `Date` and the local clock.
    pub max_skew: Duration,
    /// The timeout of each request.
    pub timeout: Duration,
}

/// What to check on the Cin7 side.
#[derive(Debug)]
pub struct Cin7Ping {
    /// The account id (`api-auth-accountid`).
    pub account_id: SecretString,
    /// The application key (`api-auth-applicationkey`).
    pub application_key: SecretString,
    /// The API root.
    pub base_url: String,
    /// The timeout of the request.
    pub timeout: Duration,
}

/// Run the ION checks in order, stopping at the first failure (later steps need earlier ones).
pub async fn ping_ion(ping: &IonPing) -> Vec<Check> {
    let mut checks = Vec::new();
    let file = match load_credentials(&ping.source) {
        Ok(file) => file,
        Err(check) => {
            checks.push(check);
            return checks;
        }
    };
    if let Err(error) = file.service_account() {
        checks.push(ion_failure("ION credentials", &error.into()));
        return checks;
    }
    checks.push(Check::ok(
        "ION credentials",
        format!(
            "tenant {}, client {}, Backend Service file with a service account; API base {}",
            file.tenant(),
            file.client_name().unwrap_or("(unnamed)"),
            file.api_base_url()
        ),
    ));

    // One quick retry at most: ping reports what happens, it does not wait out an outage.
    let retry = RetryPolicy::default()
        .with_max_retries(1)
        .with_delays(Duration::from_millis(200), Duration::from_secs(1));
    let client = match IonClient::builder(file)
        .retry_policy(retry.clone())
        .auth(infor_ion_client::auth::AuthConfig::default().retry_policy(retry))
        .timeout(ping.timeout)
        .connect_timeout(ping.timeout)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            checks.push(ion_failure("ION client", &error));
            return checks;
        }
    };
    match client.tokens().access_token().await {
        Ok(token) => {
            let left = (token.expires_at() - client.clock().now()).num_seconds();
            checks.push(Check::ok(
                "ION token",
                format!("obtained with the password grant (valid for {left} s)"),
            ));
        }
        Err(error) => {
            checks.push(ion_failure("ION token", &error));
            return checks;
        }
    }

    let Some(product) = &ping.product else {
        checks.push(Check::ok(
            "ION product",
            "skipped (give --csi-config or --m3-company to call CloudSuite and measure clock skew)",
        ));
        return checks;
    };
    let (name, result) = match product {
        Product::Csi(config) => ("ION CSI", csi_call(&client, config).await),
        Product::M3 { company, division } => (
            "ION M3",
            m3_call(&client, company, division.as_deref()).await,
        ),
    };
    match result {
        Ok((detail, server_date)) => {
            checks.push(Check::ok(name, detail));
            checks.push(skew_check(server_date, client.clock().now(), ping.max_skew));
            if let Product::M3 { company, division } = product {
                let defaults = client.m3().user_defaults().await.map(|user| {
                    user.map(|u| UserDefaults {
                        user: u.user,
                        company: u.company,
                        division: u.division,
                    })
                });
                checks.push(m3_user_row(defaults, company, division.as_deref()));
            }
        }
        Err(error) => checks.push(ion_failure(name, &error)),
    }
    checks
}

/// An M3 user's defaults, as `MNS150MI/GetUserData` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDefaults {
    /// The M3 user id.
    pub user: String,
    /// The default company.
    pub company: Option<String>,
    /// The default division.
    pub division: Option<String>,
}

/// The service account user's default company and division beside the ones the calls run
/// in: ✓ when they agree, ! when they differ (every call names the configured company, so the
/// sync is right; the operator should still know) or when the defaults cannot be read.
pub fn m3_user_row(
    defaults: infor_ion_client::Result<Option<UserDefaults>>,
    company: &str,
    division: Option<&str>,
) -> Check {
    let name = "M3 user default";
    let user = match defaults {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Check::warning(
                name,
                "MNS150MI/GetUserData returned no row",
                "nothing to do: every call names the configured company",
            );
        }
        Err(error) => {
            return Check::warning(
                name,
                format!("the user's defaults cannot be read: {error}"),
                "to see them, let the service account run MNS150MI/GetUserData; the sync does \
                 not need it (every call names the configured company)",
            );
        }
    };
    let default_company = user.company.as_deref().unwrap_or("(none)");
    let default_division = user.division.as_deref().unwrap_or("(none)");
    let detail = format!(
        "user {} defaults to company {default_company}, division {default_division}; calls run \
         in {}",
        user.user,
        m3_scope(company, division)
    );
    let same_company = user.company.as_deref() == Some(company);
    let same_division = division.is_none_or(|d| user.division.as_deref() == Some(d));
    if same_company && same_division {
        return Check::ok(name, detail);
    }
    Check::warning(
        name,
        detail,
        "every call names the configured company and division, so the sync reads the right \
         data; if they are not the ones meant, fix ion.company / ion.division",
    )
}

/// The `.ionapi` file from a file or the vault, or the failed check saying why not.
fn load_credentials(source: &IonSource) -> Result<IonApiFile, Check> {
    match source {
        IonSource::File(path) => {
            IonApiFile::from_path(path).map_err(|e| ion_failure("ION credentials", &e.into()))
        }
        IonSource::Vault {
            path,
            tenant,
            key_file,
            key_env,
        } => {
            let key = match key_file {
                Some(file) => VaultKey::from_file(file),
                None => VaultKey::from_env(key_env),
            };
            key.and_then(|key| Vault::open(path, key))
                .and_then(|vault| vault.load(tenant))
                .map_err(|e| ion_failure("ION credentials", &e.into()))
        }
    }
}

/// A one-row load of `SLCharts` (typed, so `Success: false` becomes `IdoFailed`), then the
/// gateway's `Date` from another one-row read.
async fn csi_call(
    client: &IonClient,
    config: &str,
) -> infor_ion_client::Result<(String, Option<DateTime<Utc>>)> {
    let csi = client.csi(config);
    let page = csi
        .load("SLCharts")
        .properties(["Acct"])
        .record_cap(1)
        .page(None)
        .await?;
    let date = Some(csi.server_time("SLCharts").await?);
    Ok((
        format!(
            "SLCharts through Mongoose configuration {config}: {} row(s) read",
            page.items.len()
        ),
        date,
    ))
}

/// `CRS620MI/LstSuppliers` with `maxrecs=1` (typed, so M3 errors become `MiFailed`), then the
/// gateway's `Date` from the same request sent raw.
async fn m3_call(
    client: &IonClient,
    company: &str,
    division: Option<&str>,
) -> infor_ion_client::Result<(String, Option<DateTime<Utc>>)> {
    let m3 = match division {
        Some(division) => client.m3().company(company).division(division),
        None => client.m3().company(company),
    };
    let call = MiCall::new("CRS620MI", "LstSuppliers").max_records(1);
    let rows = m3.execute(call.clone()).await?;
    let date = client.send(m3.request(&call)?).await?.server_date();
    Ok((
        format!(
            "CRS620MI/LstSuppliers in {}: {} row(s) read",
            m3_scope(company, division),
            rows.len()
        ),
        date,
    ))
}

/// Where M3 calls run, as the operator should read it: the company and division sent, or
/// that the division is the service account user's default (which may not be the one meant).
fn m3_scope(company: &str, division: Option<&str>) -> String {
    match division {
        Some(division) => format!("company {company}, division {division}"),
        None => format!("company {company}, the user's default division (none configured)"),
    }
}

/// Compare the gateway's clock with ours.
pub fn skew_check(server: Option<DateTime<Utc>>, local: DateTime<Utc>, max: Duration) -> Check {
    let Some(server) = server else {
        return Check::failed(
            "ION clock",
            "the gateway sent no valid Date header, so clock skew cannot be measured",
            "a proxy between you and ION may strip headers; check it passes `Date` through",
        );
    };
    let skew = (local - server).num_seconds();
    let detail = format!(
        "gateway Date {}, local clock {}, skew {skew:+} s (limit {} s)",
        server.to_rfc3339(),
        local.format("%Y-%m-%dT%H:%M:%S%:z"),
        max.as_secs()
    );
    if skew.unsigned_abs() > max.as_secs() {
        Check::failed(
            "ION clock",
            format!("clock skew too large: {detail}"),
            "synchronise this machine's clock with NTP (e.g. `timedatectl set-ntp true`); \
             tokens expire early or late and incremental windows read the wrong range \
             when the clocks disagree",
        )
    } else {
        Check::ok("ION clock", detail)
    }
}

/// The failed check for an ION error, with the likely fix chosen from its variant.
pub fn ion_failure(name: &str, error: &infor_ion_client::Error) -> Check {
    Check::failed(name, sdk_common::report::chain(error), ion_fix(error))
}

/// The likely fix for an ION error.
pub fn ion_fix(error: &infor_ion_client::Error) -> String {
    use infor_ion_client::Error as E;
    match error {
        E::IonApi(e) => ionapi_fix(e),
        E::Vault(e) => vault_fix(e),
        E::TokenRejected { error, grant, .. } if error == "invalid_client" => format!(
            "the client id/secret (`ci`/`cs`) were refused in the {grant}: the Authorized App was \
             deleted or its secret regenerated; download a fresh .ionapi file from Infor OS → \
             API Gateway → Authorized Apps (and re-import it into the vault)"
        ),
        E::TokenRejected {
            error,
            grant: Grant::Password,
            ..
        } if error == "invalid_grant" => "the service account (`saak`/`sask`) was refused: it \
             was deleted or regenerated, or its user is disabled or locked; in Authorized Apps \
             regenerate the service account for an active user and download the file again"
            .to_owned(),
        E::TokenRejected { .. } => "the token endpoint refused the request; download a fresh \
             .ionapi file for a Backend Service app and try again"
            .to_owned(),
        E::TokenEndpoint { status, .. } if *status >= 500 => format!(
            "Infor's identity service (Mingle SSO) failed with HTTP {status}; this is on Infor's \
             side: retry in a few minutes and check the Infor status page"
        ),
        E::TokenEndpoint { .. } | E::TokenResponse { .. } => "the `pu`/`ot` URL of the file \
             does not lead to the tenant's token endpoint; download the file again rather than \
             editing it"
            .to_owned(),
        E::Unauthorized { .. } => "the token is valid but this API is not granted to it: give \
             the Authorized App access to the product's API and the service account user the \
             product's security roles"
            .to_owned(),
        E::Api(api) => match api.status {
            404 => "wrong product path or the API is not exposed: check the tenant runs this \
                 product (CloudSuite Industrial → --csi-config, M3 → --m3-company) and that its \
                 API is deployed in API Gateway"
                .to_owned(),
            403 => "the gateway forbids this call: the service account user lacks the \
                 product's security roles"
                .to_owned(),
            429 => "the gateway's quota policy throttled the call; wait and retry, or raise the \
                 quota for this app"
                .to_owned(),
            s if s >= 500 => "the product behind ION failed; retry later, and if it persists \
                 check the product is up (a CSI/M3 admin can see its logs)"
                .to_owned(),
            _ => "the product refused the request; check the product settings given".to_owned(),
        },
        E::IdoFailed { .. } => "the Mongoose configuration was refused: give --csi-config the \
             exact configuration name your CSI administrator uses (often TENANT_SITE), and make \
             the service account user a user of that configuration"
            .to_owned(),
        E::MiFailed { .. } => "M3 refused the transaction: check --m3-company names an existing \
             company and the service account user may run CRS620MI"
            .to_owned(),
        E::Unreachable { .. } => "ION could not be connected to several times in a row: \
             check the network, proxy and firewall, and that the file's `iu`/`pu` hosts resolve \
             from this machine"
            .to_owned(),
        E::Transport { kind, .. } => match kind {
            TransportKind::Connect => "cannot connect: check the network, proxy and firewall, \
                 and that the file's `iu`/`pu` hosts resolve from this machine"
                .to_owned(),
            TransportKind::Timeout => "the request timed out: check the network or proxy; \
                 raise --timeout-secs if the link is slow"
                .to_owned(),
            TransportKind::Io => "the connection broke: check the network or proxy (TLS \
                 interception can cause this)"
                .to_owned(),
            TransportKind::Redirect => "the gateway redirected to another host, which is not \
                 followed so credentials stay on the configured one: check the file's `iu`/`pu` \
                 URLs (an old host name, http instead of https) and any proxy in between"
                .to_owned(),
        },
        E::Decode { .. } | E::ResponseTooLarge { .. } => "the answer is not what this product \
             sends: check the product flag (--csi-config vs --m3-company) matches the tenant"
            .to_owned(),
        _ => "see the message above".to_owned(),
    }
}

fn ionapi_fix(error: &IonApiError) -> String {
    match error {
        IonApiError::NotBackendService => "this is a web or mobile app file: in Infor OS open \
             API Gateway → Authorized Apps, create a Backend Service app with \"Create Service \
             Account\" for a user with the needed roles, and download its credentials"
            .to_owned(),
        IonApiError::Io { .. } => {
            "check the --ionapi path and that this user may read the file".to_owned()
        }
        _ => "the file is not a valid .ionapi file: download it again from Authorized Apps \
             instead of editing it"
            .to_owned(),
    }
}

fn vault_fix(error: &VaultError) -> String {
    match error {
        VaultError::KeyNotSet(var) => format!(
            "set {var} to the vault key (base64) or pass --key-file; `vault new-key` makes one"
        ),
        VaultError::InvalidKey(_) => {
            "the key must be 32 bytes in base64, as printed by `vault new-key`".to_owned()
        }
        VaultError::WrongKey { .. } => "use the key this vault was written with (after \
             `vault rotate-key`, the new one)"
            .to_owned(),
        VaultError::UnknownTenant(_) => "run `vault list` to see the tenants it holds, or \
             `vault import FILE.ionapi` to add this one"
            .to_owned(),
        VaultError::Io { .. } => "check the --vault path and its permissions; \
             `vault import FILE.ionapi` creates a vault"
            .to_owned(),
        _ => "the vault file is damaged: restore it from a backup or import the .ionapi file \
             into a new vault"
            .to_owned(),
    }
}

/// Call Cin7's `me` and report the company, base currency and time zone.
pub async fn ping_cin7(ping: Cin7Ping) -> Check {
    let name = "Cin7 me";
    let client = cin7_core_client::Cin7Client::builder()
        .account_id(ping.account_id)
        .application_key(ping.application_key)
        .base_url(ping.base_url)
        .timeout(ping.timeout)
        .connect_timeout(ping.timeout)
        // Report a throttle at once instead of waiting a minute for the budget to refill.
        .retry_policy(RetryPolicy::none())
        .throttle_wait(Duration::from_millis(100))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => return cin7_failure(name, &error),
    };
    match client.me().get().await {
        Ok(me) => Check::ok(
            name,
            format!(
                "company {:?}, base currency {}, time zone {}",
                me.company.as_deref().unwrap_or("(not set)"),
                me.currency.as_deref().unwrap_or("(not set)"),
                me.time_zone.as_deref().unwrap_or("(not set)")
            ),
        ),
        Err(error) => cin7_failure(name, &error),
    }
}

/// The failed check for a Cin7 error, with the likely fix chosen from its variant.
pub fn cin7_failure(name: &str, error: &cin7_core_client::Error) -> Check {
    Check::failed(name, sdk_common::report::chain(error), cin7_fix(error))
}

/// The likely fix for a Cin7 error.
pub fn cin7_fix(error: &cin7_core_client::Error) -> String {
    use cin7_core_client::Error as E;
    match error {
        E::Auth { .. } => "Cin7 refused the account id / application key pair: copy both again \
             from Cin7 Core → Integrations → API (the key may have been deleted), and set \
             CIN7_ACCOUNT_ID and CIN7_APPLICATION_KEY"
            .to_owned(),
        E::RateLimited { .. } => "the account's API limit is reached (60 calls a minute, shared \
             by every integration on the account): wait a minute and retry, and check what \
             else uses this account"
            .to_owned(),
        E::Config(_) => "check --cin7-base-url (it ends with /ExternalApi/v2/) and the account \
             id"
        .to_owned(),
        E::Transport { .. } => "cannot reach Cin7: check the network, proxy and firewall, and \
             --cin7-base-url"
            .to_owned(),
        E::UnexpectedBody { .. } => "the base URL does not lead to the Cin7 Core API: it should \
             be https://inventory.dearsystems.com/ExternalApi/v2/"
            .to_owned(),
        E::Api(api) if api.status == 404 => "the base URL does not lead to the Cin7 Core API: \
             it should be https://inventory.dearsystems.com/ExternalApi/v2/"
            .to_owned(),
        E::Api(api) if api.status >= 500 => "Cin7 failed on its side; retry later".to_owned(),
        _ => "see the message above".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(company: &str, division: &str) -> UserDefaults {
        UserDefaults {
            user: "SVC".into(),
            company: Some(company.into()),
            division: Some(division.into()),
        }
    }

    #[test]
    fn the_user_default_row_shows_a_mismatch_as_a_warning() {
        let same = m3_user_row(Ok(Some(user("100", "AAA"))), "100", Some("AAA"));
        assert_eq!(same.mark, Mark::Pass, "{same}");
        let no_division = m3_user_row(Ok(Some(user("100", "AAA"))), "100", None);
        assert_eq!(no_division.mark, Mark::Pass, "{no_division}");
        let other = m3_user_row(Ok(Some(user("100", "AAA"))), "300", Some("AAA"));
        assert_eq!(other.mark, Mark::Warn, "{other}");
        assert_eq!(
            other.detail,
            "user SVC defaults to company 100, division AAA; calls run in company 300, \
             division AAA"
        );
        assert!(other.fix.as_deref().unwrap().contains("ion.company"));
        let other_division = m3_user_row(Ok(Some(user("100", "AAA"))), "100", Some("BBB"));
        assert_eq!(other_division.mark, Mark::Warn, "{other_division}");
    }

    #[test]
    fn unreadable_user_defaults_are_a_warning_never_a_failure() {
        let refused = m3_user_row(
            Err(infor_ion_client::Error::InvalidRequest("refused".into())),
            "100",
            None,
        );
        assert_eq!(refused.mark, Mark::Warn, "{refused}");
        assert!(refused.detail.contains("refused"), "{refused}");
        let empty = m3_user_row(Ok(None), "100", None);
        assert_eq!(empty.mark, Mark::Warn, "{empty}");
    }
}
