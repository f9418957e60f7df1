-- sync-core store schema, version 1 (SQLite).
-- Every table is keyed by tenant first. Whole records are kept as JSON (the Rust types are the
-- schema of record); the plain columns next to them exist for filtering and for operators.
-- Timestamps in plain columns are integer microseconds since the Unix epoch (UTC), so they
-- compare and index correctly.

CREATE TABLE audit_entries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT, -- insertion order = "oldest first"
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    run_id       TEXT    NOT NULL,
    stream       TEXT    NOT NULL,
    source_key   TEXT    NOT NULL, -- SourceIdentity::key()
    source_id    TEXT    NOT NULL, -- SourceIdentity::id
    target_id    TEXT,
    status       TEXT    NOT NULL, -- authoritative (the JSON copy is overridden on read)
    resolved_by  TEXT,             -- authoritative, like status
    started_at   INTEGER NOT NULL,
    entry        TEXT    NOT NULL, -- the AuditEntry as JSON
    UNIQUE (tenant, id)
);
CREATE INDEX audit_by_id ON audit_entries (id);
CREATE INDEX audit_by_run ON audit_entries (tenant, run_id, status);
CREATE INDEX audit_by_source ON audit_entries (tenant, stream, source_key, status);
CREATE INDEX audit_by_source_id ON audit_entries (tenant, source_id);
CREATE INDEX audit_by_target_id ON audit_entries (tenant, target_id);
CREATE INDEX audit_by_time ON audit_entries (tenant, started_at);
CREATE INDEX audit_by_status_time ON audit_entries (status, started_at);

CREATE TABLE checkpoints (
    tenant      TEXT    NOT NULL,
    stream      TEXT    NOT NULL,
    cursor_at   INTEGER,          -- for operators; the JSON is read back
    checkpoint  TEXT    NOT NULL, -- the Checkpoint as JSON
    PRIMARY KEY (tenant, stream)
);

CREATE TABLE stream_fences (
    tenant  TEXT    NOT NULL,
    stream  TEXT    NOT NULL,
    fence   INTEGER NOT NULL,
    PRIMARY KEY (tenant, stream)
);

CREATE TABLE cross_refs (
    tenant      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    xref        TEXT NOT NULL, -- the CrossRef as JSON
    PRIMARY KEY (tenant, kind, source_key)
);
CREATE INDEX cross_refs_by_target ON cross_refs (tenant, kind, target_id);

CREATE TABLE gl_mappings (
    tenant   TEXT NOT NULL PRIMARY KEY,
    mapping  TEXT NOT NULL -- the GlMapping as JSON
);
