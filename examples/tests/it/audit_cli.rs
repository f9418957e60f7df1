//! The `audit` binary over an SQLite store filled through sync-core's API: list, filters,
//! paging, show, export, summary and retention outputs, and clear messages (exit 2) for bad
//! input.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sync_core::model::{ContentHash, RecordKind, SourceIdentity};
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{
    Action, AuditEntry, AuditStatus, AuditStore, EntryId, ErrorClass, ErrorInfo, MatchResult,
    RunId, StreamId,
};
use sync_core::time::SystemClock;

const TENANT: &str = "ACME_TST";
const OLD_RUN: &str = "20260101T000000.000Z-0000000a";
const NEW_RUN: &str = "20261101T000000.000Z-0000000b";

struct Spec {
    id: &'static str,
    run: &'static str,
    stream: StreamId,
    source_id: &'static str,
    status: AuditStatus,
    target: Option<&'static str>,
    error: Option<&'static str>,
    started: DateTime<Utc>,
    tenant: &'static str,
}

fn entry(s: &Spec) -> AuditEntry {
    let kind = match s.stream.0.as_str() {
        "suppliers" => RecordKind::Supplier,
        "purchase_orders" => RecordKind::PurchaseOrder,
        _ => RecordKind::SupplierInvoice,
    };
    AuditEntry {
        id: EntryId(s.id.to_owned()),
        run_id: RunId(s.run.to_owned()),
        tenant: s.tenant.to_owned(),
        stream: s.stream.clone(),
        kind,
        source: SourceIdentity::new("cloudsuite", s.tenant, "DALS", s.source_id),
        source_modified_at: s.started - Duration::hours(1),
        content_hash: ContentHash(format!("hash-{}", s.id)),
        action: if s.status == AuditStatus::Succeeded {
            Action::Create
        } else {
            Action::None
        },
        match_result: s.target.map(|_| MatchResult::Created),
        target_id: s.target.map(str::to_owned),
        status: s.status,
        error: s.error.map(|message| ErrorInfo {
            class: ErrorClass::Mapping,
            message: message.to_owned(),
        }),
        request_summary: None,
        response_summary: None,
        source_snapshot: json!({"VendNum": s.source_id, "Name": format!("Vendor {}", s.source_id)}),
        mapped_snapshot: s
            .target
            .map(|_| json!({"Name": format!("Vendor {}", s.source_id), "Currency": "USD"})),
        started_at: s.started,
        finished_at: Some(s.started + Duration::seconds(1)),
        replay_of: None,
        resolved_by: None,
    }
}

/// Two runs of ACME_TST (one 100 days old, one 2 days old) and one entry of another tenant.
async fn fill(path: &Path) {
    let store = SqliteStore::open(path, SystemClock::shared())
        .await
        .unwrap();
    let old = Utc::now() - Duration::days(100);
    let new = Utc::now() - Duration::days(2);
    let specs = [
        Spec {
            id: "old-1",
            run: OLD_RUN,
            stream: StreamId::suppliers(),
            source_id: "V1",
            status: AuditStatus::Succeeded,
            target: Some("T-V1"),
            error: None,
            started: old,
            tenant: TENANT,
        },
        Spec {
            id: "old-2",
            run: OLD_RUN,
            stream: StreamId::suppliers(),
            source_id: "V2",
            status: AuditStatus::Failed,
            target: None,
            error: Some("no Cin7 account for GL 9999"),
            started: old + Duration::seconds(1),
            tenant: TENANT,
        },
        Spec {
            id: "old-3",
            run: OLD_RUN,
            stream: StreamId::purchase_orders(),
            source_id: "PO1",
            status: AuditStatus::Succeeded,
            target: Some("T-PO1"),
            error: None,
            started: old + Duration::seconds(2),
            tenant: TENANT,
        },
        Spec {
            id: "new-1",
            run: NEW_RUN,
            stream: StreamId::suppliers(),
            source_id: "V1",
            status: AuditStatus::Succeeded,
            target: Some("T-V1"),
            error: None,
            started: new,
            tenant: TENANT,
        },
        Spec {
            id: "new-2",
            run: NEW_RUN,
            stream: StreamId::suppliers(),
            source_id: "V3",
            status: AuditStatus::Deferred,
            target: None,
            error: None,
            started: new + Duration::seconds(1),
            tenant: TENANT,
        },
        Spec {
            id: "new-3",
            run: NEW_RUN,
            stream: StreamId::supplier_invoices(),
            source_id: "INV1",
            status: AuditStatus::Failed,
            target: None,
            error: Some("supplier V3 is not in Cin7 yet"),
            started: new + Duration::seconds(2),
            tenant: TENANT,
        },
        Spec {
            id: "other-1",
            run: NEW_RUN,
            stream: StreamId::suppliers(),
            source_id: "V9",
            status: AuditStatus::Failed,
            target: None,
            error: Some("other tenant"),
            started: new,
            tenant: "OTHER_PRD",
        },
    ];
    for spec in &specs {
        store.record_intent(&entry(spec)).await.unwrap();
    }
    store.close().await;
}

fn audit(store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_audit"))
        .args(["--store", store, "--tenant", TENANT])
        .args(args)
        .env_remove("SYNC_STORE_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", text(output));
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The entry ids `list` printed, in order.
fn listed(out: &str) -> Vec<String> {
    out.lines()
        .skip(1)
        .filter(|l| !l.starts_with("more:") && !l.starts_with('('))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_filters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.sqlite");
    fill(&path).await;
    let store = path.to_str().unwrap();

    let all = stdout(&audit(store, &["list"]));
    assert_eq!(
        listed(&all),
        ["old-1", "old-2", "old-3", "new-1", "new-2", "new-3"]
    );
    assert!(all.contains("no Cin7 account for GL 9999"), "{all}");
    assert!(all.contains("(6 entries, end of list)"), "{all}");

    let failed = stdout(&audit(store, &["list", "--status", "failed"]));
    assert_eq!(listed(&failed), ["old-2", "new-3"]);
    let open = stdout(&audit(store, &["list", "--status", "failed,deferred"]));
    assert_eq!(listed(&open), ["old-2", "new-2", "new-3"]);
    let old_suppliers = stdout(&audit(
        store,
        &["list", "--stream", "suppliers", "--run", OLD_RUN],
    ));
    assert_eq!(listed(&old_suppliers), ["old-1", "old-2"]);
    let v1 = stdout(&audit(store, &["list", "--source-id", "V1"]));
    assert_eq!(listed(&v1), ["old-1", "new-1"]);
    let po = stdout(&audit(store, &["list", "--target-id", "T-PO1"]));
    assert_eq!(listed(&po), ["old-3"]);

    let cut = (Utc::now() - Duration::days(50)).to_rfc3339();
    let recent = stdout(&audit(store, &["list", "--since", &cut]));
    assert_eq!(listed(&recent), ["new-1", "new-2", "new-3"]);
    let older = stdout(&audit(store, &["list", "--until", &cut]));
    assert_eq!(listed(&older), ["old-1", "old-2", "old-3"]);
    let date = (Utc::now() - Duration::days(50))
        .format("%Y-%m-%d")
        .to_string();
    let by_date = stdout(&audit(store, &["list", "--since", &date]));
    assert_eq!(listed(&by_date), ["new-1", "new-2", "new-3"]);

    // Paging: the first page says where to continue; the pages do not overlap.
    let first = stdout(&audit(store, &["list", "--limit", "4"]));
    assert_eq!(listed(&first), ["old-1", "old-2", "old-3", "new-1"]);
    let after = first
        .lines()
        .find_map(|l| l.strip_prefix("more: add --after "))
        .unwrap()
        .trim()
        .to_owned();
    let second = stdout(&audit(store, &["list", "--limit", "4", "--after", &after]));
    assert_eq!(listed(&second), ["new-2", "new-3"]);
    assert!(second.contains("end of list"), "{second}");
}

#[tokio::test]
async fn show_export_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.sqlite");
    fill(&path).await;
    let store = path.to_str().unwrap();

    let shown = stdout(&audit(store, &["show", "old-1"]));
    assert!(shown.contains("status:      succeeded"), "{shown}");
    assert!(shown.contains("target id:   T-V1"), "{shown}");
    assert!(
        shown.contains("source snapshot:\n{\n  \"Name\": \"Vendor V1\",\n  \"VendNum\": \"V1\"\n}"),
        "{shown}"
    );
    assert!(
        shown
            .contains("mapped payload:\n{\n  \"Currency\": \"USD\",\n  \"Name\": \"Vendor V1\"\n}"),
        "{shown}"
    );
    let failed = stdout(&audit(store, &["show", "new-3"]));
    assert!(
        failed.contains("error:       mapping: supplier V3 is not in Cin7 yet"),
        "{failed}"
    );
    assert!(failed.contains("mapped payload: (none"), "{failed}");

    // Export to standard output: every entry of the tenant (not the other one), decodable.
    let out = audit(store, &["export"]);
    let lines = stdout(&out);
    let entries: Vec<AuditEntry> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 6);
    assert!(entries.iter().all(|e| e.tenant == TENANT));
    assert_eq!(
        entries[1].error.as_ref().unwrap().message,
        "no Cin7 account for GL 9999"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 6 entries"));

    let file = dir.path().join("failed.jsonl");
    let out = audit(
        store,
        &[
            "export",
            "--status",
            "failed",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(stdout(&out).is_empty());
    let written = std::fs::read_to_string(&file).unwrap();
    let ids: Vec<String> = written
        .lines()
        .map(|l| serde_json::from_str::<AuditEntry>(l).unwrap().id.0)
        .collect();
    assert_eq!(ids, ["old-2", "new-3"]);

    // Summary of the latest run, then of a named run.
    let summary = stdout(&audit(store, &["summary"]));
    assert!(
        summary.starts_with(&format!("run {NEW_RUN}\n")),
        "{summary}"
    );
    let row = |table: &str, stream: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(stream))
            .unwrap_or_else(|| panic!("no row {stream} in {table}"))
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect()
    };
    // Columns: pending succeeded failed deferred conflict resolved total.
    assert_eq!(
        row(&summary, "suppliers"),
        ["0", "1", "0", "1", "0", "0", "2"]
    );
    assert_eq!(
        row(&summary, "supplier_invoices"),
        ["0", "0", "1", "0", "0", "0", "1"]
    );
    assert_eq!(row(&summary, "all"), ["0", "1", "1", "1", "0", "0", "3"]);
    let old = stdout(&audit(store, &["summary", "--run", OLD_RUN]));
    assert_eq!(row(&old, "suppliers"), ["0", "1", "1", "0", "0", "0", "2"]);
    assert_eq!(
        row(&old, "purchase_orders"),
        ["0", "1", "0", "0", "0", "0", "1"]
    );
}

#[tokio::test]
async fn retention_keeps_unresolved_failures_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.sqlite");
    fill(&path).await;
    let store = path.to_str().unwrap();

    let out = stdout(&audit(store, &["retention", "--older-than-days", "30"]));
    assert!(out.contains("deleted 2 finished entries"), "{out}");
    let left = stdout(&audit(store, &["list"]));
    assert_eq!(listed(&left), ["old-2", "new-1", "new-2", "new-3"]);

    let out = stdout(&audit(
        store,
        &[
            "retention",
            "--older-than-days",
            "30",
            "--include-unresolved-failures",
        ],
    ));
    assert!(
        out.contains("deleted 1 entries (open ones included)"),
        "{out}"
    );
    let left = stdout(&audit(store, &["list"]));
    assert_eq!(listed(&left), ["new-1", "new-2", "new-3"]);
}

#[tokio::test]
async fn bad_input_gets_clear_messages_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.sqlite");
    fill(&path).await;
    let store = path.to_str().unwrap();

    let assert_input_error = |out: &Output, want: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", text(out));
        assert!(
            text(out).contains(want),
            "missing {want:?} in {}",
            text(out)
        );
    };

    let missing = dir.path().join("nope.sqlite");
    let out = audit(missing.to_str().unwrap(), &["list"]);
    assert_input_error(&out, "no SQLite store at");
    assert!(!missing.exists(), "an inspection must not create a store");
    let url = format!("sqlite://{}", missing.display());
    assert_input_error(&audit(&url, &["summary"]), "no SQLite store at");

    assert_input_error(
        &audit(store, &["show", "no-such-entry"]),
        "no audit entry `no-such-entry` for tenant `ACME_TST`",
    );
    // Entries of another tenant are not visible.
    assert_input_error(
        &audit(store, &["show", "other-1"]),
        "no audit entry `other-1`",
    );
    assert_input_error(
        &audit(store, &["list", "--status", "bogus"]),
        "unknown status `bogus`: use one of pending, succeeded, failed, deferred, conflict, resolved",
    );
    assert_input_error(
        &audit(store, &["list", "--since", "yesterday"]),
        "`yesterday` is not a time",
    );
    assert_input_error(
        &audit(store, &["summary", "--run", "no-such-run"]),
        "run `no-such-run` has no entries",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_audit"))
        .args(["--store", store, "--tenant", "ACME_PRD", "list"])
        .output()
        .unwrap();
    assert_input_error(&out, "the store has no audit entries for tenant `ACME_PRD`");
    assert_input_error(
        &audit("mysql://x", &["list"]),
        "--store must be an SQLite file path",
    );

    // A PostgreSQL URL's password is never echoed, even when the connection fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://sync:pw-Secret-4711@127.0.0.1:{port}/sync");
    let out = audit(&url, &["--connect-timeout-secs", "1", "list"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot open the PostgreSQL store"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("pw-Secret-4711"), "{}", text(&out));

    let help = Command::new(env!("CARGO_BIN_EXE_audit"))
        .args(["list", "--help"])
        .output()
        .unwrap();
    let help = text(&help);
    for flag in [
        "--stream",
        "--run",
        "--status",
        "--source-id",
        "--target-id",
        "--since",
        "--until",
        "--limit",
        "--after",
    ] {
        assert!(help.contains(flag), "list --help lacks {flag}:\n{help}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_audit"))
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&help);
    for word in [
        "--store",
        "--schema",
        "--tenant",
        "list",
        "show",
        "export",
        "summary",
        "retention",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
}
