-- Report scans (docs/reports.md#performance). The timeline index also carries each event's type and
-- name, so funnels and retention read a customer's events in order from the index alone instead of
-- one table lookup per event; same name and key order as before, so every lookup that used it still
-- does. Journey results read the entries' variant and conversion from an index of their own.
DROP INDEX events_timeline;
CREATE INDEX events_timeline ON events (workspace_id, profile_id, timestamp, id, type, name);
CREATE INDEX journey_entries_outcomes ON journey_entries (workspace_id, journey_id, arm, converted_at, converted_value);
