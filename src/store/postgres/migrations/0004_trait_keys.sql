-- Top-level profile trait keys seen per workspace, so segment rules naming a trait no profile has ever
-- had can be refused (docs/segments.md). Filled by ingestion; here from the profiles already stored.
CREATE TABLE trait_keys (
  workspace_id text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  PRIMARY KEY (workspace_id, key)
);

INSERT INTO trait_keys (workspace_id, key)
SELECT DISTINCT p.workspace_id, k FROM profiles p, jsonb_object_keys(p.traits) k
ON CONFLICT DO NOTHING;
