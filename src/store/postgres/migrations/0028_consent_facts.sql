-- Segment rules `{"consent": purpose}` read the consent ledger (docs/segments.md): every profile's
-- facts keep the current state of each purpose it was asked about (its newest whole-purpose entry),
-- not only `profiling`. This fills that state in from the ledger for profiles stored before, counting
-- the entries of profiles merged into them. Memberships follow at each profile's next evaluation, or at
-- once with `kizuna reevaluate`.
UPDATE profiles p SET facts = jsonb_set(p.facts::jsonb, '{c}', s.c)::json
FROM (
  SELECT workspace_id, owner,
    jsonb_object_agg(purpose, jsonb_build_array(CASE status WHEN 'granted' THEN 'g' ELSE 'w' END, at)) AS c
  FROM (
    SELECT DISTINCT ON (ce.workspace_id, coalesce(m.merged_into, ce.profile_id), ce.purpose)
      ce.workspace_id, coalesce(m.merged_into, ce.profile_id) AS owner, ce.purpose, ce.status, ce.at
    FROM consent_events ce
    JOIN profiles m ON m.workspace_id = ce.workspace_id AND m.id = ce.profile_id
    WHERE ce.topic IS NULL
    ORDER BY ce.workspace_id, coalesce(m.merged_into, ce.profile_id), ce.purpose, ce.at DESC, ce.id DESC
  ) latest
  GROUP BY workspace_id, owner
) s
WHERE p.workspace_id = s.workspace_id AND p.id = s.owner AND p.facts IS NOT NULL;
