-- The journey message table becomes the outbox (docs/channels.md): every message has a delivery state,
-- and those still to be attempted carry the time of their next attempt in the partial index below,
-- which the dispatcher claims from. Messages recorded before channels existed stay 'recorded'.
ALTER TABLE journey_messages
  ADD COLUMN status text COLLATE "C" NOT NULL DEFAULT 'recorded',
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at bigint,
  ADD COLUMN claimed_by text COLLATE "C",
  ADD COLUMN reason text,
  ADD COLUMN updated_at bigint,
  -- the template's subscription topic (frequency caps and quiet hours leave 'transactional' alone)
  ADD COLUMN topic text COLLATE "C";
CREATE INDEX journey_messages_due ON journey_messages (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every state a message went through, with the attempt and why (the explainer and the timeline read it).
CREATE TABLE message_events (
  workspace_id text COLLATE "C" NOT NULL,
  message_key text COLLATE "C" NOT NULL,
  at bigint NOT NULL,
  status text COLLATE "C" NOT NULL,
  attempt integer NOT NULL,
  detail text
);
CREATE INDEX message_events_by_message ON message_events (workspace_id, message_key, at);

-- A workspace's channel configuration: the provider, its plain settings, and its credentials encrypted
-- by the server's secret key (never stored or shown in the clear).
CREATE TABLE channels (
  workspace_id text COLLATE "C" NOT NULL,
  channel text COLLATE "C" NOT NULL,
  provider text COLLATE "C" NOT NULL,
  settings jsonb NOT NULL,
  secrets text NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, channel)
);
