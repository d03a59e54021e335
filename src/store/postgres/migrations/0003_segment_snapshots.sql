-- While a changed segment is rebuilt, readers keep seeing its last ready membership, so a rule change
-- never shows a half-updated segment (docs/segments.md). `snapshot` is true while the copy serves.
ALTER TABLE segments ADD COLUMN snapshot boolean NOT NULL DEFAULT false;

CREATE TABLE segment_snapshots (
  workspace_id text COLLATE "C" NOT NULL,
  segment_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, profile_id)
);
CREATE INDEX segment_snapshots_by_profile ON segment_snapshots (workspace_id, profile_id);
