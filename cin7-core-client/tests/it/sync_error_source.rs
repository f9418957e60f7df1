//! A Cin7 error surfaced through the sync adapter keeps the client's typed error as its source:
//! a caller can tell a refused credential (403) from a timeout without parsing the message, and
//! neither the message nor the `Debug` text of the engine error holds the application key.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::error::Error as _;

use cin7_core_client::Error;
use cin7_core_client::sync::Cin7Target;
use common::{APP_KEY, assert_catch_all, catch_all, client, with_auth};
use mockito::Server;
use sync_core::SyncError;
use sync_core::model::PartyStatus;
use sync_core::retry::Delivery;
use sync_core::target::{SupplierDraft, SupplierTarget};
use sync_core::time::ManualClock;

fn supplier_draft() -> SupplierDraft {
    SupplierDraft {
        name: "Acme".into(),
        currency: "NZD".into(),
        payment_term: "30 days".into(),
        tax_rule: "GST on Expenses".into(),
        account_payable: "800".into(),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        extra_fields: BTreeMap::from([("AdditionalAttribute1".into(), "V1".into())]),
    }
}

#[tokio::test]
async fn a_403_keeps_the_cin7_error_as_its_typed_source() {
    let mut server = Server::new_async().await;
    let clock = ManualClock::default();
    let (client, account) = client(&server, &clock);
    // The request carries the key (so a leak would be possible), and Cin7 refuses it.
    let m = with_auth(server.mock("POST", "/supplier"), &account)
        .with_status(403)
        .with_body("Incorrect credentials!")
        .expect(1)
        .create();
    let rest = catch_all(&mut server);
    let err = Cin7Target::new(client)
        .create_supplier(&supplier_draft())
        .await
        .unwrap_err();
    m.assert();
    assert_catch_all(&rest);

    assert_eq!(err.delivery, Delivery::Processed);
    assert!(!err.transient);
    assert_eq!(err.status, Some(403));

    // The typed source: the Cin7 error itself, status and all.
    let cin7 = err
        .source()
        .and_then(|e| e.downcast_ref::<Error>())
        .expect("the Cin7 error is the source");
    assert!(matches!(cin7, Error::Auth { endpoint, .. } if endpoint == "supplier"));
    assert_eq!(cin7.status(), Some(403));
    assert!(!cin7.is_retryable());
    assert!(matches!(err.source_as::<Error>(), Some(Error::Auth { .. })));

    // Through the engine's error as well.
    let sync = SyncError::from(err.clone());
    let through = sync.source().and_then(|e| e.downcast_ref::<Error>());
    assert_eq!(through.and_then(Error::status), Some(403));

    // The message (what audit rows store) is unchanged, and the chain says it once.
    assert_eq!(
        err.to_string(),
        format!("target error (HTTP 403): {}", err.message)
    );
    assert_eq!(sdk_common::report::chain(&sync), err.to_string());
    assert_eq!(
        err.message.matches("Incorrect credentials!").count(),
        1,
        "{}",
        err.message
    );

    // Secrets rule: no text of the error holds the application key (or the account id).
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{err:#?}"),
        sync.to_string(),
        format!("{sync:?}"),
        sdk_common::report::chain(&sync),
    ] {
        assert!(!text.contains(APP_KEY), "{text}");
        assert!(!text.contains(&account), "{text}");
    }
}
