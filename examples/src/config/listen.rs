//! What the two listeners (`[webhooks]`, `[ion_push]`) share: TLS served by the runner itself,
//! from a certificate and key in PEM files (reloaded on `SIGHUP`), for when no proxy in front
//! terminates it.
//!
//! ```toml
//! tls_cert = "tls/cert.pem"   # the certificate chain, PEM (relative to the config file)
//! tls_key = "tls/key.pem"     # its private key, PEM (PKCS#8, PKCS#1 or SEC1)
//! ```

use std::path::{Path, PathBuf};

use super::{ConfigError, invalid, non_empty, resolve_path};

/// The certificate and key a listener serves TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTls {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// Both keys or neither; paths are taken from the config file's directory.
pub(super) fn parse_tls(
    keys: (&'static str, &'static str),
    cert: Option<String>,
    key: Option<String>,
    base: &Path,
) -> Result<Option<ListenerTls>, ConfigError> {
    match (non_empty(cert), non_empty(key)) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(ListenerTls {
            cert: resolve_path(Path::new(&cert), base),
            key: resolve_path(Path::new(&key), base),
        })),
        (Some(_), None) => Err(invalid(
            keys.1,
            "the certificate has no key: set both tls_cert and tls_key, or neither",
        )),
        (None, Some(_)) => Err(invalid(
            keys.0,
            "the key has no certificate: set both tls_cert and tls_key, or neither",
        )),
    }
}
