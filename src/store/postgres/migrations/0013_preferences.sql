-- A workspace's declared subscription topics (docs/channels.md#subscription-topics): display names and
-- descriptions per locale, and whether a topic needs an opt-in. One validated JSON document per workspace.
-- Subscription states (0009) gain a third status, 'pending': a double opt-in awaiting its confirmation.
CREATE TABLE subscription_topics (
  workspace_id text COLLATE "C" PRIMARY KEY,
  topics jsonb NOT NULL,
  updated_at bigint NOT NULL
);
