-- On-site and in-app messages and content cards (docs/in-app.md). A campaign's definition is one JSON
-- document validated by src/domain/inapp; status and schedule are columns because the SDK-facing
-- read asks for "active now" across the workspace.
CREATE TABLE inapp_messages (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  definition TEXT NOT NULL,
  starts_at INTEGER,
  ends_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;

-- A card is a campaign (profile_id NULL: everyone its targeting selects) or one customer's own card
-- (profile_id set, posted by the admin API). Expired cards stay for the record; reads filter them.
CREATE TABLE content_cards (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  profile_id TEXT,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  definition TEXT NOT NULL,
  starts_at INTEGER,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE INDEX content_cards_by_profile ON content_cards (workspace_id, profile_id) WHERE profile_id IS NOT NULL;

-- What one customer did with one message: counters for frequency rules and the last SDK session it
-- was seen in ("every visit" = once per session). One row per (customer, message), updated in place,
-- so eligibility reads one short key range per customer however many times messages were shown.
CREATE TABLE inapp_interactions (
  workspace_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  impressions INTEGER NOT NULL DEFAULT 0,
  clicks INTEGER NOT NULL DEFAULT 0,
  dismissals INTEGER NOT NULL DEFAULT 0,
  last_session TEXT,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, message_id)
) WITHOUT ROWID;

-- A customer's read and dismissed state of each card they acted on.
CREATE TABLE card_states (
  workspace_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  card_id TEXT NOT NULL,
  read_at INTEGER,
  dismissed_at INTEGER,
  PRIMARY KEY (workspace_id, profile_id, card_id)
) WITHOUT ROWID;

-- The browser SDK's workspace settings (consent mode, the sealed identity-verification secret).
CREATE TABLE sdk_settings (
  workspace_id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
