-- Profiles per stage, kept by the database itself: the triggers below run in the transaction of every
-- statement that gives a canonical profile a stage, moves it to another, merges it away or deletes it
-- (ingest, re-evaluation, identity merge, erasure), so GET /api/v1/stages reads a few rows per stage
-- instead of counting every profile. `Store.recountStages` rebuilds a workspace's rows from `profiles`
-- (run by `kizuna reevaluate`).
--
-- Rows are deltas, only ever inserted by the triggers: a counter row updated in place would be locked
-- by every ingesting transaction that creates a profile until it commits, serialising ingestion across
-- processes (and two transactions moving profiles between two stages in opposite orders would
-- deadlock). The count of a stage is the sum of its rows; reading folds them back to one row per stage.
CREATE TABLE stage_counts (
  workspace_id text COLLATE "C" NOT NULL,
  stage text COLLATE "C" NOT NULL,
  profiles bigint NOT NULL
);
CREATE INDEX stage_counts_by_workspace ON stage_counts (workspace_id, stage);

INSERT INTO stage_counts (workspace_id, stage, profiles)
SELECT workspace_id, stage, count(*) FROM profiles
WHERE merged_into IS NULL AND stage IS NOT NULL GROUP BY workspace_id, stage;

CREATE FUNCTION stage_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.stage IS NOT NULL AND OLD.merged_into IS NULL THEN
    INSERT INTO stage_counts (workspace_id, stage, profiles) VALUES (OLD.workspace_id, OLD.stage, -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.stage IS NOT NULL AND NEW.merged_into IS NULL THEN
    INSERT INTO stage_counts (workspace_id, stage, profiles) VALUES (NEW.workspace_id, NEW.stage, 1);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER stage_counts_insert AFTER INSERT ON profiles FOR EACH ROW
WHEN (NEW.stage IS NOT NULL AND NEW.merged_into IS NULL)
EXECUTE FUNCTION stage_counts_track();

-- Fires only on a real transition: a stage change, or a profile merged away (or, never in practice, back).
CREATE TRIGGER stage_counts_update AFTER UPDATE OF stage, merged_into ON profiles FOR EACH ROW
WHEN (OLD.stage IS DISTINCT FROM NEW.stage OR (OLD.merged_into IS NULL) <> (NEW.merged_into IS NULL))
EXECUTE FUNCTION stage_counts_track();

CREATE TRIGGER stage_counts_delete AFTER DELETE ON profiles FOR EACH ROW
WHEN (OLD.stage IS NOT NULL AND OLD.merged_into IS NULL)
EXECUTE FUNCTION stage_counts_track();
