//! Sending BODs to ION through the ION Messaging Service (IMS) via the API Gateway.
//!
//! A message is a `multipart/form-data` POST with two parts: `ParameterRequest` (JSON naming the
//! document, the sending logical id and the document's identity) and `MessagePayload` (the BOD
//! XML). ION answers 201 (IMS v2) or 202 (IMS v3); any 2xx is success. ION checks that the
//! calling client id is configured on an "IMS via ION API" connection point whose logical id
//! matches `fromLogicalId` (else 403).

use bytes::Bytes;
use serde::Serialize;

use crate::bod::{Bod, Noun};
use crate::client::{IonClient, IonRequest, MultipartPart, RequestBody};
use crate::error::Result;

/// The documented gateway path of the IMS v2 multipart endpoint, below the API base. The v3
/// path is unconfirmed; set yours with [`Ims::with_path`].
pub const DEFAULT_IMS_PATH: &str = "IONSERVICES/api/ion/messaging/service/v2/multipartMessage";

/// The IMS sender; see [`IonClient::ims`].
#[derive(Debug, Clone)]
pub struct Ims {
    client: IonClient,
    path: String,
    from_logical_id: String,
}

/// The `ParameterRequest` part of an IMS message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterRequest {
    /// The BOD root name, e.g. `ProcessPurchaseOrder`.
    pub document_name: String,
    /// The sending connection point, e.g. `lid://infor.ims.cin7sync`.
    pub from_logical_id: String,
    /// The receiver (`lid://default` lets ION's document flow decide).
    pub to_logical_id: String,
    /// `NONE` (or `DEFLATE`).
    pub encoding: String,
    /// `UTF-8`.
    pub character_set: String,
    /// An optional message id (the BODID is a good one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The accounting entity of the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounting_entity: Option<String>,
    /// The location of the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The document id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// The document's variation id (receivers drop lower-or-equal ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variation_id: Option<u64>,
}

impl IonClient {
    /// An IMS sender whose messages come from `from_logical_id` (the logical id of your "IMS via
    /// ION API" connection point, e.g. `lid://infor.ims.cin7sync`).
    pub fn ims(&self, from_logical_id: impl Into<String>) -> Ims {
        Ims {
            client: self.clone(),
            path: DEFAULT_IMS_PATH.to_owned(),
            from_logical_id: from_logical_id.into(),
        }
    }
}

impl Ims {
    /// Use another multipart-message path below the API base.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into().trim_matches('/').to_owned();
        self
    }

    /// The parameters for sending `bod`, with the document identity taken from its first noun.
    pub fn parameters<N: Noun>(&self, bod: &Bod<N>) -> ParameterRequest {
        let id = bod
            .nouns
            .first()
            .and_then(|noun| crate::bod::key_for(bod, noun));
        ParameterRequest {
            document_name: bod.root_name(),
            from_logical_id: self.from_logical_id.clone(),
            to_logical_id: "lid://default".to_owned(),
            encoding: "NONE".to_owned(),
            character_set: "UTF-8".to_owned(),
            message_id: bod.application_area.bod_id.clone(),
            accounting_entity: id
                .as_ref()
                .and_then(|(key, _)| key.accounting_entity.clone()),
            location: id.as_ref().and_then(|(key, _)| key.location.clone()),
            document_id: id.as_ref().map(|(key, _)| key.document_id.clone()),
            variation_id: id.and_then(|(_, variation)| variation),
        }
    }

    /// Send a BOD. Resending the same BOD is harmless (receivers drop a `variationID` they have
    /// already seen), so a timed-out send is retried like an idempotent request.
    pub async fn send<N: Noun>(&self, bod: &Bod<N>) -> Result<()> {
        let xml = bod.to_xml()?;
        self.send_raw(&self.parameters(bod), Bytes::from(xml)).await
    }

    /// Send prepared parameters and XML payload.
    pub async fn send_raw(&self, parameters: &ParameterRequest, payload: Bytes) -> Result<()> {
        let parameters = serde_json::to_vec(parameters)
            .map_err(|e| crate::Error::InvalidRequest(format!("IMS parameters: {e}")))?;
        let request = IonRequest::post(&self.path)
            .with_body(RequestBody::Multipart(vec![
                MultipartPart {
                    name: "ParameterRequest".to_owned(),
                    content_type: "application/json".to_owned(),
                    file_name: Some("ParameterRequest.json".to_owned()),
                    content: parameters.into(),
                },
                MultipartPart {
                    name: "MessagePayload".to_owned(),
                    content_type: "application/octet-stream".to_owned(),
                    file_name: Some("MessagePayload.xml".to_owned()),
                    content: payload,
                },
            ]))
            .idempotent();
        self.client.send(request).await.map(|_| ())
    }
}
