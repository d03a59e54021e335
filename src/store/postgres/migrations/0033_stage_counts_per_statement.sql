-- Stage counts of new profiles per statement (see 0022): the row trigger ran a PL/pgSQL call and
-- inserted a delta row for every profile an ingest created (100 calls and rows for a batch of 100 new
-- customers). This one reads the statement's inserted rows as a transition table and inserts one
-- delta row per stage, once per INSERT statement (also for an INSERT … ON CONFLICT that inserted
-- nothing: it then inserts no row). Updates and deletes keep their row triggers: they fire only when a
-- stage really changes, which ingest rarely does.
DROP TRIGGER stage_counts_insert ON profiles;

CREATE FUNCTION stage_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stage_counts (workspace_id, stage, profiles)
  SELECT workspace_id, stage, count(*) FROM inserted
  WHERE stage IS NOT NULL AND merged_into IS NULL
  GROUP BY workspace_id, stage;
  RETURN NULL;
END;
$$;

CREATE TRIGGER stage_counts_insert AFTER INSERT ON profiles
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION stage_counts_inserted();
