//! Webhooks: manage subscriptions (`/webhooks`) and receive deliveries.
//!
//! - [`Webhooks`] lists, creates, updates and deletes subscriptions. They need the Automation
//!   module; at most 5 webhooks of one type exist at a time; after 6 failed deliveries (about
//!   76 minutes) Cin7 deactivates a webhook, so re-enable inactive ones from a watchdog.
//! - [`WebhookReceiver`] authenticates a delivery (Cin7 signs nothing: use bearer, basic or a
//!   secret custom header, compared in constant time) and parses it into a typed
//!   [`WebhookEvent`]. Payloads carry IDs only: always re-fetch the document.

mod manage;
mod payload;
mod receiver;

pub use manage::{AuthorizationType, ExternalHeader, Webhook, WebhookType, Webhooks};
pub use payload::{
    CustomerDetails, CustomerUpdatedEvent, ProductUpdatedEvent, PurchaseTaskEvent,
    PurchaseUpdatedEvent, PurchaseUpdatedRow, SaleEvent, StockLevelChange, SupplierDetails,
    SupplierUpdatedEvent, WebhookEvent,
};
pub use receiver::{DeliveryAuth, WebhookReceiver};

/// Why a webhook delivery was rejected. Messages never contain the expected or the received
/// credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required credential header was absent.
    #[error("webhook delivery is missing the `{header}` header")]
    MissingCredentials {
        /// The header that was expected.
        header: String,
    },
    /// Credentials were present but wrong (or not in the expected scheme).
    #[error("webhook delivery has wrong credentials in `{header}`")]
    BadCredentials {
        /// The header that failed.
        header: String,
    },
    /// The body is not JSON, or an object in it repeats a key (which value counts would be a
    /// guess; see [`sdk_common::json`]).
    #[error("webhook body is not JSON with unique keys")]
    NotJson {
        /// The parse error, with where it is.
        #[source]
        source: sdk_common::json::TreeError,
    },
    /// The body has no `EventType`.
    #[error("webhook body has no EventType")]
    MissingEventType,
    /// The `EventType` is not one Cin7 documents.
    #[error("unknown webhook EventType {event_type:?}")]
    UnknownEvent {
        /// The type that was sent.
        event_type: String,
    },
    /// The body does not match the event's documented shape.
    #[error("malformed {event_type} payload at `{path}`")]
    Malformed {
        /// The event type.
        event_type: String,
        /// JSON path of the failing field.
        path: String,
        /// The decode error.
        #[source]
        source: serde_json::Error,
    },
    /// A receiver was configured wrongly (e.g. an invalid header name).
    #[error("invalid webhook receiver configuration: {0}")]
    Config(String),
}
