//! Reading response bodies with a size cap.

use bytes::{Bytes, BytesMut};

/// Why a body could not be read.
pub(crate) enum BodyError {
    /// The body is larger than the cap.
    TooLarge,
    /// The connection failed while reading.
    Transport(reqwest::Error),
}

/// Read a response body, refusing to buffer more than `limit` bytes. A declared
/// `Content-Length` over the cap fails before anything is read; an endless chunked body fails
/// as soon as the cap is crossed.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|declared| declared > limit as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The start of a body as text, for error messages: at most 1 KiB, lossily decoded.
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 1024;
    let cut = &body[..body.len().min(MAX)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > MAX {
        text.push('…');
    }
    text
}
