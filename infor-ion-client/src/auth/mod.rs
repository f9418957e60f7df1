//! OAuth 2.0 for the ION API Gateway: the password grant with a service account, proactive
//! refresh, single-flight token requests and revocation.
//!
//! See [`TokenProvider`] for the lifecycle and [`AuthConfig`] for the settings.

mod provider;
mod token;

pub use provider::{AuthConfig, ClientAuth, TokenProvider};
pub use token::AccessToken;
