//! The encrypted credential vault: round trip, wrong key, tampering, truncation, versions,
//! atomic writes with owner-only permissions, key rotation, and no plaintext on disk.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use infor_ion_client::vault::{Vault, VaultError, VaultKey};

fn setup() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ion.vault");
    let key = VaultKey::generate().to_base64();
    use secrecy::ExposeSecret;
    (dir, path, key.expose_secret().to_owned())
}

fn key(b64: &str) -> VaultKey {
    VaultKey::from_base64(b64).unwrap()
}

#[test]
fn round_trip_and_listing() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    drop(vault);
    let vault = Vault::open(&path, key(&k)).unwrap();
    assert_eq!(vault.tenants(), vec!["ACME_TST"]);
    let loaded = vault.load("ACME_TST").unwrap();
    let original = ionapi("https://ion.example.com");
    assert_eq!(loaded.client_id(), original.client_id());
    assert_eq!(loaded.token_url(), original.token_url());
    assert_eq!(loaded.api_base_url(), original.api_base_url());
    use secrecy::ExposeSecret;
    assert_eq!(loaded.client_secret().expose_secret(), CLIENT_SECRET);
    assert_eq!(
        loaded
            .service_account()
            .unwrap()
            .secret_key()
            .expose_secret(),
        SASK
    );
    assert!(matches!(vault.load("OTHER"), Err(VaultError::UnknownTenant(t)) if t == "OTHER"));
}

#[test]
fn the_file_holds_no_plaintext_secret_and_is_owner_only() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    let bytes = std::fs::read_to_string(&path).unwrap();
    assert_no_secret(&bytes, "vault file");
    assert!(!bytes.contains(&k), "the vault file holds its own key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn a_wrong_key_is_refused_and_nothing_is_overwritten() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Vault::open(&path, VaultKey::generate()).unwrap_err();
    assert!(matches!(err, VaultError::WrongKey { .. }), "{err:?}");
    let err = Vault::open_or_create(&path, VaultKey::generate()).unwrap_err();
    assert!(matches!(err, VaultError::WrongKey { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_flipped_byte_in_an_entry_is_tampering() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let ct = doc["entries"]["ACME_TST"]["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine;
    let mut raw = base64::engine::general_purpose::STANDARD
        .decode(ct)
        .unwrap();
    raw[10] ^= 0x01;
    doc["entries"]["ACME_TST"]["ciphertext"] =
        base64::engine::general_purpose::STANDARD.encode(raw).into();
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let vault = Vault::open(&path, key(&k)).unwrap();
    let err = vault.load("ACME_TST").unwrap_err();
    assert!(
        matches!(err, VaultError::Tampered { ref tenant } if tenant == "ACME_TST"),
        "{err:?}"
    );
}

#[test]
fn an_entry_moved_to_another_tenant_does_not_decrypt() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let entry = doc["entries"]["ACME_TST"].clone();
    doc["entries"]["ACME_PRD"] = entry;
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let vault = Vault::open(&path, key(&k)).unwrap();
    assert!(matches!(
        vault.load("ACME_PRD"),
        Err(VaultError::Tampered { .. })
    ));
    assert!(vault.load("ACME_TST").is_ok());
}

#[test]
fn truncated_malformed_and_future_files() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        Vault::open(&path, key(&k)),
        Err(VaultError::Truncated { .. })
    ));
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        Vault::open(&path, key(&k)),
        Err(VaultError::Truncated { .. })
    ));

    std::fs::write(&path, b"{\"hello\": 1}").unwrap();
    assert!(matches!(
        Vault::open(&path, key(&k)),
        Err(VaultError::Malformed { .. })
    ));

    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    doc["version"] = 2.into();
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    assert!(matches!(
        Vault::open(&path, key(&k)),
        Err(VaultError::UnsupportedVersion {
            found: 2,
            supported: 1,
            ..
        })
    ));
}

#[test]
fn keys_from_env_and_files() {
    let (dir, _path, k) = setup();
    let key_file = dir.path().join("vault.key");
    std::fs::write(&key_file, format!("{k}\n")).unwrap();
    assert!(VaultKey::from_file(&key_file).is_ok());
    std::fs::write(&key_file, [7u8; 32]).unwrap();
    assert!(VaultKey::from_file(&key_file).is_ok());
    std::fs::write(&key_file, b"short").unwrap();
    assert!(matches!(
        VaultKey::from_file(&key_file),
        Err(VaultError::InvalidKey(_))
    ));
    assert!(matches!(
        VaultKey::from_env("INFOR_ION_VAULT_KEY_SURELY_UNSET"),
        Err(VaultError::KeyNotSet(_))
    ));
    assert!(matches!(
        VaultKey::from_base64("!!!"),
        Err(VaultError::InvalidKey(_))
    ));
    assert_eq!(format!("{:?}", key(&k)), "VaultKey([REDACTED])");
}

#[test]
fn rotate_remove_and_reopen() {
    let (_dir, path, k) = setup();
    let mut vault = Vault::open_or_create(&path, key(&k)).unwrap();
    vault.store(&ionapi("https://ion.example.com")).unwrap();
    let new_key = VaultKey::generate();
    use secrecy::ExposeSecret;
    let new_b64 = new_key.to_base64().expose_secret().to_owned();
    vault.rotate_key(new_key).unwrap();
    assert!(matches!(
        Vault::open(&path, key(&k)),
        Err(VaultError::WrongKey { .. })
    ));
    let mut vault = Vault::open(&path, key(&new_b64)).unwrap();
    assert!(vault.load("ACME_TST").is_ok());
    assert!(vault.remove("ACME_TST").unwrap());
    assert!(!vault.remove("ACME_TST").unwrap());
    assert!(
        Vault::open(&path, key(&new_b64))
            .unwrap()
            .tenants()
            .is_empty()
    );
}
