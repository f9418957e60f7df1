#![allow(clippy::unwrap_used)]
//! Webhook delivery credentials (issue #10): wrong, missing and malformed credentials are
//! refused for every scheme; rotated-out credentials are refused once their overlap window ends
//! (injected clock); the comparison takes the same time wherever a wrong credential differs;
//! and, end to end through the intake endpoint, a replayed delivery with valid credentials is
//! queued once while one with rotated-out credentials is refused.
//!
//! Cin7 signs nothing, so "replayed" cannot mean "the signature was seen before": it means the
//! same body sent again (deduplicated by its hash) or credentials that were rotated out.

use crate::common;

use std::time::{Duration, Instant};

use base64::Engine;
use cin7_core_client::webhook::{DeliveryAuth, WebhookError, WebhookReceiver};
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use secrecy::SecretString;
use sync_core::time::{Clock, ManualClock};

fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    map
}

fn bearer(token: &str) -> DeliveryAuth {
    DeliveryAuth::Bearer(SecretString::from(token))
}

fn basic(user: &str, password: &str) -> DeliveryAuth {
    DeliveryAuth::Basic {
        username: user.into(),
        password: SecretString::from(password),
    }
}

fn encode_basic(raw: &[u8]) -> Vec<u8> {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
    .into_bytes()
}

/// Refused as missing (`missing`) or wrong, and the error names the header but never the
/// expected or the given value.
#[track_caller]
fn refused(receiver: &WebhookReceiver, map: &HeaderMap, missing: bool, secrets: &[&str]) {
    let error = receiver.authenticate(map).unwrap_err();
    if missing {
        assert!(
            matches!(error, WebhookError::MissingCredentials { .. }),
            "{error:?}"
        );
    } else {
        assert!(
            matches!(error, WebhookError::BadCredentials { .. }),
            "{error:?}"
        );
    }
    let text = format!("{error} {error:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "{text} leaks {secret}");
    }
}

#[test]
fn bearer_wrong_missing_and_malformed_are_refused() {
    let secret = "tok-7f3a9c";
    let receiver = WebhookReceiver::new(bearer(secret));
    assert!(
        receiver
            .authenticate(&headers(&[("authorization", b"Bearer tok-7f3a9c")]))
            .is_ok()
    );
    refused(&receiver, &HeaderMap::new(), true, &[secret]);
    refused(
        &receiver,
        &headers(&[("x-other", b"Bearer tok-7f3a9c")]),
        true,
        &[secret],
    );
    for wrong in [
        &b"Bearer tok-7f3a9"[..],       // a prefix
        b"Bearer tok-7f3a9cc",          // the secret and more
        b"Bearer TOK-7F3A9C",           // case matters in the credential
        b"Bearer ",                     // empty
        b"Bearer",                      // no credential at all
        b"Bearertok-7f3a9c",            // no separator
        b"Token tok-7f3a9c",            // another scheme
        b"Basic dG9rLTdmM2E5Yw==",      // the right value under Basic
        b"Bearer tok-7f3a9c\xff",       // not visible ASCII
        b"Bearer tok-7f3a9c, tok-7f3a", // a list
    ] {
        refused(
            &receiver,
            &headers(&[("authorization", wrong)]),
            false,
            &[secret],
        );
    }
}

#[test]
fn basic_wrong_missing_and_malformed_are_refused() {
    let receiver = WebhookReceiver::new(basic("cin7-hooks", "pw-91c4e2"));
    let secrets = ["pw-91c4e2"];
    assert!(
        receiver
            .authenticate(&headers(&[(
                "authorization",
                &encode_basic(b"cin7-hooks:pw-91c4e2")
            )]))
            .is_ok()
    );
    refused(&receiver, &HeaderMap::new(), true, &secrets);
    for raw in [
        &b"cin7-hooks:pw-91c4e"[..],
        b"cin7-hooks:pw-91c4e2 ",
        b"cin7-hooks:",
        b"cin7-hook:pw-91c4e2",
        b":pw-91c4e2",
        b"cin7-hookspw-91c4e2",
        b"cin7-hooks:pw-91c4e2\xff",
        b"",
    ] {
        refused(
            &receiver,
            &headers(&[("authorization", &encode_basic(raw))]),
            false,
            &secrets,
        );
    }
    for value in [
        &b"Basic !!!"[..],
        b"Basic",
        b"Bearer pw-91c4e2",
        b"cin7-hooks:pw-91c4e2",
    ] {
        refused(
            &receiver,
            &headers(&[("authorization", value)]),
            false,
            &secrets,
        );
    }
}

#[test]
fn secret_header_wrong_missing_and_combined_are_refused() {
    let secret = "vt-0d1e5b";
    let receiver = WebhookReceiver::new(
        DeliveryAuth::header("Verification-Token", SecretString::from(secret)).unwrap(),
    )
    .also_require(bearer("tok-2"));
    let both = |token: &[u8], auth: &[u8]| {
        headers(&[("verification-token", token), ("authorization", auth)])
    };
    assert!(
        receiver
            .authenticate(&both(b"vt-0d1e5b", b"Bearer tok-2"))
            .is_ok(),
        "header names are case-insensitive"
    );
    refused(
        &receiver,
        &headers(&[("authorization", b"Bearer tok-2")]),
        true,
        &[secret],
    );
    for wrong in [&b"vt-0d1e5"[..], b"vt-0d1e5bb", b"", b"VT-0D1E5B"] {
        refused(
            &receiver,
            &both(wrong, b"Bearer tok-2"),
            false,
            &[secret, "tok-2"],
        );
    }
    // Right header, wrong bearer: still refused (every requirement must hold).
    refused(
        &receiver,
        &both(b"vt-0d1e5b", b"Bearer tok-3"),
        false,
        &[secret, "tok-2"],
    );
}

#[test]
fn a_rotated_out_bearer_is_accepted_during_the_overlap_then_refused() {
    let clock = ManualClock::default();
    let receiver = WebhookReceiver::new(bearer("old-5e1"))
        .with_clock(clock.shared())
        .rotate(bearer("new-8a2"), chrono::Duration::hours(2))
        .unwrap();
    let old = headers(&[("authorization", b"Bearer old-5e1")]);
    let new = headers(&[("authorization", b"Bearer new-8a2")]);
    assert!(receiver.authenticate(&old).is_ok());
    assert!(receiver.authenticate(&new).is_ok());
    clock.advance(Duration::from_secs(2 * 3600 - 1));
    assert!(
        receiver.authenticate(&old).is_ok(),
        "last second of overlap"
    );
    clock.advance(Duration::from_secs(1));
    refused(&receiver, &old, false, &["old-5e1", "new-8a2"]);
    assert!(receiver.authenticate(&new).is_ok());
    // Wrong credentials were never accepted, in or out of the window.
    refused(
        &receiver,
        &headers(&[("authorization", b"Bearer guess")]),
        false,
        &[],
    );
    refused(&receiver, &HeaderMap::new(), true, &[]);
    // The rotated receiver does not print either secret.
    let debug = format!("{receiver:?}");
    assert!(
        !debug.contains("old-5e1") && !debug.contains("new-8a2"),
        "{debug}"
    );
}

#[test]
fn rotation_without_overlap_twice_and_from_configuration() {
    let clock = ManualClock::default();
    // No overlap: the old credential is refused at once.
    let receiver = WebhookReceiver::new(bearer("a-1"))
        .with_clock(clock.shared())
        .rotate(bearer("b-2"), chrono::Duration::zero())
        .unwrap();
    refused(
        &receiver,
        &headers(&[("authorization", b"Bearer a-1")]),
        false,
        &[],
    );
    // Rotating again drops the oldest: only the one just replaced keeps its window.
    let receiver = receiver
        .rotate(bearer("c-3"), chrono::Duration::hours(1))
        .unwrap();
    assert!(
        receiver
            .authenticate(&headers(&[("authorization", b"Bearer b-2")]))
            .is_ok()
    );
    refused(
        &receiver,
        &headers(&[("authorization", b"Bearer a-1")]),
        false,
        &[],
    );

    // Built from configuration: new Basic credentials, the old password until a fixed instant;
    // the secret header alongside is not affected.
    let until = clock.now() + chrono::Duration::minutes(30);
    let receiver = WebhookReceiver::new(basic("hooks", "pw-new"))
        .also_require(DeliveryAuth::header("x-hook-key", SecretString::from("k-1")).unwrap())
        .with_clock(clock.shared())
        .accept_previous_until(basic("hooks", "pw-old"), until)
        .unwrap();
    let with = |raw: &[u8], key: &[u8]| {
        headers(&[("authorization", &encode_basic(raw)), ("x-hook-key", key)])
    };
    assert!(
        receiver
            .authenticate(&with(b"hooks:pw-old", b"k-1"))
            .is_ok()
    );
    refused(&receiver, &with(b"hooks:pw-old", b"k-0"), false, &["k-1"]);
    // The old password with another user name is not the old credential.
    refused(&receiver, &with(b"other:pw-old", b"k-1"), false, &[]);
    clock.advance(Duration::from_secs(30 * 60));
    refused(&receiver, &with(b"hooks:pw-old", b"k-1"), false, &[]);
    assert!(
        receiver
            .authenticate(&with(b"hooks:pw-new", b"k-1"))
            .is_ok()
    );

    // Rotation needs a credential in the same slot.
    let error = WebhookReceiver::new(bearer("t"))
        .rotate(
            DeliveryAuth::header("x-hook-key", SecretString::from("k")).unwrap(),
            chrono::Duration::hours(1),
        )
        .unwrap_err();
    assert!(matches!(error, WebhookError::Config(_)), "{error:?}");
    assert!(
        WebhookReceiver::new(bearer("t"))
            .accept_previous_until(basic("u", "p"), until)
            .is_err()
    );
}

/// Median time of `check` on `a` and on `b`, interleaved (order swapped every round) so drift
/// and load affect both alike. Returns (median a, median b).
fn medians(check: &dyn Fn(&HeaderMap) -> bool, a: &HeaderMap, b: &HeaderMap) -> (f64, f64) {
    const ROUNDS: usize = 31;
    const CALLS: usize = 3;
    let time = |map: &HeaderMap| {
        let start = Instant::now();
        for _ in 0..CALLS {
            assert!(!std::hint::black_box(check(std::hint::black_box(map))));
        }
        start.elapsed().as_secs_f64()
    };
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            ta.push(time(a));
            tb.push(time(b));
        } else {
            tb.push(time(b));
            ta.push(time(a));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb))
}

fn ratio((a, b): (f64, f64)) -> f64 {
    a.max(b) / a.min(b)
}

/// A wrong credential that differs from the secret in its first byte and one that differs only
/// in its last byte take the same time to refuse. The secret is long (128 KiB), so an early-exit
/// comparison would show a large gap; the same harness run on such a comparison (plain `==`
/// behind the same header lookup) must show that gap, or the measurement proves nothing.
#[test]
fn comparison_time_does_not_depend_on_where_a_wrong_credential_differs() {
    let secret: String = (0..128 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let differ_at = |i: usize| {
        let mut wrong = secret.clone().into_bytes();
        wrong[i] = b'0';
        String::from_utf8(wrong).unwrap()
    };
    let (first, last) = (differ_at(0), differ_at(secret.len() - 1));

    // The control: an early-exit comparison in the same harness.
    let naive = |map: &HeaderMap| {
        map.get("x-hook-key")
            .is_some_and(|v| v.as_bytes() == secret.as_bytes())
    };
    let header = |v: &str| headers(&[("x-hook-key", v.as_bytes())]);
    let control = ratio(medians(&naive, &header(&first), &header(&last)));
    assert!(
        control > 3.0,
        "the harness cannot see an early-exit comparison (ratio {control:.2})"
    );

    let by_header = WebhookReceiver::new(
        DeliveryAuth::header("x-hook-key", SecretString::from(secret.clone())).unwrap(),
    );
    let by_bearer = WebhookReceiver::new(bearer(&secret));
    let by_basic = WebhookReceiver::new(basic("hooks", &secret));
    let authorization = |v: Vec<u8>| headers(&[(AUTHORIZATION.as_str(), &v)]);
    let cases = [
        ("header", &by_header, header(&first), header(&last)),
        (
            "bearer",
            &by_bearer,
            authorization(format!("Bearer {first}").into_bytes()),
            authorization(format!("Bearer {last}").into_bytes()),
        ),
        (
            "basic",
            &by_basic,
            authorization(encode_basic(format!("hooks:{first}").as_bytes())),
            authorization(encode_basic(format!("hooks:{last}").as_bytes())),
        ),
    ];
    for (name, receiver, a, b) in cases {
        let check = |map: &HeaderMap| receiver.authenticate(map).is_ok();
        let measured = ratio(medians(&check, &a, &b));
        eprintln!("{name}: constant-time ratio {measured:.3}, early-exit control {control:.1}");
        assert!(
            measured < 1.5,
            "{name}: refusing takes {measured:.2}x longer depending on where the credential differs"
        );
    }
}

#[cfg(feature = "webhook-server")]
mod intake {
    use std::sync::Arc;

    use cin7_core_client::sync::webhook_server::{WebhookIntake, intake_router};
    use sync_core::engine::returns::triggers::trigger_stream;
    use sync_core::store::memory::MemoryStore;
    use sync_core::store::{AuditQuery, AuditStatus, AuditStore};
    use tokio::sync::Notify;

    use super::*;

    async fn queued(store: &MemoryStore) -> usize {
        store
            .query(
                &AuditQuery::tenant("ACME".to_owned())
                    .stream(trigger_stream())
                    .statuses(&[AuditStatus::Deferred]),
            )
            .await
            .unwrap()
            .len()
    }

    /// Through the real endpoint on 127.0.0.1: a replay with valid credentials is accepted and
    /// queued once within the dedupe window (and refetched once more a day later); the same delivery with the rotated-out token is accepted
    /// during the overlap (and still not queued twice) and refused with 401 after it; missing
    /// and wrong credentials get 401 and queue nothing.
    #[tokio::test]
    async fn replayed_deliveries_are_queued_once_and_rotated_out_credentials_refused() {
        let clock = ManualClock::default();
        let store = Arc::new(MemoryStore::new());
        let receiver = WebhookReceiver::new(bearer("hook-old"))
            .with_clock(clock.shared())
            .rotate(bearer("hook-new"), chrono::Duration::hours(1))
            .unwrap();
        let intake = Arc::new(
            WebhookIntake::new(
                receiver,
                store.clone(),
                "ACME",
                "acct",
                clock.shared(),
                Arc::new(Notify::new()),
            )
            .unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, intake_router(intake)).await });
        let http = reqwest::Client::new();
        let body = common::fixture("webhook/purchase_invoice_authorised.json");
        let post = |token: Option<&'static str>| {
            let mut request = http.post(&url).body(body.clone());
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };

        assert_eq!(post(Some("hook-new")).await, 202);
        assert_eq!(queued(&store).await, 1);
        assert_eq!(post(Some("hook-new")).await, 202, "a replay is accepted");
        assert_eq!(queued(&store).await, 1, "and queued once");
        assert_eq!(post(Some("hook-old")).await, 202, "inside the overlap");
        assert_eq!(queued(&store).await, 1);
        assert_eq!(post(None).await, 401);
        assert_eq!(post(Some("hook-guess")).await, 401);

        clock.advance(Duration::from_secs(3600));
        assert_eq!(post(Some("hook-old")).await, 401, "rotated out");
        clock.advance(Duration::from_secs(24 * 3600));
        assert_eq!(post(Some("hook-new")).await, 202, "a day later");
        // Outside the dedupe window a replay is one more refetch of the purchase as it is now:
        // harmless, since payloads carry ids only and the document is always re-read.
        assert_eq!(queued(&store).await, 2, "one refetch a day later");
        assert_eq!(post(Some("hook-new")).await, 202);
        assert_eq!(queued(&store).await, 2, "and queued once in its window");

        // An event for another purchase with the same credentials is queued.
        let task = serde_json::from_str::<serde_json::Value>(&body).unwrap()["TaskID"]
            .as_str()
            .unwrap()
            .to_owned();
        let other = body.replace(&task, "11111111-2222-4333-8444-555555555555");
        let status = http
            .post(&url)
            .bearer_auth("hook-new")
            .body(other)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 202);
        assert_eq!(queued(&store).await, 3);
    }
}
