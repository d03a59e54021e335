-- Kizuna schema v1 (SQLite). Times are epoch milliseconds. Every customer table is keyed by
-- workspace first, then profile, so one customer's rows can be found (export, erasure) and the
-- schema can later be distributed by customer.

CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

-- Keys are stored as SHA-256 hashes; the plain key is shown once, at creation.
CREATE TABLE api_keys (
  key_hash TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  kind TEXT NOT NULL CHECK (kind IN ('write', 'admin')),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE profiles (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  user_id TEXT,
  -- set when this profile was merged into another; its rows now belong to the survivor
  merged_into TEXT,
  traits TEXT NOT NULL DEFAULT '{}',
  trait_times TEXT NOT NULL DEFAULT '{}',
  first_seen_at INTEGER,
  last_seen_at INTEGER,
  event_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
-- A merge re-points profiles that were merged into the loser; without this it scans the workspace.
CREATE INDEX profiles_merged ON profiles (workspace_id, merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE identities (
  workspace_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX identities_by_profile ON identities (workspace_id, profile_id);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  type TEXT NOT NULL,
  name TEXT,
  user_id TEXT,
  anonymous_id TEXT,
  timestamp INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  payload TEXT NOT NULL
);
CREATE UNIQUE INDEX events_by_message ON events (workspace_id, message_id);
CREATE INDEX events_timeline ON events (workspace_id, profile_id, timestamp, id);

CREATE TABLE event_names (
  workspace_id TEXT NOT NULL,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, type, name)
) WITHOUT ROWID;

CREATE TABLE groups (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  traits TEXT NOT NULL DEFAULT '{}',
  trait_times TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;

CREATE TABLE group_members (
  workspace_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, group_id, profile_id)
) WITHOUT ROWID;
CREATE INDEX group_members_by_profile ON group_members (workspace_id, profile_id);
