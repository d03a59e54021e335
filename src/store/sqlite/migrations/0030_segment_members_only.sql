-- A profile's segments are kept once, in `segment_members` (docs/segments.md, "Where memberships are
-- kept"); the `profiles.segments` copy goes. A build confirming a member then writes the membership
-- row alone instead of rewriting the profile row with its inline facts (about 70 µs a member:
-- docs/performance.md, engagement run 7). Readers get a profile's segments through
-- `segment_members_by_profile`.
--
-- Both copies were written in one transaction, so they agree; where they do not (data written by a
-- bug or by hand), the row's list is what evaluation read, so it wins: memberships it names are added
-- (segments that still exist, profiles not merged away), memberships it does not name are removed.
INSERT OR IGNORE INTO segment_members (workspace_id, segment_id, profile_id, entered_at)
SELECT p.workspace_id, j.value, p.id, p.updated_at
FROM profiles p CROSS JOIN json_each(p.segments) j
WHERE p.merged_into IS NULL AND p.segments <> '[]'
  AND EXISTS (SELECT 1 FROM segments s WHERE s.workspace_id = p.workspace_id AND s.id = j.value);

DELETE FROM segment_members
WHERE NOT EXISTS (
  SELECT 1 FROM profiles p, json_each(p.segments) j
  WHERE p.workspace_id = segment_members.workspace_id AND p.id = segment_members.profile_id
    AND p.merged_into IS NULL AND j.value = segment_members.segment_id
);

ALTER TABLE profiles DROP COLUMN segments;
