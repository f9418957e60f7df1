//! Logging for every example binary: the same `tracing` subscriber on standard error, so
//! `RUST_LOG=trace` (tracing's filter syntax) shows the clients' spans in any of them.

use tracing_subscriber::EnvFilter;

/// Log to standard error at `RUST_LOG` when it is set, or else at `default` (a filter such as
/// `"warn"` or `"sync=info"`). A filter that does not parse is reported on standard error and
/// replaced by `warn`, rather than silently changing what is logged. A second call does nothing.
///
/// ```
/// examples::logging::init("warn");
/// tracing::warn!("shown on standard error");
/// ```
pub fn init(default: &str) {
    init_as(default, LogFormat::Text);
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event (colours on a terminal).
    #[default]
    Text,
    /// One JSON object per line, with the fields of the event and of its spans (tenant,
    /// stream, run id, record), for a log collector.
    Json,
}

/// [`init`] in the given format.
pub fn init_as(default: &str, format: LogFormat) {
    let (filter, warning) = choose(std::env::var("RUST_LOG").ok(), default);
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}

/// The filter from `env` (the value of `RUST_LOG`) or `default`, and the warning to print when
/// the one chosen does not parse.
fn choose(env: Option<String>, default: &str) -> (EnvFilter, Option<String>) {
    let wanted = env.filter(|text| !text.trim().is_empty());
    let wanted = wanted.as_deref().unwrap_or(default);
    match EnvFilter::try_new(wanted) {
        Ok(filter) => (filter, None),
        Err(error) => (
            EnvFilter::new("warn"),
            Some(format!(
                "warning: the log filter `{wanted}` does not parse ({error}); logging warnings only"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_wins_and_a_filter_that_does_not_parse_is_reported() {
        let (filter, warning) = choose(Some("sync_core=trace".into()), "info");
        assert_eq!(filter.to_string(), "sync_core=trace");
        assert_eq!(warning, None);
        let (filter, warning) = choose(Some("  ".into()), "info");
        assert_eq!((filter.to_string(), warning), ("info".to_owned(), None));
        let (filter, warning) = choose(None, "sync=[[");
        assert_eq!(filter.to_string(), "warn");
        let warning = warning.unwrap_or_default();
        assert!(
            warning.starts_with("warning: the log filter `sync=[[` does not parse"),
            "{warning}"
        );
    }
}
