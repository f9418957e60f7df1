-- sync-core store schema, version 1 (PostgreSQL). Created in the schema named in PgConfig
-- (the connection's search_path), so one database can hold several independent installations.
-- Every table is keyed by tenant first. Whole records are kept as JSONB (the Rust types are the
-- schema of record); the plain columns next to them exist for filtering and for operators.

CREATE TABLE audit_entries (
    seq          BIGSERIAL   PRIMARY KEY, -- insertion order = "oldest first"
    tenant       TEXT        NOT NULL,
    id           TEXT        NOT NULL,
    run_id       TEXT        NOT NULL,
    stream       TEXT        NOT NULL,
    source_key   TEXT        NOT NULL, -- SourceIdentity::key()
    source_id    TEXT        NOT NULL, -- SourceIdentity::id
    target_id    TEXT,
    status       TEXT        NOT NULL, -- authoritative (the JSON copy is overridden on read)
    resolved_by  TEXT,                 -- authoritative, like status
    started_at   TIMESTAMPTZ NOT NULL,
    entry        JSONB       NOT NULL, -- the AuditEntry
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
    tenant      TEXT        NOT NULL,
    stream      TEXT        NOT NULL,
    cursor_at   TIMESTAMPTZ,          -- for operators; the JSON is read back
    checkpoint  JSONB       NOT NULL, -- the Checkpoint
    PRIMARY KEY (tenant, stream)
);

-- One row per (tenant, stream): the fencing token and the lease of the worker running it.
-- lease_until NULL = nobody holds a lease. next_due = when the job should run next.
CREATE TABLE jobs (
    tenant       TEXT        NOT NULL,
    stream       TEXT        NOT NULL,
    fence        BIGINT      NOT NULL DEFAULT 0,
    holder       TEXT,
    lease_until  TIMESTAMPTZ,
    next_due     TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (tenant, stream)
);
CREATE INDEX jobs_claimable ON jobs (next_due, lease_until);

CREATE TABLE cross_refs (
    tenant      TEXT  NOT NULL,
    kind        TEXT  NOT NULL,
    source_key  TEXT  NOT NULL,
    target_id   TEXT  NOT NULL,
    xref        JSONB NOT NULL, -- the CrossRef
    PRIMARY KEY (tenant, kind, source_key)
);
CREATE INDEX cross_refs_by_target ON cross_refs (tenant, kind, target_id);

CREATE TABLE gl_mappings (
    tenant   TEXT  NOT NULL PRIMARY KEY,
    mapping  JSONB NOT NULL -- the GlMapping
);
