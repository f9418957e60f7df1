#![allow(clippy::unwrap_used)]
//! Batches: many concatenated BODs are read one at a time; a bad document is a per-document
//! error and the batch goes on.

use std::io::BufReader;

use infor_ion_client::bod::{AnyBod, Bod, BodError, BodLimits, BodStream, PurchaseOrder};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/bod/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

const ALL: [&str; 8] = [
    "sync_purchase_order_m3.xml",
    "sync_purchase_order_ln_prefixed.xml",
    "sync_supplier_party_master.xml",
    "sync_customer_party_master.xml",
    "sync_supplier_invoice.xml",
    "sync_chart_of_accounts.xml",
    "sync_item_master.xml",
    "process_receive_delivery.xml",
];

#[test]
fn mixed_batch_of_every_fixture() {
    let batch: String = ALL
        .iter()
        .map(|f| fixture(f))
        .collect::<Vec<_>>()
        .join("\n");
    let got: Vec<AnyBod> = BodStream::<_, AnyBod>::new(batch.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let nouns: Vec<&str> = got.iter().map(AnyBod::noun_name).collect();
    assert_eq!(
        nouns,
        [
            "PurchaseOrder",
            "PurchaseOrder",
            "SupplierPartyMaster",
            "CustomerPartyMaster",
            "SupplierInvoice",
            "ChartOfAccounts",
            "ItemMaster",
            "ReceiveDelivery"
        ]
    );
    // Each equals the document parsed on its own.
    for (file, bod) in ALL.iter().zip(&got) {
        assert_eq!(&AnyBod::from_slice(fixture(file).as_bytes()).unwrap(), bod);
    }
}

#[test]
fn bad_documents_do_not_stop_the_batch() {
    let good = fixture("sync_purchase_order_m3.xml");
    let semantic = good.replace("actionCode=\"Replace\"", "actionCode=\"Bogus\"");
    let dtd = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"b\">]>\n{}",
        &good[good.find("<SyncPurchaseOrder").unwrap()..]
    );
    let malformed = good.replace("</DisplayID>", "</Oops>");
    let too_deep = format!(
        "<?xml version=\"1.0\"?><SyncPurchaseOrder xmlns=\"http://schema.infor.com/InforOAGIS/2\">{}{}</SyncPurchaseOrder>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    let wrong_noun = fixture("sync_item_master.xml");
    let batch = [
        good.as_str(),
        semantic.as_str(),
        good.as_str(),
        dtd.as_str(),
        good.as_str(),
        malformed.as_str(),
        good.as_str(),
        too_deep.as_str(),
        good.as_str(),
        wrong_noun.as_str(),
        good.as_str(),
    ]
    .join("\n");
    let results: Vec<Result<Bod<PurchaseOrder>, BodError>> =
        BodStream::new(BufReader::with_capacity(512, batch.as_bytes())).collect();
    let shape: Vec<&str> = results
        .iter()
        .map(|r| match r {
            Ok(_) => "ok",
            Err(BodError::UnknownActionCode { .. }) => "action",
            Err(BodError::DtdRejected { .. }) => "dtd",
            Err(BodError::Xml { .. }) => "xml",
            Err(BodError::TooDeep { .. }) => "deep",
            Err(BodError::UnexpectedRoot { .. }) => "root",
            Err(other) => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "ok", "action", "ok", "dtd", "ok", "xml", "ok", "deep", "ok", "root", "ok"
        ]
    );
    let first = results[0].as_ref().unwrap();
    for r in results.iter().filter_map(|r| r.as_ref().ok()) {
        assert_eq!(r, first);
    }
}

#[test]
fn without_declarations_a_broken_document_ends_the_stream() {
    // Resynchronisation needs an XML declaration to find the next document.
    let good = fixture("sync_purchase_order_m3.xml");
    let body = &good[good.find("<SyncPurchaseOrder").unwrap()..];
    let broken = body.replace("</DisplayID>", "</Oops>");
    let batch = format!("{body}{broken}{body}");
    let results: Vec<_> = BodStream::<_, Bod<PurchaseOrder>>::new(batch.as_bytes()).collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(BodError::Xml { .. })));
    // But well-formed documents without declarations stream fine.
    let ok = format!("{body}{body}  \n{body}");
    assert_eq!(
        BodStream::<_, Bod<PurchaseOrder>>::new(ok.as_bytes())
            .filter(Result::is_ok)
            .count(),
        3
    );
}

#[test]
fn each_document_gets_its_own_size_budget() {
    let good = fixture("sync_purchase_order_m3.xml");
    let limits = BodLimits {
        max_document_bytes: good.len() + 1, // + the separating newline
        ..BodLimits::default()
    };
    let batch = format!("{good}\n").repeat(50);
    assert!(batch.len() > limits.max_document_bytes * 40);
    let n = BodStream::<_, Bod<PurchaseOrder>>::with_limits(batch.as_bytes(), limits)
        .map(Result::unwrap)
        .count();
    assert_eq!(n, 50);

    // One oversized document in the middle fails alone.
    let big = good.replace(
        "<DisplayID>",
        &format!("{}<DisplayID>", "<Pad/>".repeat(200)),
    );
    let batch = format!("{good}\n{big}\n{good}\n");
    let shape: Vec<bool> =
        BodStream::<_, Bod<PurchaseOrder>>::with_limits(batch.as_bytes(), limits)
            .map(|r| {
                if let Err(e) = &r {
                    assert!(matches!(e, BodError::TooLarge { .. }), "{e:?}");
                }
                r.is_ok()
            })
            .collect();
    assert_eq!(shape, [true, false, true]);
}

/// A large batch streamed from a generator: nothing is collected, so memory does not grow
/// with the number of documents.
#[test]
fn large_generated_batch_streams() {
    struct Repeat {
        doc: Vec<u8>,
        left: usize,
        pos: usize,
    }
    impl std::io::Read for Repeat {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.pos == self.doc.len() {
                if self.left == 0 {
                    return Ok(0);
                }
                self.left -= 1;
                self.pos = 0;
            }
            let n = out.len().min(self.doc.len() - self.pos);
            out[..n].copy_from_slice(&self.doc[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }
    let doc = fixture("sync_purchase_order_m3.xml").into_bytes();
    let count = 2_000;
    let src = Repeat {
        pos: doc.len(),
        doc,
        left: count,
    };
    let mut lines = 0;
    for bod in BodStream::<_, Bod<PurchaseOrder>>::new(BufReader::new(src)) {
        lines += bod.unwrap().nouns[0].lines.len();
    }
    assert_eq!(lines, 2 * count);
}

/// After a broken document, the search for the next declaration is bounded: an endless
/// stream of garbage ends the batch instead of hanging it.
#[test]
fn resync_scan_is_bounded() {
    struct Garbage {
        prefix: Vec<u8>,
        pos: usize,
        served: std::rc::Rc<std::cell::Cell<usize>>,
    }
    impl std::io::Read for Garbage {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            for b in out.iter_mut() {
                *b = self.prefix.get(self.pos).copied().unwrap_or(b'<');
                self.pos += 1;
            }
            self.served.set(self.served.get() + out.len());
            Ok(out.len())
        }
    }
    let served = std::rc::Rc::new(std::cell::Cell::new(0));
    let src = Garbage {
        prefix: b"<?xml version=\"1.0\"?><!DOCTYPE x><x/>".to_vec(),
        pos: 0,
        served: served.clone(),
    };
    let limits = BodLimits {
        max_resync_bytes: 1024 * 1024,
        ..BodLimits::default()
    };
    let results: Vec<_> =
        BodStream::<_, AnyBod>::with_limits(BufReader::with_capacity(4096, src), limits).collect();
    assert_eq!(results.len(), 1);
    assert!(matches!(results[0], Err(BodError::DtdRejected { .. })));
    assert!(
        served.get() <= 1024 * 1024 + 2 * 4096,
        "scanned {}",
        served.get()
    );
}
