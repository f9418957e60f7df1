//! Reading HTTP answers with a size cap, and quoting them in errors (feature `http`).
//!
//! Both clients read every body through [`read_capped`], so a server (or a proxy in front of
//! it) that sends an endless or huge body costs at most the cap in memory.

use bytes::{Bytes, BytesMut};

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The body is larger than the cap (declared by `Content-Length` or seen while reading).
    TooLarge,
    /// The connection failed while reading.
    Transport(reqwest::Error),
}

/// Read a response body, refusing to buffer more than `limit` bytes. A declared
/// `Content-Length` over the cap fails before anything is read; an endless chunked body fails
/// as soon as the cap is crossed.
///
/// ```no_run
/// use sdk_common::body::{read_capped, BodyError};
///
/// # async fn run(response: reqwest::Response) {
/// match read_capped(response, 1 << 20).await {
///     Ok(body) => println!("{} bytes", body.len()),
///     Err(BodyError::TooLarge) => println!("over 1 MiB"),
///     Err(BodyError::Transport(error)) => println!("cut short: {error}"),
/// }
/// # }
/// ```
pub async fn read_capped(
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

/// The start of a body as text, for error messages: trimmed, lossily decoded, at most
/// `max_chars` characters, with `…` when something was cut.
///
/// ```
/// use sdk_common::body::excerpt;
/// assert_eq!(excerpt(b"  <html>Login</html>\n", 100), "<html>Login</html>");
/// assert_eq!(excerpt("Überweisung".as_bytes(), 4), "Über…");
/// ```
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    // Decode at most four bytes per character: a huge body is never decoded whole.
    let cut = &body[..body
        .len()
        .min(max_chars.saturating_mul(4).saturating_add(4))];
    let text = String::from_utf8_lossy(cut);
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(max_chars).collect();
    if out.len() < trimmed.len() || cut.len() < body.len() {
        out.push('…');
    }
    out
}
