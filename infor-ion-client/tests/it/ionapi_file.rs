//! `.ionapi` parsing and validation: every required field, URLs and slashes, http only for
//! loopback, empty / non-JSON / huge files, web-app files without a service account.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write;

use common::*;
use infor_ion_client::IonApiFile;
use infor_ion_client::ionapi::{IonApiError, MAX_FILE_SIZE};
use serde_json::{Value, json};

fn full() -> Value {
    serde_json::from_str(&ionapi_json("https://mingle-ionapi.inforcloudsuite.com")).unwrap()
}

fn parse(value: &Value) -> Result<IonApiFile, IonApiError> {
    IonApiFile::from_json_str(&value.to_string())
}

#[test]
fn a_full_file_parses_with_every_key() {
    let file = parse(&full()).unwrap();
    assert_eq!(file.tenant(), "ACME_TST");
    assert_eq!(file.client_name(), Some("sync-sdk"));
    assert_eq!(file.client_id(), "ACME_TST~client-id");
    assert_eq!(file.dt(), Some("12"));
    assert_eq!(file.ev(), Some("U147858101"));
    assert_eq!(file.version(), Some("1.0"));
    assert!(file.service_account().is_ok());
    use secrecy::ExposeSecret;
    assert_eq!(file.client_secret().expose_secret(), CLIENT_SECRET);
    assert_eq!(
        file.service_account().unwrap().access_key().expose_secret(),
        SAAK
    );
}

#[test]
fn urls_are_derived_with_one_slash_whatever_the_file_has() {
    for (pu, ot, iu) in [
        (
            "https://sso.example.com:443/ACME_TST/as/",
            "token.oauth2",
            "https://ion.example.com",
        ),
        (
            "https://sso.example.com/ACME_TST/as",
            "token.oauth2",
            "https://ion.example.com/",
        ),
        (
            "https://sso.example.com/ACME_TST/as//",
            "/token.oauth2",
            "https://ion.example.com//",
        ),
    ] {
        let mut v = full();
        v["pu"] = pu.into();
        v["ot"] = ot.into();
        v["iu"] = iu.into();
        let file = parse(&v).unwrap();
        assert_eq!(
            file.token_url().as_str(),
            "https://sso.example.com/ACME_TST/as/token.oauth2",
            "pu={pu} ot={ot}"
        );
        assert_eq!(
            file.revoke_url().unwrap().as_str(),
            "https://sso.example.com/ACME_TST/as/revoke_token.oauth2"
        );
        assert_eq!(
            file.authorization_url().unwrap().as_str(),
            "https://sso.example.com/ACME_TST/as/authorization.oauth2"
        );
        assert_eq!(
            file.api_base_url().as_str(),
            "https://ion.example.com/ACME_TST/",
            "iu={iu}"
        );
    }
}

#[test]
fn unknown_keys_are_ignored() {
    let mut v = full();
    v["brandNewKey"] = json!({"nested": [1, 2, 3]});
    assert!(parse(&v).is_ok());
}

#[test]
fn each_missing_required_field_is_named() {
    for field in ["ti", "ci", "cs", "iu", "pu", "ot"] {
        for blank in [None, Some(json!("")), Some(json!("   ")), Some(Value::Null)] {
            let mut v = full();
            match &blank {
                None => {
                    v.as_object_mut().unwrap().remove(field);
                }
                Some(b) => v[field] = b.clone(),
            }
            match parse(&v) {
                Err(IonApiError::MissingField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field} {blank:?}: {other:?}"),
            }
            let message = parse(&v).unwrap_err().to_string();
            assert!(message.contains(&format!("`{field}`")), "{message}");
        }
    }
}

#[test]
fn wrong_types_are_named() {
    let mut v = full();
    v["ci"] = json!(12345);
    assert!(matches!(
        parse(&v),
        Err(IonApiError::NotAString { field: "ci" })
    ));
    let mut v = full();
    v["sask"] = json!(["not", "a", "string"]);
    assert!(matches!(
        parse(&v),
        Err(IonApiError::NotAString { field: "sask" })
    ));
}

#[test]
fn bad_urls_are_refused() {
    for (field, value) in [
        ("iu", "not a url"),
        ("pu", "mingle-sso.inforcloudsuite.com/ACME/as/"),
        ("iu", "ftp://ion.example.com"),
        ("pu", "https://sso.example.com/as/?x=1"),
    ] {
        let mut v = full();
        v[field] = value.into();
        match parse(&v) {
            Err(IonApiError::BadUrl { field: f, .. }) => assert_eq!(f, field, "{value}"),
            other => panic!("{field}={value}: {other:?}"),
        }
    }
}

#[test]
fn http_is_refused_except_for_loopback() {
    let mut v = full();
    v["iu"] = "http://mingle-ionapi.inforcloudsuite.com".into();
    assert!(matches!(
        parse(&v),
        Err(IonApiError::InsecureUrl { field: "iu" })
    ));
    let mut v = full();
    v["pu"] = "http://10.0.0.5/ACME/as/".into();
    assert!(matches!(
        parse(&v),
        Err(IonApiError::InsecureUrl { field: "pu" })
    ));
    for host in ["127.0.0.1:8080", "localhost:9000", "[::1]:7000"] {
        let mut v = full();
        v["iu"] = format!("http://{host}").into();
        v["pu"] = format!("http://{host}/ACME/as/").into();
        assert!(parse(&v).is_ok(), "{host}");
    }
}

#[test]
fn empty_non_json_and_huge_files_are_refused() {
    assert!(matches!(
        IonApiFile::from_json_str(""),
        Err(IonApiError::Empty)
    ));
    assert!(matches!(
        IonApiFile::from_json_str(" \n\t "),
        Err(IonApiError::Empty)
    ));
    assert!(matches!(
        IonApiFile::from_json_str("<html>not json</html>"),
        Err(IonApiError::NotJson {
            line: 1,
            column: 1,
            ..
        })
    ));
    assert!(matches!(
        IonApiFile::from_json_str(r#"["an", "array"]"#),
        Err(IonApiError::NotJson { .. })
    ));
    let huge = format!(r#"{{"ti":"{}"}}"#, "x".repeat(MAX_FILE_SIZE));
    assert!(matches!(
        IonApiFile::from_json_str(&huge),
        Err(IonApiError::TooLarge { .. })
    ));
    // The reader path stops reading at the cap instead of buffering everything.
    let endless = std::io::repeat(b' ');
    assert!(matches!(
        IonApiFile::from_reader(endless),
        Err(IonApiError::TooLarge { .. })
    ));
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let text = format!("\u{feff}{}", full());
    assert!(IonApiFile::from_json_str(&text).is_ok());
}

#[test]
fn a_web_app_file_cannot_use_the_password_grant() {
    let mut v = full();
    v.as_object_mut().unwrap().remove("saak");
    v.as_object_mut().unwrap().remove("sask");
    let file = parse(&v).unwrap();
    let err = file.service_account().unwrap_err();
    assert!(matches!(err, IonApiError::NotBackendService));
    assert!(err.to_string().contains("Backend Service"), "{err}");
    // Building a client from it fails with the same clear error.
    let err = infor_ion_client::IonClient::builder(file)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("not a Backend Service file"),
        "{err}"
    );
    // Only one of the pair is as good as none.
    let mut v = full();
    v.as_object_mut().unwrap().remove("sask");
    assert!(parse(&v).unwrap().service_account().is_err());
}

#[test]
fn files_are_read_from_paths_and_readers() {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    tmp.write_all(full().to_string().as_bytes()).unwrap();
    let from_path = IonApiFile::from_path(tmp.path()).unwrap();
    let from_reader = IonApiFile::from_reader(std::fs::File::open(tmp.path()).unwrap()).unwrap();
    assert_eq!(from_path.tenant(), from_reader.tenant());
    let missing = IonApiFile::from_path("/definitely/not/here.ionapi").unwrap_err();
    assert!(matches!(missing, IonApiError::Io { .. }));
    assert!(missing.to_string().contains("/definitely/not/here.ionapi"));
}

#[test]
fn errors_never_quote_secret_values() {
    // A secret sitting next to a syntax error must not be echoed by the JSON error.
    let broken = format!(r#"{{"cs": "{CLIENT_SECRET}", "sask": "{SASK}" "#);
    let err = IonApiFile::from_json_str(&broken).unwrap_err();
    assert_no_secret(&err.to_string(), "NotJson error");
    assert_no_secret(&format!("{err:?}"), "NotJson debug");
    let wrong_type = format!(r#"{{"cs": ["{CLIENT_SECRET}"]}}"#);
    let err = IonApiFile::from_json_str(&wrong_type).unwrap_err();
    assert_no_secret(&err.to_string(), "type error");
}

#[test]
fn a_key_given_twice_is_refused_by_name_without_its_values() {
    // Two client secrets: which one is meant would be a guess, and a guess locks accounts.
    let mut text = full().to_string();
    text.insert_str(1, &format!(r#""cs": "{CLIENT_SECRET}-old", "#));
    let err = IonApiFile::from_json_str(&text).unwrap_err();
    let IonApiError::NotJson { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*line, message.as_str()), (1, "duplicate key `cs`"));
    assert_no_secret(&err.to_string(), "duplicate-key error");
    assert_no_secret(&format!("{err:?}"), "duplicate-key debug");
}
