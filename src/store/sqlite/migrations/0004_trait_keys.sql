-- Top-level profile trait keys seen per workspace, so segment rules naming a trait no profile has ever
-- had can be refused (docs/segments.md). Filled by ingestion; here from the profiles already stored.
CREATE TABLE trait_keys (
  workspace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  PRIMARY KEY (workspace_id, key)
) WITHOUT ROWID;

INSERT OR IGNORE INTO trait_keys (workspace_id, key)
SELECT DISTINCT p.workspace_id, j.key FROM profiles p, json_each(p.traits) j;
