-- A bulk path past the membership triggers, and deleted segments purged in steps (docs/segments.md,
-- "Where memberships are kept").
--
-- A build stores what its scan found a page at a time (store/sqlite/profile-watch.ts). Through the
-- triggers of 0033 and 0034 every new member cost a seek of the profile's rowid by its id, a seek of
-- the segment's number, and an upsert of the segment's count: at 1,000,000 customers a segment holding
-- most of them spent most of its writer time there (docs/performance.md, engagement run 12). The scan
-- already has each profile's rowid, and a page's count is one number a segment, so that writer writes
-- `profile_segments` and `segment_counts` itself while a row is in `membership_bulk`, and the triggers
-- stand aside.
--
-- The row is inserted and deleted inside the writer's transaction, so no other connection ever sees
-- it and a transaction that fails takes it back with everything else.
CREATE TABLE membership_bulk (
  active INTEGER NOT NULL
);

DROP TRIGGER segment_counts_insert;
CREATE TRIGGER segment_counts_insert AFTER INSERT ON segment_members
WHEN NOT EXISTS (SELECT 1 FROM membership_bulk)
BEGIN
  INSERT INTO segment_counts (workspace_id, segment_id, members) VALUES (NEW.workspace_id, NEW.segment_id, 1)
  ON CONFLICT (workspace_id, segment_id) DO UPDATE SET members = members + 1;
END;

DROP TRIGGER segment_counts_delete;
CREATE TRIGGER segment_counts_delete AFTER DELETE ON segment_members
WHEN NOT EXISTS (SELECT 1 FROM membership_bulk)
BEGIN
  UPDATE segment_counts SET members = members - 1
  WHERE workspace_id = OLD.workspace_id AND segment_id = OLD.segment_id;
END;

DROP TRIGGER profile_segments_insert;
CREATE TRIGGER profile_segments_insert AFTER INSERT ON segment_members
WHEN NOT EXISTS (SELECT 1 FROM membership_bulk)
BEGIN
  INSERT OR IGNORE INTO profile_segments (profile_rowid, segment_num)
  SELECT p.rowid, s.num FROM profiles p, segments s
  WHERE p.workspace_id = NEW.workspace_id AND p.id = NEW.profile_id
    AND s.workspace_id = NEW.workspace_id AND s.id = NEW.segment_id;
END;

DROP TRIGGER profile_segments_delete;
CREATE TRIGGER profile_segments_delete AFTER DELETE ON segment_members
WHEN NOT EXISTS (SELECT 1 FROM membership_bulk)
BEGIN
  DELETE FROM profile_segments
  WHERE profile_rowid = (SELECT rowid FROM profiles WHERE workspace_id = OLD.workspace_id AND id = OLD.profile_id)
    AND segment_num = (SELECT num FROM segments WHERE workspace_id = OLD.workspace_id AND id = OLD.segment_id);
END;

-- Deleting a segment deletes its definition at once and its memberships afterwards, a bounded step
-- at a time (store/sqlite/segment-purge.ts): in one transaction, 740,000 memberships held the writer
-- 6.2 s and took 200 MB (docs/performance.md, engagement run 11). Until then a deleted segment's
-- rows are left under its number, which readers join to no segment; so numbers are never reused, and
-- `segment_purges` lists what is still to go (an erasure takes the customer's rows from there too).
CREATE TABLE segment_numbers (
  last INTEGER NOT NULL
);
INSERT INTO segment_numbers (last) SELECT coalesce(max(num), 0) FROM segments;

DROP TRIGGER segments_number;
CREATE TRIGGER segments_number AFTER INSERT ON segments
WHEN NEW.num IS NULL
BEGIN
  UPDATE segment_numbers SET last = last + 1;
  UPDATE segments SET num = (SELECT last FROM segment_numbers)
  WHERE workspace_id = NEW.workspace_id AND id = NEW.id;
END;

CREATE TABLE segment_purges (
  workspace_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  num INTEGER NOT NULL,
  deleted_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, segment_id)
) WITHOUT ROWID;
