-- Message templates (docs/templates.md): one row per name, its validated definition and a version
-- that grows with every change (messages record which version rendered them).
CREATE TABLE templates (
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  channel TEXT NOT NULL,
  definition TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;

-- Subscriptions per contact point (an e-mail address, a phone number, a device): keyed by the address,
-- not the profile, so an opt-out survives identity merges and reaches every profile sharing the address.
-- topic '*' is "everything but transactional messages".
CREATE TABLE subscriptions (
  workspace_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  topic TEXT NOT NULL,
  status TEXT NOT NULL,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, channel, address, topic)
) WITHOUT ROWID;

-- A workspace's delivery settings: quiet hours and frequency caps (validated JSON, docs/channels.md).
CREATE TABLE delivery_settings (
  workspace_id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
