-- Profiles become an ordinary (rowid) table with the same columns, keyed by (workspace_id, id) through
-- its primary-key index (docs/performance.md, engagement run 8). As a WITHOUT ROWID table a profile's
-- row was the key of a b-tree built for small keys: rows over about 1 KB (most, with their facts
-- inline) spilled to an overflow page of their own, and SQLite reads a spilled key whole, overflow
-- pages included, every time it compares against it: on each step of a primary-key seek and on each
-- row a ranged scan passes. A rowid table compares only the narrow key index and the integer rowid,
-- and keeps rows up to about 4 KB inline. Rows are copied in key order, so a scan in id order reads
-- the table's pages in order. The indexes and the stage count triggers go with the old table and are
-- created again as they were (0001, 0002, 0022); nothing references profiles by foreign key.
CREATE TABLE profiles_rowid (
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
  facts TEXT,
  stage TEXT,
  previous_stage TEXT,
  stage_since INTEGER,
  PRIMARY KEY (workspace_id, id)
);
INSERT INTO profiles_rowid (workspace_id, id, user_id, merged_into, traits, trait_times, first_seen_at,
  last_seen_at, event_count, created_at, updated_at, facts, stage, previous_stage, stage_since)
SELECT workspace_id, id, user_id, merged_into, traits, trait_times, first_seen_at, last_seen_at,
  event_count, created_at, updated_at, facts, stage, previous_stage, stage_since
FROM profiles ORDER BY workspace_id, id;
DROP TABLE profiles;
ALTER TABLE profiles_rowid RENAME TO profiles;

CREATE INDEX profiles_merged ON profiles (workspace_id, merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX profiles_by_stage ON profiles (workspace_id, stage) WHERE merged_into IS NULL;

CREATE TRIGGER stage_counts_insert AFTER INSERT ON profiles
WHEN NEW.stage IS NOT NULL AND NEW.merged_into IS NULL
BEGIN
  INSERT INTO stage_counts (workspace_id, stage, profiles) VALUES (NEW.workspace_id, NEW.stage, 1)
  ON CONFLICT (workspace_id, stage) DO UPDATE SET profiles = profiles + 1;
END;

CREATE TRIGGER stage_counts_update AFTER UPDATE OF stage, merged_into ON profiles
WHEN OLD.stage IS NOT NEW.stage OR (OLD.merged_into IS NULL) <> (NEW.merged_into IS NULL)
BEGIN
  UPDATE stage_counts SET profiles = profiles - 1
  WHERE OLD.stage IS NOT NULL AND OLD.merged_into IS NULL
    AND workspace_id = OLD.workspace_id AND stage = OLD.stage;
  INSERT INTO stage_counts (workspace_id, stage, profiles)
  SELECT NEW.workspace_id, NEW.stage, 1 WHERE NEW.stage IS NOT NULL AND NEW.merged_into IS NULL
  ON CONFLICT (workspace_id, stage) DO UPDATE SET profiles = profiles + 1;
END;

CREATE TRIGGER stage_counts_delete AFTER DELETE ON profiles
WHEN OLD.stage IS NOT NULL AND OLD.merged_into IS NULL
BEGIN
  UPDATE stage_counts SET profiles = profiles - 1
  WHERE workspace_id = OLD.workspace_id AND stage = OLD.stage;
END;
