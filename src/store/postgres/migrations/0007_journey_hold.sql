-- A paused journey's waiting entries keep their due time here, out of the due index, so claims do
-- not scan past them while it is paused; resuming puts it back.
ALTER TABLE journey_entries ADD COLUMN held_due_at bigint;
