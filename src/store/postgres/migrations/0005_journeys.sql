-- Journeys (docs/journeys.md): versioned definitions, each customer's entry, its step history, the
-- sends it recorded and static lists. The same tables and columns as the SQLite schema.
--
-- Definitions (drafts and published versions) are json, not jsonb, like the other user-written
-- specs (see 0002_engagement.sql): read back whole, never queried inside, kept as written.

CREATE TABLE journeys (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'published', 'paused', 'archived')),
  draft json NOT NULL,
  -- latest published version, 0 = never published
  version integer NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  published_at bigint,
  PRIMARY KEY (workspace_id, id),
  CONSTRAINT journeys_name_unique UNIQUE (workspace_id, name)
);

CREATE TABLE journey_versions (
  workspace_id text COLLATE "C" NOT NULL,
  journey_id text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  definition json NOT NULL,
  published_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, journey_id, version)
);

-- One customer's pass through one journey. due_at is when the runner must look at it next (a step to
-- start, a delay or timeout over, an event arrived); a claim pushes it to the end of the claim's lease,
-- so one index serves both "what is due" and "whose worker died".
CREATE TABLE journey_entries (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  journey_id text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  state text COLLATE "C" NOT NULL CHECK (state IN ('active', 'completed', 'exited')),
  step text COLLATE "C" NOT NULL,
  phase text NOT NULL CHECK (phase IN ('enter', 'waiting')),
  steps_taken integer NOT NULL DEFAULT 0,
  waiting_for text COLLATE "C",
  -- the event that woke a wait_for_event step
  signal json,
  step_since bigint NOT NULL,
  due_at bigint,
  claimed_by text COLLATE "C",
  trigger text NOT NULL,
  entered_at bigint NOT NULL,
  ended_at bigint,
  exit_reason text,
  converted_at bigint,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX journey_entries_due ON journey_entries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX journey_entries_by_profile ON journey_entries (workspace_id, profile_id);
CREATE INDEX journey_entries_by_journey ON journey_entries (workspace_id, journey_id, state, step);

-- `id` is insertion order: an entry's history reads back in the order it was written (its writers
-- hold the entry's row lock, so for one entry that is commit order too).
CREATE TABLE journey_steps (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id text COLLATE "C" NOT NULL,
  entry_id text COLLATE "C" NOT NULL,
  at bigint NOT NULL,
  step text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  outcome text NOT NULL
);
CREATE INDEX journey_steps_by_entry ON journey_steps (workspace_id, entry_id, id);

-- What send, webhook steps asked for, once each (the key is entry + step + step count); the channels
-- deliver from here.
CREATE TABLE journey_messages (
  workspace_id text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  journey_id text COLLATE "C" NOT NULL,
  entry_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  step text COLLATE "C" NOT NULL,
  channel text COLLATE "C" NOT NULL,
  template text COLLATE "C",
  payload json NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, key)
);
CREATE INDEX journey_messages_by_journey ON journey_messages (workspace_id, journey_id, created_at, key);
CREATE INDEX journey_messages_by_profile ON journey_messages (workspace_id, profile_id, created_at, key);

CREATE TABLE list_members (
  workspace_id text COLLATE "C" NOT NULL,
  list text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  added_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, list, profile_id)
);
CREATE INDEX list_members_by_profile ON list_members (workspace_id, profile_id);
