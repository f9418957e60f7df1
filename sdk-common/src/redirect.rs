//! Which redirects a client may follow (feature `http`).
//!
//! Both clients send credentials with every call: Cin7's `api-auth-*` headers, ION's bearer
//! token and its token form (client secret, service-account keys). `reqwest`'s default policy
//! follows up to ten redirects anywhere, forwards custom headers to other hosts and resends a
//! form on 307/308, so a redirect (a misconfigured proxy, a hijacked DNS name) could carry them
//! to another host. The clients use [`same_origin`] instead: a redirect is followed only to
//! the same scheme, host and port as the request it answers, so nothing leaves the configured
//! origin and nothing is downgraded from `https` to `http`.

use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

/// The most redirects followed for one request (all within its origin).
pub const MAX_REDIRECTS: usize = 5;

/// A redirect policy that follows at most [`MAX_REDIRECTS`] redirects, each to the origin of
/// the original request, and refuses any other with an error naming only the origin it
/// pointed to (never its path or query, which may carry a token).
///
/// ```
/// let http = reqwest::Client::builder()
///     .redirect(sdk_common::redirect::same_origin())
///     .build();
/// assert!(http.is_ok());
/// ```
pub fn same_origin() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match check(first, attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refusal) => attempt.error(refusal),
        }
    })
}

/// Whether a redirect from `from` to `to` may be followed: only within one origin (scheme,
/// host and port). The refusal names the target's origin.
///
/// ```
/// use reqwest::Url;
/// use sdk_common::redirect::check;
///
/// let api = Url::parse("https://inventory.dearsystems.com/ExternalApi/v2/supplier").unwrap();
/// let moved = Url::parse("https://inventory.dearsystems.com/ExternalApi/v2/Supplier").unwrap();
/// assert!(check(&api, &moved).is_ok());
/// let away = Url::parse("https://collector.example/steal?key=1").unwrap();
/// let refusal = check(&api, &away).unwrap_err();
/// assert!(refusal.contains("https://collector.example") && !refusal.contains("key=1"));
/// let downgrade = Url::parse("http://inventory.dearsystems.com/ExternalApi/v2/supplier").unwrap();
/// assert!(check(&api, &downgrade).is_err());
/// ```
pub fn check(from: &Url, to: &Url) -> Result<(), String> {
    if from.origin() == to.origin() {
        Ok(())
    } else {
        Err(format!(
            "a redirect to {} was not followed: credentials are only sent to {}",
            to.origin().ascii_serialization(),
            from.origin().ascii_serialization()
        ))
    }
}

/// Whether `url` names this machine (`localhost`, `127.0.0.0/8`, `::1`): the only hosts a
/// client talks to over plain `http` (a simulator, a local proxy).
///
/// ```
/// use reqwest::Url;
/// use sdk_common::redirect::is_loopback;
///
/// assert!(is_loopback(&Url::parse("http://127.0.0.1:8080/").unwrap()));
/// assert!(is_loopback(&Url::parse("http://[::1]/").unwrap()));
/// assert!(!is_loopback(&Url::parse("http://inventory.dearsystems.com/").unwrap()));
/// ```
pub fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}
