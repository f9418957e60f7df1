//! The `ping` binary against both simulators: success, then each broken credential gets the
//! right reason and fix, a non-zero exit code, and never a secret in its output.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::text;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use cin7_core_client::simulator::{
    Cin7Simulator, DEFAULT_ACCOUNT_ID, DEFAULT_APPLICATION_KEY, SimulatorConfig as Cin7Config,
};
use infor_ion_client::IonApiFile;
use infor_ion_client::simulator::{IonSimulator, SimulatorConfig as IonConfig};
use infor_ion_client::vault::{Vault, VaultKey};
use secrecy::ExposeSecret;
use std::process::Command;
use sync_core::faults::{Fault, FaultPlan};

/// The secrets the simulators accept: none may ever appear in the output.
const SECRETS: [&str; 5] = [
    "simulator-client-secret",
    "simulator-service-secret",
    "SIM_TST#simulator-service-account",
    DEFAULT_APPLICATION_KEY,
    DEFAULT_ACCOUNT_ID,
];

/// `ping` with `args`, a clean environment, and Cin7 credentials when given.
async fn ping(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ping"));
    command
        .args(args)
        .env_remove("CIN7_ACCOUNT_ID")
        .env_remove("CIN7_APPLICATION_KEY")
        .env_remove("INFOR_ION_VAULT_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    // The simulators run on this test's runtime: wait for the process off its threads.
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap()
}

/// Assert the run failed with exit code `code`, showed every `expected` text, and no secret.
fn assert_fails(output: &Output, code: i32, expected: &[&str], extra_secrets: &[&str]) {
    let shown = text(output);
    assert_eq!(output.status.code(), Some(code), "{shown}");
    for want in expected {
        assert!(shown.contains(want), "missing {want:?} in:\n{shown}");
    }
    assert_no_secret(&shown, extra_secrets);
}

fn assert_no_secret(shown: &str, extra: &[&str]) {
    for secret in SECRETS.iter().chain(extra) {
        assert!(
            !shown.contains(secret),
            "secret {secret:?} printed:\n{shown}"
        );
    }
}

/// The simulator's `.ionapi` JSON with `edit` applied.
fn edited_ionapi(
    ion: &IonSimulator,
    dir: &Path,
    name: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> String {
    let mut json: serde_json::Value = serde_json::from_str(&ion.ionapi_json()).unwrap();
    edit(&mut json);
    let path = dir.join(name);
    std::fs::write(&path, json.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

async fn simulators() -> (IonSimulator, Cin7Simulator) {
    let ion = IonSimulator::start(IonConfig::default()).await.unwrap();
    let cin7 = Cin7Simulator::start(Cin7Config::default()).await.unwrap();
    (ion, cin7)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_works_against_the_simulators() {
    let dir = tempfile::tempdir().unwrap();
    let (ion, cin7) = simulators().await;
    let file = dir.path().join("SIM_TST.ionapi");
    ion.write_ionapi(&file).unwrap();
    let base = cin7.base_url();
    let out = ping(
        &[
            "--ionapi",
            file.to_str().unwrap(),
            "--csi-config",
            ion.mongoose_config(),
            "--cin7-base-url",
            &base,
        ],
        &[
            ("CIN7_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            ("CIN7_APPLICATION_KEY", DEFAULT_APPLICATION_KEY),
        ],
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("tenant SIM_TST"), "{shown}");
    assert!(
        shown.contains("obtained with the password grant"),
        "{shown}"
    );
    assert!(
        shown.contains("SLCharts through Mongoose configuration SIM_TST_MAIN: 1 row(s) read"),
        "{shown}"
    );
    assert!(shown.contains("gateway Date"), "{shown}");
    assert!(
        shown.contains("company \"Simulated Trading Pty Ltd\""),
        "{shown}"
    );
    assert!(shown.contains("time zone Australia/Sydney"), "{shown}");
    assert!(shown.contains("all 5 check(s) passed"), "{shown}");
    assert!(!shown.contains("FAILED"), "{shown}");
    assert_no_secret(&shown, &[]);
    // One token, then the product calls: the checks really reached the simulators.
    assert_eq!(ion.token_requests(), 1);
    assert_eq!(cin7.calls_to("GET /me"), 1);

    // M3 through the vault, with the key from the environment.
    let key = VaultKey::generate();
    let key_text = key.to_base64().expose_secret().to_owned();
    let vault_path = dir.path().join("ion.vault");
    let mut vault = Vault::open_or_create(&vault_path, key).unwrap();
    vault.store(&ion.ionapi().unwrap()).unwrap();
    let out = ping(
        &[
            "--vault",
            vault_path.to_str().unwrap(),
            "--tenant",
            "SIM_TST",
            "--m3-company",
            "100",
        ],
        &[("INFOR_ION_VAULT_KEY", &key_text)],
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains(
            "CRS620MI/LstSuppliers in company 100, the user's default division (none configured): 1 row(s) read"
        ),
        "{shown}"
    );
    // The service account's own default, read with MNS150MI/GetUserData, beside it.
    assert!(
        shown.contains(
            "M3 user default         user SVC_SYNC defaults to company 100, division AAA; \
             calls run in company 100, the user's default division (none configured)"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("all 5 check(s) passed\n"),
        "no warning: {shown}"
    );
    assert_no_secret(&shown, &[&key_text]);

    // With a division, the calls run there and the output says so; one M3 does not have is
    // M3's error.
    let vault_args = |division: &'static str| {
        [
            "--vault".to_owned(),
            vault_path.to_str().unwrap().to_owned(),
            "--tenant".to_owned(),
            "SIM_TST".to_owned(),
            "--m3-company".to_owned(),
            "100".to_owned(),
            "--m3-division".to_owned(),
            division.to_owned(),
        ]
    };
    let args = vault_args("AAA");
    let out = ping(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("INFOR_ION_VAULT_KEY", &key_text)],
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("CRS620MI/LstSuppliers in company 100, division AAA: 1 row(s) read"),
        "{shown}"
    );
    let args = vault_args("ZZZ");
    let out = ping(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("INFOR_ION_VAULT_KEY", &key_text)],
    )
    .await;
    let shown = text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("DIVI"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_ion_credential_gets_its_reason_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (ion, _cin7) = simulators().await;

    let wrong_cs = edited_ionapi(&ion, dir.path(), "cs.ionapi", |j| {
        j["cs"] = "wrong-client-secret-42".into()
    });
    let out = ping(&["--ionapi", &wrong_cs], &[]).await;
    assert_fails(
        &out,
        1,
        &[
            "ION token",
            "invalid_client",
            "fix:",
            "Authorized App was deleted or its secret regenerated",
        ],
        &["wrong-client-secret-42"],
    );

    let wrong_sask = edited_ionapi(&ion, dir.path(), "sask.ionapi", |j| {
        j["sask"] = "wrong-service-secret-42".into()
    });
    let out = ping(&["--ionapi", &wrong_sask], &[]).await;
    assert_fails(
        &out,
        1,
        &[
            "invalid_grant",
            "the service account (`saak`/`sask`) was refused",
        ],
        &["wrong-service-secret-42"],
    );

    let web_app = edited_ionapi(&ion, dir.path(), "web.ionapi", |j| {
        let object = j.as_object_mut().unwrap();
        object.remove("saak");
        object.remove("sask");
    });
    let out = ping(&["--ionapi", &web_app], &[]).await;
    assert_fails(
        &out,
        1,
        &[
            "ION credentials",
            "not a Backend Service file",
            "create a Backend Service app",
        ],
        &[],
    );

    let good = dir.path().join("good.ionapi");
    ion.write_ionapi(&good).unwrap();
    let out = ping(
        &[
            "--ionapi",
            good.to_str().unwrap(),
            "--csi-config",
            "ACME_WRONG",
        ],
        &[],
    )
    .await;
    assert_fails(
        &out,
        1,
        &[
            "ION CSI",
            "Configuration ACME_WRONG is not valid",
            "the Mongoose configuration was refused",
        ],
        &[],
    );

    let out = ping(&["--ionapi", "/no/such/dir/x.ionapi"], &[]).await;
    assert_fails(
        &out,
        1,
        &[
            "cannot read the .ionapi file /no/such/dir/x.ionapi",
            "check the --ionapi path",
        ],
        &[],
    );

    // The tokens the failures above asked for were refused; none got further.
    assert_eq!(
        ion.tokens_issued(),
        1,
        "only the Mongoose check got a token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_problems_get_their_reason_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate();
    let key_text = key.to_base64().expose_secret().to_owned();
    let other_key = VaultKey::generate().to_base64().expose_secret().to_owned();
    let vault_path = dir.path().join("ion.vault");
    let sample =
        IonApiFile::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.ionapi")).unwrap();
    Vault::open_or_create(&vault_path, key)
        .unwrap()
        .store(&sample)
        .unwrap();
    let vault = vault_path.to_str().unwrap();

    let out = ping(
        &["--vault", vault, "--tenant", "ACME_TST"],
        &[("INFOR_ION_VAULT_KEY", &other_key)],
    )
    .await;
    assert_fails(
        &out,
        1,
        &["wrong vault key", "use the key this vault was written with"],
        &[&key_text, &other_key, "not-real"],
    );

    let out = ping(
        &["--vault", vault, "--tenant", "ACME_PRD"],
        &[("INFOR_ION_VAULT_KEY", &key_text)],
    )
    .await;
    assert_fails(
        &out,
        1,
        &["no entry for tenant `ACME_PRD`", "run `vault list`"],
        &[&key_text, "not-real"],
    );

    let out = ping(&["--vault", vault, "--tenant", "ACME_TST"], &[]).await;
    assert_fails(
        &out,
        1,
        &[
            "`INFOR_ION_VAULT_KEY` is not set",
            "set INFOR_ION_VAULT_KEY",
        ],
        &[],
    );

    let garbage = dir.path().join("garbage.vault");
    std::fs::write(&garbage, "{\"format\":\"infor-ion-vault\"").unwrap();
    let out = ping(
        &["--vault", garbage.to_str().unwrap(), "--tenant", "ACME_TST"],
        &[("INFOR_ION_VAULT_KEY", &key_text)],
    )
    .await;
    assert_fails(
        &out,
        1,
        &["truncated", "the vault file is damaged"],
        &[&key_text],
    );

    let out = ping(
        &["--vault", "/no/such/ion.vault", "--tenant", "ACME_TST"],
        &[("INFOR_ION_VAULT_KEY", &key_text)],
    )
    .await;
    assert_fails(
        &out,
        1,
        &["/no/such/ion.vault", "check the --vault path"],
        &[&key_text],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_clock_and_connection_failures_get_their_reason_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (_ion, cin7) = simulators().await;
    let base = cin7.base_url();
    let out = ping(
        &["--cin7-base-url", &base],
        &[
            ("CIN7_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            ("CIN7_APPLICATION_KEY", "wrong-application-key-42"),
        ],
    )
    .await;
    assert_fails(
        &out,
        1,
        &[
            "Cin7 me",
            "HTTP 403",
            "account id / application key pair",
            "CIN7_APPLICATION_KEY",
        ],
        &["wrong-application-key-42"],
    );

    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = ping(
        &[
            "--cin7-base-url",
            &format!("http://127.0.0.1:{port}/ExternalApi/v2/"),
        ],
        &[
            ("CIN7_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            ("CIN7_APPLICATION_KEY", DEFAULT_APPLICATION_KEY),
        ],
    )
    .await;
    assert_fails(&out, 1, &["cannot reach Cin7"], &[]);

    // A gateway whose clock is ten minutes ahead.
    let clock =
        sync_core::time::ManualClock::new(chrono::Utc::now() + chrono::Duration::minutes(10));
    let ahead = IonSimulator::start(IonConfig {
        clock: clock.shared(),
        ..IonConfig::default()
    })
    .await
    .unwrap();
    let file = dir.path().join("ahead.ionapi");
    ahead.write_ionapi(&file).unwrap();
    let out = ping(
        &[
            "--ionapi",
            file.to_str().unwrap(),
            "--csi-config",
            ahead.mongoose_config(),
        ],
        &[],
    )
    .await;
    assert_fails(
        &out,
        1,
        &[
            "ION CSI",
            "clock skew too large",
            "skew -",
            "(limit 60 s)",
            "synchronise this machine's clock",
        ],
        &[],
    );
    let out = ping(
        &[
            "--ionapi",
            file.to_str().unwrap(),
            "--csi-config",
            ahead.mongoose_config(),
            "--max-skew-secs",
            "900",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test]
async fn bad_usage_exits_2() {
    let out = ping(&[], &[]).await;
    assert_fails(&out, 2, &["nothing to check"], &[]);
    let out = ping(&[], &[("CIN7_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)]).await;
    assert_fails(&out, 2, &["CIN7_APPLICATION_KEY is not"], &[]);
    let out = ping(&["--csi-config", "X"], &[]).await;
    assert_fails(&out, 2, &["need ION credentials"], &[]);
    let out = ping(&["--vault", "v"], &[]).await;
    assert_fails(&out, 2, &["--tenant"], &[]);
    let out = ping(&["--cin7-application-key", "k"], &[]).await;
    assert_fails(&out, 2, &["unexpected argument"], &[]);

    let help = ping(&["--help"], &[]).await;
    let shown = text(&help);
    for flag in [
        "--ionapi",
        "--vault",
        "--tenant",
        "--key-file",
        "--key-env",
        "--csi-config",
        "--m3-company",
        "--m3-division",
        "--max-skew-secs",
        "--cin7-account-id",
        "--cin7-base-url",
        "--timeout-secs",
        "CIN7_APPLICATION_KEY",
    ] {
        assert!(shown.contains(flag), "--help lacks {flag}:\n{shown}");
    }
}

/// An ION simulator whose every call to `endpoint` fails with `fault`.
async fn faulty_ion(endpoint: &str, fault: Fault) -> IonSimulator {
    IonSimulator::start(IonConfig {
        faults: Arc::new(FaultPlan::none().rule(Some(endpoint), 1.0, fault)),
        ..IonConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_failures_get_their_reason_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let status = |status| Fault::Status {
        status,
        retry_after: None,
    };
    let cases = [
        (
            "POST /token",
            503,
            &["ION token", "HTTP 503", "Mingle SSO", "on Infor's side"][..],
        ),
        (
            "GET /load/SLCharts",
            401,
            &["even after a fresh token", "this API is not granted"][..],
        ),
        (
            "GET /load/SLCharts",
            404,
            &[
                "ION CSI",
                "HTTP 404",
                "wrong product path or the API is not exposed",
            ][..],
        ),
    ];
    for (endpoint, code, expected) in cases {
        let ion = faulty_ion(endpoint, status(code)).await;
        let file = dir.path().join(format!("{code}.ionapi"));
        ion.write_ionapi(&file).unwrap();
        let out = ping(
            &[
                "--ionapi",
                file.to_str().unwrap(),
                "--csi-config",
                ion.mongoose_config(),
            ],
            &[],
        )
        .await;
        assert_fails(&out, 1, expected, &[]);
    }

    // Cin7's limit reached: reported at once, not waited out.
    let cin7 = Cin7Simulator::start(Cin7Config::default().with_faults(Arc::new(
        FaultPlan::none().rule(Some("GET /me"), 1.0, status(429)),
    )))
    .await
    .unwrap();
    let base = cin7.base_url();
    let out = ping(
        &["--cin7-base-url", &base],
        &[
            ("CIN7_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            ("CIN7_APPLICATION_KEY", DEFAULT_APPLICATION_KEY),
        ],
    )
    .await;
    assert_fails(
        &out,
        1,
        &[
            "Cin7 me",
            "kept throttling",
            "the account's API limit is reached",
        ],
        &[],
    );
}
