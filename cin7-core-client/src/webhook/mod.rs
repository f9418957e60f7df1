//! Webhooks.
/// A webhook delivery was rejected.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// x
    #[error("x")]
    X,
}
