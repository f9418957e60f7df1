//! Entry points for the fuzz targets (`fuzz/`) and their CI replay tests. Not part of the
//! supported API: hidden from the docs and free to change.

use serde_json::Value;

use super::IdoPage;
use super::load::parse_page;
use crate::error::{Error, Result};

/// Parse a load-collection response body for `ido` exactly as [`LoadCollection::page`] does
/// after the HTTP exchange: the bytes are read as JSON (with `serde_json`'s recursion limit),
/// then `Items`, `Bookmark`, `MoreRowsExist` and `Success`/`Message` are interpreted.
///
/// [`LoadCollection::page`]: super::LoadCollection::page
pub fn parse_load_page(ido: &str, body: &[u8]) -> Result<IdoPage> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let value: Value =
        serde_path_to_error::deserialize(deserializer).map_err(|e| Error::Decode {
            method: "GET".into(),
            path: format!("load/{ido}"),
            at: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?;
    parse_page(ido, value)
}
