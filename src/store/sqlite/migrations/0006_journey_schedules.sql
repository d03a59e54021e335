-- Scheduled journeys (broadcasts, recurring segment entry): when the next run is due, and the lease of
-- the worker enumerating the current one.
ALTER TABLE journeys ADD COLUMN next_run_at INTEGER;
ALTER TABLE journeys ADD COLUMN run_claimed_by TEXT;
ALTER TABLE journeys ADD COLUMN run_claim_until INTEGER;
CREATE INDEX journeys_next_run ON journeys (next_run_at) WHERE next_run_at IS NOT NULL;
