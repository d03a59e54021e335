-- The activity rollup's `any` key (every track, page or screen event) as one row per customer and UTC
-- year instead of one per month (docs/reports.md#performance, src/domain/reports/activity.ts
-- activityYears): m1 (January) to m12 (December) each hold that month's day mask, bit d - 1 for day
-- d. Retention reads this key for every customer, so a row a year instead of one per active month
-- cuts what it reads about fourfold. Kept like the monthly rows: with the events in the ingest
-- transaction, OR-ed into the survivor on merges, deleted with the customer on erasure, refreshed
-- when a purge empties a day. The kind 0 rows of event_activity move here.
CREATE TABLE event_activity_years (
  workspace_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  m1 INTEGER NOT NULL,
  m2 INTEGER NOT NULL,
  m3 INTEGER NOT NULL,
  m4 INTEGER NOT NULL,
  m5 INTEGER NOT NULL,
  m6 INTEGER NOT NULL,
  m7 INTEGER NOT NULL,
  m8 INTEGER NOT NULL,
  m9 INTEGER NOT NULL,
  m10 INTEGER NOT NULL,
  m11 INTEGER NOT NULL,
  m12 INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, year)
) WITHOUT ROWID;

-- Built from the monthly rows of kind 0 (one per customer and month, so each sum is that month's mask).
INSERT INTO event_activity_years (workspace_id, profile_id, year, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12)
SELECT workspace_id, profile_id, CAST(strftime('%Y', month / 1000, 'unixepoch') AS INTEGER),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 1 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 2 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 3 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 4 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 5 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 6 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 7 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 8 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 9 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 10 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 11 THEN days ELSE 0 END),
  sum(CASE CAST(strftime('%m', month / 1000, 'unixepoch') AS INTEGER) WHEN 12 THEN days ELSE 0 END)
FROM event_activity WHERE kind = 0
GROUP BY workspace_id, profile_id, CAST(strftime('%Y', month / 1000, 'unixepoch') AS INTEGER);
DELETE FROM event_activity WHERE kind = 0;
