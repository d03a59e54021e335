-- Journey results (docs/journeys.md#results): the split variant each entry drew (its first; NULL when
-- its journey has no split), and the value of its goal conversion (the goal event's revenue).
ALTER TABLE journey_entries ADD COLUMN arm text;
ALTER TABLE journey_entries ADD COLUMN converted_value double precision;
