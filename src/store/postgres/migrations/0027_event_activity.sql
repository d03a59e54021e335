-- The activity rollup (docs/reports.md#how-the-reports-are-computed, src/domain/reports/activity.ts):
-- per customer, UTC month and key, the days of the month (bit d - 1 for day d) with at least one
-- event of the key. kind 0: any track, page or screen event (name ''); 1, 2, 3: track, page, screen
-- events by name. Kept with the events in the ingest transaction, moved on merges, refreshed when
-- events are purged. Retention reads it instead of the events; funnels read it to find who can enter.
-- Keyed by name first so one key's rows of a workspace are one range in customer order.
CREATE TABLE event_activity (
  workspace_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  kind SMALLINT NOT NULL,
  month BIGINT NOT NULL,
  days INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name, profile_id, kind, month)
);
-- Merges and erasure find a customer's rows.
CREATE INDEX event_activity_by_profile ON event_activity (workspace_id, profile_id);

-- Backfill from the stored events.
INSERT INTO event_activity (workspace_id, name, profile_id, kind, month, days)
SELECT workspace_id, name, profile_id, kind, month, bit_or(bit) FROM (
  SELECT workspace_id, k.name, profile_id, k.kind,
    (extract(epoch FROM date_trunc('month', to_timestamp(timestamp / 1000.0) AT TIME ZONE 'UTC')) * 1000)::bigint AS month,
    1 << (extract(day FROM to_timestamp(timestamp / 1000.0) AT TIME ZONE 'UTC')::int - 1) AS bit
  FROM events
  CROSS JOIN LATERAL (VALUES (0::smallint, ''::text),
    (CASE type WHEN 'track' THEN 1 WHEN 'page' THEN 2 ELSE 3 END::smallint, name)) AS k (kind, name)
  WHERE type IN ('track', 'page', 'screen') AND k.name IS NOT NULL) e
GROUP BY workspace_id, name, profile_id, kind, month;
