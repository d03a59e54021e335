-- The customer's data rights (docs/privacy.md). `consent_events` is the append-only consent ledger:
-- one row per grant or withdrawal of a purpose; the current state is the newest row per purpose. A
-- row with a topic records a subscription change of one topic (history only; the topic's own state
-- stays in `subscriptions`). Rows are keyed by profile like other customer data and read through the
-- profile's merged ids.
CREATE TABLE consent_events (
  id INTEGER PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('granted', 'withdrawn')),
  source TEXT NOT NULL,
  method TEXT NOT NULL,
  text_version TEXT,
  topic TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX consent_events_by_profile ON consent_events (workspace_id, profile_id, at, id);

-- Erased identities, as SHA-256 of workspace, kind and value (never the value itself): ingest drops
-- events naming one and counts them in `hits`, so late or replayed events cannot re-create the customer.
CREATE TABLE tombstones (
  workspace_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  kind TEXT NOT NULL,
  erased_at INTEGER NOT NULL,
  hits INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, hash)
) WITHOUT ROWID;

-- The erasure log, without personal data: when, who asked (api, customer) and how many rows of each
-- kind were removed (JSON object).
CREATE TABLE erasures (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  erased_at INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  counts TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;

-- A workspace's privacy settings (validated JSON: retention, extra purposes, profiling rule).
CREATE TABLE privacy_settings (
  workspace_id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

