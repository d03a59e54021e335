-- Profiles per stage, kept by the database itself: the triggers below run in the transaction of every
-- statement that gives a canonical profile a stage, moves it to another, merges it away or deletes it
-- (ingest, re-evaluation, identity merge, erasure), so GET /api/v1/stages reads one row per stage
-- instead of counting every profile. `Store.recountStages` rebuilds a workspace's rows from `profiles`
-- (run by `kizuna reevaluate`). SQLite has one writer, so one row per stage is updated in place.
CREATE TABLE stage_counts (
  workspace_id TEXT NOT NULL,
  stage TEXT NOT NULL,
  profiles INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, stage)
) WITHOUT ROWID;

INSERT INTO stage_counts (workspace_id, stage, profiles)
SELECT workspace_id, stage, count(*) FROM profiles
WHERE merged_into IS NULL AND stage IS NOT NULL GROUP BY workspace_id, stage;

CREATE TRIGGER stage_counts_insert AFTER INSERT ON profiles
WHEN NEW.stage IS NOT NULL AND NEW.merged_into IS NULL
BEGIN
  INSERT INTO stage_counts (workspace_id, stage, profiles) VALUES (NEW.workspace_id, NEW.stage, 1)
  ON CONFLICT (workspace_id, stage) DO UPDATE SET profiles = profiles + 1;
END;

-- Fires only on a real transition: a stage change, or a profile merged away (or, never in practice, back).
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
