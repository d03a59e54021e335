-- The event that let a customer into a journey, by its messageId (null for stage, segment and
-- scheduled entries): templates of the journey's messages read its name and properties (`event.*`).
ALTER TABLE journey_entries ADD COLUMN trigger_message_id TEXT;
