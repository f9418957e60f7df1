//! The `vault` binary: round trip, and clear messages for each kind of bad input.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::text;

use std::process::{Command, Output};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.ionapi");

fn vault(dir: &std::path::Path, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vault"))
        .args(["--vault", dir.join("ion.vault").to_str().unwrap()])
        .args(args)
        .env("INFOR_ION_VAULT_KEY", key)
        .env_remove("INFOR_ION_VAULT")
        .output()
        .unwrap()
}

fn new_key() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vault"))
        .arg("new-key")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn import_list_show_rotate_remove() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let out = vault(dir.path(), &key, &["import", SAMPLE]);
    assert!(out.status.success(), "{}", text(&out));
    let out = vault(dir.path(), &key, &["list"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ACME_TST");
    let out = vault(dir.path(), &key, &["show", "ACME_TST"]);
    let shown = text(&out);
    assert!(shown.contains("https://mingle-sso.inforcloudsuite.com/ACME_TST/as/token.oauth2"));
    assert!(!shown.contains("not-real"), "a secret was printed: {shown}");

    let new = new_key();
    let out = Command::new(env!("CARGO_BIN_EXE_vault"))
        .args(["--vault", dir.path().join("ion.vault").to_str().unwrap()])
        .args(["rotate-key", "--new-key-env", "NEW_VAULT_KEY"])
        .env("INFOR_ION_VAULT_KEY", &key)
        .env("NEW_VAULT_KEY", &new)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!vault(dir.path(), &key, &["list"]).status.success());
    let out = vault(dir.path(), &new, &["remove", "ACME_TST"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = vault(dir.path(), &new, &["remove", "ACME_TST"]);
    assert!(text(&out).contains("no entry for tenant `ACME_TST`"));
}

#[test]
fn bad_inputs_get_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();

    let out = vault(dir.path(), &key, &["import", "/no/such/file.ionapi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("cannot read the .ionapi file /no/such/file.ionapi"));

    let bad = dir.path().join("bad.ionapi");
    std::fs::write(&bad, "{\"ti\": \"X\"}").unwrap();
    let out = vault(dir.path(), &key, &["check", bad.to_str().unwrap()]);
    assert!(text(&out).contains("has no `ci`"), "{}", text(&out));

    let out = vault(dir.path(), "not base64!", &["list"]);
    assert!(
        text(&out).contains("vault key is invalid"),
        "{}",
        text(&out)
    );

    let out = vault(dir.path(), &key, &["list"]);
    assert!(text(&out).contains("No such file"), "{}", text(&out));

    vault(dir.path(), &key, &["import", SAMPLE]);
    let out = vault(dir.path(), &new_key(), &["list"]);
    assert!(text(&out).contains("wrong vault key"), "{}", text(&out));
    let out = vault(dir.path(), &key, &["show", "ACME_PRD"]);
    assert!(
        text(&out).contains("no entry for tenant `ACME_PRD`"),
        "{}",
        text(&out)
    );

    std::fs::write(
        dir.path().join("ion.vault"),
        "{\"format\":\"infor-ion-vault\"",
    )
    .unwrap();
    let out = vault(dir.path(), &key, &["list"]);
    assert!(text(&out).contains("truncated"), "{}", text(&out));
}

#[test]
fn check_describes_the_sample_without_secrets() {
    let out = Command::new(env!("CARGO_BIN_EXE_vault"))
        .args(["check", SAMPLE])
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("API base URL:    https://mingle-ionapi.inforcloudsuite.com/ACME_TST/"));
    assert!(shown.contains("password grant usable"));
    assert!(!shown.contains("not-real"));
}
