/**
 * Journey writes on PostgreSQL, inside the caller's transaction: the definition lifecycle, routing
 * from ingestion and re-evaluation, and the runner's claims and results.
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
import type { EnterCustomer, EntrySpec } from '../journey-store.js';
import { compileIndex, stepIds, type StoredVersion } from '../../domain/journeys/compile.js';
import type { EntryRow, JourneyIndex, JourneyRouting } from '../../domain/journeys/route.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { MERGED_EXIT, claimedEntry, entryRow, type EntryRowDb } from '../journey-rows.js';
import type { ClaimedEntry, EntryResult, JourneyView, ScheduledRun } from '../journey-store.js';
import { bumpVersion, lockDefinitionsExclusive, lockDefinitionsShared } from './engagement.js';
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
  input: { definition: unknown; migrate: boolean; nextRunAt: number | null },
  now: number,
): Promise<{ version: number; migrated: number }> {
  await lockDefinitionsExclusive(sql, ws);
  const cur = await current(sql, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
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
       AS t (id text, journey_id text, version integer, profile_id text, step text, trigger text, entered_at bigint)),
   new_entries AS (
     INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase, steps_taken,
       step_since, due_at, trigger, entered_at)
     SELECT :ws::text, t.id, t.journey_id, t.version, t.profile_id, 'active', t.step, 'enter', 0, :now::bigint,
       :now::bigint, t.trigger, t.entered_at
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
  `UPDATE journey_entries e SET converted_at = c.at
   FROM json_to_recordset(:rows::json) AS c (entry_id text, at bigint)
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
    const rows = r.convert.map((c) => ({ entry_id: c.entryId, at: c.at }));
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

/**
 * The due entries of published journeys, oldest due first, locked without waiting for (or claiming)
 * entries another transaction holds: concurrent claims split the due entries between them. The lock
 * re-checks `due_at` against the newest row, so an entry completed or claimed meanwhile is left out.
 *
 * Written as an anti-join so the plan walks the due index in due order and stops at the limit. As a
 * join with `journeys`, on a million entries with stale statistics PostgreSQL chose to read every entry
 * of the published journeys and sort them: 550 ms per claim, against 6–20 ms this way.
 */
const CLAIM = named(
  'kizuna_journey_claim',
  `WITH due AS MATERIALIZED (
     SELECT e.workspace_id, e.id, e.due_at FROM journey_entries e
     WHERE e.due_at <= :now::bigint
       AND NOT EXISTS (SELECT 1 FROM journeys j
                       WHERE j.workspace_id = e.workspace_id AND j.id = e.journey_id AND j.status <> 'published')
     ORDER BY e.due_at LIMIT :limit::integer
     FOR UPDATE OF e SKIP LOCKED)
   UPDATE journey_entries t SET claimed_by = :claim::text, due_at = :now::bigint + :lease::bigint
   FROM due WHERE t.workspace_id = due.workspace_id AND t.id = due.id
   RETURNING t.*, due.due_at AS was_due`,
);

/** One statement, on its own or in the caller's transaction; see JourneyStore.claimDueEntries. */
export async function claimDueEntries(
  sql: Sql,
  claim: string,
  limit: number,
  now: number,
  leaseMs: number,
): Promise<ClaimedEntry[]> {
  if (limit <= 0) return [];
  const rows = await sql.once<EntryRowDb & { was_due: number }>(CLAIM, { claim, limit, now, lease: leaseMs });
  rows.sort(
    (a, b) => Number(a.was_due) - Number(b.was_due) || cmp(a.workspace_id, b.workspace_id) || cmp(a.id, b.id),
  );
  return rows.map((r) => claimedEntry(r, claim));
}

/**
 * The results' new positions, for the entries whose claim is still held and which are still active,
 * then, for exactly those, their step history and sends (first of a key wins, and a key stored
 * before — a step run again after a crash — stays as it was). Returns the entries saved.
 */
const COMPLETE = named(
  'kizuna_journey_complete',
  `WITH r AS (
     SELECT * FROM json_to_recordset(:results::json)
       AS r (workspace_id text, entry_id text, claim text, state text, step text, phase text, steps_taken integer,
             signal json, waiting_for text, due_at bigint, exit_reason text)),
   saved AS (
     UPDATE journey_entries e SET state = r.state, step = r.step, phase = r.phase, steps_taken = r.steps_taken,
       signal = r.signal, waiting_for = r.waiting_for, step_since = :now::bigint, due_at = r.due_at, claimed_by = NULL,
       ended_at = CASE WHEN r.state <> 'active' THEN :now::bigint END, exit_reason = r.exit_reason
     FROM r
     WHERE e.workspace_id = r.workspace_id AND e.id = r.entry_id AND e.claimed_by = r.claim AND e.state = 'active'
     RETURNING e.workspace_id, e.id),
   logged AS (
     INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome)
     SELECT l.workspace_id, l.entry_id, l.at, l.step, l.type, l.outcome
     FROM json_to_recordset(:logs::json)
       AS l (n integer, workspace_id text, entry_id text, at bigint, step text, type text, outcome text)
     WHERE (l.workspace_id, l.entry_id) IN (SELECT workspace_id, id FROM saved)
     ORDER BY l.n),
   sent AS (
     INSERT INTO journey_messages (workspace_id, key, journey_id, entry_id, profile_id, step, channel, template, payload,
       created_at)
     SELECT m.workspace_id, m.key, m.journey_id, m.entry_id, m.profile_id, m.step, m.channel, m.template, m.payload,
       :now::bigint
     FROM json_to_recordset(:messages::json)
       AS m (n integer, workspace_id text, key text, journey_id text, entry_id text, profile_id text, step text,
             channel text, template text, payload json)
     WHERE (m.workspace_id, m.entry_id) IN (SELECT workspace_id, id FROM saved)
     ORDER BY m.n
     ON CONFLICT (workspace_id, key) DO NOTHING)
   SELECT workspace_id, id FROM saved`,
);

const LIST_REMOVE = named(
  'kizuna_journey_list_remove',
  `DELETE FROM list_members t USING json_to_recordset(:rows::json) AS x (workspace_id text, list text, profile_id text)
   WHERE t.workspace_id = x.workspace_id AND t.list = x.list AND t.profile_id = x.profile_id`,
);

const LIST_ADD = named(
  'kizuna_journey_list_add',
  `INSERT INTO list_members (workspace_id, list, profile_id, added_at)
   SELECT x.workspace_id, x.list, x.profile_id, :now::bigint
   FROM json_to_recordset(:rows::json) AS x (workspace_id text, list text, profile_id text)
   ORDER BY x.workspace_id, x.list, x.profile_id
   ON CONFLICT DO NOTHING`,
);

/** See JourneyStore.completeEntries; runs in the caller's transaction. */
export async function completeEntries(
  sql: Sql,
  results: readonly EntryResult[],
  now: number,
): Promise<number> {
  // A second result for one entry could never apply (the first releases the claim): dropped here.
  const firsts = new Map<string, EntryResult>();
  for (const r of results) {
    const k = entryKey(r.workspaceId, r.entryId);
    if (!firsts.has(k)) firsts.set(k, r);
  }
  if (firsts.size === 0) return 0;
  const inOrder = [...firsts.values()];
  const sorted = [...inOrder].sort((a, b) => cmp(a.workspaceId, b.workspaceId) || cmp(a.entryId, b.entryId));
  const logs: Record<string, unknown>[] = [];
  const messages: Record<string, unknown>[] = [];
  for (const r of inOrder) {
    for (const l of r.log) {
      logs.push({ n: logs.length, workspace_id: r.workspaceId, entry_id: r.entryId, ...l });
    }
    for (const a of r.actions) {
      const base = {
        n: messages.length,
        workspace_id: r.workspaceId,
        key: a.key,
        journey_id: r.journeyId,
        entry_id: r.entryId,
        profile_id: r.profileId,
        step: a.step,
      };
      if (a.kind === 'send') {
        messages.push({ ...base, channel: a.channel, template: a.template, payload: {} });
      } else if (a.kind === 'webhook') {
        messages.push({ ...base, channel: 'webhook', template: null, payload: { url: a.url, body: a.body } });
      }
    }
  }
  const saved = await sql.once<{ workspace_id: string; id: string }>(COMPLETE, {
    now,
    results: JSON.stringify(
      sorted.map((r) => ({
        workspace_id: r.workspaceId,
        entry_id: r.entryId,
        claim: r.claim,
        state: r.state,
        step: r.position.step,
        phase: r.position.phase,
        steps_taken: r.position.stepsTaken,
        signal: r.position.signal,
        waiting_for: r.waitingFor,
        due_at: r.dueAt,
        exit_reason: r.exitReason,
      })),
    ),
    logs: JSON.stringify(logs),
    messages: JSON.stringify(messages),
  });
  const applied = new Set(saved.map((s) => entryKey(s.workspace_id, s.id)));
  await applyListChanges(
    sql,
    inOrder.filter((r) => applied.has(entryKey(r.workspaceId, r.entryId))),
    now,
  );
  return applied.size;
}

/**
 * The applied results' list changes with the effect of running them one by one: a membership removed
 * at any point is deleted first, and one whose last change is an add is then inserted (so an add after
 * a remove is a new membership, as it would be in sequence).
 */
async function applyListChanges(sql: Sql, applied: readonly EntryResult[], now: number): Promise<void> {
  const changes = new Map<
    string,
    {
      row: { workspace_id: string; list: string; profile_id: string };
      removed: boolean;
      last: 'add' | 'remove';
    }
  >();
  for (const r of applied) {
    for (const a of r.actions) {
      if (a.kind !== 'list') continue;
      const k = JSON.stringify([r.workspaceId, a.list, r.profileId]);
      const c = changes.get(k) ?? {
        row: { workspace_id: r.workspaceId, list: a.list, profile_id: r.profileId },
        removed: false,
        last: a.op,
      };
      if (a.op === 'remove') c.removed = true;
      c.last = a.op;
      changes.set(k, c);
    }
  }
  if (changes.size === 0) return;
  const all = [...changes.values()];
  const removes = all.filter((c) => c.removed).map((c) => c.row);
  const adds = all.filter((c) => c.last === 'add').map((c) => c.row);
  if (removes.length > 0) await sql.once(LIST_REMOVE, { rows: JSON.stringify(removes) });
  if (adds.length > 0) await sql.once(LIST_ADD, { now, rows: JSON.stringify(adds) });
}

/**
 * The due scheduled runs of published journeys, oldest first, locked without waiting for (or claiming)
 * journeys another transaction holds (a run being claimed, a journey being published). The lock
 * re-checks the row as it is when granted, so a run claimed or finished meanwhile is left out.
 */
const CLAIM_SCHEDULES = named(
  'kizuna_journey_claim_schedules',
  `WITH due AS MATERIALIZED (
     SELECT workspace_id, id, next_run_at FROM journeys
     WHERE next_run_at <= :now::bigint AND status = 'published'
       AND (run_claim_until IS NULL OR run_claim_until <= :now::bigint)
     ORDER BY next_run_at LIMIT 10
     FOR UPDATE SKIP LOCKED)
   UPDATE journeys t SET run_claimed_by = :claim::text, run_claim_until = :now::bigint + :lease::bigint
   FROM due WHERE t.workspace_id = due.workspace_id AND t.id = due.id
   RETURNING t.workspace_id, t.id, t.version, due.next_run_at`,
);

/** One statement; see JourneyStore.claimDueSchedules. */
export async function claimDueSchedules(
  sql: Sql,
  claim: string,
  now: number,
  leaseMs: number,
): Promise<ScheduledRun[]> {
  const rows = await sql.run<{ workspace_id: string; id: string; version: number; next_run_at: number }>(
    CLAIM_SCHEDULES,
    { claim, now, lease: leaseMs },
  );
  rows.sort(
    (a, b) => a.next_run_at - b.next_run_at || cmp(a.workspace_id, b.workspace_id) || cmp(a.id, b.id),
  );
  return rows.map((r) => ({
    workspaceId: r.workspace_id,
    journeyId: r.id,
    version: r.version,
    runAt: r.next_run_at,
    claim,
  }));
}

/** The customers' profile rows, locked in id order (as ingestion and re-evaluation lock them). */
const LOCK_PROFILES = named(
  'kizuna_journey_lock_profiles',
  `SELECT 1 FROM profiles WHERE workspace_id = :ws::text AND id = ANY(:ids::text[]) ORDER BY id FOR UPDATE`,
);

/**
 * Enters the customers (at most one per profile: see enterJourney) not kept out by an entry of their
 * profile in the journey that is active or, with `:since`, entered after it; an id stored already is
 * skipped. Logs each entry made and returns how many.
 */
const ENTER_SCHEDULED = named(
  'kizuna_journey_enter_scheduled',
  `WITH c AS (
     SELECT * FROM json_to_recordset(:rows::json) AS c (n integer, id text, profile_id text, due_at bigint)),
   entered AS (
     INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase, steps_taken,
       step_since, due_at, trigger, entered_at)
     SELECT :ws::text, c.id, :journey::text, :version::integer, c.profile_id, 'active', :step::text, 'enter', 0,
       :now::bigint, c.due_at, :trigger::text, :now::bigint
     FROM c
     WHERE NOT EXISTS (
       SELECT 1 FROM journey_entries e
       WHERE e.workspace_id = :ws::text AND e.profile_id = c.profile_id AND e.journey_id = :journey::text
         AND (e.state = 'active' OR e.entered_at > :since::bigint))
     ORDER BY c.n
     ON CONFLICT (workspace_id, id) DO NOTHING
     RETURNING id),
   logged AS (
     INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome)
     SELECT :ws::text, id, :now::bigint, :step::text, 'entry', 'entered: ' || :trigger::text FROM entered ORDER BY id)
   SELECT count(*) AS n FROM entered`,
);

/** See JourneyStore.enterJourney; runs in the caller's transaction. */
export async function enterJourney(
  sql: Sql,
  ws: string,
  journeyId: string,
  entry: EntrySpec,
  customers: readonly EnterCustomer[],
  now: number,
): Promise<number | null> {
  if (customers.length === 0) return 0;
  // Shared, as routing holds it: publishing and status changes wait for this transaction.
  await lockDefinitionsShared(sql, ws);
  // Paused or archived since the run was claimed: nobody enters, and the caller leaves the run due.
  const [j] = await sql.query<{ status: string }>(
    'SELECT status FROM journeys WHERE workspace_id = $1 AND id = $2',
    [ws, journeyId],
  );
  if (j?.status !== 'published') return null;
  // Later statements (READ COMMITTED: later snapshots) see every entry committed for these profiles.
  const profileIds = [...new Set(customers.map((c) => c.profileId))].sort(cmp);
  await sql.once(LOCK_PROFILES, { ws, ids: profileIds });
  // null: only an active entry keeps a customer out. Entry times are whole milliseconds, so flooring
  // keeps `entered_at > since` as it is for a fractional bound.
  const since =
    entry.limit.kind === 'once'
      ? Number.MIN_SAFE_INTEGER
      : entry.limit.kind === 'once_per_days'
        ? Math.floor(now - entry.limit.days * 86_400_000)
        : null;
  // A statement does not see its own inserts, so a profile named twice is entered in rounds, its
  // customers in the given order (as one by one: a later one is checked against an earlier's entry).
  const rounds: { n: number; id: string; profile_id: string; due_at: number }[][] = [];
  const seen = new Map<string, number>();
  customers.forEach((c, n) => {
    const round = seen.get(c.profileId) ?? 0;
    seen.set(c.profileId, round + 1);
    (rounds[round] ??= []).push({ n, id: c.id, profile_id: c.profileId, due_at: c.dueAt });
  });
  let entered = 0;
  for (const rows of rounds) {
    const [row] = await sql.once<{ n: number }>(ENTER_SCHEDULED, {
      ws,
      journey: journeyId,
      version: entry.version,
      step: entry.step,
      trigger: entry.trigger,
      since,
      now,
      rows: JSON.stringify(rows),
    });
    entered += row?.n ?? 0;
  }
  return entered;
}

/** See JourneyStore.finishScheduledRun. */
export async function finishScheduledRun(
  sql: Sql,
  ws: string,
  journeyId: string,
  claim: string,
  nextRunAt: number | null,
): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE journeys SET next_run_at = $4, run_claimed_by = NULL, run_claim_until = NULL
     WHERE workspace_id = $1 AND id = $2 AND run_claimed_by = $3
     RETURNING 1`,
    [ws, journeyId, claim, nextRunAt],
  );
  return rows.length > 0;
}

function entryKey(ws: string, id: string): string {
  return `${ws}\u0000${id}`;
}

/** Code-unit order: any fixed total order serves for lock ordering, and this one needs no locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
