-- Message templates (docs/templates.md): one row per name, its validated definition and a version
-- that grows with every change (messages record which version rendered them).
CREATE TABLE templates (
  workspace_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  channel text COLLATE "C" NOT NULL,
  definition jsonb NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, name)
);

-- Subscriptions per contact point (an e-mail address, a phone number, a device): keyed by the address,
-- not the profile, so an opt-out survives identity merges and reaches every profile sharing the address.
-- topic '*' is "everything but transactional messages".
CREATE TABLE subscriptions (
  workspace_id text COLLATE "C" NOT NULL,
  channel text COLLATE "C" NOT NULL,
  address text COLLATE "C" NOT NULL,
  topic text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  source text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (workspace_id, channel, address, topic)
);

-- A workspace's delivery settings: quiet hours and frequency caps (validated JSON, docs/channels.md).
CREATE TABLE delivery_settings (
  workspace_id text COLLATE "C" PRIMARY KEY,
  settings jsonb NOT NULL,
  updated_at bigint NOT NULL
);
