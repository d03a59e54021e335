-- The activity rollup (docs/reports.md#how-the-reports-are-computed, src/domain/reports/activity.ts):
-- per customer, UTC month and key, the days of the month (bit d - 1 for day d) with at least one
-- event of the key. kind 0: any track, page or screen event (name ''); 1, 2, 3: track, page, screen
-- events by name. Kept with the events in the ingest transaction, moved on merges, refreshed when
-- events are purged. Retention reads it instead of the events; funnels read it to find who can enter.
-- Keyed by name first so one key's rows of a workspace are one range in customer order.
CREATE TABLE event_activity (
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  month INTEGER NOT NULL,
  days INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name, profile_id, kind, month)
) WITHOUT ROWID;
-- Merges and erasure find a customer's rows; written only when a row is new (days is not in it).
CREATE INDEX event_activity_by_profile ON event_activity (workspace_id, profile_id);

-- Backfill from the stored events: the OR of distinct powers of two is their sum.
INSERT INTO event_activity (workspace_id, name, profile_id, kind, month, days)
SELECT workspace_id, name, profile_id, kind, month, sum(DISTINCT bit) FROM (
  SELECT workspace_id, '' AS name, profile_id, 0 AS kind,
    CAST(strftime('%s', timestamp / 1000.0, 'unixepoch', 'start of month') AS INTEGER) * 1000 AS month,
    1 << (CAST(strftime('%d', timestamp / 1000.0, 'unixepoch') AS INTEGER) - 1) AS bit
  FROM events WHERE type IN ('track', 'page', 'screen')
  UNION ALL
  SELECT workspace_id, name, profile_id, CASE type WHEN 'track' THEN 1 WHEN 'page' THEN 2 ELSE 3 END,
    CAST(strftime('%s', timestamp / 1000.0, 'unixepoch', 'start of month') AS INTEGER) * 1000,
    1 << (CAST(strftime('%d', timestamp / 1000.0, 'unixepoch') AS INTEGER) - 1)
  FROM events WHERE type IN ('track', 'page', 'screen') AND name IS NOT NULL)
GROUP BY workspace_id, name, profile_id, kind, month;
