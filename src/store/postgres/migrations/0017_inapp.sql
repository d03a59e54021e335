-- On-site and in-app messages and content cards (docs/in-app.md). A campaign's definition is one JSON
-- document validated by src/domain/inapp; status and schedule are columns because the SDK-facing
-- read asks for "active now" across the workspace.
CREATE TABLE inapp_messages (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  definition jsonb NOT NULL,
  starts_at bigint,
  ends_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

-- A card is a campaign (profile_id NULL: everyone its targeting selects) or one customer's own card
-- (profile_id set, posted by the admin API). Expired cards stay for the record; reads filter them.
CREATE TABLE content_cards (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C",
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  definition jsonb NOT NULL,
  starts_at bigint,
  expires_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX content_cards_by_profile ON content_cards (workspace_id, profile_id) WHERE profile_id IS NOT NULL;

-- What one customer did with one message: counters for frequency rules and the last SDK session it
-- was seen in ("every visit" = once per session). One row per (customer, message), updated in place,
-- so eligibility reads one short key range per customer however many times messages were shown.
CREATE TABLE inapp_interactions (
  workspace_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  impressions integer NOT NULL DEFAULT 0,
  clicks integer NOT NULL DEFAULT 0,
  dismissals integer NOT NULL DEFAULT 0,
  last_session text,
  last_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, message_id)
);

-- A customer's read and dismissed state of each card they acted on.
CREATE TABLE card_states (
  workspace_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  card_id text COLLATE "C" NOT NULL,
  read_at bigint,
  dismissed_at bigint,
  PRIMARY KEY (workspace_id, profile_id, card_id)
);

-- The browser SDK's workspace settings (consent mode, the sealed identity-verification secret).
CREATE TABLE sdk_settings (
  workspace_id text COLLATE "C" PRIMARY KEY,
  settings jsonb NOT NULL,
  updated_at bigint NOT NULL
);
