-- Kizuna schema v1 (PostgreSQL). The same tables and keys as the SQLite schema: times are epoch
-- milliseconds (bigint), JSON is jsonb. Every customer table is keyed by workspace first, then
-- profile, so one customer's rows can be found (export, erasure) and the schema can later be
-- distributed by workspace.
--
-- Keys, names and ids compare byte-wise (COLLATE "C"), as SQLite's do: ordering and paging never
-- depend on the server's locale, and comparisons are plain memcmp.

CREATE TABLE workspaces (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL CONSTRAINT workspaces_name_unique UNIQUE,
  created_at bigint NOT NULL
);

-- Keys are stored as SHA-256 hashes; the plain key is shown once, at creation.
CREATE TABLE api_keys (
  key_hash text COLLATE "C" PRIMARY KEY,
  workspace_id text COLLATE "C" NOT NULL REFERENCES workspaces (id),
  kind text NOT NULL CHECK (kind IN ('write', 'admin')),
  created_at bigint NOT NULL,
  revoked_at bigint
);

-- Every ingest rewrites its profiles' counters: the free space left on each page (fillfactor) lets
-- such an update stay on its page without touching the indexes (a HOT update).
CREATE TABLE profiles (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  user_id text COLLATE "C",
  -- set when this profile was merged into another; its rows now belong to the survivor
  merged_into text COLLATE "C",
  traits jsonb NOT NULL DEFAULT '{}',
  trait_times jsonb NOT NULL DEFAULT '{}',
  first_seen_at bigint,
  last_seen_at bigint,
  event_count bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITH (fillfactor = 80);
-- A merge re-points the profiles already merged into its loser; without this it scans the workspace.
CREATE INDEX profiles_merged ON profiles (workspace_id, merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE identities (
  workspace_id text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  value text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX identities_by_profile ON identities (workspace_id, profile_id);

-- `id` is the storage order: it breaks timestamp ties in a timeline and is the cursor's second half.
CREATE TABLE events (
  workspace_id text COLLATE "C" NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  profile_id text COLLATE "C" NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  name text COLLATE "C",
  user_id text COLLATE "C",
  anonymous_id text COLLATE "C",
  timestamp bigint NOT NULL,
  received_at bigint NOT NULL,
  -- json, not jsonb: written once and read back whole, never queried inside; jsonb's parse into a
  -- binary form on insert was a tenth of the server's ingest work. json keeps the client's text.
  payload json NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX events_by_message ON events (workspace_id, message_id);
CREATE INDEX events_timeline ON events (workspace_id, profile_id, timestamp, id);

-- A few rows that every ingest updates: half of each page is left free for HOT updates.
-- Counters in shards: a counter row stays locked from its update until COMMIT, so with one row per
-- name concurrent writers would commit one at a time. Each transaction adds to one of a few shards;
-- readers sum them.
CREATE TABLE event_names (
  workspace_id text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  shard smallint NOT NULL DEFAULT 0,
  count bigint NOT NULL,
  first_seen_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, type, name, shard)
) WITH (fillfactor = 50);

CREATE TABLE groups (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  traits jsonb NOT NULL DEFAULT '{}',
  trait_times jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE group_members (
  workspace_id text COLLATE "C" NOT NULL,
  group_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  joined_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, group_id, profile_id)
);
CREATE INDEX group_members_by_profile ON group_members (workspace_id, profile_id);
