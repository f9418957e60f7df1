//! The `[returns]` and `[webhooks]` sections: the return direction (Cin7 purchases back to
//! CloudSuite purchase orders) and the webhook intake that triggers it.
//!
//! ```toml
//! [returns]
//! write = "ido"                   # "ido" or "bods" (CloudSuite Industrial), "m3" (M3 MI)
//! logical_id = "lid://infor.ims.cin7sync"   # bods only: the sender's logical id
//! # m3 only (product = "datalake": M3 tenants read POs and invoices from the Data Lake):
//! # company = "100"  division = "AAA"  facility = "A01"  warehouse = "MAIN"  responsible = "SYNC"
//! po_number_prefix = "C7"         # PO numbers created for purchases raised in Cin7
//! create_from = "ordered"         # ordered | partly_received | received
//! status_conflicts = "review"     # cloudsuite | cin7 | review
//! receipt_conflicts = "cin7"      # cloudsuite | cin7 | review
//! invoices = true                 # write invoices authorised in Cin7 back as A/P vouchers
//! # ido only: how SLAptrxs vouchers are numbered: "cloudsuite" (CloudSuite numbers them) or
//! # "invoice_number" (Voucher = voucher_prefix + the Cin7 invoice number)
//! voucher_numbering = "cloudsuite"
//! # voucher_prefix = "C7"         # with voucher_numbering = "invoice_number" only
//!
//! [returns.insert_defaults.SLPoItems]   # ido only: constants written on every insert
//! UM = "PCS"                      # default "EA"; "" writes none (the tenant's default applies)
//! # defaults: SLPos Type = "R"; SLPoItems PoRelease = "0", UM = "EA"
//!
//! [returns.items]                 # Cin7 SKU → CloudSuite item (unlisted: the same code)
//! "WIDGET-RED" = "WR-100"
//!
//! [returns.locations]             # Cin7 location → CloudSuite warehouse
//! "Main Warehouse" = "MAIN"
//!
//! [webhooks]                      # the scheduled runner also serves the webhook intake
//! listen = "0.0.0.0:8080"
//! token_env = "WEBHOOK_TOKEN"     # the bearer token Cin7 sends (see the `webhooks` binary)
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use sync_core::engine::returns::{
    ConflictPolicy, SourceInvoiceDraft, SourcePoChange, SourcePoDraft, SourcePoState,
    SourcePurchaseWriter, Winner,
};
use sync_core::error::TargetError;
use sync_core::model::PurchaseProgress;

use infor_ion_client::cloudsuite::returns::{INSERTED_IDOS, VoucherNumbering, computed_properties};

use super::{ConfigError, invalid, non_empty};
use sync_core::target::DryRunLog;

/// The `[returns]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReturns {
    write: Option<RawWrite>,
    logical_id: Option<String>,
    company: Option<String>,
    division: Option<String>,
    facility: Option<String>,
    warehouse: Option<String>,
    responsible: Option<String>,
    external_ref_property: Option<String>,
    po_number_prefix: Option<String>,
    create_from: Option<RawCreateFrom>,
    status_conflicts: Option<RawWinner>,
    receipt_conflicts: Option<RawWinner>,
    cin7_account_name: Option<String>,
    invoices: Option<bool>,
    voucher_numbering: Option<RawVoucherNumbering>,
    voucher_prefix: Option<String>,
    #[serde(default)]
    insert_defaults: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(default)]
    items: BTreeMap<String, String>,
    #[serde(default)]
    locations: BTreeMap<String, String>,
}

/// `returns.write`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawWrite {
    /// CloudSuite Industrial IDO updates.
    #[default]
    Ido,
    /// Process BODs through ION's Messaging Service.
    Bods,
    /// M3 MI transactions.
    M3,
}

/// `returns.create_from`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawCreateFrom {
    #[default]
    Ordered,
    PartlyReceived,
    Received,
}

/// `returns.status_conflicts` and `receipt_conflicts`: who wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawWinner {
    #[serde(rename = "cloudsuite")]
    CloudSuite,
    Cin7,
    Review,
}

/// `returns.voucher_numbering`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawVoucherNumbering {
    /// CloudSuite numbers vouchers.
    #[default]
    #[serde(rename = "cloudsuite")]
    CloudSuite,
    /// `voucher_prefix` + the Cin7 invoice number.
    InvoiceNumber,
}

/// The `[webhooks]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhooks {
    listen: Option<String>,
    token_env: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
}

/// How the return direction writes to CloudSuite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnWrite {
    /// CloudSuite Industrial IDO updates (`POST /update/SLPos`, `SLPoItems`).
    Ido,
    /// `ProcessPurchaseOrder` / `ProcessReceiveDelivery` BODs through ION's Messaging Service.
    Bods {
        /// The sending logical id (configured on an "IMS via ION API" connection point).
        logical_id: String,
    },
    /// M3 MI transactions (`PPS370MI` PO entry, `PPS001MI` receipts, `APS450MI` invoices).
    M3 {
        /// Company (`CONO`).
        company: String,
        /// Division (`DIVI`), if any.
        division: Option<String>,
        /// Facility (`FACI`) of the POs created.
        facility: String,
        /// Warehouse (`WHLO`) of a PO whose Cin7 location maps to none.
        warehouse: String,
        /// The user responsible for goods receipts.
        responsible: String,
    },
}

/// The validated `[returns]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnSettings {
    /// How to write.
    pub write: ReturnWrite,
    /// The `SLPos` property carrying the Cin7 purchase id (the writer's default when `None`).
    pub external_ref_property: Option<String>,
    /// Prefix of PO numbers created for purchases raised in Cin7.
    pub po_number_prefix: Option<String>,
    /// From which progress a purchase raised in Cin7 is created in CloudSuite.
    pub create_from: PurchaseProgress,
    /// Who wins a conflict, per field group.
    pub policy: ConflictPolicy,
    /// The name of the Cin7 account in the return records' identities (default `cin7`).
    pub cin7_account_name: String,
    /// Write invoices authorised in Cin7 back to CloudSuite (default `true`).
    pub invoices: bool,
    /// IDO mode: constants written on every insert, per IDO (`SLPos`, `SLPoItems`, `SLAptrxs`)
    /// and property, over the writer's defaults; an empty value writes none.
    pub insert_defaults: BTreeMap<String, BTreeMap<String, String>>,
    /// IDO mode: how vouchers inserted into `SLAptrxs` are numbered.
    pub voucher_numbering: VoucherNumbering,
    /// Cin7 SKU → CloudSuite item.
    pub items: BTreeMap<String, String>,
    /// Cin7 location → CloudSuite warehouse.
    pub locations: BTreeMap<String, String>,
}

/// The validated `[webhooks]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The address the intake listens on.
    pub listen: String,
    /// The environment variable holding the bearer token deliveries must carry.
    pub token_env: String,
    /// TLS served by the intake itself (`None`: plain HTTP, behind a TLS-terminating proxy).
    pub tls: Option<super::ListenerTls>,
}

fn winner(value: Option<RawWinner>, default: Winner) -> Winner {
    match value {
        None => default,
        Some(RawWinner::CloudSuite) => Winner::Source,
        Some(RawWinner::Cin7) => Winner::Target,
        Some(RawWinner::Review) => Winner::Review,
    }
}

/// `[returns.insert_defaults.<IDO>]`: IDOs the return path inserts into, property names it
/// does not compute, string (or number) values.
fn parse_insert_defaults(
    raw: BTreeMap<String, BTreeMap<String, toml::Value>>,
    external_ref_property: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ConfigError> {
    const KEY: &str = "returns.insert_defaults";
    let mut parsed = BTreeMap::new();
    for (ido, properties) in raw {
        if !INSERTED_IDOS.contains(&ido.as_str()) {
            return Err(invalid(
                KEY,
                format!(
                    "[returns.insert_defaults.{ido}]: the return path inserts into {} only (IDO names are case-sensitive)",
                    INSERTED_IDOS.join(", ")
                ),
            ));
        }
        let mut values = BTreeMap::new();
        for (property, value) in properties {
            let key = format!("returns.insert_defaults.{ido}.{property}");
            if infor_ion_client::csi::checked_property(&property).is_err() {
                return Err(invalid(
                    KEY,
                    format!("`{key}`: `{property}` is not a property name (letters, digits and _)"),
                ));
            }
            let computed = computed_properties(&ido).contains(&property.as_str())
                || (ido == "SLPos" && property == external_ref_property);
            if computed {
                return Err(invalid(
                    KEY,
                    format!(
                        "`{key}`: the return path writes {property} from the Cin7 record; it cannot be a constant"
                    ),
                ));
            }
            let text = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(n) => n.to_string(),
                _ => {
                    return Err(invalid(
                        KEY,
                        format!(
                            "`{key}`: give the value as a string, e.g. \"EA\" (\"\" writes none)"
                        ),
                    ));
                }
            };
            values.insert(property, text);
        }
        parsed.insert(ido, values);
    }
    Ok(parsed)
}

fn parse_voucher_numbering(
    numbering: RawVoucherNumbering,
    prefix: Option<String>,
) -> Result<VoucherNumbering, ConfigError> {
    match numbering {
        RawVoucherNumbering::CloudSuite => {
            if prefix.is_some() {
                return Err(invalid(
                    "returns.voucher_prefix",
                    "only used with voucher_numbering = \"invoice_number\"",
                ));
            }
            Ok(VoucherNumbering::CloudSuite)
        }
        RawVoucherNumbering::InvoiceNumber => {
            let prefix = prefix.unwrap_or_default();
            if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(
                    "returns.voucher_prefix",
                    format!(
                        "{prefix:?}: a voucher number prefix has no spaces or control characters"
                    ),
                ));
            }
            Ok(VoucherNumbering::FromInvoice { prefix })
        }
    }
}

pub(super) fn parse_returns(raw: RawReturns) -> Result<ReturnSettings, ConfigError> {
    let m3_keys = [
        ("returns.company", &raw.company),
        ("returns.division", &raw.division),
        ("returns.facility", &raw.facility),
        ("returns.warehouse", &raw.warehouse),
        ("returns.responsible", &raw.responsible),
    ];
    let write = raw.write.unwrap_or_default();
    if write != RawWrite::Bods && raw.logical_id.is_some() {
        return Err(invalid(
            "returns.logical_id",
            "only used with write = \"bods\"",
        ));
    }
    if write != RawWrite::M3
        && let Some((key, _)) = m3_keys.iter().find(|(_, value)| value.is_some())
    {
        return Err(invalid(key, "only used with write = \"m3\""));
    }
    let ido_keys = [
        ("returns.insert_defaults", !raw.insert_defaults.is_empty()),
        ("returns.voucher_numbering", raw.voucher_numbering.is_some()),
        ("returns.voucher_prefix", raw.voucher_prefix.is_some()),
    ];
    if write != RawWrite::Ido
        && let Some((key, _)) = ido_keys.iter().find(|(_, given)| *given)
    {
        return Err(invalid(
            key,
            "only used with write = \"ido\" (IDO inserts into SLPos, SLPoItems, SLAptrxs)",
        ));
    }
    let external_ref_property = non_empty(raw.external_ref_property);
    let insert_defaults = parse_insert_defaults(
        raw.insert_defaults,
        external_ref_property.as_deref().unwrap_or("VendOrder"),
    )?;
    let voucher_numbering = parse_voucher_numbering(
        raw.voucher_numbering.unwrap_or_default(),
        raw.voucher_prefix,
    )?;
    let m3_key = |key: &'static str, value: Option<String>, hint: &'static str| {
        non_empty(value).ok_or(ConfigError::Missing { key, hint })
    };
    let write = match write {
        RawWrite::Ido => ReturnWrite::Ido,
        RawWrite::Bods => ReturnWrite::Bods {
            logical_id: non_empty(raw.logical_id).ok_or_else(|| {
                invalid(
                    "returns.logical_id",
                    "write = \"bods\" needs the sending logical id, e.g. \"lid://infor.ims.cin7sync\"",
                )
            })?,
        },
        RawWrite::M3 => ReturnWrite::M3 {
            company: m3_key("returns.company", raw.company, "the M3 company (CONO) POs are written to")?,
            division: non_empty(raw.division),
            facility: m3_key("returns.facility", raw.facility, "the facility (FACI) of the POs created")?,
            warehouse: m3_key(
                "returns.warehouse",
                raw.warehouse,
                "the warehouse (WHLO) of a PO whose Cin7 location maps to none",
            )?,
            responsible: m3_key(
                "returns.responsible",
                raw.responsible,
                "the M3 user responsible for goods receipts",
            )?,
        },
    };
    let create_from = match raw.create_from.unwrap_or_default() {
        RawCreateFrom::Ordered => PurchaseProgress::Ordered,
        RawCreateFrom::PartlyReceived => PurchaseProgress::PartlyReceived,
        RawCreateFrom::Received => PurchaseProgress::Received,
    };
    let defaults = ConflictPolicy::default();
    let policy = ConflictPolicy {
        status: winner(raw.status_conflicts, defaults.status),
        receipts: winner(raw.receipt_conflicts, defaults.receipts),
    };
    let po_number_prefix = non_empty(raw.po_number_prefix);
    if po_number_prefix.as_ref().is_some_and(|p| p.len() >= 10) {
        return Err(invalid(
            "returns.po_number_prefix",
            "CloudSuite Industrial PO numbers hold 10 characters: keep the prefix shorter",
        ));
    }
    Ok(ReturnSettings {
        write,
        external_ref_property,
        po_number_prefix,
        create_from,
        policy,
        cin7_account_name: non_empty(raw.cin7_account_name).unwrap_or_else(|| "cin7".into()),
        invoices: raw.invoices.unwrap_or(true),
        insert_defaults,
        voucher_numbering,
        items: raw.items,
        locations: raw.locations,
    })
}

pub(super) fn parse_webhooks(
    raw: RawWebhooks,
    base: &std::path::Path,
) -> Result<WebhookSettings, ConfigError> {
    let listen = non_empty(raw.listen).ok_or(ConfigError::Missing {
        key: "webhooks.listen",
        hint: "the address the webhook intake listens on, e.g. listen = \"0.0.0.0:8080\"",
    })?;
    if listen.parse::<std::net::SocketAddr>().is_err() {
        return Err(invalid(
            "webhooks.listen",
            format!("`{listen}` is not an address and port such as 0.0.0.0:8080"),
        ));
    }
    Ok(WebhookSettings {
        listen,
        token_env: non_empty(raw.token_env).unwrap_or_else(|| "WEBHOOK_TOKEN".into()),
        tls: super::listen::parse_tls(
            ("webhooks.tls_cert", "webhooks.tls_key"),
            raw.tls_cert,
            raw.tls_key,
            base,
        )?,
    })
}

/// A [`SourcePurchaseWriter`] for dry runs: reads CloudSuite through the real writer, writes
/// nothing, and logs what it would have written in the run's [`DryRunLog`].
pub struct DryRunWriter {
    inner: Arc<dyn SourcePurchaseWriter>,
    log: Arc<DryRunLog>,
}

impl std::fmt::Debug for DryRunWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DryRunWriter").finish_non_exhaustive()
    }
}

impl DryRunWriter {
    /// Wrap `inner`, logging into `log`.
    pub fn new(inner: Arc<dyn SourcePurchaseWriter>, log: Arc<DryRunLog>) -> Self {
        DryRunWriter { inner, log }
    }
}

#[async_trait]
impl SourcePurchaseWriter for DryRunWriter {
    async fn get_po(&self, po_number: &str) -> Result<Option<SourcePoState>, TargetError> {
        self.inner.get_po(po_number).await
    }

    async fn find_by_external_ref(&self, external_ref: &str) -> Result<Vec<String>, TargetError> {
        self.inner.find_by_external_ref(external_ref).await
    }

    async fn create_po(&self, draft: &SourcePoDraft) -> Result<String, TargetError> {
        self.log.record(format!(
            "create CloudSuite PO {} ({} line(s)) for Cin7 purchase {}",
            draft.po_number,
            draft.lines.len(),
            draft.external_number
        ));
        Ok(draft.po_number.clone())
    }

    async fn complete_po(&self, po_number: &str, draft: &SourcePoDraft) -> Result<(), TargetError> {
        self.log.record(format!(
            "complete CloudSuite PO {po_number}: insert those of its {} line(s) it lacks, for Cin7 purchase {}",
            draft.lines.len(),
            draft.external_number
        ));
        Ok(())
    }

    async fn update_po(&self, po_number: &str, change: &SourcePoChange) -> Result<(), TargetError> {
        let mut parts = Vec::new();
        if let Some(status) = &change.status {
            parts.push(format!("status {status:?}"));
        }
        for line in &change.received {
            parts.push(format!("line {} received {}", line.line_no, line.total));
        }
        self.log.record(format!(
            "update CloudSuite PO {po_number}: {}",
            parts.join(", ")
        ));
        Ok(())
    }

    fn writes_invoices(&self) -> bool {
        self.inner.writes_invoices()
    }

    async fn find_invoices(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Vec<String>, TargetError> {
        self.inner.find_invoices(vendor_id, invoice_number).await
    }

    async fn create_invoice(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        self.log.record(format!(
            "create CloudSuite invoice {} of vendor {} on PO {} ({} line(s), {} {})",
            draft.invoice_number,
            draft.vendor_id,
            draft.po_number,
            draft.lines.len(),
            draft.amount,
            draft.currency
        ));
        Ok(format!("dry-run-{}", draft.invoice_number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ReturnSettings, ConfigError> {
        let raw: RawReturns = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            key: "test",
            message: e.to_string(),
        })?;
        parse_returns(raw)
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(settings) => panic!("accepted: {settings:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn insert_defaults_and_voucher_numbering_are_read() {
        let settings = parse(
            "voucher_numbering = \"invoice_number\"\nvoucher_prefix = \"C7-\"\n\
             [insert_defaults.SLPoItems]\nUM = \"PCS\"\nPoRelease = 0\n\
             [insert_defaults.SLPos]\nType = \"\"\n",
        )
        .expect("valid");
        assert_eq!(
            settings.voucher_numbering,
            VoucherNumbering::FromInvoice {
                prefix: "C7-".into()
            }
        );
        assert_eq!(settings.insert_defaults["SLPoItems"]["UM"], "PCS");
        assert_eq!(settings.insert_defaults["SLPoItems"]["PoRelease"], "0");
        assert_eq!(settings.insert_defaults["SLPos"]["Type"], "");
        let plain = parse("").expect("valid");
        assert_eq!(plain.voucher_numbering, VoucherNumbering::CloudSuite);
        assert!(plain.insert_defaults.is_empty());
    }

    #[test]
    fn bad_keys_are_named() {
        for (text, wanted) in [
            (
                "[insert_defaults.SLVendors]\nName = \"x\"\n",
                "[returns.insert_defaults.SLVendors]",
            ),
            (
                "[insert_defaults.SLPoItems]\nQtyOrdered = \"1\"\n",
                "returns.insert_defaults.SLPoItems.QtyOrdered",
            ),
            (
                "[insert_defaults.SLPos]\nVendOrder = \"x\"\n",
                "returns.insert_defaults.SLPos.VendOrder",
            ),
            (
                "external_ref_property = \"Uf_Ref\"\n[insert_defaults.SLPos]\nUf_Ref = \"x\"\n",
                "returns.insert_defaults.SLPos.Uf_Ref",
            ),
            (
                "[insert_defaults.SLPos]\n\"Type;--\" = \"R\"\n",
                "not a property name",
            ),
            (
                "[insert_defaults.SLPos]\nType = true\n",
                "returns.insert_defaults.SLPos.Type",
            ),
            (
                "voucher_numbering = \"ours\"\n",
                "unknown variant `ours`, expected `cloudsuite` or `invoice_number`",
            ),
            ("voucher_prefix = \"C7\"\n", "returns.voucher_prefix"),
            (
                "voucher_numbering = \"invoice_number\"\nvoucher_prefix = \"C 7\"\n",
                "returns.voucher_prefix",
            ),
            (
                "write = \"bods\"\nlogical_id = \"lid://x\"\nvoucher_numbering = \"cloudsuite\"\n",
                "returns.voucher_numbering",
            ),
            (
                "write = \"m3\"\ncompany = \"1\"\nfacility = \"A\"\nwarehouse = \"W\"\nresponsible = \"R\"\n[insert_defaults.SLPos]\nType = \"R\"\n",
                "returns.insert_defaults",
            ),
        ] {
            let message = error(text);
            assert!(message.contains(wanted), "{text}: {message}");
        }
    }
}
