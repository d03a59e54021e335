-- Segment rules `{"consent": purpose}` read the consent ledger (docs/segments.md): every profile's
-- facts keep the current state of each purpose it was asked about (its newest whole-purpose entry),
-- not only `profiling`. This fills that state in from the ledger for profiles stored before, counting
-- the entries of profiles merged into them. Memberships follow at each profile's next evaluation, or at
-- once with `kizuna reevaluate`.
WITH latest AS (
  SELECT ce.workspace_id, coalesce(m.merged_into, ce.profile_id) AS owner, ce.purpose, ce.status, ce.at,
    row_number() OVER (
      PARTITION BY ce.workspace_id, coalesce(m.merged_into, ce.profile_id), ce.purpose
      ORDER BY ce.at DESC, ce.id DESC
    ) AS n
  FROM consent_events ce
  JOIN profiles m ON m.workspace_id = ce.workspace_id AND m.id = ce.profile_id
  WHERE ce.topic IS NULL
),
state AS (
  SELECT workspace_id, owner,
    json_group_object(purpose, json_array(CASE status WHEN 'granted' THEN 'g' ELSE 'w' END, at)) AS c
  FROM latest WHERE n = 1
  GROUP BY workspace_id, owner
)
UPDATE profiles SET facts = json_set(facts, '$.c', json(state.c))
FROM state
WHERE profiles.workspace_id = state.workspace_id AND profiles.id = state.owner AND profiles.facts IS NOT NULL;
