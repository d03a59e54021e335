-- The stage-flow report (docs/reports.md#stage-flow) reads every `Stage Entered` event of a workspace
-- in customer and time order. Without this index it walked all engagement events (segment entries and
-- exits too) and sorted them; with it, one range in the order the report replays them. Written only
-- when a stage or segment changes, not per ingested event. Measured on the 100,000-customer demo
-- store: 336–366 ms → 201–288 ms for the report's read (docs/performance.md, dashboard page loads).
CREATE INDEX engagement_events_stage_flow ON engagement_events (workspace_id, type, profile_id, at, id);
