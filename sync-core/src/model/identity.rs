//! Where a record came from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The identity of a record in its source system: which system, which tenant, which accounting
/// entity (company, division, site) and the record's own key there.
///
/// Two records are the same record exactly when their identities are equal; every cross
/// reference and audit row is keyed by it.
///
/// ```
/// use sync_core::model::SourceIdentity;
/// let id = SourceIdentity::new("cloudsuite", "ACME_PRD", "10", "V1001");
/// assert_eq!(id.to_string(), "cloudsuite/ACME_PRD/10/V1001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceIdentity {
    /// The source system, e.g. `cloudsuite`.
    pub system: String,
    /// The tenant in that system (an ION tenant id such as `ACME_PRD`).
    pub tenant: String,
    /// The accounting entity (CSI site, M3 company/division); empty when the source has none.
    pub accounting_entity: String,
    /// The record's key in the source (vendor number, PO number, voucher, account code).
    pub id: String,
}

impl SourceIdentity {
    /// Build an identity.
    pub fn new(
        system: impl Into<String>,
        tenant: impl Into<String>,
        accounting_entity: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        SourceIdentity {
            system: system.into(),
            tenant: tenant.into(),
            accounting_entity: accounting_entity.into(),
            id: id.into(),
        }
    }

    /// Another record of the same system, tenant and entity (e.g. the supplier a PO refers to).
    pub fn sibling(&self, id: impl Into<String>) -> Self {
        SourceIdentity {
            id: id.into(),
            ..self.clone()
        }
    }

    /// A single string key, stable across versions, used by stores (`system/tenant/entity/id`).
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for SourceIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.system, self.tenant, self.accounting_entity, self.id
        )
    }
}
