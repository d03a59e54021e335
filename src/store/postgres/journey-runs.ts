/**
 * The journey runner's side of PostgreSQL: claiming due entries and scheduled runs, storing results,
 * entering a run's customers. The concurrency rules are described in journeys.ts.
 */
import type { EntryLimit } from '../../domain/journeys/types.js';
import type { ClaimedEntry, EnterCustomer, EntryResult, EntrySpec, ScheduledRun } from '../journey-store.js';
import { claimedEntry, type EntryRowDb } from '../journey-rows.js';
import { lockDefinitionsShared } from './engagement.js';
import { cmp } from './journeys.js';
import { named, type Sql } from './pg-driver.js';

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
             signal json, waiting_for text, due_at bigint, exit_reason text, arm text)),
   saved AS (
     UPDATE journey_entries e SET state = r.state, step = r.step, phase = r.phase, steps_taken = r.steps_taken,
       signal = r.signal, waiting_for = r.waiting_for, step_since = :now::bigint, due_at = r.due_at, claimed_by = NULL,
       ended_at = CASE WHEN r.state <> 'active' THEN :now::bigint END, exit_reason = r.exit_reason,
       arm = coalesce(e.arm, r.arm)
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
       created_at, status, next_attempt_at, reason, updated_at, topic)
     SELECT m.workspace_id, m.key, m.journey_id, m.entry_id, m.profile_id, m.step, m.channel, m.template, m.payload,
       :now::bigint, m.status, m.next_attempt_at, m.reason, :now::bigint, m.topic
     FROM json_to_recordset(:messages::json)
       AS m (n integer, workspace_id text, key text, journey_id text, entry_id text, profile_id text, step text,
             channel text, template text, payload json, status text, next_attempt_at bigint, reason text,
             topic text)
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

/** A result's state and position, as COMPLETE and ENTER_AND_RUN read them from their JSON. */
function stateFields(r: EntryResult): Record<string, unknown> {
  return {
    state: r.state,
    step: r.position.step,
    phase: r.position.phase,
    steps_taken: r.position.stepsTaken,
    signal: r.position.signal,
    waiting_for: r.waitingFor,
    due_at: r.dueAt,
    exit_reason: r.exitReason,
    arm: r.arm ?? null,
  };
}

/** One of a result's messages, as COMPLETE and ENTER_AND_RUN read them from their JSON. */
function messageFields(r: EntryResult, m: EntryResult['messages'][number]): Record<string, unknown> {
  return {
    key: m.key,
    entry_id: r.entryId,
    profile_id: r.profileId,
    step: m.step,
    channel: m.channel,
    template: m.template,
    payload: m.payload ?? {},
    status: m.status,
    next_attempt_at: m.status === 'queued' ? m.nextAttemptAt : null,
    reason: m.reason,
    topic: m.topic,
  };
}

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
    for (const m of r.messages) {
      messages.push({
        n: messages.length,
        workspace_id: r.workspaceId,
        journey_id: r.journeyId,
        ...messageFields(r, m),
      });
    }
  }
  const saved = await sql.once<{ workspace_id: string; id: string }>(COMPLETE, {
    now,
    results: JSON.stringify(
      sorted.map((r) => ({
        workspace_id: r.workspaceId,
        entry_id: r.entryId,
        claim: r.claim,
        ...stateFields(r),
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
  const since = sinceOf(entry.limit, now);
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

/** The customers not kept out (see ENTER_SCHEDULED) and whose entry id is not stored, in order. */
const ENTERABLE = named(
  'kizuna_journey_enterable',
  `SELECT c.n FROM json_to_recordset(:rows::json) AS c (n integer, id text, profile_id text)
   WHERE NOT EXISTS (SELECT 1 FROM journey_entries e WHERE e.workspace_id = :ws::text AND e.id = c.id)
     AND NOT EXISTS (
       SELECT 1 FROM journey_entries e
       WHERE e.workspace_id = :ws::text AND e.profile_id = c.profile_id AND e.journey_id = :journey::text
         AND (e.state = 'active' OR e.entered_at > :since::bigint))
   ORDER BY c.n`,
);

/** See JourneyStore.enterableCustomers; one read. */
export async function enterableCustomers(
  sql: Sql,
  ws: string,
  journeyId: string,
  limit: EntryLimit,
  customers: readonly EnterCustomer[],
  now: number,
): Promise<EnterCustomer[]> {
  if (customers.length === 0) return [];
  const rows = await sql.once<{ n: number }>(ENTERABLE, {
    ws,
    journey: journeyId,
    since: sinceOf(limit, now) ?? Number.MAX_SAFE_INTEGER,
    rows: JSON.stringify(customers.map((c, n) => ({ n, id: c.id, profile_id: c.profileId }))),
  });
  return rows.map((r) => customers[r.n]!);
}

/**
 * A run's customers entered already in their state after their first advance (see ENTER_SCHEDULED for
 * who is kept out), then, for exactly those entered, their history (the `entry` row first) and their
 * sends (first of a key wins). Returns the entries made.
 */
const ENTER_AND_RUN = named(
  'kizuna_journey_enter_and_run',
  `WITH r AS (
     SELECT * FROM json_to_recordset(:results::json)
       AS r (n integer, id text, profile_id text, state text, step text, phase text, steps_taken integer,
             signal json, waiting_for text, due_at bigint, exit_reason text, arm text)),
   entered AS (
     INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase, steps_taken,
       signal, waiting_for, step_since, due_at, trigger, entered_at, ended_at, exit_reason, arm)
     SELECT :ws::text, r.id, :journey::text, :version::integer, r.profile_id, r.state, r.step, r.phase, r.steps_taken,
       r.signal, r.waiting_for, :now::bigint, r.due_at, :trigger::text, :now::bigint,
       CASE WHEN r.state <> 'active' THEN :now::bigint END, r.exit_reason, r.arm
     FROM r
     WHERE NOT EXISTS (
       SELECT 1 FROM journey_entries e
       WHERE e.workspace_id = :ws::text AND e.profile_id = r.profile_id AND e.journey_id = :journey::text
         AND (e.state = 'active' OR e.entered_at > :since::bigint))
     ORDER BY r.n
     ON CONFLICT (workspace_id, id) DO NOTHING
     RETURNING id),
   logged AS (
     INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome)
     SELECT :ws::text, l.entry_id, l.at, l.step, l.type, l.outcome
     FROM json_to_recordset(:logs::json)
       AS l (n integer, entry_id text, at bigint, step text, type text, outcome text)
     WHERE l.entry_id IN (SELECT id FROM entered)
     ORDER BY l.n),
   sent AS (
     INSERT INTO journey_messages (workspace_id, key, journey_id, entry_id, profile_id, step, channel, template, payload,
       created_at, status, next_attempt_at, reason, updated_at, topic)
     SELECT :ws::text, m.key, :journey::text, m.entry_id, m.profile_id, m.step, m.channel, m.template, m.payload,
       :now::bigint, m.status, m.next_attempt_at, m.reason, :now::bigint, m.topic
     FROM json_to_recordset(:messages::json)
       AS m (n integer, key text, entry_id text, profile_id text, step text, channel text, template text,
             payload json, status text, next_attempt_at bigint, reason text, topic text)
     WHERE m.entry_id IN (SELECT id FROM entered)
     ORDER BY m.n
     ON CONFLICT (workspace_id, key) DO NOTHING)
   SELECT id FROM entered`,
);

const HOLD_RUN = `UPDATE journeys SET run_claim_until = $4
   WHERE workspace_id = $1 AND id = $2 AND run_claimed_by = $3 AND status = 'published' RETURNING 1`;

/** See JourneyStore.enterAndRun; runs in the caller's transaction. */
export async function enterAndRun(
  sql: Sql,
  run: ScheduledRun,
  entry: EntrySpec,
  results: readonly EntryResult[],
  now: number,
  leaseMs: number,
): Promise<number | null> {
  const ws = run.workspaceId;
  // Shared, as routing holds it: publishing and status changes wait for this transaction.
  await lockDefinitionsShared(sql, ws);
  const held = await sql.query(HOLD_RUN, [ws, run.journeyId, run.claim, now + leaseMs]);
  if (held.length === 0) return null;
  const mine = results.filter((r) => r.workspaceId === ws && r.journeyId === run.journeyId);
  if (mine.length === 0) return 0;
  const profileIds = [...new Set(mine.map((r) => r.profileId))].sort(cmp);
  await sql.once(LOCK_PROFILES, { ws, ids: profileIds });
  const since = sinceOf(entry.limit, now);
  // As in enterJourney: a profile named twice is entered in rounds, in the given order.
  const rounds: EntryResult[][] = [];
  const seen = new Map<string, number>();
  for (const r of mine) {
    const round = seen.get(r.profileId) ?? 0;
    seen.set(r.profileId, round + 1);
    (rounds[round] ??= []).push(r);
  }
  let entered = 0;
  for (const rows of rounds) {
    const logs: Record<string, unknown>[] = [];
    const messages: Record<string, unknown>[] = [];
    for (const r of rows) {
      logs.push({
        n: logs.length,
        entry_id: r.entryId,
        at: now,
        step: entry.step,
        type: 'entry',
        outcome: `entered: ${entry.trigger}`,
      });
      for (const l of r.log) logs.push({ n: logs.length, entry_id: r.entryId, ...l });
      for (const m of r.messages) messages.push({ n: messages.length, ...messageFields(r, m) });
    }
    const made = await sql.once<{ id: string }>(ENTER_AND_RUN, {
      ws,
      journey: run.journeyId,
      version: entry.version,
      trigger: entry.trigger,
      since: since ?? Number.MAX_SAFE_INTEGER,
      now,
      results: JSON.stringify(
        rows.map((r, n) => ({
          n,
          id: r.entryId,
          profile_id: r.profileId,
          ...stateFields(r),
        })),
      ),
      logs: JSON.stringify(logs),
      messages: JSON.stringify(messages),
    });
    const ids = new Set(made.map((m) => m.id));
    await applyListChanges(
      sql,
      rows.filter((r) => ids.has(r.entryId)),
      now,
    );
    entered += ids.size;
  }
  return entered;
}

/**
 * The entry limit's bound on earlier entries: null when only an active entry keeps a customer out.
 * Entry times are whole milliseconds, so flooring keeps `entered_at > since` as it is for a fractional
 * bound.
 */
function sinceOf(limit: EntryLimit, now: number): number | null {
  return limit.kind === 'once'
    ? Number.MIN_SAFE_INTEGER
    : limit.kind === 'once_per_days'
      ? Math.floor(now - limit.days * 86_400_000)
      : null;
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
