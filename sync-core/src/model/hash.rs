//! Stable content hashes.
//!
//! A record's hash is SHA-256 over a canonical JSON form of the record: object keys sorted,
//! no insignificant whitespace, and the record's volatile fields (its `modified_at`, which says
//! when, not what) removed. Sorting is done here rather than relying on `serde_json`'s map
//! type, because another crate in the build enabling `serde_json/preserve_order` would
//! otherwise silently change every hash.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::SyncError;

/// A hex-encoded SHA-256 of a record's canonical content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentHash(pub String);

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hash `value` after removing the top-level fields named in `volatile`.
///
/// ```
/// use serde_json::json;
/// use sync_core::model::hash_value;
/// let a = hash_value(&json!({"b": 1, "a": 2, "modified_at": "x"}), &["modified_at"]);
/// let b = hash_value(&json!({"a": 2, "b": 1, "modified_at": "y"}), &["modified_at"]);
/// assert_eq!(a, b);
/// ```
pub fn hash_value(value: &Value, volatile: &[&str]) -> ContentHash {
    let mut canonical = String::new();
    match value {
        Value::Object(map) => {
            let filtered: serde_json::Map<String, Value> = map
                .iter()
                .filter(|(k, _)| !volatile.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            write_canonical(&Value::Object(filtered), &mut canonical);
        }
        other => write_canonical(other, &mut canonical),
    }
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    ContentHash(hex)
}

/// Hash any serialisable value (see [`hash_value`]).
pub fn hash_serialize<T: Serialize>(
    value: &T,
    volatile: &[&str],
) -> Result<ContentHash, SyncError> {
    let value = serde_json::to_value(value).map_err(|e| SyncError::Encode(e.to_string()))?;
    Ok(hash_value(&value, volatile))
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_key_order_does_not_matter_but_content_does() {
        let a = hash_value(&json!({"x": {"b": [1, {"d": 1, "c": 2}], "a": null}}), &[]);
        let b = hash_value(&json!({"x": {"a": null, "b": [1, {"c": 2, "d": 1}]}}), &[]);
        let c = hash_value(&json!({"x": {"a": null, "b": [{"c": 2, "d": 1}, 1]}}), &[]);
        assert_eq!(a, b);
        assert_ne!(a, c, "array order is content");
        assert_eq!(a.0.len(), 64);
    }
}
