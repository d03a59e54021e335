-- While a changed segment is rebuilt, readers keep seeing its last ready membership, so a rule change
-- never shows a half-updated segment (docs/segments.md). `snapshot` is 1 while the copy serves.
ALTER TABLE segments ADD COLUMN snapshot INTEGER NOT NULL DEFAULT 0;

CREATE TABLE segment_snapshots (
  workspace_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, profile_id)
) WITHOUT ROWID;
CREATE INDEX segment_snapshots_by_profile ON segment_snapshots (workspace_id, profile_id);
