-- Engagement: computed-trait facts, stages and segments (docs/segments.md). The same tables and
-- columns as the SQLite schema.
--
-- JSON that Kizuna writes often or that users wrote (facts, rules, specs, stage models) is json, not
-- jsonb: it is never queried inside, and json keeps the text as written (a user's key order) and
-- costs no binary conversion on write. Only `segments` is jsonb, small and containment-queryable.

-- `facts` is the profile's incrementally kept history summary (domain/facts/facts.ts), rewritten by
-- every ingest that touches the profile. NULL on profiles stored before this migration (= no facts).
ALTER TABLE profiles ADD COLUMN facts json;
ALTER TABLE profiles ADD COLUMN stage text COLLATE "C";
ALTER TABLE profiles ADD COLUMN previous_stage text COLLATE "C";
ALTER TABLE profiles ADD COLUMN stage_since bigint;
-- ids of the segments the profile is in (JSON array); segment_members is the same fact indexed by segment
ALTER TABLE profiles ADD COLUMN segments jsonb NOT NULL DEFAULT '[]';
CREATE INDEX profiles_by_stage ON profiles (workspace_id, stage) WHERE merged_into IS NULL;

-- Bumped by every definition change (in the change's transaction), so every writer in every process
-- knows its compiled copy is stale.
ALTER TABLE workspaces ADD COLUMN definitions_version bigint NOT NULL DEFAULT 0;
-- NULL means the default ladder / thresholds.
ALTER TABLE workspaces ADD COLUMN stage_model json;
ALTER TABLE workspaces ADD COLUMN rfm json;

CREATE TABLE segments (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  description text NOT NULL DEFAULT '',
  rule json NOT NULL,
  version integer NOT NULL,
  -- 'building' while history is being evaluated (see the build_* progress), then 'ready'
  status text NOT NULL CHECK (status IN ('building', 'ready')),
  build_done bigint NOT NULL DEFAULT 0,
  build_total bigint NOT NULL DEFAULT 0,
  built_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id),
  CONSTRAINT segments_name_unique UNIQUE (workspace_id, name)
);

CREATE TABLE segment_members (
  workspace_id text COLLATE "C" NOT NULL,
  segment_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  entered_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, profile_id)
);
CREATE INDEX segment_members_by_profile ON segment_members (workspace_id, profile_id);

-- Size over time: one row per segment per sweep (and at the end of a build).
CREATE TABLE segment_sizes (
  workspace_id text COLLATE "C" NOT NULL,
  segment_id text COLLATE "C" NOT NULL,
  at bigint NOT NULL,
  size bigint NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, at)
);

CREATE TABLE computed_traits (
  workspace_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  spec json NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, name)
);

-- The engagement event stream: stage and segment changes, for journeys to trigger on and for a
-- profile's stage history. Kept apart from `events` so that evaluating 50 segments never multiplies
-- writes to the customer event table and its indexes.
-- `id` is allocation order, which is commit order for one profile (its writers hold its row lock)
-- but not across concurrent transactions: a reader following the whole stream by id must not skip
-- ids still being written.
CREATE TABLE engagement_events (
  workspace_id text COLLATE "C" NOT NULL,
  id bigserial,
  profile_id text COLLATE "C" NOT NULL,
  at bigint NOT NULL,
  type text COLLATE "C" NOT NULL CHECK (type IN ('Stage Entered', 'Segment Entered', 'Segment Exited')),
  -- the stage name or the segment id
  subject text COLLATE "C" NOT NULL,
  properties json NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX engagement_events_by_profile ON engagement_events (workspace_id, profile_id, id);
