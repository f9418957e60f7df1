-- sync-core store schema, version 2 (PostgreSQL): the newest version seen of each source
-- document (a BOD's variationID), so a stale one arriving in a later window is dropped.

CREATE TABLE source_versions (
    tenant   TEXT   NOT NULL,
    document TEXT   NOT NULL, -- a stable key of the document in its source (noun, entity, id)
    version  BIGINT NOT NULL,
    PRIMARY KEY (tenant, document)
);
