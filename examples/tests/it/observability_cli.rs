//! What an operator watches on the real runner: `--metrics-listen` serves Prometheus metrics
//! (records by stream and outcome, windows, lag, API calls of both systems by status, the
//! limiter's waits, open records per tenant), liveness and readiness; `--log-format json`
//! writes one JSON object per log line, with the run's spans.

use crate::common::*;

fn get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// The value of the sample `name{labels…}` whose labels include every one of `having`.
fn sample(metrics: &str, name: &str, having: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| having.iter().all(|h| l.contains(h)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_serves_metrics_health_and_json_logs() {
    let sims = start(102, 4).await;
    let port = dead_port();
    let config = sims.config(
        102,
        "",
        "[schedule]\ncadence = \"interval\"\nevery = \"1h\"\n",
    );
    let listen = format!("127.0.0.1:{port}");
    let mut sync = Running::start_with(
        &config,
        &[],
        &["--metrics-listen", &listen, "--log-format", "json"],
    );
    assert!(
        sync.wait_for(|l| l.starts_with("waiting for the next run")),
        "{:?}",
        sync.printed
    );
    assert!(
        sync.printed
            .iter()
            .any(|l| l.contains(&format!("metrics on http://{listen}/metrics")))
    );

    let metrics = tokio::task::spawn_blocking(move || {
        let (live, _) = get(port, "/healthz");
        let (ready, _) = get(port, "/readyz");
        let (status, metrics) = get(port, "/metrics");
        assert_eq!((live, ready, status), (200, 200, 200));
        metrics
    })
    .await
    .unwrap();
    let tenant = format!("tenant=\"{}\"", sims.ion.tenant());
    assert_eq!(
        sample(
            &metrics,
            "sync_records_total",
            &[&tenant, "stream=\"suppliers\"", "outcome=\"succeeded\""]
        ),
        Some(4.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "sync_windows_total",
            &["stream=\"suppliers\"", "result=\"committed\""]
        ) >= Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "sync_cursor_lag_seconds",
            &["stream=\"suppliers\""]
        )
        .is_some(),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "sync_window_duration_seconds_count",
            &["stream=\"suppliers\""]
        ) >= Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "cin7_api_calls_total",
            &["endpoint=\"supplier\"", "method=\"POST\"", "status=\"200\""]
        ) >= Some(4.0),
        "{metrics}"
    );
    assert!(
        sample(&metrics, "ion_api_calls_total", &["status=\"200\""]) >= Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(&metrics, "cin7_limiter_wait_seconds_count", &[]) >= Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "sync_open_records", &[&tenant]),
        Some(0.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "cin7_throttled_total", &[]),
        None,
        "nothing throttled: {metrics}"
    );

    // Every metric the dashboard in docs/ queries is one the runner exports (or one that
    // appears only once it happens: a throttle, a fleet job).
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/grafana/sync.json"
    ))
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            queried.extend(
                expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| {
                        w.starts_with("sync_")
                            || w.starts_with("cin7_")
                            || w.starts_with("ion_")
                            || w.starts_with("fleet_")
                    })
                    .map(|w| w.trim_end_matches("_bucket").to_owned()),
            );
        }
    }
    assert!(queried.len() >= 10, "{queried:?}");
    for name in queried {
        let happens_later = ["cin7_throttled_total", "fleet_jobs_total"].contains(&name.as_str());
        assert!(
            happens_later || metrics.contains(&name),
            "the dashboard queries {name}, which is not exported"
        );
    }

    let (status, printed) = sync.interrupt();
    assert!(status.success(), "{printed}");
    let logs: Vec<&str> = printed.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!logs.is_empty(), "{printed}");
    for line in &logs {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            parsed.get("level").is_some() && parsed.get("fields").is_some(),
            "{line}"
        );
    }
    assert!(
        logs.iter()
            .any(|l| l.contains("\"sync_run\"") && l.contains(&sims.ion.tenant().to_string())),
        "the run's span and tenant are in the lines: {logs:?}"
    );
}
