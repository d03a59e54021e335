/**
 * Journey writes on PostgreSQL, inside the caller's transaction: the definition lifecycle and routing
 * from ingestion and re-evaluation (the runner's claims and results are in journey-runs.ts).
 *
 * Concurrency, across processes:
 * - Publishing and status changes change what routing sees: like definition changes (engagement.ts)
 *   they hold the workspace's lock exclusively and bump `definitions_version`, so ingestion and
 *   re-evaluation (which hold it shared) never route with a journey index older than what committed
 *   before them. Drafts are not routed, so creating and editing them takes only the journey's row.
 * - Routing reads and writes entries of profiles its transaction has locked; the runner's claims and
 *   completions touch entries without those locks and rely on the claim instead: a wake or exit clears
 *   `claimed_by`, and a completion applies only while its claim is still held and the entry active.
 * - Scheduled runs are claimed like entries (`FOR UPDATE SKIP LOCKED`, a lease in `run_claim_until`)
 *   and finished only while the claim is held; publishing clears the claim. Entering a run's
 *   customers (`enterJourney`) holds the workspace's lock shared and locks their profile rows, as
 *   ingestion and re-evaluation do before routing, so its "already in the journey" check and its
 *   inserts never race routing (or another run) entering the same profile.
 * - Row sets are sent sorted by entry id, so concurrent multi-row updates mostly lock in one order;
 *   a deadlock that still happens is retried by the caller's transaction.
 */
import { compileIndex, stepIds, type StoredVersion } from '../../domain/journeys/compile.js';
import type { EntryRow, JourneyIndex, JourneyRouting } from '../../domain/journeys/route.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { MERGED_EXIT, entryRow, type EntryRowDb } from '../journey-rows.js';
import type { JourneyView } from '../journey-store.js';
import { bumpVersion, lockDefinitionsExclusive } from './engagement.js';
import { named, type Sql } from './pg-driver.js';

export async function createJourney(
  sql: Sql,
  ws: string,
  j: { id: string; name: string; draft: unknown },
  now: number,
): Promise<JourneyView> {
  // Unlocked: two creations racing for one name meet at the unique constraint (the caller maps it).
  const taken = await sql.query('SELECT 1 FROM journeys WHERE workspace_id = $1 AND name = $2', [ws, j.name]);
  if (taken.length > 0) throw new ConflictError(`a journey named "${j.name}" already exists`);
  await sql.query(
    `INSERT INTO journeys (workspace_id, id, name, status, draft, version, created_at, updated_at)
     VALUES ($1, $2, $3, 'draft', $4, 0, $5, $5)`,
    [ws, j.id, j.name, JSON.stringify(j.draft), now],
  );
  return {
    id: j.id,
    name: j.name,
    status: 'draft',
    draft: j.draft,
    version: 0,
    createdAt: now,
    updatedAt: now,
    publishedAt: null,
  };
}

/** The journey's status and latest version, its row locked until the transaction ends. */
async function current(sql: Sql, ws: string, id: string): Promise<{ status: string; version: number }> {
  const [row] = await sql.query<{ status: string; version: number }>(
    'SELECT status, version FROM journeys WHERE workspace_id = $1 AND id = $2 FOR UPDATE',
    [ws, id],
  );
  if (!row) throw new NotFoundError(`journey ${id} not found`);
  return row;
}

export async function updateJourneyDraft(
  sql: Sql,
  ws: string,
  id: string,
  j: { name: string; draft: unknown },
  now: number,
): Promise<void> {
  const cur = await current(sql, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
  const taken = await sql.query('SELECT 1 FROM journeys WHERE workspace_id = $1 AND name = $2 AND id <> $3', [
    ws,
    j.name,
    id,
  ]);
  if (taken.length > 0) throw new ConflictError(`a journey named "${j.name}" already exists`);
  await sql.query(
    'UPDATE journeys SET name = $3, draft = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2',
    [ws, id, j.name, JSON.stringify(j.draft), now],
  );
}

export async function publishJourney(
  sql: Sql,
  ws: string,
  id: string,
  input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
  now: number,
): Promise<{ version: number; migrated: number }> {
  await lockDefinitionsExclusive(sql, ws);
  const cur = await current(sql, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
  if (input.ifVersion !== undefined && cur.version !== input.ifVersion) {
    throw new ConflictError(`journey ${id} is at version ${cur.version}, not ${input.ifVersion}`);
  }
  const version = cur.version + 1;
  await sql.query(
    'INSERT INTO journey_versions (workspace_id, journey_id, version, definition, published_at) VALUES ($1, $2, $3, $4, $5)',
    [ws, id, version, JSON.stringify(input.definition), now],
  );
  // A run being enumerated loses its claim: its worker's finishScheduledRun is refused, so it cannot
  // overwrite the schedule published here.
  await sql.query(
    `UPDATE journeys SET version = $3, status = CASE WHEN status = 'paused' THEN 'paused' ELSE 'published' END,
       published_at = $4, updated_at = $4, next_run_at = $5, run_claimed_by = NULL, run_claim_until = NULL
     WHERE workspace_id = $1 AND id = $2`,
    [ws, id, version, now, input.nextRunAt],
  );
  let migrated = 0;
  if (input.migrate && version > 1) {
    // Entries keep their phase, due time and claim: a runner holding one completes it as usual.
    const moved = await sql.query(
      `UPDATE journey_entries SET version = $3
       WHERE workspace_id = $1 AND journey_id = $2 AND state = 'active' AND version < $3 AND step = ANY($4::text[])
       RETURNING 1`,
      [ws, id, version, stepIds(input.definition)],
    );
    migrated = moved.length;
  }
  await bumpVersion(sql, ws);
  return { version, migrated };
}

export async function setJourneyStatus(
  sql: Sql,
  ws: string,
  id: string,
  status: 'published' | 'paused' | 'archived',
  now: number,
): Promise<void> {
  await lockDefinitionsExclusive(sql, ws);
  const cur = await current(sql, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
  if (cur.version === 0 && status !== 'archived') {
    throw new ConflictError(`journey ${id} has never been published`);
  }
  await sql.query('UPDATE journeys SET status = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2', [
    ws,
    id,
    status,
    now,
  ]);
  // Pausing takes the journey's entries out of the due index (claims would scan past them) and
  // revokes claims in flight, so a step claimed just before the pause is dropped and runs on resume.
  if (status === 'paused') {
    await sql.query(
      `UPDATE journey_entries
       SET held_due_at = CASE WHEN claimed_by IS NULL THEN due_at ELSE $3 END, due_at = NULL, claimed_by = NULL
       WHERE workspace_id = $1 AND journey_id = $2 AND state = 'active' AND due_at IS NOT NULL`,
      [ws, id, now],
    );
  } else if (status === 'published') {
    // An entry woken by its event while paused already has a due time (now): it keeps it.
    await sql.query(
      `UPDATE journey_entries SET due_at = coalesce(due_at, held_due_at), held_due_at = NULL
       WHERE workspace_id = $1 AND journey_id = $2 AND state = 'active' AND held_due_at IS NOT NULL`,
      [ws, id],
    );
  }
  if (status === 'archived') {
    // As a routing exit does: a runner holding a claim on one of these drops its result.
    await sql.query(
      `WITH exited AS (
         UPDATE journey_entries SET state = 'exited', exit_reason = 'journey archived', ended_at = $3, due_at = NULL,
           claimed_by = NULL
         WHERE workspace_id = $1 AND journey_id = $2 AND state = 'active'
         RETURNING id, step)
       INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome)
       SELECT $1, id, $3, step, 'exit', 'exited: journey archived' FROM exited ORDER BY id`,
      [ws, id, now],
    );
  }
  await bumpVersion(sql, ws);
}

/**
 * Compiled published journeys per workspace, shared by the transactions of one store and recompiled
 * when the workspace's definitions version moved (as DefinitionsCache). The index carries the version
 * it was compiled at, read in the same statement as the journeys, so a caller can check it against the
 * version its writes see.
 */
export class JourneyIndexCache {
  private readonly compiled = new Map<string, JourneyIndex>();

  /** `version`: the one the caller's transaction read, if any (no round trip when the copy is current). */
  async get(sql: Sql, ws: string, version?: number | null): Promise<JourneyIndex> {
    let want = version;
    if (want === undefined) {
      const [row] = await sql.query<{ definitions_version: number }>(
        'SELECT definitions_version FROM workspaces WHERE id = $1',
        [ws],
      );
      want = row?.definitions_version ?? null;
    }
    const hit = this.compiled.get(ws);
    if (hit && hit.version === want) return hit;
    const [w] = await sql.query<{
      definitions_version: number;
      versions: { journey_id: string; version: number; definition: unknown; live: boolean }[];
    }>(
      `SELECT w.definitions_version,
         coalesce((SELECT json_agg(json_build_object('journey_id', v.journey_id, 'version', v.version,
                                                     'definition', v.definition,
                                                     'live', j.status = 'published' AND v.version = j.version)
                                   ORDER BY v.journey_id, v.version)
                   FROM journey_versions v JOIN journeys j ON j.workspace_id = v.workspace_id AND j.id = v.journey_id
                   WHERE v.workspace_id = w.id AND j.status <> 'archived'), '[]') AS versions
       FROM workspaces w WHERE w.id = $1`,
      [ws],
    );
    if (!w) throw new NotFoundError(`workspace ${ws} not found`);
    const index = compileIndex(
      w.definitions_version,
      w.versions.map((r): StoredVersion => ({
        journeyId: r.journey_id,
        version: r.version,
        definition: r.definition,
        live: r.live,
      })),
    );
    // Concurrent transactions may compile different versions; keep the newest.
    const cached = this.compiled.get(ws);
    if (!cached || cached.version <= index.version) this.compiled.set(ws, index);
    return index;
  }
}

/** Every entry of these profiles (an empty list for a profile without any). */
export async function loadEntries(
  sql: Sql,
  ws: string,
  profileIds: readonly string[],
): Promise<Map<string, EntryRow[]>> {
  const out = new Map<string, EntryRow[]>(profileIds.map((id) => [id, []]));
  if (profileIds.length === 0) return out;
  const rows = await sql.once<EntryRowDb>(LOAD_ENTRIES, { ws, ids: profileIds });
  for (const r of rows) out.get(r.profile_id)?.push(entryRow(r));
  return out;
}

// Routing and completion statements run unprepared (`Sql.once`): each joins a row list to the
// entries, and planned for each call it probes the primary key per row however large the table grew.

const LOAD_ENTRIES = named(
  'kizuna_journey_entries_load',
  `SELECT * FROM journey_entries WHERE workspace_id = :ws::text AND profile_id = ANY(:ids::text[])
   ORDER BY profile_id, id`,
);

const ENTER = named(
  'kizuna_journey_enter',
  `WITH t AS (
     SELECT * FROM json_to_recordset(:rows::json)
       AS t (id text, journey_id text, version integer, profile_id text, step text, trigger text, entered_at bigint,
             trigger_message_id text)),
   new_entries AS (
     INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase, steps_taken,
       step_since, due_at, trigger, entered_at, trigger_message_id)
     SELECT :ws::text, t.id, t.journey_id, t.version, t.profile_id, 'active', t.step, 'enter', 0, :now::bigint,
       :now::bigint, t.trigger, t.entered_at, t.trigger_message_id
     FROM t)
   INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome)
   SELECT :ws::text, t.id, :now::bigint, t.step, 'entry', 'entered: ' || t.trigger FROM t`,
);

/**
 * Clearing the claim makes a runner that is timing this wait out drop its result: the event won. The
 * wait is re-checked against the row as it is when the lock is granted (routing read it before a
 * runner may have moved the entry on).
 */
const WAKE = named(
  'kizuna_journey_wake',
  `UPDATE journey_entries e SET signal = w.signal, due_at = :now::bigint, claimed_by = NULL
   FROM json_to_recordset(:rows::json) AS w (entry_id text, signal json)
   WHERE e.workspace_id = :ws::text AND e.id = w.entry_id AND e.state = 'active' AND e.phase = 'waiting'
     AND e.waiting_for = w.signal->>'event' AND e.step_since <= (w.signal->>'at')::bigint`,
);

const EXIT = named(
  'kizuna_journey_exit',
  `WITH exited AS (
     UPDATE journey_entries e SET state = 'exited', exit_reason = x.reason, ended_at = :now::bigint, due_at = NULL,
       claimed_by = NULL
     FROM json_to_recordset(:rows::json) AS x (entry_id text, reason text)
     WHERE e.workspace_id = :ws::text AND e.id = x.entry_id AND e.state = 'active'
     RETURNING e.id, e.step, x.reason)
   INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome)
   SELECT :ws::text, id, :now::bigint, step, 'exit', 'exited: ' || reason FROM exited ORDER BY id`,
);

const CONVERT = named(
  'kizuna_journey_convert',
  `UPDATE journey_entries e SET converted_at = c.at, converted_value = c.value
   FROM json_to_recordset(:rows::json) AS c (entry_id text, at bigint, value double precision)
   WHERE e.workspace_id = :ws::text AND e.id = c.entry_id AND e.converted_at IS NULL`,
);

/** Stores what routing decided; entries of locked profiles only. Empty parts cost no statement. */
export async function writeRouting(sql: Sql, ws: string, r: JourneyRouting, now: number): Promise<void> {
  const byId = <T>(rows: readonly T[], id: (row: T) => string): string =>
    JSON.stringify([...rows].sort((a, b) => cmp(id(a), id(b))));
  if (r.enter.length > 0) {
    const rows = r.enter.map((e) => ({
      id: e.id,
      journey_id: e.journeyId,
      version: e.version,
      profile_id: e.profileId,
      step: e.step,
      trigger: e.trigger,
      entered_at: e.enteredAt,
      trigger_message_id: e.triggerMessageId,
    }));
    await sql.once(ENTER, { ws, now, rows: byId(rows, (e) => e.id) });
  }
  if (r.wake.length > 0) {
    const rows = r.wake.map((w) => ({ entry_id: w.entryId, signal: w.signal }));
    await sql.once(WAKE, { ws, now, rows: byId(rows, (w) => w.entry_id) });
  }
  if (r.exit.length > 0) {
    const rows = r.exit.map((x) => ({ entry_id: x.entryId, reason: x.reason }));
    await sql.once(EXIT, { ws, now, rows: byId(rows, (x) => x.entry_id) });
  }
  if (r.convert.length > 0) {
    const rows = r.convert.map((c) => ({ entry_id: c.entryId, at: c.at, value: c.value }));
    await sql.once(CONVERT, { ws, rows: byId(rows, (c) => c.entry_id) });
  }
}

/**
 * A merge's journey rows: a loser's entry running in a journey the survivor is running too ends
 * (one entry per customer per journey); the losers' (`:from`) entries, messages and static list memberships move to their
 * survivors (`:into`); a list the survivor is on already keeps the survivor's row. The insert and the
 * delete touch different rows (survivors' and losers'), so one statement serves.
 */
const MERGE = named(
  'kizuna_journey_merge',
  `WITH m AS (SELECT * FROM unnest(:from::text[], :into::text[]) AS m (f, i)),
   moving AS (
     SELECT t.workspace_id, t.id, m.i,
       (t.state = 'active' AND EXISTS (
          SELECT 1 FROM journey_entries s
          WHERE s.workspace_id = t.workspace_id AND s.profile_id = m.i AND s.journey_id = t.journey_id
            AND s.state = 'active')) AS dup
     FROM journey_entries t JOIN m ON t.profile_id = m.f
     WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[])),
   moved_entries AS (
     UPDATE journey_entries t SET profile_id = x.i,
       state = CASE WHEN x.dup THEN 'exited' ELSE t.state END,
       exit_reason = CASE WHEN x.dup THEN :reason::text ELSE t.exit_reason END,
       ended_at = CASE WHEN x.dup THEN :now::bigint ELSE t.ended_at END,
       due_at = CASE WHEN x.dup THEN NULL ELSE t.due_at END,
       claimed_by = CASE WHEN x.dup THEN NULL ELSE t.claimed_by END
     FROM moving x WHERE t.workspace_id = x.workspace_id AND t.id = x.id),
   moved_messages AS (
     UPDATE journey_messages t SET profile_id = m.i FROM m
     WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[]) AND t.profile_id = m.f),
   moved_members AS (
     INSERT INTO list_members (workspace_id, list, profile_id, added_at)
     SELECT t.workspace_id, t.list, m.i, t.added_at
     FROM list_members t JOIN m ON t.profile_id = m.f
     WHERE t.workspace_id = :ws::text AND t.profile_id = ANY(:from::text[])
     ORDER BY t.list, m.i
     ON CONFLICT DO NOTHING)
   DELETE FROM list_members WHERE workspace_id = :ws::text AND profile_id = ANY(:from::text[])`,
);

/** Inside ingestion's write, beside the other merge statements (the losers are locked). */
export async function mergeJourneys(
  sql: Sql,
  ws: string,
  merges: readonly { from: string; into: string }[],
  now: number,
): Promise<void> {
  if (merges.length === 0) return;
  await sql.run(MERGE, {
    ws,
    from: merges.map((m) => m.from),
    into: merges.map((m) => m.into),
    now,
    reason: MERGED_EXIT,
  });
}

/** Code-unit order: any fixed total order serves for lock ordering, and this one needs no locale. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Due now: the journey's unclaimed active entries waiting at `step` (journey-store.ts releaseWaiting). */
export async function releaseWaiting(
  sql: Sql,
  ws: string,
  journeyId: string,
  step: string,
  now: number,
): Promise<number> {
  const rows = await sql.query(
    `UPDATE journey_entries SET due_at = $1
     WHERE workspace_id = $2 AND journey_id = $3 AND state = 'active' AND step = $4 AND phase = 'waiting'
       AND claimed_by IS NULL AND due_at > $1 RETURNING 1`,
    [now, ws, journeyId, step],
  );
  return rows.length;
}
