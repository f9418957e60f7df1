//! What the client counts for an installed [`metrics`] recorder (feature `metrics`; without
//! it these compile to nothing). Names and labels are listed in docs/operations.md, "Metrics".

/// One call Cin7 answered with `status` (`None`: no answer, the connection failed).
pub(crate) fn answered(method: &str, endpoint: &str, status: Option<u16>) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "cin7_api_calls_total",
        "method" => method.to_owned(),
        "endpoint" => endpoint.to_owned(),
        "status" => status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (method, endpoint, status);
}

/// Cin7 throttled a call (429, or a 503 saying so).
pub(crate) fn throttled(endpoint: &str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("cin7_throttled_total", "endpoint" => endpoint.to_owned()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = endpoint;
}

/// A call waited this long for the account's rate limiter.
pub(crate) fn limiter_waited(seconds: f64) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("cin7_limiter_wait_seconds").record(seconds);
    #[cfg(not(feature = "metrics"))]
    let _ = seconds;
}
