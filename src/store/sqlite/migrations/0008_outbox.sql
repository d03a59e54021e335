-- The journey message table becomes the outbox (docs/channels.md): every message has a delivery state,
-- and those still to be attempted carry the time of their next attempt in the partial index below,
-- which the dispatcher claims from. Messages recorded before channels existed stay 'recorded'.
ALTER TABLE journey_messages ADD COLUMN status TEXT NOT NULL DEFAULT 'recorded';
ALTER TABLE journey_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE journey_messages ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE journey_messages ADD COLUMN claimed_by TEXT;
ALTER TABLE journey_messages ADD COLUMN reason TEXT;
ALTER TABLE journey_messages ADD COLUMN updated_at INTEGER;
-- the template's subscription topic (frequency caps and quiet hours leave 'transactional' alone)
ALTER TABLE journey_messages ADD COLUMN topic TEXT;
CREATE INDEX journey_messages_due ON journey_messages (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every state a message went through, with the attempt and why (the explainer and the timeline read it).
CREATE TABLE message_events (
  workspace_id TEXT NOT NULL,
  message_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  detail TEXT
);
CREATE INDEX message_events_by_message ON message_events (workspace_id, message_key, at);

-- A workspace's channel configuration: the provider, its plain settings, and its credentials encrypted
-- by the server's secret key (never stored or shown in the clear).
CREATE TABLE channels (
  workspace_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  provider TEXT NOT NULL,
  settings TEXT NOT NULL,
  secrets TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, channel)
) WITHOUT ROWID;
