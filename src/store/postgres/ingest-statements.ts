import { MONTH_COLUMNS } from '../../domain/reports/activity.js';
import { named } from './pg-driver.js';

const MONTHS = MONTH_COLUMNS.join(', ');

/**
 * The ingest unit's statements. Each is fixed text, prepared once per connection, and takes its rows
 * as arrays (`unnest`, or JSON arrays of objects), so a batch of any size costs the same few round
 * trips.
 *
 * Statements are prepared, so after a few runs each connection keeps one generic plan, planned
 * while the tables were small and before autovacuum first analyzed them (about a minute after the
 * first writes). With no statistics the planner thinks `workspace_id = $1` matches a few rows, and a
 * plan that scans the workspace and filters on `= ANY(:ids)` once cost a full index scan per batch.
 * So rows are reached by shapes whose plan cannot depend on table size: a LATERAL lookup with
 * LIMIT 1 (one index probe per element) or INSERT … ON CONFLICT (one probe of the arbiter index per
 * row, also used to update rows known to exist and already locked).
 */

/** The messageIds of `:ids` already stored in the workspace: one index probe each. */
const EXISTING = `ARRAY(SELECT e.message_id FROM unnest(:ids::text[]) AS m (id)
  CROSS JOIN LATERAL (SELECT message_id FROM events WHERE workspace_id = :ws::text AND message_id = m.id LIMIT 1) AS e)`;

/**
 * The workspace's lock in shared mode, then one exclusive lock per identity key. The locks are taken
 * as the aggregate walks the sorted subquery, so everyone acquires in one order (workspace first,
 * then keys by hash) and waits never form a cycle.
 */
const KEY_LOCKS = `(SELECT count(CASE WHEN s.ord = 0 THEN pg_advisory_xact_lock_shared(s.h) ELSE pg_advisory_xact_lock(s.h) END)
   FROM (SELECT 0 AS ord, hashtextextended(:ws::text, 0) AS h
         UNION ALL
         SELECT DISTINCT 1, hashtextextended(:ws::text || ':' || k, 0) FROM unnest(:keys::text[]) AS k
         ORDER BY 1, 2) AS s)`;

const WORKSPACE_LOCK = 'pg_advisory_xact_lock(hashtextextended(:ws::text, 0))';

/**
 * The workspace's definitions version (null when there is no such workspace). Definition changes
 * bump it while holding the workspace's lock exclusively (see engagement.ts).
 */
const DEFINITIONS_VERSION = '(SELECT definitions_version FROM workspaces WHERE id = :ws::text)';

/**
 * The unit's first statement: takes the identity-key locks and reports which messageIds are stored
 * already and the definitions version, in one round trip. The messageId check and the version take
 * no lock and may use a snapshot from before the locks were granted: a messageId stored meanwhile is
 * caught by the unique index, a definition change committed meanwhile by WRITE, which reads the
 * version again (see PostgresIngestTx). Everything else read under the locks is read by later
 * statements.
 */
export const LOCK_KEYS_EXISTING = named(
  'kizuna_ingest_lock_keys_existing',
  `SELECT ${KEY_LOCKS} AS locks, ${EXISTING} AS existing, ${DEFINITIONS_VERSION} AS definitions_version`,
);
export const LOCK_WORKSPACE_EXISTING = named(
  'kizuna_ingest_lock_workspace_existing',
  `SELECT ${WORKSPACE_LOCK} AS locks, ${EXISTING} AS existing, ${DEFINITIONS_VERSION} AS definitions_version`,
);

/**
 * A profile's engagement columns (see migrations/0002_engagement.sql). Its segments are kept in
 * `segment_members` alone (migration 0030): a statement that locks profiles reads them afterwards with
 * LOAD_SEGMENTS; a plain read adds `SEGMENTS_OF_P`.
 */
export const ENGAGEMENT_COLUMNS = 'p.facts, p.stage, p.previous_stage, p.stage_since';

/**
 * The segment ids of profile `p` as a jsonb array in id order, for the select list of a read that
 * locks nothing (one statement's snapshot: it agrees with the row it is read with).
 */
export const SEGMENTS_OF_P = `(SELECT coalesce(jsonb_agg(m.segment_id ORDER BY m.segment_id), '[]'::jsonb)
     FROM segment_members m WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.id) AS segments`;

/**
 * The memberships of profiles this transaction has locked, read in a statement of its own after the
 * lock: a statement that waited for a profile's lock sees the rows of other tables as of its start
 * (READ COMMITTED), so memberships a build committed while it waited would be missed if read with the
 * locking statement. Run unprepared (see EXITS).
 */
export const LOAD_SEGMENTS = named(
  'kizuna_load_segments',
  `SELECT profile_id, segment_id FROM segment_members
   WHERE workspace_id = :ws::text AND profile_id = ANY(:ids::text[])
   ORDER BY profile_id, segment_id`,
);

/**
 * The owners of the given identity keys, locked in id order: one row per key. Both lookups are
 * LATERAL probes with LIMIT 1, the owners sorted by id first and locked one by one in that order
 * (`FOR UPDATE` inside the probe; a nested loop keeps its outer side's order). A join of the keys with
 * `profiles` instead gets a generic plan, made while the table was small, that scans and sorts the
 * whole workspace's profiles for every batch (measured: 60 ms a batch at 50,000 profiles).
 *
 * A key no identity names (`owner` null) comes with `erased`: whether it is tombstoned (the hash of
 * rights-store.ts's `tombstoneHash`, computed here), which spares the unit a statement for the batch's
 * new customers. Read in this statement's snapshot, which is as good as a later one's for such a key:
 * an erasure deletes a key's identities and writes its tombstone in one transaction. A key whose owner
 * was gone once its lock was granted (erased meanwhile: `owner` set, `id` null) has no `erased`; its
 * tombstone, written after this snapshot, is for a later statement to read.
 */
export const LOAD_PROFILES = named(
  'kizuna_ingest_load',
  `WITH owners AS MATERIALIZED (
     SELECT k.kind, k.value, i.profile_id
     FROM unnest(:kinds::text[], :values::text[]) AS k (kind, value)
     LEFT JOIN LATERAL (SELECT profile_id FROM identities
                        WHERE workspace_id = :ws::text AND kind = k.kind AND value = k.value LIMIT 1) AS i ON true
     ORDER BY i.profile_id)
   SELECT o.kind, o.value, o.profile_id AS owner, p.id, p.user_id, p.merged_into, p.traits, p.trait_times,
          p.first_seen_at, p.last_seen_at, p.event_count, p.created_at, p.updated_at, ${ENGAGEMENT_COLUMNS},
          CASE WHEN o.profile_id IS NULL THEN EXISTS (
            SELECT 1 FROM tombstones t WHERE t.workspace_id = :ws::text AND t.hash = encode(sha256(
              convert_to(:ws::text, 'UTF8') || '\\x00'::bytea || convert_to(o.kind, 'UTF8') || '\\x00'::bytea
              || convert_to(o.value, 'UTF8')), 'hex')) END AS erased
   FROM owners o
   LEFT JOIN LATERAL (SELECT * FROM profiles p WHERE p.workspace_id = :ws::text AND p.id = o.profile_id
                      LIMIT 1 FOR UPDATE) AS p ON true`,
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
 * earlier, so any old id resolves in one hop; the losers' identities, events, group memberships and
 * engagement events move.
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
  // A loser's engagement events follow it; its segment memberships go (the survivor is re-evaluated).
  `UPDATE engagement_events t SET profile_id = m.i FROM unnest(:from::text[], :into::text[]) AS m (f, i)
   WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[]) AND t.profile_id = m.f`,
  `DELETE FROM segment_members WHERE workspace_id = :ws::text AND profile_id = ANY(:from::text[])`,
  // The losers' activity days become their survivor's (two losers of one survivor OR-ed together).
  `INSERT INTO event_activity AS a (workspace_id, name, profile_id, kind, month, days)
   SELECT t.workspace_id, t.name, m.i, t.kind, t.month, bit_or(t.days)
   FROM event_activity t JOIN unnest(:from::text[], :into::text[]) AS m (f, i) ON t.profile_id = m.f
   WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[])
   GROUP BY t.workspace_id, t.name, m.i, t.kind, t.month
   ORDER BY t.name, m.i, t.kind, t.month
   ON CONFLICT (workspace_id, name, profile_id, kind, month) DO UPDATE SET days = a.days | excluded.days`,
  `DELETE FROM event_activity WHERE workspace_id = :ws::text AND profile_id = ANY(:from::text[])`,
  `INSERT INTO event_activity_years AS a (workspace_id, profile_id, year, ${MONTHS})
   SELECT t.workspace_id, m.i, t.year, ${MONTH_COLUMNS.map((c) => `bit_or(t.${c})`).join(', ')}
   FROM event_activity_years t JOIN unnest(:from::text[], :into::text[]) AS m (f, i) ON t.profile_id = m.f
   WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[])
   GROUP BY t.workspace_id, m.i, t.year
   ORDER BY m.i, t.year
   ON CONFLICT (workspace_id, profile_id, year) DO UPDATE SET ${MONTH_COLUMNS.map((c) => `${c} = a.${c} | excluded.${c}`).join(', ')}`,
  `DELETE FROM event_activity_years WHERE workspace_id = :ws::text AND profile_id = ANY(:from::text[])`,
].map((text, i) => named(`kizuna_ingest_merge_${i}`, text));

/**
 * Segment entries and engagement events of locked profiles, which ingest and re-evaluation both
 * write. Engagement events keep their array order, which becomes their storage order (`id`).
 */
export const ENGAGEMENT_CTES = `entered_segments AS (
     INSERT INTO segment_members (workspace_id, segment_id, profile_id, entered_at)
     SELECT :ws::text, t.segment_id, t.profile_id, :now::bigint
     FROM json_to_recordset(:entered::json) AS t (segment_id text, profile_id text)
     ON CONFLICT DO NOTHING),
   new_engagement_events AS (
     INSERT INTO engagement_events (workspace_id, profile_id, at, type, subject, properties)
     SELECT :ws::text, t.profile_id, t.at, t.type, t.subject, t.properties
     FROM json_to_recordset(:engagement_events::json) AS t (profile_id text, at bigint, type text, subject text, properties json))`;

/**
 * Segment exits: memberships of locked profiles, deleted by key. Run unprepared (`Sql.once`) and
 * only when there are exits: a delete driven by a row list is a join whose generic plan, made while
 * the table was small, hashes a scan of the whole workspace's memberships; planned for each call it
 * probes the primary key once the table is large.
 */
export const EXITS = named(
  'kizuna_segment_exits',
  `DELETE FROM segment_members t USING json_to_recordset(:exits::json) AS x (segment_id text, profile_id text)
   WHERE t.workspace_id = :ws::text AND t.segment_id = x.segment_id AND t.profile_id = x.profile_id`,
);

/**
 * Separates the JSON texts WRITE takes as one text each (`:payloads`, the events' payloads, and the
 * profiles' `facts`; see `joinJson`). JSON never holds a raw U+0001 (control characters in its strings are escaped), so splitting
 * on it is exact. They travel outside the rows' JSON arrays because a `json` column read by
 * `json_to_recordset` is lexed twice (as part of the array, then again by `json_in`): reading 100 events of
 * the benchmark's shape took 14.5 µs an event that way, 2.4 µs with the payloads split from one text
 * (100 profiles' facts: 5.3 and 3.1 µs a profile).
 */
const PAYLOAD_SEPARATOR = "E'\\x01'";
export const joinJson = (texts: readonly string[]): string => texts.join('\u0001');

/** The rows of `:<param>` (JSON array) zipped with their facts from `:<param>_facts` (see PAYLOAD_SEPARATOR). */
const profileRows = (
  param: string,
): string => `ROWS FROM (json_to_recordset(:${param}::json) AS (id text, user_id text,
       traits jsonb, trait_times jsonb, first_seen_at bigint, last_seen_at bigint, event_count bigint, created_at bigint,
       stage text, previous_stage text, stage_since bigint),
     unnest(string_to_array(:${param}_facts::text, ${PAYLOAD_SEPARATOR})))
   AS t (id, user_id, traits, trait_times, first_seen_at, last_seen_at, event_count, created_at, stage, previous_stage,
     stage_since, facts)`;
const PROFILE_INSERT = `INSERT INTO profiles (workspace_id, id, user_id, traits, trait_times, first_seen_at, last_seen_at, event_count,
       created_at, updated_at, facts, stage, previous_stage, stage_since)
     SELECT :ws::text, t.id, t.user_id, t.traits, t.trait_times, t.first_seen_at, t.last_seen_at, t.event_count, t.created_at,
       :now::bigint, t.facts::json, t.stage, t.previous_stage, t.stage_since`;

/**
 * Everything a plan writes except merges and segment exits, in one statement. Rows arrive as JSON
 * arrays of objects (one parse on the server, no per-element escaping in the client); the events'
 * payloads come as one separated text (`:payloads`, see PAYLOAD_SEPARATOR), and so do the profiles' facts, zipped with their rows. The parts
 * touch disjoint rows (new vs. updated profiles, new identities, new events, locked groups,
 * memberships and engagement events of locked profiles), so running them together in one snapshot
 * equals running them in turn. Events keep their array order, which becomes their storage order (`id`).
 *
 * Event-name counters are shared by every writer of a workspace: each transaction adds to its own
 * shard (`:shard`, see migrations/0001_initial.sql), rows sorted so two writers on one shard lock them in one
 * order. The counters wait for the events (`count(*) FROM new_events`), so a writer that must wait
 * on another's messageId does so before it holds a counter row.
 *
 * It returns the definitions version as of its snapshot, taken under the workspace's shared lock: the
 * caller compares it with the version it evaluated with (see PostgresIngestTx).
 */
export const WRITE = named(
  'kizuna_ingest_write',
  `WITH
   new_profiles AS (
     ${PROFILE_INSERT}
     FROM ${profileRows('created')}),
   changed_profiles AS (
     ${PROFILE_INSERT}
     FROM ${profileRows('updated')}
     ON CONFLICT (workspace_id, id) DO UPDATE SET user_id = excluded.user_id, traits = excluded.traits,
       trait_times = excluded.trait_times, first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
       event_count = excluded.event_count, created_at = excluded.created_at, updated_at = excluded.updated_at,
       facts = excluded.facts, stage = excluded.stage, previous_stage = excluded.previous_stage,
       stage_since = excluded.stage_since),
   new_identities AS (
     INSERT INTO identities (workspace_id, kind, value, profile_id, created_at)
     SELECT :ws::text, t.kind, t.value, t.profile_id, :now::bigint
     FROM json_to_recordset(:identities::json) AS t (kind text, value text, profile_id text)),
   new_events AS (
     INSERT INTO events (workspace_id, profile_id, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
     SELECT :ws::text, t.profile_id, t.message_id, t.type, t.name, t.user_id, t.anonymous_id, t.timestamp, t.received_at,
       t.payload::json
     FROM ROWS FROM (json_to_recordset(:events::json) AS (profile_id text, message_id text, type text, name text,
                       user_id text, anonymous_id text, timestamp bigint, received_at bigint),
                     unnest(string_to_array(:payloads::text, ${PAYLOAD_SEPARATOR})))
       AS t (profile_id, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
     RETURNING 1),
   changed_groups AS (
     INSERT INTO groups (workspace_id, id, traits, trait_times, created_at, updated_at)
     SELECT :ws::text, t.id, t.traits, t.trait_times, :now::bigint, :now::bigint
     FROM json_to_recordset(:groups::json) AS t (id text, traits jsonb, trait_times jsonb)
     ON CONFLICT (workspace_id, id) DO UPDATE SET traits = excluded.traits, trait_times = excluded.trait_times,
       updated_at = excluded.updated_at),
   new_members AS (
     INSERT INTO group_members (workspace_id, group_id, profile_id, joined_at)
     SELECT :ws::text, t.group_id, t.profile_id, t.joined_at
     FROM json_to_recordset(:members::json) AS t (group_id text, profile_id text, joined_at bigint)
     ON CONFLICT DO NOTHING),
   ${ENGAGEMENT_CTES},
   counted_names AS (
     INSERT INTO event_names AS n (workspace_id, type, name, shard, count, first_seen_at, last_seen_at)
     SELECT :ws::text, t.type, t.name, :shard::smallint, t.count, t.first_seen_at, t.last_seen_at
     FROM json_to_recordset(:names::json) AS t (type text, name text, count bigint, first_seen_at bigint, last_seen_at bigint)
     WHERE (SELECT count(*) FROM new_events) >= 0
     ON CONFLICT (workspace_id, type, name, shard) DO UPDATE SET count = n.count + excluded.count,
       first_seen_at = least(n.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(n.last_seen_at, excluded.last_seen_at)),
   -- The activity rollup (migration 0027): the events' days, rows sorted by key. Days a row has
   -- already are dropped by a key probe first, as ON CONFLICT would lock (and so write) a row it then
   -- leaves alone; the profiles are locked, so the probe reads what ON CONFLICT would. Rows of
   -- profiles the plan creates skip the probe (\`fresh\`).
   new_activity AS (
     INSERT INTO event_activity AS a (workspace_id, name, profile_id, kind, month, days)
     SELECT :ws::text, t.name, t.profile_id, t.kind, t.month, t.days
     FROM json_to_recordset(:activity::json)
       AS t (name text, profile_id text, kind smallint, month bigint, days int, fresh boolean)
     LEFT JOIN LATERAL (SELECT o.days FROM event_activity o
                        WHERE NOT t.fresh AND o.workspace_id = :ws::text AND o.name = t.name
                          AND o.profile_id = t.profile_id AND o.kind = t.kind AND o.month = t.month
                        LIMIT 1) AS o ON true
     WHERE (SELECT count(*) FROM new_events) >= 0 AND (o.days IS NULL OR (o.days & t.days) <> t.days)
     ON CONFLICT (workspace_id, name, profile_id, kind, month) DO UPDATE SET days = a.days | excluded.days
     WHERE (a.days & excluded.days) <> excluded.days),
   -- Its \`any\` key, a row per customer and year (migration 0031), written the same way.
   new_activity_years AS (
     INSERT INTO event_activity_years AS a (workspace_id, profile_id, year, ${MONTHS})
     SELECT :ws::text, t.profile_id, t.year, ${MONTH_COLUMNS.map((c) => `t.${c}`).join(', ')}
     FROM json_to_recordset(:activity_years::json)
       AS t (profile_id text, year int, ${MONTH_COLUMNS.map((c) => `${c} int`).join(', ')}, fresh boolean)
     LEFT JOIN LATERAL (SELECT ${MONTHS} FROM event_activity_years o
                        WHERE NOT t.fresh AND o.workspace_id = :ws::text AND o.profile_id = t.profile_id
                          AND o.year = t.year
                        LIMIT 1) AS o ON true
     WHERE (SELECT count(*) FROM new_events) >= 0
       AND (o.m1 IS NULL OR ${MONTH_COLUMNS.map((c) => `(o.${c} & t.${c}) <> t.${c}`).join(' OR ')})
     ON CONFLICT (workspace_id, profile_id, year) DO UPDATE SET ${MONTH_COLUMNS.map((c) => `${c} = a.${c} | excluded.${c}`).join(', ')}
     WHERE ${MONTH_COLUMNS.map((c) => `(a.${c} & excluded.${c}) <> excluded.${c}`).join(' OR ')})
   SELECT ${DEFINITIONS_VERSION} AS definitions_version`,
);
