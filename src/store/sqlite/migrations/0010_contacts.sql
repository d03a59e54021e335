-- The suppression list (docs/channels.md): contact points no message may reach, transactional ones
-- included — an address that hard-bounced, a customer who complained, one an admin suppressed. Keyed by
-- the address like subscriptions, so it holds across identity merges and every profile sharing it.
CREATE TABLE suppressions (
  workspace_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, channel, address)
) WITHOUT ROWID;

-- Devices a customer's push messages go to: mobile tokens (FCM, APNs) from context.device.token or the
-- device API, and browser web push subscriptions (the endpoint is the token, the keys in `subscription`).
-- A token belongs to one profile at a time (the latest to report it); merges move it to the survivor.
CREATE TABLE devices (
  workspace_id TEXT NOT NULL,
  token TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  subscription TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, token)
) WITHOUT ROWID;
CREATE INDEX devices_by_profile ON devices (workspace_id, profile_id);
