//! Reading JSON answers as a tree that refuses duplicated object keys.
//!
//! `serde_json::Value` keeps the last of two equal keys, as JavaScript does. For an answer
//! from an API that is the wrong default: `{"Success":true,"Success":false}` would be read as
//! a failure by us and possibly as a success by whatever wrote it, and nothing would say the
//! body was ambiguous. Both clients therefore read every JSON answer they keep as a tree
//! through [`UniqueKeys`], which fails on the second occurrence of a key instead. Typed
//! structs derived with serde already refuse a duplicated *known* field; this closes the gap
//! for trees, maps and extra fields.
//!
//! [`from_slice`] reads a body and says where a duplicate sits; [`UniqueKeys`] is the
//! `Deserialize` type behind it, for a field or a deserializer of your own. serde_json's
//! recursion limit still bounds the nesting.
//!
//! ```
//! use sdk_common::json;
//!
//! let tree = json::from_slice(br#"{"Items":[{"Id":1}]}"#).unwrap();
//! assert_eq!(tree["Items"][0]["Id"], 1);
//!
//! let error = json::from_slice(br#"{"Items":[{"Id":1,"Id":2}]}"#).unwrap_err();
//! assert!(error.is_duplicate_key());
//! assert_eq!(error.path, "Items[0]");
//! assert_eq!(error.to_string(), "invalid JSON at Items[0]");
//! assert_eq!(
//!     sdk_common::report::chain(&error),
//!     "invalid JSON at Items[0]: duplicate key `Id` at line 1 column 25"
//! );
//! ```

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// How much of a duplicated key an error message quotes: a hostile key can be as large as the
/// body cap allows, and the message must stay short.
const QUOTED_KEY_CHARS: usize = 64;

/// How much of the path to an error [`TreeError::path`] keeps, for the same reason: the path
/// names every parent key in full.
const PATH_CHARS: usize = 256;

/// Read `bytes` as one JSON document (nothing but whitespace after it) into a tree in which no
/// object repeats a key.
pub fn from_slice(bytes: &[u8]) -> Result<Value, TreeError> {
    // The first reading keeps no path: `serde_path_to_error` copies every key it passes, which
    // costs more than the check itself. Only a body that fails is read again to say where.
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    UniqueKeys::deserialize(&mut deserializer)
        .and_then(|UniqueKeys(tree)| deserializer.end().map(|()| tree))
        .map_err(|error| locate(bytes, error))
}

/// Read a body that failed again, with path tracking, to say where it fails.
fn locate(bytes: &[u8], error: serde_json::Error) -> TreeError {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, UniqueKeys>(deserializer) {
        Err(located) => TreeError {
            path: shortened(located.path().to_string(), PATH_CHARS),
            source: located.into_inner(),
        },
        // The document itself was fine: what follows it is not.
        Ok(_) => TreeError {
            path: ".".to_owned(),
            source: error,
        },
    }
}

/// Why [`from_slice`] refused a body, and where.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON at {path}")]
pub struct TreeError {
    /// The JSON path of the object or element being read (`.` for the top), e.g. `Items[3]`;
    /// cut to 256 characters and `…`.
    pub path: String,
    /// serde_json's error, with line and column.
    #[source]
    pub source: serde_json::Error,
}

impl TreeError {
    /// Whether the body, read up to the failure, was JSON repeating a key in one object (rather
    /// than not JSON, cut short, or nested too deep).
    pub fn is_duplicate_key(&self) -> bool {
        // A tree accepts every JSON type, so the only data error left is ours.
        self.source.classify() == serde_json::error::Category::Data
    }
}

/// A JSON tree in which no object has the same key twice. Deserialising it fails with
/// ``duplicate key `K` `` (serde's "custom" error kind) at the second occurrence; JSON text
/// otherwise reads exactly as into `serde_json::Value` (serde_json is built without
/// `arbitrary_precision`; 128-bit integers from other deserializers are not accepted).
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueKeys(pub Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor).map(UniqueKeys)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As `serde_json::Value`: a number that is not finite has no JSON form and becomes null.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        UniqueKeys::deserialize(deserializer).map(|UniqueKeys(v)| v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let UniqueKeys(value) = access.next_value()?;
            // One lookup per key, as `Value` itself pays: the check costs no extra search.
            match map.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => {
                    let key = shortened(slot.key().clone(), QUOTED_KEY_CHARS);
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
            }
        }
        Ok(Value::Object(map))
    }
}

/// `text` cut to `chars` characters and `…` when longer.
fn shortened(mut text: String, chars: usize) -> String {
    if let Some((end, _)) = text.char_indices().nth(chars) {
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Value, String> {
        from_slice(text.as_bytes()).map_err(|e| crate::report::chain(&e))
    }

    #[test]
    fn reads_every_kind_of_value_as_serde_json_does() {
        let text =
            r#"{"a":[1,-2,3.5,1e400,"s",true,null,{}],"b":{"c":[]},"u":18446744073709551615}"#;
        // 1e400 is out of f64 range: both fail, with the same message.
        let theirs = serde_json::from_str::<Value>(text).unwrap_err().to_string();
        assert_eq!(
            read(text).unwrap_err(),
            format!("invalid JSON at a[3]: {theirs}")
        );

        let text =
            r#"{"a":[1,-2,3.5,"s\u00e9",true,null,{}],"b":{"c":[]},"u":18446744073709551615}"#;
        assert_eq!(read(text), Ok(serde_json::from_str::<Value>(text).unwrap()));
        assert_eq!(read("[]"), Ok(Value::Array(vec![])));
        assert_eq!(read(" null "), Ok(Value::Null));
    }

    #[test]
    fn refuses_what_follows_the_document_and_tells_kinds_apart() {
        let error = from_slice(br#"{"a":1} {"a":2}"#).unwrap_err();
        assert!(!error.is_duplicate_key());
        assert!(
            crate::report::chain(&error).contains("trailing characters"),
            "{error}"
        );
        for not_json in [&b"<html>"[..], b"{\"a\":", b""] {
            assert!(!from_slice(not_json).unwrap_err().is_duplicate_key());
        }
        assert!(
            from_slice(br#"{"a":1,"a":1}"#)
                .unwrap_err()
                .is_duplicate_key()
        );
    }

    #[test]
    fn refuses_a_duplicated_key_at_any_depth_and_names_where() {
        assert_eq!(
            read(r#"{"Success":true,"Success":false}"#).unwrap_err(),
            "invalid JSON at .: duplicate key `Success` at line 1 column 32"
        );
        let nested = r#"{"SupplierList":[{"ID":"a"},{"ID":"b","Name":"x","Name":"y"}]}"#;
        let error = read(nested).unwrap_err();
        assert!(
            error.starts_with("invalid JSON at SupplierList[1]: duplicate key `Name`"),
            "{error}"
        );
        // Equal keys in different objects are fine.
        assert!(read(r#"{"a":{"k":1},"b":{"k":2},"k":3}"#).is_ok());
    }

    #[test]
    fn quotes_huge_keys_briefly_in_the_key_and_in_the_path() {
        let key = "é".repeat(10_000);
        let error = read(&format!(r#"{{"{key}":1,"{key}":2}}"#)).unwrap_err();
        assert!(error.len() < 200, "{} chars", error.len());
        assert!(error.contains(&format!("`{}…`", "é".repeat(QUOTED_KEY_CHARS))));

        // The duplicate sits under three huge parent keys: the path names them all.
        let nested = format!(r#"{{"{key}":{{"{key}":[{{"{key}":{{"a":1,"a":2}}}}]}}}}"#);
        let error = from_slice(nested.as_bytes()).unwrap_err();
        assert!(error.is_duplicate_key());
        assert_eq!(error.path.chars().count(), PATH_CHARS + 1);
        assert!(error.path.ends_with('…'));
        assert!(
            error.to_string().len() < 1_000,
            "{} bytes",
            error.to_string().len()
        );
    }

    #[test]
    fn keeps_serde_json_s_recursion_limit() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let error = from_slice(deep.as_bytes()).unwrap_err();
        assert!(!error.is_duplicate_key());
        assert!(
            crate::report::chain(&error).contains("recursion limit"),
            "{error}"
        );
    }
}
