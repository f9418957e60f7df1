//! The `[ion_push]` section: the endpoint ION's Messaging Service pushes BODs to, served by
//! the scheduled runner beside its schedule (see `docs/ion-push.md`).
//!
//! ```toml
//! [ion_push]
//! listen = "0.0.0.0:8091"          # the address the intake listens on
//! header = "Authorization"         # the header ION's API suite sends (default Authorization)
//! secret_env = "ION_PUSH_SECRET"   # the variable holding that header's exact value
//! tls_cert = "tls/cert.pem"        # optional: serve TLS itself (with tls_key, see `listen`)
//! tls_key = "tls/key.pem"
//! ```

use std::path::Path;

use serde::Deserialize;

use super::listen::{ListenerTls, parse_tls};
use super::{ConfigError, invalid, non_empty};

/// The `[ion_push]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIonPush {
    listen: Option<String>,
    header: Option<String>,
    secret_env: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
}

/// The validated `[ion_push]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IonPushSettings {
    /// The address the intake listens on.
    pub listen: String,
    /// The header whose exact value authenticates ION (default `Authorization`).
    pub header: String,
    /// The environment variable holding that value.
    pub secret_env: String,
    /// TLS served by the intake itself (`None`: plain HTTP, behind a TLS-terminating proxy).
    pub tls: Option<ListenerTls>,
}

pub(super) fn parse(raw: RawIonPush, base: &Path) -> Result<IonPushSettings, ConfigError> {
    let listen = non_empty(raw.listen).ok_or(ConfigError::Missing {
        key: "ion_push.listen",
        hint: "the address the ION push intake listens on, e.g. listen = \"0.0.0.0:8091\"",
    })?;
    if listen.parse::<std::net::SocketAddr>().is_err() {
        return Err(invalid(
            "ion_push.listen",
            format!("`{listen}` is not an address and port such as 0.0.0.0:8091"),
        ));
    }
    let header = non_empty(raw.header).unwrap_or_else(|| "Authorization".into());
    if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
        return Err(invalid(
            "ion_push.header",
            format!("`{header}` is not a header name"),
        ));
    }
    Ok(IonPushSettings {
        listen,
        header,
        secret_env: non_empty(raw.secret_env).unwrap_or_else(|| "ION_PUSH_SECRET".into()),
        tls: parse_tls(
            ("ion_push.tls_cert", "ion_push.tls_key"),
            raw.tls_cert,
            raw.tls_key,
            base,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(listen: &str, header: Option<&str>) -> RawIonPush {
        RawIonPush {
            listen: Some(listen.into()),
            header: header.map(str::to_owned),
            secret_env: None,
            tls_cert: None,
            tls_key: None,
        }
    }

    fn parse_at(raw: RawIonPush) -> Result<IonPushSettings, ConfigError> {
        parse(raw, Path::new("/etc/sync"))
    }

    #[test]
    fn tls_takes_both_files_from_the_config_directory_or_neither() {
        let mut both = raw("127.0.0.1:8091", None);
        both.tls_cert = Some("tls/cert.pem".into());
        both.tls_key = Some("/keys/key.pem".into());
        let tls = parse_at(both).unwrap().tls.unwrap();
        assert_eq!(
            (tls.cert.to_str(), tls.key.to_str()),
            (Some("/etc/sync/tls/cert.pem"), Some("/keys/key.pem"))
        );
        let mut half = raw("127.0.0.1:8091", None);
        half.tls_cert = Some("tls/cert.pem".into());
        let error = parse_at(half).unwrap_err().to_string();
        assert!(error.contains("ion_push.tls_key"), "{error}");
    }

    #[test]
    fn the_section_defaults_its_header_and_variable_and_checks_the_rest() {
        let settings = parse_at(raw("127.0.0.1:8091", None)).unwrap();
        assert_eq!(
            (settings.header.as_str(), settings.secret_env.as_str()),
            ("Authorization", "ION_PUSH_SECRET")
        );
        let bad_listen = parse_at(raw("8091", None)).unwrap_err().to_string();
        assert!(bad_listen.contains("ion_push.listen"), "{bad_listen}");
        let bad_header = parse_at(raw("127.0.0.1:8091", Some("X Api Key")))
            .unwrap_err()
            .to_string();
        assert!(bad_header.contains("ion_push.header"), "{bad_header}");
        let missing = parse_at(RawIonPush::default()).unwrap_err().to_string();
        assert!(missing.contains("ion_push.listen"), "{missing}");
    }
}
