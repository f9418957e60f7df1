-- sync-core store schema, version 3 (PostgreSQL): a job's affinity (e.g. the Cin7 account it
-- writes to). While one worker holds a lease on a job of an affinity, no other worker claims a
-- job of that affinity, so one process at a time spends an account's rate budget.

ALTER TABLE jobs ADD COLUMN affinity TEXT;
CREATE INDEX jobs_by_affinity ON jobs (affinity) WHERE affinity IS NOT NULL;
