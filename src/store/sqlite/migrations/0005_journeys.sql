-- Journeys (docs/journeys.md): versioned definitions, each customer's entry, its step history, the
-- sends it recorded and static lists.

CREATE TABLE journeys (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'paused', 'archived')),
  draft TEXT NOT NULL,
  -- latest published version, 0 = never published
  version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  published_at INTEGER,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
) WITHOUT ROWID;

CREATE TABLE journey_versions (
  workspace_id TEXT NOT NULL,
  journey_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, journey_id, version)
) WITHOUT ROWID;

-- One customer's pass through one journey. due_at is when the runner must look at it next (a step to
-- start, a delay or timeout over, an event arrived); a claim pushes it to the end of the claim's lease,
-- so one index serves both "what is due" and "whose worker died".
CREATE TABLE journey_entries (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  journey_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  profile_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'completed', 'exited')),
  step TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('enter', 'waiting')),
  steps_taken INTEGER NOT NULL DEFAULT 0,
  waiting_for TEXT,
  -- JSON of the event that woke a wait_for_event step
  signal TEXT,
  step_since INTEGER NOT NULL,
  due_at INTEGER,
  claimed_by TEXT,
  trigger TEXT NOT NULL,
  entered_at INTEGER NOT NULL,
  ended_at INTEGER,
  exit_reason TEXT,
  converted_at INTEGER,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE INDEX journey_entries_due ON journey_entries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX journey_entries_by_profile ON journey_entries (workspace_id, profile_id);
CREATE INDEX journey_entries_by_journey ON journey_entries (workspace_id, journey_id, state, step);

CREATE TABLE journey_steps (
  id INTEGER PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  step TEXT NOT NULL,
  type TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX journey_steps_by_entry ON journey_steps (workspace_id, entry_id, id);

-- What send, webhook steps asked for, once each (the key is entry + step + step count); the channels
-- deliver from here.
CREATE TABLE journey_messages (
  workspace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  journey_id TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  step TEXT NOT NULL,
  channel TEXT NOT NULL,
  template TEXT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key)
) WITHOUT ROWID;
CREATE INDEX journey_messages_by_journey ON journey_messages (workspace_id, journey_id, created_at, key);
CREATE INDEX journey_messages_by_profile ON journey_messages (workspace_id, profile_id, created_at, key);

CREATE TABLE list_members (
  workspace_id TEXT NOT NULL,
  list TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, list, profile_id)
) WITHOUT ROWID;
CREATE INDEX list_members_by_profile ON list_members (workspace_id, profile_id);
