-- Message templates (docs/templates.md): one row per name, its validated definition and a version
-- that grows with every change (messages record which version rendered them).
CREATE TABLE templates (
  workspace_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  channel text COLLATE "C" NOT NULL,
  definition jsonb NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, name)
);
