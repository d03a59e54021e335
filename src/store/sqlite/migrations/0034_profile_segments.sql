-- A profile's memberships kept by number, in a narrow table of its own, instead of the index
-- `segment_members_by_profile` (docs/segments.md, "Where memberships are kept").
--
-- That index repeated the workspace, profile and segment ids in every entry (about 80 bytes): at
-- 1,000,000 customers in 24 of 60 segments each, a leaf page held the memberships of about two
-- customers, so a build adding a segment to most customers dirtied close to one page of the index per
-- new member (2.2 GB through the WAL for 750,000 members) and the writer spent about 17 µs a member
-- (docs/performance.md, engagement runs 10 and 11). Here an entry is two small integers, the profile's
-- rowid and the segment's number: a page holds the memberships of about 25 customers.
--
-- `segment_members` stays the record (by segment, with the ids and the time entered); triggers keep this
-- table in step with it for every writer. Profiles' rowids are stable (VACUUM keeps them; a test checks
-- it), and a deleted profile takes its rows along, so a reused rowid never inherits memberships.

ALTER TABLE segments ADD COLUMN num INTEGER;
UPDATE segments SET num = (
  SELECT count(*) FROM segments s2
  WHERE s2.workspace_id < segments.workspace_id
     OR (s2.workspace_id = segments.workspace_id AND s2.id <= segments.id)
);
CREATE UNIQUE INDEX segments_by_num ON segments (num);

-- A new segment takes the next number. Its memberships are deleted before its row (delete_segment),
-- so a number freed by deleting the newest segment is reused with no rows left under it.
CREATE TRIGGER segments_number AFTER INSERT ON segments
WHEN NEW.num IS NULL
BEGIN
  UPDATE segments SET num = (SELECT coalesce(max(num), 0) + 1 FROM segments)
  WHERE workspace_id = NEW.workspace_id AND id = NEW.id;
END;

CREATE TABLE profile_segments (
  profile_rowid INTEGER NOT NULL,
  segment_num INTEGER NOT NULL,
  PRIMARY KEY (profile_rowid, segment_num)
) WITHOUT ROWID;

INSERT INTO profile_segments (profile_rowid, segment_num)
SELECT p.rowid, s.num
FROM segment_members m
JOIN profiles p ON p.workspace_id = m.workspace_id AND p.id = m.profile_id
JOIN segments s ON s.workspace_id = m.workspace_id AND s.id = m.segment_id
ORDER BY 1, 2;

DROP INDEX segment_members_by_profile;

CREATE TRIGGER profile_segments_insert AFTER INSERT ON segment_members
BEGIN
  INSERT OR IGNORE INTO profile_segments (profile_rowid, segment_num)
  SELECT p.rowid, s.num FROM profiles p, segments s
  WHERE p.workspace_id = NEW.workspace_id AND p.id = NEW.profile_id
    AND s.workspace_id = NEW.workspace_id AND s.id = NEW.segment_id;
END;

CREATE TRIGGER profile_segments_delete AFTER DELETE ON segment_members
BEGIN
  DELETE FROM profile_segments
  WHERE profile_rowid = (SELECT rowid FROM profiles WHERE workspace_id = OLD.workspace_id AND id = OLD.profile_id)
    AND segment_num = (SELECT num FROM segments WHERE workspace_id = OLD.workspace_id AND id = OLD.segment_id);
END;

CREATE TRIGGER profile_segments_profile_gone AFTER DELETE ON profiles
BEGIN
  DELETE FROM profile_segments WHERE profile_rowid = OLD.rowid;
END;
