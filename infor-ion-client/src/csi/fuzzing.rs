//! Entry points for the fuzz targets (`fuzz/`) and their CI replay tests. Not part of the
//! supported API: hidden from the docs and free to change.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::IdoPage;
use super::load::parse_page;
use crate::client::IonResponse;
use crate::error::Result;

/// Parse a load-collection response body for `ido` exactly as [`LoadCollection::page`] does
/// with a `200 application/json` answer: [`IonResponse::json_tree`] (a JSON tree, `serde_json`'s
/// recursion limit, duplicated keys refused, the client's error mapping), then `Items`,
/// `Bookmark`, `MoreRowsExist` and `Success`/`Message` are interpreted.
///
/// [`LoadCollection::page`]: super::LoadCollection::page
pub fn parse_load_page(ido: &str, body: &[u8]) -> Result<IdoPage> {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = IonResponse {
        method: Method::GET,
        path: format!("CSI/IDORequestService/ido/load/{ido}"),
        status: StatusCode::OK,
        headers,
        body: Bytes::copy_from_slice(body),
    };
    parse_page(ido, response.json_tree()?)
}
