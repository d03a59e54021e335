-- A profile's segments are kept once, in `segment_members` (docs/segments.md, "Where memberships are
-- kept"); the `profiles.segments` copy goes. A build confirming a member then writes the membership
-- row alone instead of rewriting the profile row with its inline facts (docs/performance.md,
-- engagement run 7). Readers get a profile's segments through `segment_members_by_profile`.
--
-- Both copies were written in one transaction, so they agree; where they do not (data written by a
-- bug or by hand), the row's list is what evaluation read, so it wins: memberships it names are added
-- (segments that still exist, profiles not merged away), memberships it does not name are removed.
INSERT INTO segment_members (workspace_id, segment_id, profile_id, entered_at)
SELECT p.workspace_id, j.value, p.id, p.updated_at
FROM profiles p CROSS JOIN LATERAL jsonb_array_elements_text(p.segments) AS j (value)
WHERE p.merged_into IS NULL AND p.segments <> '[]'::jsonb
  AND EXISTS (SELECT 1 FROM segments s WHERE s.workspace_id = p.workspace_id AND s.id = j.value)
ON CONFLICT DO NOTHING;

DELETE FROM segment_members m
WHERE NOT EXISTS (
  SELECT 1 FROM profiles p
  WHERE p.workspace_id = m.workspace_id AND p.id = m.profile_id AND p.merged_into IS NULL
    AND p.segments ? m.segment_id
);

ALTER TABLE profiles DROP COLUMN segments;
