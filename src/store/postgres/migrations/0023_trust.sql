-- The remaining trust features (docs/privacy.md, docs/access.md).

-- Segments that require profiling leave out customers who may not be profiled.
ALTER TABLE segments ADD COLUMN requires_profiling boolean NOT NULL DEFAULT false;

-- Audit-log retention. The log stays append-only for everyone: a row may be deleted only inside the
-- transaction of the retention sweep, which writes its workspace's cut-off here, deletes the rows
-- older than it and removes the cut-off again before committing. No other transaction ever sees a
-- row of this table (it is never committed), so any other DELETE (and every UPDATE, and TRUNCATE,
-- which skips row triggers) is still refused.
CREATE TABLE audit_purge (
  workspace_id text COLLATE "C" PRIMARY KEY,
  before bigint NOT NULL
);
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (
    SELECT 1 FROM audit_purge p WHERE p.workspace_id = OLD.workspace_id AND OLD.at < p.before
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE INDEX audit_log_by_at ON audit_log (workspace_id, at);
