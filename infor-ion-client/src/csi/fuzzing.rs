//! Entry points for the fuzz targets (`fuzz/`) and their CI replay tests. Not part of the
//! supported API: hidden from the docs and free to change.

use super::IdoPage;
use super::load::parse_page;
use crate::error::{Error, Result};

/// Parse a load-collection response body for `ido` exactly as [`LoadCollection::page`] does
/// after the HTTP exchange: the bytes are read as a JSON tree (`serde_json`'s recursion limit,
/// duplicated keys refused), then `Items`, `Bookmark`, `MoreRowsExist` and `Success`/`Message`
/// are interpreted.
///
/// [`LoadCollection::page`]: super::LoadCollection::page
pub fn parse_load_page(ido: &str, body: &[u8]) -> Result<IdoPage> {
    let value = sync_core::json::from_slice(body).map_err(|e| Error::Decode {
        method: "GET".into(),
        path: format!("load/{ido}"),
        at: e.path,
        message: e.source.to_string(),
    })?;
    parse_page(ido, value)
}
