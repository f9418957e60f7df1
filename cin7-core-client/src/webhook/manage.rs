//! Webhook subscriptions: `GET/POST/PUT/DELETE /webhooks` (not paged).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::client::Cin7Client;
use crate::codec::{self, Guid, open_enum};
use crate::error::{Error, Result};
use crate::request::Cin7Request;

open_enum! {
    /// A webhook event type (2025 list). Spelling is "Authorised" except
    /// `Opportunity/Authorized`, as the API spells it.
    pub enum WebhookType {
        /// Sale created.
        SaleCreated => "Sale/Created",
        /// Quote authorised.
        SaleQuoteAuthorised => "Sale/QuoteAuthorised",
        /// Order authorised.
        SaleOrderAuthorised => "Sale/OrderAuthorised",
        /// Sale voided (deliveries reported missing: poll as a backstop).
        SaleVoided => "Sale/Voided",
        /// Backordered.
        SaleBackordered => "Sale/Backordered",
        /// Shipment authorised.
        SaleShipmentAuthorised => "Sale/ShipmentAuthorised",
        /// Invoice authorised.
        SaleInvoiceAuthorised => "Sale/InvoiceAuthorised",
        /// Pick authorised.
        SalePickAuthorised => "Sale/PickAuthorised",
        /// Pack authorised.
        SalePackAuthorised => "Sale/PackAuthorised",
        /// Credit note authorised.
        SaleCreditNoteAuthorised => "Sale/CreditNoteAuthorised",
        /// Undo.
        SaleUndo => "Sale/Undo",
        /// Partial payment received.
        SalePartialPaymentReceived => "Sale/PartialPaymentReceived",
        /// Full payment received.
        SaleFullPaymentReceived => "Sale/FullPaymentReceived",
        /// Attachment added.
        SaleAttachmentAdded => "Sale/AttachmentAdded",
        /// Additional attributes changed.
        SaleAdditionalAttributesChanged => "Sale/AdditionalAttributesChanged",
        /// Tracking number changed.
        SaleShipmentTrackingNumberChanged => "Sale/ShipmentTrackingNumberChanged",
        /// Purchase order authorised.
        PurchaseOrderAuthorised => "Purchase/OrderAuthorised",
        /// Purchase invoice authorised.
        PurchaseInvoiceAuthorised => "Purchase/InvoiceAuthorised",
        /// Stock received authorised.
        PurchaseStockReceivedAuthorised => "Purchase/StockReceivedAuthorised",
        /// Purchase credit note authorised.
        PurchaseCreditNoteAuthorised => "Purchase/CreditNoteAuthorised",
        /// Purchase updated.
        PurchaseUpdated => "Purchase/Updated",
        /// Customer updated.
        CustomerUpdated => "Customer/Updated",
        /// Supplier updated.
        SupplierUpdated => "Supplier/Updated",
        /// Product updated.
        ProductUpdated => "Product/Updated",
        /// Available stock changed.
        StockAvailableStockLevelChanged => "Stock/AvailableStockLevelChanged",
        /// Lead updated.
        LeadUpdated => "Lead/Updated",
        /// Lead converted.
        LeadConverted => "Lead/Converted",
        /// Opportunity authorised (spelt with a z by Cin7).
        OpportunityAuthorized => "Opportunity/Authorized",
        /// Opportunity attachment added.
        OpportunityAttachmentAdded => "Opportunity/AttachmentAdded",
        /// Opportunity voided.
        OpportunityVoided => "Opportunity/Voided",
        /// Opportunity converted.
        OpportunityConverted => "Opportunity/Converted",
        /// Task overdue.
        TaskOverdue => "Task/Overdue",
    }
}

open_enum! {
    /// How Cin7 authenticates to your receiver.
    pub enum AuthorizationType {
        /// No credentials (use a secret custom header instead).
        NoAuth => "noauth",
        /// HTTP Basic.
        BasicAuth => "basicauth",
        /// Bearer token.
        BearerAuth => "bearerauth",
    }
}

fn expose_opt<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(secret) => s.serialize_str(secret.expose_secret()),
        None => s.serialize_none(),
    }
}

fn expose<S: Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.expose_secret())
}

/// A custom header Cin7 sends with each delivery (e.g. a secret verification token).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExternalHeader {
    /// Header name.
    pub key: String,
    /// Header value (kept secret: it may be your verification token).
    #[serde(serialize_with = "expose")]
    pub value: SecretString,
}

/// A webhook subscription. Its credentials are [`SecretString`]s: `Debug` never shows them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Webhook {
    /// ID (required on update).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// Event type (required).
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub webhook_type: Option<WebhookType>,
    /// Friendly name (read-only).
    #[serde(skip_serializing)]
    pub name: Option<String>,
    /// Whether deliveries are made (Cin7 turns this off after 6 failed attempts).
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Your receiver URL (required).
    #[serde(rename = "ExternalURL")]
    pub external_url: String,
    /// noauth, basicauth or bearerauth (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_authorization_type: Option<AuthorizationType>,
    /// Basic-auth user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_user_name: Option<String>,
    /// Basic-auth password.
    #[serde(serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub external_password: Option<SecretString>,
    /// Bearer token.
    #[serde(serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub external_bearer_token: Option<SecretString>,
    /// Custom headers sent with each delivery.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_headers: Vec<ExternalHeader>,
}

impl Webhook {
    fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| {
            Err(Error::InvalidInput {
                field,
                reason: reason.into(),
            })
        };
        if self.webhook_type.is_none() {
            return invalid("Webhook.Type", "is required");
        }
        if self.is_active.is_none() {
            return invalid("Webhook.IsActive", "is required");
        }
        match url::Url::parse(&self.external_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return invalid("Webhook.ExternalURL", "must be an http(s) URL"),
        }
        match &self.external_authorization_type {
            None => invalid("Webhook.ExternalAuthorizationType", "is required"),
            Some(AuthorizationType::BasicAuth)
                if self.external_user_name.is_none() || self.external_password.is_none() =>
            {
                invalid(
                    "Webhook.ExternalPassword",
                    "basicauth needs ExternalUserName and ExternalPassword",
                )
            }
            Some(AuthorizationType::BearerAuth) if self.external_bearer_token.is_none() => {
                invalid("Webhook.ExternalBearerToken", "bearerauth needs a token")
            }
            _ => Ok(()),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WebhookEnvelope {
    #[serde(default)]
    webhooks: Vec<Webhook>,
}

/// Webhook subscription endpoints; see [`Cin7Client::webhooks`].
#[derive(Debug, Clone)]
pub struct Webhooks {
    client: Cin7Client,
}

impl Cin7Client {
    /// Webhook subscription endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// // Watchdog: re-enable webhooks Cin7 switched off after failed deliveries.
    /// for mut hook in client.webhooks().list().await? {
    ///     if hook.is_active == Some(false) {
    ///         hook.is_active = Some(true);
    ///         client.webhooks().update(&hook).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn webhooks(&self) -> Webhooks {
        Webhooks {
            client: self.clone(),
        }
    }
}

impl Webhooks {
    /// `GET /webhooks` (not paged).
    pub async fn list(&self) -> Result<Vec<Webhook>> {
        let envelope: WebhookEnvelope = self.client.send(Cin7Request::get("webhooks")).await?;
        Ok(envelope.webhooks)
    }

    /// `POST /webhooks`: subscribe (never resent after an uncertain failure). Cin7 refuses it
    /// without the Automation module or with 5 webhooks of the type already.
    pub async fn create(&self, webhook: &Webhook) -> Result<Webhook> {
        if webhook.id.is_some() {
            return Err(Error::InvalidInput {
                field: "Webhook.ID",
                reason: "a new webhook must not carry an ID".into(),
            });
        }
        webhook.validate()?;
        self.saved(Cin7Request::post("webhooks").json(webhook))
            .await
    }

    /// `PUT /webhooks` (`ID` required).
    pub async fn update(&self, webhook: &Webhook) -> Result<Webhook> {
        if webhook.id.is_none() {
            return Err(Error::InvalidInput {
                field: "Webhook.ID",
                reason: "an update needs the webhook ID".into(),
            });
        }
        webhook.validate()?;
        self.saved(Cin7Request::put("webhooks").json(webhook)).await
    }

    /// `DELETE /webhooks?ID=`.
    pub async fn delete(&self, id: &Guid) -> Result<()> {
        let request = Cin7Request::delete("webhooks").query("ID", id);
        self.client.execute(request).await.map(|_| ())
    }

    async fn saved(&self, request: Cin7Request) -> Result<Webhook> {
        let endpoint = request.path().to_owned();
        let envelope: WebhookEnvelope = self.client.send(request).await?;
        envelope
            .webhooks
            .into_iter()
            .next()
            .ok_or_else(|| Error::Decode {
                endpoint,
                path: "Webhooks".into(),
                source: serde::de::Error::custom("the saved webhook is missing from the answer"),
            })
    }
}
