-- Message templates (docs/templates.md): one row per name, its validated definition and a version
-- that grows with every change (messages record which version rendered them).
CREATE TABLE templates (
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  channel TEXT NOT NULL,
  definition TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;
