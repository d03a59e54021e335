-- In-app message results (docs/in-app.md#results): each customer's arm of a message (its variant, or
-- "control") and when they were first exposed to it, so conversions can be counted per arm from the
-- first exposure; control-group exposures are counted apart from impressions (nothing was shown) but
-- both count for frequency. Rows written before this migration have no arm and are left out of results.
ALTER TABLE inapp_interactions ADD COLUMN controls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inapp_interactions ADD COLUMN arm TEXT;
ALTER TABLE inapp_interactions ADD COLUMN first_at INTEGER;
CREATE INDEX inapp_interactions_by_message ON inapp_interactions (workspace_id, message_id) WHERE first_at IS NOT NULL;
