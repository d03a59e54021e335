-- Engagement: computed-trait facts, stages and segments (docs/segments.md).

-- `facts` is the profile's incrementally kept history summary (domain/facts/facts.ts), JSON.
ALTER TABLE profiles ADD COLUMN facts TEXT;
ALTER TABLE profiles ADD COLUMN stage TEXT;
ALTER TABLE profiles ADD COLUMN previous_stage TEXT;
ALTER TABLE profiles ADD COLUMN stage_since INTEGER;
-- ids of the segments the profile is in (JSON array); segment_members is the same fact indexed by segment
ALTER TABLE profiles ADD COLUMN segments TEXT NOT NULL DEFAULT '[]';
CREATE INDEX profiles_by_stage ON profiles (workspace_id, stage) WHERE merged_into IS NULL;

-- Bumped by every definition change, so every writer (thread, process) knows its compiled copy is stale.
ALTER TABLE workspaces ADD COLUMN definitions_version INTEGER NOT NULL DEFAULT 0;
-- NULL means the default ladder / thresholds.
ALTER TABLE workspaces ADD COLUMN stage_model TEXT;
ALTER TABLE workspaces ADD COLUMN rfm TEXT;

CREATE TABLE segments (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  rule TEXT NOT NULL,
  version INTEGER NOT NULL,
  -- 'building' while history is being evaluated (see the build_* progress), then 'ready'
  status TEXT NOT NULL CHECK (status IN ('building', 'ready')),
  build_done INTEGER NOT NULL DEFAULT 0,
  build_total INTEGER NOT NULL DEFAULT 0,
  built_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
) WITHOUT ROWID;

CREATE TABLE segment_members (
  workspace_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  entered_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, profile_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_by_profile ON segment_members (workspace_id, profile_id);

-- Size over time: one row per segment per sweep (and at the end of a build).
CREATE TABLE segment_sizes (
  workspace_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, at)
) WITHOUT ROWID;

CREATE TABLE computed_traits (
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;

-- The engagement event stream: stage and segment changes, in commit order (id), for journeys to
-- trigger on and for a profile's stage history. Kept apart from `events` so that evaluating 50
-- segments never multiplies writes to the customer event table and its indexes.
CREATE TABLE engagement_events (
  id INTEGER PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Stage Entered', 'Segment Entered', 'Segment Exited')),
  -- the stage name or the segment id
  subject TEXT NOT NULL,
  properties TEXT NOT NULL
);
CREATE INDEX engagement_events_by_profile ON engagement_events (workspace_id, profile_id, id);
CREATE INDEX engagement_events_stream ON engagement_events (workspace_id, id);
