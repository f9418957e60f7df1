//! What the client counts for an installed [`metrics`] recorder (feature `metrics`; without
//! it these compile to nothing). Names and labels are listed in docs/operations.md, "Metrics".

/// One call the gateway answered with `status` (`None`: no answer, the connection failed).
/// `endpoint` is the path below the tenant (e.g. `CSI/IDORequestService/ido/load/SLVendors`).
pub(crate) fn answered(method: &str, endpoint: &str, status: Option<u16>) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "ion_api_calls_total",
        "method" => method.to_owned(),
        "endpoint" => endpoint.to_owned(),
        "status" => status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (method, endpoint, status);
}
