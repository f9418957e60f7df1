//! The hardened XML reader.
//!
//! A thin layer over quick-xml's namespace-aware reader that turns one document at a time into
//! an [`XmlElement`] tree while enforcing the rules a BOD consumer needs against hostile input:
//!
//! - any `<!DOCTYPE ...>` is refused ([`BodError::DtdRejected`]), so no entity can be declared;
//! - only the five predefined entities and numeric character references are resolved; any
//!   other `&name;` is refused ([`BodError::EntityRejected`]); nothing is ever fetched;
//! - nesting depth, document size, single text and single attribute length are capped
//!   ([`BodLimits`]); the size cap is enforced on the *input stream* (the reader never sees
//!   more than the cap, plus one byte), so a hostile document cannot make us buffer more;
//! - the input must be UTF-8: a declaration naming another encoding, a UTF-16/32 byte-order
//!   mark, or an invalid byte sequence gives [`BodError::NotUtf8`].
//!
//! It reads from any [`BufRead`] and stops right after the root element's end tag, so the same
//! reader can walk a stream of concatenated documents one at a time.

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::error::BodError;
use super::xml::{OAGIS_NS, XmlAttribute, XmlElement, XmlNode, oagis_ns};

/// Security limits applied to every document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodLimits {
    /// Largest document accepted, in bytes (default 5 MiB: ION's guidance is to keep messages
    /// below 5 MB).
    pub max_document_bytes: usize,
    /// Deepest element nesting accepted (default 64; real BODs stay well under 20).
    pub max_depth: usize,
    /// Longest single text node, in bytes after reference resolution (default 1 MiB).
    pub max_text_bytes: usize,
    /// Longest single attribute value, in raw bytes (default 64 KiB).
    pub max_attribute_bytes: usize,
    /// In a [`BodStream`](crate::bod::BodStream), how far to scan past a broken document for
    /// the next `<?xml` declaration before giving up on the rest of the stream (default
    /// 64 MiB). Bounds the work a stream of garbage can cause.
    pub max_resync_bytes: usize,
}

impl Default for BodLimits {
    fn default() -> Self {
        BodLimits {
            max_document_bytes: 5 * 1024 * 1024,
            max_depth: 64,
            max_text_bytes: 1024 * 1024,
            max_attribute_bytes: 64 * 1024,
            max_resync_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A `BufRead` that refuses to hand out more than `limit + 1` bytes per document, and that
/// can push bytes back (needed when resynchronising on a document boundary).
pub(crate) struct Budget<R> {
    inner: R,
    pushback: Vec<u8>,
    pushback_pos: usize,
    consumed: usize,
    limit: usize,
    exceeded: bool,
}

impl<R: BufRead> Budget<R> {
    fn new(inner: R, limit: usize) -> Self {
        Budget {
            inner,
            pushback: Vec::new(),
            pushback_pos: 0,
            consumed: 0,
            limit,
            exceeded: false,
        }
    }

    fn reset(&mut self, limit: usize) {
        self.consumed = 0;
        self.limit = limit;
        self.exceeded = false;
    }

    fn raw_fill(&mut self) -> io::Result<&[u8]> {
        if self.pushback_pos < self.pushback.len() {
            Ok(&self.pushback[self.pushback_pos..])
        } else {
            self.inner.fill_buf()
        }
    }

    fn raw_consume(&mut self, amt: usize) {
        if self.pushback_pos < self.pushback.len() {
            self.pushback_pos += amt;
            if self.pushback_pos >= self.pushback.len() {
                self.pushback.clear();
                self.pushback_pos = 0;
            }
        } else {
            self.inner.consume(amt);
        }
    }

    /// Skips input up to (not including) the next `<?xml`. Returns `false` at end of input.
    /// Memory stays bounded: bytes are dropped as they are scanned.
    fn skip_to_next_declaration(&mut self, max_scan: usize) -> io::Result<bool> {
        const MARK: &[u8] = b"<?xml";
        let mut matched = 0usize;
        let mut scanned = 0usize;
        loop {
            if scanned > max_scan {
                return Ok(false);
            }
            let buf = self.raw_fill()?;
            if buf.is_empty() {
                return Ok(false);
            }
            let mut i = 0;
            while i < buf.len() {
                if buf[i] == MARK[matched] {
                    matched += 1;
                    if matched == MARK.len() {
                        // Give the marker back so the next document starts with it.
                        let take = i + 1;
                        self.raw_consume(take);
                        let mut rest = MARK.to_vec();
                        rest.extend_from_slice(&self.pushback[self.pushback_pos..]);
                        self.pushback = rest;
                        self.pushback_pos = 0;
                        return Ok(true);
                    }
                } else {
                    matched = usize::from(buf[i] == MARK[0]);
                }
                i += 1;
            }
            let n = buf.len();
            scanned += n;
            self.raw_consume(n);
        }
    }
}

impl<R: BufRead> Read for Budget<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Budget<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("BOD document size limit exceeded"));
        }
        let allowed = self.limit + 1 - self.consumed;
        let buf = self.raw_fill()?;
        let n = buf.len().min(allowed);
        Ok(&buf[..n])
    }

    fn consume(&mut self, amt: usize) {
        self.consumed += amt;
        self.raw_consume(amt);
    }
}

/// Reads documents one at a time from a byte stream.
pub(crate) struct DocumentReader<R: BufRead> {
    reader: Option<NsReader<Budget<R>>>,
    limits: BodLimits,
    buf: Vec<u8>,
    namespaces: Vec<(Vec<u8>, Arc<str>)>,
}

fn new_ns_reader<R: BufRead>(budget: Budget<R>) -> NsReader<Budget<R>> {
    let mut r = NsReader::from_reader(budget);
    let cfg = r.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    cfg.trim_text_start = false;
    cfg.trim_text_end = false;
    cfg.allow_dangling_amp = false;
    r
}

impl<R: BufRead> DocumentReader<R> {
    pub(crate) fn new(input: R, limits: BodLimits) -> Self {
        DocumentReader {
            reader: Some(new_ns_reader(Budget::new(input, limits.max_document_bytes))),
            limits,
            buf: Vec::new(),
            namespaces: Vec::new(),
        }
    }

    /// After a reader-level error, skip to the next `<?xml` declaration and start afresh.
    /// Returns `false` when the input is exhausted (or unreadable).
    pub(crate) fn resync(&mut self) -> bool {
        let Some(reader) = self.reader.take() else {
            return false;
        };
        let mut budget = reader.into_inner();
        budget.reset(usize::MAX - 1);
        match budget.skip_to_next_declaration(self.limits.max_resync_bytes) {
            Ok(true) => {
                budget.reset(self.limits.max_document_bytes);
                self.reader = Some(new_ns_reader(budget));
                true
            }
            Ok(false) | Err(_) => false,
        }
    }

    /// Reads the next document. `Ok(None)` means clean end of input.
    pub(crate) fn next_document(&mut self) -> Result<Option<XmlElement>, BodError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        // Start a fresh per-document budget; positions in errors are relative to the
        // start of the current document.
        let limits = self.limits;
        let budget = reader.get_mut();
        budget.reset(limits.max_document_bytes);
        // quick-xml keeps its own position counter; rebuild the reader so positions in errors
        // are relative to this document and no state leaks from the previous one.
        let budget = match self.reader.take() {
            Some(r) => r.into_inner(),
            None => return Ok(None),
        };
        self.reader = Some(new_ns_reader(budget));
        check_byte_order_mark(self.reader.as_mut())?;
        let result = self.read_tree();
        if let Err(BodError::Xml { .. } | BodError::Io { .. }) = &result
            && let Some(r) = self.reader.as_ref()
            && r.get_ref().exceeded
        {
            return Err(BodError::TooLarge {
                limit: limits.max_document_bytes,
            });
        }
        result
    }

    fn intern(&mut self, ns: &[u8]) -> Result<Arc<str>, BodError> {
        if ns == OAGIS_NS.as_bytes() {
            return Ok(oagis_ns());
        }
        if let Some((_, a)) = self.namespaces.iter().find(|(k, _)| k == ns) {
            return Ok(Arc::clone(a));
        }
        let s = std::str::from_utf8(ns).map_err(|e| BodError::NotUtf8 {
            detail: format!("namespace URI: {e}"),
            position: 0,
        })?;
        let a: Arc<str> = Arc::from(s);
        // Bounded: a hostile document could declare many namespaces, but the list is cleared
        // when it grows, so it stays a small cache rather than an unbounded store.
        if self.namespaces.len() > 32 {
            self.namespaces.clear();
        }
        self.namespaces.push((ns.to_vec(), Arc::clone(&a)));
        Ok(a)
    }

    fn read_tree(&mut self) -> Result<Option<XmlElement>, BodError> {
        // The event buffer is moved out for the duration so events can borrow it while
        // `make_element` borrows `self`; it is put back to reuse its allocation.
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_tree_with(&mut buf);
        self.buf = buf;
        result
    }

    fn read_tree_with(&mut self, buf: &mut Vec<u8>) -> Result<Option<XmlElement>, BodError> {
        let limits = self.limits;
        let mut stack: Vec<XmlElement> = Vec::new();
        let mut text_len = 0usize;
        let mut seen_content = false;
        loop {
            let reader = match self.reader.as_mut() {
                Some(r) => r,
                None => return Ok(None),
            };
            buf.clear();
            let event = match reader.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => {
                    let position = reader.error_position();
                    let exceeded = reader.get_ref().exceeded;
                    return Err(map_xml_error(e, position, exceeded, limits));
                }
            };
            let position = reader.buffer_position();
            match event {
                Event::Decl(d) => {
                    if seen_content {
                        return Err(BodError::Xml {
                            position,
                            message: "XML declaration after content".into(),
                        });
                    }
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|e| BodError::Xml {
                            position,
                            message: e.to_string(),
                        })?;
                        let name = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                        if name != "utf-8" && name != "utf8" {
                            return Err(BodError::NotUtf8 {
                                detail: format!(
                                    "declared encoding {:?}; only UTF-8 is accepted",
                                    String::from_utf8_lossy(&enc)
                                ),
                                position,
                            });
                        }
                    }
                }
                Event::DocType(_) => return Err(BodError::DtdRejected { position }),
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(s) => {
                    seen_content = true;
                    let depth = stack.len() + 1;
                    if depth > limits.max_depth {
                        return Err(BodError::TooDeep {
                            depth,
                            limit: limits.max_depth,
                            position,
                        });
                    }
                    let el = self.make_element(&s, &stack, position)?;
                    stack.push(el);
                    text_len = 0;
                }
                Event::Empty(s) => {
                    seen_content = true;
                    let depth = stack.len() + 1;
                    if depth > limits.max_depth {
                        return Err(BodError::TooDeep {
                            depth,
                            limit: limits.max_depth,
                            position,
                        });
                    }
                    let el = self.make_element(&s, &stack, position)?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(XmlNode::Element(el)),
                        None => return Ok(Some(el)),
                    }
                    text_len = 0;
                }
                Event::End(_) => {
                    let Some(mut el) = stack.pop() else {
                        return Err(BodError::Xml {
                            position,
                            message: "end tag without start tag".into(),
                        });
                    };
                    drop_layout_whitespace(&mut el);
                    text_len = 0;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(XmlNode::Element(el)),
                        None => return Ok(Some(el)),
                    }
                }
                Event::Text(t) => {
                    let raw: &[u8] = &t;
                    let s = std::str::from_utf8(raw).map_err(|e| BodError::NotUtf8 {
                        detail: e.to_string(),
                        position,
                    })?;
                    append_text(&mut stack, s, &mut text_len, limits, position)?;
                }
                Event::CData(c) => {
                    let raw: &[u8] = &c;
                    let s = std::str::from_utf8(raw).map_err(|e| BodError::NotUtf8 {
                        detail: e.to_string(),
                        position,
                    })?;
                    if stack.is_empty() {
                        return Err(BodError::Xml {
                            position,
                            message: "CDATA outside the root element".into(),
                        });
                    }
                    append_text(&mut stack, s, &mut text_len, limits, position)?;
                }
                Event::GeneralRef(r) => {
                    let resolved: String = if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            Ok(None) | Err(_) => {
                                return Err(BodError::Xml {
                                    position,
                                    message: format!(
                                        "invalid character reference &{};",
                                        String::from_utf8_lossy(&r)
                                    ),
                                });
                            }
                        }
                    } else {
                        match &*r {
                            b"amp" => "&".into(),
                            b"lt" => "<".into(),
                            b"gt" => ">".into(),
                            b"apos" => "'".into(),
                            b"quot" => "\"".into(),
                            other => {
                                return Err(BodError::EntityRejected {
                                    name: String::from_utf8_lossy(other).into_owned(),
                                    position,
                                });
                            }
                        }
                    };
                    if stack.is_empty() {
                        return Err(BodError::Xml {
                            position,
                            message: "reference outside the root element".into(),
                        });
                    }
                    append_text(&mut stack, &resolved, &mut text_len, limits, position)?;
                }
                Event::Eof => {
                    return match stack.last() {
                        None => Ok(None),
                        Some(open) => Err(BodError::Xml {
                            position,
                            message: format!(
                                "unexpected end of input inside <{}>",
                                open.name.clone()
                            ),
                        }),
                    };
                }
            }
        }
    }

    fn make_element(
        &mut self,
        start: &BytesStart<'_>,
        stack: &[XmlElement],
        position: u64,
    ) -> Result<XmlElement, BodError> {
        let limits = self.limits;
        let Some(reader) = self.reader.as_ref() else {
            return Err(BodError::Io {
                message: "reader closed".into(),
            });
        };
        let (res, local) = reader.resolve_element(start.name());
        let ns_bytes: Option<Vec<u8>> = match res {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => {
                return Err(BodError::Xml {
                    position,
                    message: format!(
                        "undeclared namespace prefix {:?}",
                        String::from_utf8_lossy(&p)
                    ),
                });
            }
        };
        check_qname(start.name().as_ref(), local.as_ref(), position)?;
        let name = utf8(local.as_ref(), position)?.to_owned();
        let mut attributes = Vec::new();
        let mut raw_attrs: Vec<RawAttr> = Vec::new();
        for a in start.attributes() {
            let a = a.map_err(|e| BodError::Xml {
                position,
                message: e.to_string(),
            })?;
            let key = a.key;
            if key.as_namespace_binding().is_some() {
                continue;
            }
            if a.value.len() > limits.max_attribute_bytes {
                return Err(BodError::ValueTooLong {
                    what: format!("attribute {}", String::from_utf8_lossy(key.as_ref())),
                    path: render_stack(stack, &name),
                    length: a.value.len(),
                    limit: limits.max_attribute_bytes,
                    position,
                });
            }
            let (ares, alocal) = reader.resolve_attribute(key);
            check_qname(key.as_ref(), alocal.as_ref(), position)?;
            let ans = match ares {
                ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
                ResolveResult::Unbound => None,
                ResolveResult::Unknown(p) => {
                    return Err(BodError::Xml {
                        position,
                        message: format!(
                            "undeclared namespace prefix {:?}",
                            String::from_utf8_lossy(&p)
                        ),
                    });
                }
            };
            let prefix = match key.prefix() {
                Some(p) => Some(utf8(p.as_ref(), position)?.to_owned()),
                None => None,
            };
            utf8(&a.value, position)?;
            let value = a
                .unescape_value()
                .map_err(|e| map_xml_error(e, position, false, limits))?
                .into_owned();
            raw_attrs.push((
                ans,
                prefix,
                utf8(alocal.as_ref(), position)?.to_owned(),
                value,
            ));
        }
        let namespace = match ns_bytes {
            Some(b) => Some(self.intern(&b)?),
            None => None,
        };
        for (ans, prefix, local, value) in raw_attrs {
            let namespace = match ans {
                Some(b) => Some(self.intern(&b)?),
                None => None,
            };
            attributes.push(XmlAttribute {
                namespace,
                prefix,
                name: local,
                value,
            });
        }
        Ok(XmlElement {
            namespace,
            name,
            attributes,
            children: Vec::new(),
        })
    }
}

/// Namespaces in XML: a name is `prefix:local` or `local`, with a non-empty local part and at
/// most one colon. quick-xml splits at the first colon and accepts the rest, so
/// `<a:b:c>` would read as local name `b:c`, which no writer can put back in a namespace (found
/// by the `bod` fuzz target: the rewritten document had an undeclared prefix `b`).
fn check_qname(full: &[u8], local: &[u8], position: u64) -> Result<(), BodError> {
    if local.is_empty() || local.contains(&b':') {
        let shown: String = String::from_utf8_lossy(full).chars().take(80).collect();
        return Err(BodError::Xml {
            position,
            message: format!(
                "{shown:?} is not a valid qualified name (a non-empty local name, one colon at most)"
            ),
        });
    }
    Ok(())
}

/// An attribute before its namespace is interned: (namespace bytes, prefix, local, value).
type RawAttr = (Option<Vec<u8>>, Option<String>, String, String);

/// Reads exactly one document: a second root element is an error, and nothing is skipped.
pub(crate) fn read_single_root<R: BufRead>(
    input: R,
    limits: BodLimits,
) -> Result<XmlElement, BodError> {
    let mut reader = DocumentReader::new(input, limits);
    let root = reader.next_document()?.ok_or_else(|| BodError::Xml {
        position: 0,
        message: "no root element".into(),
    })?;
    if reader.next_document()?.is_some() {
        return Err(BodError::Xml {
            position: 0,
            message: "more than one root element; use BodStream for batches".into(),
        });
    }
    Ok(root)
}

fn utf8(b: &[u8], position: u64) -> Result<&str, BodError> {
    std::str::from_utf8(b).map_err(|e| BodError::NotUtf8 {
        detail: e.to_string(),
        position,
    })
}

fn render_stack(stack: &[XmlElement], last: &str) -> String {
    let mut s = String::new();
    for e in stack {
        s.push('/');
        s.push_str(&e.name);
    }
    if !last.is_empty() {
        s.push('/');
        s.push_str(last);
    }
    s
}

fn append_text(
    stack: &mut [XmlElement],
    s: &str,
    text_len: &mut usize,
    limits: BodLimits,
    position: u64,
) -> Result<(), BodError> {
    if stack.is_empty() {
        if s.trim().is_empty() {
            return Ok(());
        }
        return Err(BodError::Xml {
            position,
            message: "text outside the root element".into(),
        });
    }
    *text_len += s.len();
    if *text_len > limits.max_text_bytes {
        return Err(BodError::ValueTooLong {
            what: "text".into(),
            path: render_stack(stack, ""),
            length: *text_len,
            limit: limits.max_text_bytes,
            position,
        });
    }
    let Some(el) = stack.last_mut() else {
        return Ok(());
    };
    match el.children.last_mut() {
        Some(XmlNode::Text(t)) => t.push_str(s),
        // Whitespace right after a child element is indentation (layout) and would be
        // dropped at the end tag anyway: do not allocate it. BODs have no mixed content.
        Some(XmlNode::Element(_)) if s.trim().is_empty() => {}
        _ => el.children.push(XmlNode::Text(s.to_owned())),
    }
    Ok(())
}

/// Indentation between child elements is layout, not data: drop whitespace-only text from
/// elements that have element children.
fn drop_layout_whitespace(el: &mut XmlElement) {
    if el.children.iter().any(|c| matches!(c, XmlNode::Element(_))) {
        el.children
            .retain(|c| !matches!(c, XmlNode::Text(t) if t.trim().is_empty()));
    }
}

fn check_byte_order_mark<R: BufRead>(
    reader: Option<&mut NsReader<Budget<R>>>,
) -> Result<(), BodError> {
    let Some(reader) = reader else { return Ok(()) };
    let head = match reader.get_mut().raw_fill() {
        Ok(h) => h,
        Err(e) => {
            return Err(BodError::Io {
                message: e.to_string(),
            });
        }
    };
    let bad = match head {
        [0xFE, 0xFF, ..] | [0xFF, 0xFE, ..] => Some("UTF-16 byte-order mark"),
        [0x00, 0x00, 0xFE, 0xFF, ..] => Some("UTF-32 byte-order mark"),
        [0x00, b'<', ..] | [b'<', 0x00, ..] => Some("UTF-16 content without byte-order mark"),
        _ => None,
    };
    match bad {
        Some(detail) => Err(BodError::NotUtf8 {
            detail: format!("{detail}; only UTF-8 is accepted"),
            position: 0,
        }),
        None => Ok(()),
    }
}

fn map_xml_error(
    e: quick_xml::Error,
    position: u64,
    exceeded: bool,
    limits: BodLimits,
) -> BodError {
    use quick_xml::Error as E;
    use quick_xml::escape::EscapeError;
    if exceeded {
        return BodError::TooLarge {
            limit: limits.max_document_bytes,
        };
    }
    match e {
        E::Io(io) => BodError::Io {
            message: io.to_string(),
        },
        E::Encoding(enc) => BodError::NotUtf8 {
            detail: enc.to_string(),
            position,
        },
        E::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
            BodError::EntityRejected { name, position }
        }
        other => BodError::Xml {
            position,
            message: other.to_string(),
        },
    }
}
