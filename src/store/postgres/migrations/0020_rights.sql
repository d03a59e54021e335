-- The customer's data rights (docs/privacy.md). `consent_events` is the append-only consent ledger:
-- one row per grant or withdrawal of a purpose; the current state is the newest row per purpose. A
-- row with a topic records a subscription change of one topic (history only; the topic's own state
-- stays in `subscriptions`). Rows are keyed by profile like other customer data and read through the
-- profile's merged ids.
CREATE TABLE consent_events (
  id bigserial PRIMARY KEY,
  workspace_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  purpose text COLLATE "C" NOT NULL,
  status text NOT NULL CHECK (status IN ('granted', 'withdrawn')),
  source text NOT NULL,
  method text NOT NULL,
  text_version text,
  topic text,
  at bigint NOT NULL
);
CREATE INDEX consent_events_by_profile ON consent_events (workspace_id, profile_id, at, id);

-- Erased identities, as SHA-256 of workspace, kind and value (never the value itself): ingest drops
-- events naming one and counts them in `hits`, so late or replayed events cannot re-create the customer.
CREATE TABLE tombstones (
  workspace_id text COLLATE "C" NOT NULL,
  hash text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  erased_at bigint NOT NULL,
  hits bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, hash)
);

-- The erasure log, without personal data: when, who asked (api, customer) and how many rows of each
-- kind were removed (JSON object).
CREATE TABLE erasures (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  erased_at bigint NOT NULL,
  requested_by text NOT NULL,
  counts jsonb NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

-- A workspace's privacy settings (validated JSON: retention, extra purposes, profiling rule).
CREATE TABLE privacy_settings (
  workspace_id text COLLATE "C" PRIMARY KEY,
  settings jsonb NOT NULL,
  updated_at bigint NOT NULL
);

