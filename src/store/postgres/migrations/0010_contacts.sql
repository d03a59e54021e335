-- The suppression list (docs/channels.md): contact points no message may reach, transactional ones
-- included — an address that hard-bounced, a customer who complained, one an admin suppressed. Keyed by
-- the address like subscriptions, so it holds across identity merges and every profile sharing it.
CREATE TABLE suppressions (
  workspace_id text COLLATE "C" NOT NULL,
  channel text COLLATE "C" NOT NULL,
  address text COLLATE "C" NOT NULL,
  reason text COLLATE "C" NOT NULL,
  detail text,
  source text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (workspace_id, channel, address)
);

-- Devices a customer's push messages go to: mobile tokens (FCM, APNs) from context.device.token or the
-- device API, and browser web push subscriptions (the endpoint is the token, the keys in `subscription`).
-- A token belongs to one profile at a time (the latest to report it); merges move it to the survivor.
CREATE TABLE devices (
  workspace_id text COLLATE "C" NOT NULL,
  token text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  subscription jsonb,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, token)
);
CREATE INDEX devices_by_profile ON devices (workspace_id, profile_id);
