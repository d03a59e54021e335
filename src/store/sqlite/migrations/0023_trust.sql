-- The remaining trust features (docs/privacy.md, docs/access.md).

-- Segments that require profiling leave out customers who may not be profiled.
ALTER TABLE segments ADD COLUMN requires_profiling INTEGER NOT NULL DEFAULT 0;

-- Audit-log retention. The log stays append-only for everyone: a row may be deleted only inside the
-- transaction of the retention sweep, which writes its workspace's cut-off here, deletes the rows
-- older than it and removes the cut-off again before committing. No committed state ever holds a
-- row in this table, so any other DELETE (and every UPDATE) is still refused by the triggers.
CREATE TABLE audit_purge (
  workspace_id TEXT PRIMARY KEY,
  before INTEGER NOT NULL
) WITHOUT ROWID;
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_purge p WHERE p.workspace_id = old.workspace_id AND old.at < p.before)
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE INDEX audit_log_by_at ON audit_log (workspace_id, at);
