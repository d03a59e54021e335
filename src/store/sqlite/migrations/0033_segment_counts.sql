-- Segment sizes kept as memberships change, as stage_counts keeps stage sizes: listing segments
-- counted every segment's membership rows, 266 ms for 10 segments at 1,000,000 customers
-- (docs/performance.md, engagement run 10), and more with every segment. Triggers keep the count
-- for every writer of segment_members (builds, ingest, the sweep, merges, erasures, deletions).
CREATE TABLE segment_counts (
  workspace_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  members INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, segment_id)
) WITHOUT ROWID;

INSERT INTO segment_counts (workspace_id, segment_id, members)
SELECT workspace_id, segment_id, count(*) FROM segment_members GROUP BY workspace_id, segment_id;

CREATE TRIGGER segment_counts_insert AFTER INSERT ON segment_members
BEGIN
  INSERT INTO segment_counts (workspace_id, segment_id, members) VALUES (NEW.workspace_id, NEW.segment_id, 1)
  ON CONFLICT (workspace_id, segment_id) DO UPDATE SET members = members + 1;
END;

CREATE TRIGGER segment_counts_delete AFTER DELETE ON segment_members
BEGIN
  UPDATE segment_counts SET members = members - 1
  WHERE workspace_id = OLD.workspace_id AND segment_id = OLD.segment_id;
END;

CREATE TRIGGER segment_counts_drop AFTER DELETE ON segments
BEGIN
  DELETE FROM segment_counts WHERE workspace_id = OLD.workspace_id AND segment_id = OLD.id;
END;
