//! The `[ion_push]` section: the endpoint ION's Messaging Service pushes BODs to, served by
//! the scheduled runner beside its schedule (see `docs/ion-push.md`).
//!
//! ```toml
//! [ion_push]
//! listen = "0.0.0.0:8091"          # the address the intake listens on
//! header = "Authorization"         # the header ION's API suite sends (default Authorization)
//! secret_env = "ION_PUSH_SECRET"   # the variable holding that header's exact value
//! ```

use serde::Deserialize;

use super::{ConfigError, invalid, non_empty};

/// The `[ion_push]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIonPush {
    listen: Option<String>,
    header: Option<String>,
    secret_env: Option<String>,
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
}

pub(super) fn parse(raw: RawIonPush) -> Result<IonPushSettings, ConfigError> {
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
        }
    }

    #[test]
    fn the_section_defaults_its_header_and_variable_and_checks_the_rest() {
        let settings = parse(raw("127.0.0.1:8091", None)).unwrap();
        assert_eq!(
            (settings.header.as_str(), settings.secret_env.as_str()),
            ("Authorization", "ION_PUSH_SECRET")
        );
        let bad_listen = parse(raw("8091", None)).unwrap_err().to_string();
        assert!(bad_listen.contains("ion_push.listen"), "{bad_listen}");
        let bad_header = parse(raw("127.0.0.1:8091", Some("X Api Key")))
            .unwrap_err()
            .to_string();
        assert!(bad_header.contains("ion_push.header"), "{bad_header}");
        let missing = parse(RawIonPush::default()).unwrap_err().to_string();
        assert!(missing.contains("ion_push.listen"), "{missing}");
    }
}
