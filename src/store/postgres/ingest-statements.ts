import { named } from './pg-driver.js';

/**
 * The ingest unit's statements. Each is fixed text, prepared once per connection, and takes its rows
 * as arrays (`unnest`, or JSON arrays of objects), so a batch of any size costs the same few round
 * trips.
 *
 * Where a statement joins unnested rows to a table, a redundant `= ANY(:ids)` term (or a LATERAL
 * lookup with LIMIT 1) offers the planner an index probe on the table side, where it might otherwise
 * hash-join the whole workspace. Until autovacuum first analyzes new tables (about a minute after
 * the first writes), plans can still be poor: a benchmark on a fresh database runs ANALYZE first.
 */

export const EXISTING_MESSAGE_IDS = named(
  'kizuna_ingest_existing',
  'SELECT message_id FROM events WHERE workspace_id = :ws::text AND message_id = ANY(:ids::text[])',
);

/**
 * The workspace's lock in shared mode, then one exclusive lock per identity key. The locks are taken
 * as the aggregate walks the sorted subquery, so everyone acquires in one order (workspace first,
 * then keys by hash) and waits never form a cycle.
 */
export const LOCK_KEYS = named(
  'kizuna_ingest_lock_keys',
  `SELECT count(CASE WHEN s.ord = 0 THEN pg_advisory_xact_lock_shared(s.h) ELSE pg_advisory_xact_lock(s.h) END)
   FROM (SELECT 0 AS ord, hashtextextended(:ws::text, 0) AS h
         UNION ALL
         SELECT DISTINCT 1, hashtextextended(:ws::text || ':' || k, 0) FROM unnest(:keys::text[]) AS k
         ORDER BY 1, 2) AS s`,
);

export const LOCK_WORKSPACE = named(
  'kizuna_ingest_lock_workspace',
  'SELECT pg_advisory_xact_lock(hashtextextended(:ws::text, 0))',
);

/** The owners of the given identity keys, locked in id order (`FOR UPDATE OF p`). */
export const LOAD_PROFILES = named(
  'kizuna_ingest_load',
  `SELECT k.kind, k.value, p.id, p.user_id, p.merged_into, p.traits, p.trait_times, p.first_seen_at,
          p.last_seen_at, p.event_count, p.created_at, p.updated_at
   FROM unnest(:kinds::text[], :values::text[]) AS k (kind, value)
   CROSS JOIN LATERAL (SELECT profile_id FROM identities
                       WHERE workspace_id = :ws::text AND kind = k.kind AND value = k.value LIMIT 1) AS i
   JOIN profiles p ON p.workspace_id = :ws::text AND p.id = i.profile_id
   ORDER BY p.id
   FOR UPDATE OF p`,
);

/**
 * The batch's groups, locked in id order: a missing group is inserted empty (created at the unit's
 * `now`, as the unit assumes for a new group), an existing one is locked by a no-op update. One pass
 * in one order, so two writers never wait on each other's groups in a cycle.
 */
export const LOCK_GROUPS = named(
  'kizuna_ingest_lock_groups',
  `INSERT INTO groups AS g (workspace_id, id, created_at, updated_at)
   SELECT :ws::text, t.id, :now::bigint, :now::bigint FROM unnest(:ids::text[]) AS t (id) ORDER BY t.id
   ON CONFLICT (workspace_id, id) DO UPDATE SET updated_at = g.updated_at
   RETURNING g.id, g.traits, g.trait_times, g.created_at`,
);

/**
 * A merge: losers (`:from`) point at their survivor (`:into`), and so do profiles merged into a loser
 * earlier, so any old id resolves in one hop; the losers' identities, events and memberships move.
 * Survivors are final (never a loser of the same plan). Touches only rows whose profiles are locked.
 */
export const MERGE = [
  `UPDATE profiles p SET merged_into = m.i, updated_at = :now::bigint FROM unnest(:from::text[], :into::text[]) AS m (f, i)
   WHERE p.workspace_id = :ws::text AND p.id = ANY(:from::text[]) AND p.id = m.f`,
  `UPDATE profiles p SET merged_into = m.i FROM unnest(:from::text[], :into::text[]) AS m (f, i)
   WHERE p.workspace_id = :ws::text AND p.merged_into = ANY(:from::text[]) AND p.merged_into = m.f`,
  `UPDATE identities t SET profile_id = m.i FROM unnest(:from::text[], :into::text[]) AS m (f, i)
   WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[]) AND t.profile_id = m.f`,
  `UPDATE events t SET profile_id = m.i FROM unnest(:from::text[], :into::text[]) AS m (f, i)
   WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[]) AND t.profile_id = m.f`,
  `INSERT INTO group_members (workspace_id, group_id, profile_id, joined_at)
   SELECT t.workspace_id, t.group_id, m.i, t.joined_at
   FROM group_members t JOIN unnest(:from::text[], :into::text[]) AS m (f, i) ON t.profile_id = m.f
   WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[])
   ON CONFLICT DO NOTHING`,
  `DELETE FROM group_members WHERE workspace_id = :ws::text AND profile_id = ANY(:from::text[])`,
].map((text, i) => named(`kizuna_ingest_merge_${i}`, text));

/**
 * Everything else a plan writes except event-name counters, in one statement. Rows arrive as JSON
 * arrays of objects (one parse on the server, no per-element escaping in the client). The parts
 * touch disjoint rows (new vs. updated profiles, new identities, new events, locked groups,
 * memberships of locked profiles), so running them together in one snapshot equals running them in
 * turn. Events keep their array order, which becomes their storage order (`id`).
 */
export const WRITE = named(
  'kizuna_ingest_write',
  `WITH
   new_profiles AS (
     INSERT INTO profiles (workspace_id, id, user_id, traits, trait_times, first_seen_at, last_seen_at, event_count, created_at, updated_at)
     SELECT :ws::text, t.id, t.user_id, t.traits, t.trait_times, t.first_seen_at, t.last_seen_at, t.event_count, t.created_at, :now::bigint
     FROM json_to_recordset(:created::json) AS t (id text, user_id text, traits jsonb, trait_times jsonb, first_seen_at bigint,
                                                 last_seen_at bigint, event_count bigint, created_at bigint)),
   changed_profiles AS (
     UPDATE profiles p SET user_id = t.user_id, traits = t.traits, trait_times = t.trait_times, first_seen_at = t.first_seen_at,
       last_seen_at = t.last_seen_at, event_count = t.event_count, created_at = t.created_at, updated_at = :now::bigint
     FROM json_to_recordset(:updated::json) AS t (id text, user_id text, traits jsonb, trait_times jsonb, first_seen_at bigint,
                                                 last_seen_at bigint, event_count bigint, created_at bigint)
     WHERE p.workspace_id = :ws::text AND p.id = ANY(:updated_ids::text[]) AND p.id = t.id),
   new_identities AS (
     INSERT INTO identities (workspace_id, kind, value, profile_id, created_at)
     SELECT :ws::text, t.kind, t.value, t.profile_id, :now::bigint
     FROM json_to_recordset(:identities::json) AS t (kind text, value text, profile_id text)),
   new_events AS (
     INSERT INTO events (workspace_id, profile_id, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
     SELECT :ws::text, t.profile_id, t.message_id, t.type, t.name, t.user_id, t.anonymous_id, t.timestamp, t.received_at, t.payload
     FROM json_to_recordset(:events::json) AS t (profile_id text, message_id text, type text, name text, user_id text,
                                                anonymous_id text, timestamp bigint, received_at bigint, payload jsonb)),
   changed_groups AS (
     UPDATE groups g SET traits = t.traits, trait_times = t.trait_times, updated_at = :now::bigint
     FROM json_to_recordset(:groups::json) AS t (id text, traits jsonb, trait_times jsonb)
     WHERE g.workspace_id = :ws::text AND g.id = ANY(:group_ids::text[]) AND g.id = t.id),
   new_members AS (
     INSERT INTO group_members (workspace_id, group_id, profile_id, joined_at)
     SELECT :ws::text, t.group_id, t.profile_id, t.joined_at
     FROM json_to_recordset(:members::json) AS t (group_id text, profile_id text, joined_at bigint)
     ON CONFLICT DO NOTHING)
   SELECT 1`,
);

/**
 * Event-name counters: every writer of a workspace updates these few rows, so this runs last, right
 * before COMMIT, to hold their locks briefly; rows come sorted so two writers lock them in one order.
 */
export const COUNT_EVENT_NAMES = named(
  'kizuna_ingest_event_names',
  `INSERT INTO event_names AS n (workspace_id, type, name, count, first_seen_at, last_seen_at)
   SELECT :ws::text, t.type, t.name, t.count, t.first_seen_at, t.last_seen_at
   FROM json_to_recordset(:names::json) AS t (type text, name text, count bigint, first_seen_at bigint, last_seen_at bigint)
   ON CONFLICT (workspace_id, type, name) DO UPDATE SET count = n.count + excluded.count,
     first_seen_at = least(n.first_seen_at, excluded.first_seen_at),
     last_seen_at = greatest(n.last_seen_at, excluded.last_seen_at)`,
);
