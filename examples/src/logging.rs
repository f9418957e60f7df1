//! Logging for every example binary: the same `tracing` subscriber on standard error, so
//! `RUST_LOG=trace` (tracing's filter syntax) shows the clients' spans in any of them.

use tracing_subscriber::EnvFilter;

/// Log to standard error at `RUST_LOG`, or else at `default` (a filter such as `"warn"` or
/// `"sync=info"`), or else at `warn` when `default` does not parse. A second call does nothing.
///
/// ```
/// examples::logging::init("warn");
/// tracing::warn!("shown on standard error");
/// ```
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
