//! BOD parsing throughput: typed `SyncPurchaseOrder` parsing versus a plain quick-xml event
//! scan of the same bytes (the floor a parser built on quick-xml cannot beat), plus the peak
//! memory of streaming a large batch.
//!
//! Run: `cargo bench -p infor-ion-client --bench bod_parse`. Criterion prints its own
//! statistics; the summary table at the end (MB/s, records/s, peak memory) is what
//! `docs/benchmarks.md` records.

use std::hint::black_box;
use std::io::{BufReader, Read};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use infor_ion_client::bod::{Bod, BodStream, PurchaseOrder};
use quick_xml::Reader;
use quick_xml::events::Event;

const LINES_PER_ORDER: usize = 8;

/// One realistic M3-style SyncPurchaseOrder with `LINES_PER_ORDER` lines.
fn purchase_order(i: usize) -> String {
    let mut lines = String::new();
    for l in 1..=LINES_PER_ORDER {
        lines.push_str(&format!(
            r#"
      <PurchaseOrderLine>
        <LineNumber>{ln}</LineNumber>
        <Status><Code>20</Code></Status>
        <Item>
          <ItemID><ID accountingEntity="300_001">ITM-{item:05}</ID></ItemID>
          <Description>Steel bracket {l} &amp; fixings</Description>
        </Item>
        <Quantity unitCode="EA">{qty}</Quantity>
        <UnitPrice><Amount currencyID="EUR">12.50</Amount><PerQuantity unitCode="EA">1</PerQuantity></UnitPrice>
        <ExtendedAmount currencyID="EUR">{ext}.00</ExtendedAmount>
        <RequiredDeliveryDateTime>2025-10-03T00:00:00Z</RequiredDeliveryDateTime>
        <UserArea><Property><NameValue name="m3.PNLI" type="NumericType">{ln}</NameValue></Property></UserArea>
      </PurchaseOrderLine>"#,
            ln = l * 10,
            item = (i * 7 + l) % 100_000,
            qty = 10 + l,
            ext = (10 + l) * 12,
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<SyncPurchaseOrder xmlns="http://schema.infor.com/InforOAGIS/2" releaseID="9.2" versionID="2.14.3">
  <ApplicationArea>
    <Sender><LogicalID>lid://infor.m3.m3</LogicalID><ComponentID>M3BE</ComponentID><ConfirmationCode>OnError</ConfirmationCode></Sender>
    <CreationDateTime>2025-09-24T09:33:09.770Z</CreationDateTime>
    <BODID>bod-{i:08}</BODID>
  </ApplicationArea>
  <DataArea>
    <Sync>
      <AccountingEntityID>300_001</AccountingEntityID>
      <LocationID>FR1</LocationID>
      <ActionCriteria><ActionExpression actionCode="Replace"/></ActionCriteria>
    </Sync>
    <PurchaseOrder>
      <PurchaseOrderHeader>
        <DocumentID><ID accountingEntity="300_001" location="FR1" lid="lid://infor.m3.m3" variationID="{v}">PO{i:08}</ID></DocumentID>
        <DisplayID>PO{i:08}</DisplayID>
        <LastModificationDateTime>2025-09-24T09:33:05Z</LastModificationDateTime>
        <Status><Code listID="PurchaseOrderStatus">Open</Code></Status>
        <SupplierParty>
          <PartyIDs><ID accountingEntity="300_001">SUP-{s:04}</ID></PartyIDs>
          <Name>Fournitures Lumi&#232;re &amp; Fils</Name>
          <Location><Address><AddressLine sequence="1">12 rue des Lilas</AddressLine><CityName>Lyon</CityName><CountryCode>FR</CountryCode><PostalCode>69003</PostalCode></Address></Location>
        </SupplierParty>
        <ExtendedAmount currencyID="EUR">4600.00</ExtendedAmount>
        <TransportationTerm><IncotermsCode>DAP</IncotermsCode></TransportationTerm>
        <UserArea><Property><NameValue name="m3.FACI" type="StringType">A01</NameValue></Property></UserArea>
      </PurchaseOrderHeader>{lines}
    </PurchaseOrder>
  </DataArea>
</SyncPurchaseOrder>
"#,
        v = 1_700_000_000_000u64 + i as u64,
        s = i % 997,
    )
}

fn batch(orders: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..orders {
        out.extend_from_slice(purchase_order(i).as_bytes());
    }
    out
}

/// The floor: every event of the batch, no typing, no allocation per event.
fn event_scan(bytes: &[u8]) -> usize {
    let mut r = Reader::from_reader(bytes);
    let mut n = 0usize;
    loop {
        match r.read_event() {
            Ok(Event::Eof) => return n,
            Ok(e) => {
                black_box(&e);
                n += 1;
            }
            Err(e) => panic!("scan failed: {e}"),
        }
    }
}

/// Typed parse of every document of the batch; returns (orders, lines).
fn typed_parse<R: std::io::BufRead>(input: R) -> (usize, usize) {
    let mut orders = 0;
    let mut lines = 0;
    for bod in BodStream::<_, Bod<PurchaseOrder>>::new(input) {
        let bod = bod.expect("benchmark batch parses");
        orders += bod.nouns.len();
        lines += bod.nouns.iter().map(|p| p.lines.len()).sum::<usize>();
        black_box(&bod);
    }
    (orders, lines)
}

/// A reader producing `count` generated orders without holding the batch in memory.
struct Generated {
    next: usize,
    count: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.next == self.count {
                return Ok(0);
            }
            self.buf = purchase_order(self.next).into_bytes();
            self.next += 1;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Peak resident set size so far (Linux `VmHWM`), in KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    // 1. Peak memory while streaming a large batch that never exists in memory as a whole.
    //    Measured first, before anything else has raised the high-water mark.
    let big_orders = 40_000;
    let before = vm_hwm_kib();
    let t = Instant::now();
    let mut generated_bytes = 0usize;
    let src = Generated {
        next: 0,
        count: big_orders,
        buf: Vec::new(),
        pos: 0,
    };
    let counting = src.inspect_bytes(&mut generated_bytes);
    let (big_parsed, _) = typed_parse(BufReader::new(counting));
    let big_elapsed = t.elapsed();
    let after = vm_hwm_kib();
    assert_eq!(big_parsed, big_orders);

    // 2. Throughput on an in-memory batch.
    let orders = 2_000;
    let bytes = batch(orders);
    let mb = bytes.len() as f64 / 1_000_000.0;
    let events = event_scan(&bytes);
    assert_eq!(typed_parse(&bytes[..]).0, orders);

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    {
        let mut g = c.benchmark_group("bod_parse_sync_purchase_order");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("quick_xml_event_scan", |b| {
            b.iter(|| event_scan(black_box(&bytes)))
        });
        g.bench_function("typed_bod_stream", |b| {
            b.iter(|| typed_parse(black_box(&bytes[..])))
        });
        g.finish();
    }
    c.final_summary();

    // 3. Summary table (best of 5 runs each, same bytes, same process).
    let scan = best_of(5, || {
        black_box(event_scan(&bytes));
    });
    let typed = best_of(5, || {
        black_box(typed_parse(&bytes[..]));
    });
    let lines = orders * LINES_PER_ORDER;
    println!();
    println!(
        "batch: {orders} SyncPurchaseOrder BODs, {lines} lines, {:.2} MB, {events} XML events",
        mb
    );
    for (name, d) in [
        ("quick-xml event scan (floor)", scan),
        ("typed Bod<PurchaseOrder> stream", typed),
    ] {
        let s = d.as_secs_f64();
        println!(
            "{name:34} {:8.1} ms  {:7.1} MB/s  {:9.0} BODs/s  {:10.0} lines/s",
            s * 1000.0,
            mb / s,
            orders as f64 / s,
            lines as f64 / s
        );
    }
    println!(
        "typed parse costs {:.1}x the event scan",
        typed.as_secs_f64() / scan.as_secs_f64()
    );
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "streamed {big_orders} BODs ({:.0} MB, generated on the fly) in {:.2} s: VmHWM {b} KiB before, {a} KiB after (+{} KiB)",
            generated_bytes as f64 / 1_000_000.0,
            big_elapsed.as_secs_f64(),
            a.saturating_sub(b)
        ),
        _ => println!("VmHWM unavailable (not Linux?)"),
    }
}

/// Counts bytes as they are read (for the streamed-batch size).
trait InspectBytes: Read + Sized {
    fn inspect_bytes(self, counter: &mut usize) -> Counting<'_, Self> {
        Counting {
            inner: self,
            counter,
        }
    }
}

impl<R: Read> InspectBytes for R {}

struct Counting<'a, R> {
    inner: R,
    counter: &'a mut usize,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        *self.counter += n;
        Ok(n)
    }
}
