//! Helpers shared by the integration tests: `.ionapi` files pointing at a mockito server, and
//! the secret values every test checks never leak.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use infor_ion_client::auth::AuthConfig;
use infor_ion_client::{IonApiFile, IonClient};
use sync_core::retry::RetryPolicy;
use sync_core::time::ManualClock;

pub const CLIENT_SECRET: &str = "cs-S3cr3t-client-value";
pub const SAAK: &str = "ACME_TST#saak-Acc3ss-Key";
pub const SASK: &str = "sask-S3cr3t-service-key";
pub const ACCESS_TOKEN: &str = "at-0123456789-token";
pub const REFRESH_TOKEN: &str = "rt-9876543210-refresh";

/// Every secret value used by the tests.
pub const SECRETS: &[&str] = &[CLIENT_SECRET, SAAK, SASK, ACCESS_TOKEN, REFRESH_TOKEN];

/// `.ionapi` JSON whose URLs point at `server_url` (a mockito server).
pub fn ionapi_json(server_url: &str) -> String {
    serde_json::json!({
        "ti": "ACME_TST",
        "cn": "sync-sdk",
        "dt": "12",
        "ci": "ACME_TST~client-id",
        "cs": CLIENT_SECRET,
        "iu": server_url,
        "pu": format!("{server_url}/ACME_TST/as/"),
        "oa": "authorization.oauth2",
        "ot": "token.oauth2",
        "or": "revoke_token.oauth2",
        "ev": "U147858101",
        "v": "1.0",
        "saak": SAAK,
        "sask": SASK,
    })
    .to_string()
}

pub fn ionapi(server_url: &str) -> IonApiFile {
    IonApiFile::from_json_str(&ionapi_json(server_url)).unwrap()
}

/// A token response body.
pub fn token_body(access: &str, expires_in: u64, refresh: Option<&str>) -> String {
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = refresh.into();
    }
    body.to_string()
}

/// A client on a manual clock, with fast retries.
pub fn client(server_url: &str, clock: &ManualClock, auth: AuthConfig) -> IonClient {
    IonClient::builder(ionapi(server_url))
        .clock(clock.shared())
        .auth(auth.retry_policy(fast_retries(3)))
        .retry_policy(fast_retries(3))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub fn fast_retries(n: usize) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(n)
        .with_delays(Duration::from_millis(100), Duration::from_secs(2))
        .with_jitter(false)
}

pub fn shared(clock: &ManualClock) -> Arc<ManualClock> {
    Arc::new(clock.clone())
}

/// Panic if any secret value appears in `text`.
pub fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} leaks a secret value: {text}"
        );
    }
}
