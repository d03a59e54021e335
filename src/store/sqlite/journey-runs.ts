/**
 * The journey runner's side of SQLite, on the writer connection inside the caller's IMMEDIATE
 * transaction: claiming due entries and scheduled runs, storing results, entering a run's customers.
 */
import type { EntryLimit } from '../../domain/journeys/types.js';
import type { ClaimedEntry, EnterCustomer, EntryResult, EntrySpec, ScheduledRun } from '../journey-store.js';
import { claimedEntry, type EntryRowDb } from '../journey-rows.js';
import type { Prepare } from './statements.js';

export function claimDueEntries(
  prep: Prepare,
  claim: string,
  limit: number,
  now: number,
  leaseMs: number,
): ClaimedEntry[] {
  const rows = prep(
    `SELECT e.* FROM journey_entries e
     JOIN journeys j ON j.workspace_id = e.workspace_id AND j.id = e.journey_id
     WHERE e.due_at <= ? AND j.status = 'published'
     ORDER BY e.due_at LIMIT ?`,
  ).all(now, limit) as EntryRowDb[];
  const take = prep(
    'UPDATE journey_entries SET claimed_by = ?, due_at = ? WHERE workspace_id = ? AND id = ?',
  );
  for (const r of rows) take.run(claim, now + leaseMs, r.workspace_id, r.id);
  return rows.map((r) => claimedEntry(r, claim));
}

export function completeEntries(prep: Prepare, results: readonly EntryResult[], now: number): number {
  const save = prep(
    `UPDATE journey_entries SET state = ?, step = ?, phase = ?, steps_taken = ?, signal = ?, waiting_for = ?,
       step_since = ?, due_at = ?, claimed_by = NULL, ended_at = ?, exit_reason = ?, arm = coalesce(arm, ?)
     WHERE workspace_id = ? AND id = ? AND claimed_by = ? AND state = 'active'`,
  );
  const effects = effectsOf(prep, now);
  let applied = 0;
  for (const r of results) {
    const p = r.position;
    const ended = r.state !== 'active';
    const changed = save.run(
      r.state,
      p.step,
      p.phase,
      p.stepsTaken,
      p.signal === null ? null : JSON.stringify(p.signal),
      r.waitingFor,
      now,
      r.dueAt,
      ended ? now : null,
      r.exitReason,
      r.arm ?? null,
      r.workspaceId,
      r.entryId,
      r.claim,
    ).changes;
    if (changed === 0) continue;
    applied++;
    effects(r);
  }
  return applied;
}

/** Stores an applied result's step history, messages (first of a key wins) and list changes. */
function effectsOf(prep: Prepare, now: number): (r: EntryResult) => void {
  const log = prep(
    'INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const msg = prep(
    `INSERT OR IGNORE INTO journey_messages (workspace_id, key, journey_id, entry_id, profile_id, step, channel,
       template, payload, created_at, status, next_attempt_at, reason, updated_at, topic)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const listAdd = prep(
    'INSERT OR IGNORE INTO list_members (workspace_id, list, profile_id, added_at) VALUES (?, ?, ?, ?)',
  );
  const listDel = prep('DELETE FROM list_members WHERE workspace_id = ? AND list = ? AND profile_id = ?');
  return (r) => {
    for (const l of r.log) log.run(r.workspaceId, r.entryId, l.at, l.step, l.type, l.outcome);
    for (const m of r.messages) {
      msg.run(
        r.workspaceId,
        m.key,
        r.journeyId,
        r.entryId,
        r.profileId,
        m.step,
        m.channel,
        m.template,
        JSON.stringify(m.payload ?? {}),
        now,
        m.status,
        m.status === 'queued' ? m.nextAttemptAt : null,
        m.reason,
        now,
        m.topic,
      );
    }
    for (const a of r.actions) {
      if (a.kind === 'list') {
        if (a.op === 'add') listAdd.run(r.workspaceId, a.list, r.profileId, now);
        else listDel.run(r.workspaceId, a.list, r.profileId);
      }
    }
  };
}

export function claimDueSchedules(
  prep: Prepare,
  claim: string,
  now: number,
  leaseMs: number,
): ScheduledRun[] {
  const rows = prep(
    `SELECT workspace_id, id, version, next_run_at FROM journeys INDEXED BY journeys_next_run
     WHERE next_run_at <= ? AND status = 'published' AND (run_claim_until IS NULL OR run_claim_until <= ?)
     ORDER BY next_run_at LIMIT 10`,
  ).all(now, now) as { workspace_id: string; id: string; version: number; next_run_at: number }[];
  const take = prep(
    'UPDATE journeys SET run_claimed_by = ?, run_claim_until = ? WHERE workspace_id = ? AND id = ?',
  );
  for (const r of rows) take.run(claim, now + leaseMs, r.workspace_id, r.id);
  return rows.map((r) => ({
    workspaceId: r.workspace_id,
    journeyId: r.id,
    version: r.version,
    runAt: r.next_run_at,
    claim,
  }));
}

/**
 * Whether the entry limit keeps a customer out of the journey: an active entry in it, or (per the
 * limit) one entered since `now` minus its days (`once`: ever).
 */
function keptOutBy(prep: Prepare, ws: string, journeyId: string, limit: EntryLimit, now: number) {
  const since = sinceOf(limit, now);
  const blocked = prep(
    `SELECT 1 FROM journey_entries INDEXED BY journey_entries_by_profile
     WHERE workspace_id = ? AND profile_id = ? AND journey_id = ? AND (state = 'active' OR entered_at > ?) LIMIT 1`,
  );
  return (profileId: string): boolean => blocked.get(ws, profileId, journeyId, since) !== undefined;
}

/** Entries entered after this keep a customer out (MAX: only an active entry does). */
function sinceOf(limit: EntryLimit, now: number): number {
  return limit.kind === 'once'
    ? Number.MIN_SAFE_INTEGER
    : limit.kind === 'once_per_days'
      ? now - limit.days * 86_400_000
      : Number.MAX_SAFE_INTEGER;
}

export function enterJourney(
  prep: Prepare,
  ws: string,
  journeyId: string,
  entry: EntrySpec,
  customers: readonly EnterCustomer[],
  now: number,
): number | null {
  // Paused or archived since the run was claimed: nobody enters, and the caller leaves the run due.
  const status = prep('SELECT status FROM journeys WHERE workspace_id = ? AND id = ?')
    .pluck()
    .get(ws, journeyId);
  if (status !== 'published') return null;
  const keptOut = keptOutBy(prep, ws, journeyId, entry.limit, now);
  const ins = prep(
    `INSERT OR IGNORE INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase,
       steps_taken, step_since, due_at, trigger, entered_at)
     VALUES (?, ?, ?, ?, ?, 'active', ?, 'enter', 0, ?, ?, ?, ?)`,
  );
  const log = prep(
    'INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let entered = 0;
  for (const c of customers) {
    if (keptOut(c.profileId)) continue;
    if (
      ins.run(ws, c.id, journeyId, entry.version, c.profileId, entry.step, now, c.dueAt, entry.trigger, now)
        .changes === 0
    )
      continue;
    log.run(ws, c.id, now, entry.step, 'entry', `entered: ${entry.trigger}`);
    entered++;
  }
  return entered;
}

/**
 * See JourneyStore.enterableCustomers; on the reader connection. Two statements for the whole page (a
 * statement per customer cost the runner's thread as much as a tenth of its rendering).
 */
export function enterableCustomers(
  prep: Prepare,
  ws: string,
  journeyId: string,
  limit: EntryLimit,
  customers: readonly EnterCustomer[],
  now: number,
): EnterCustomer[] {
  if (customers.length === 0) return [];
  const keptOut = new Set(
    prep(
      `SELECT profile_id FROM journey_entries INDEXED BY journey_entries_by_profile
       WHERE workspace_id = ? AND profile_id IN (SELECT value FROM json_each(?)) AND journey_id = ?
         AND (state = 'active' OR entered_at > ?)`,
    )
      .pluck()
      .all(ws, JSON.stringify(customers.map((c) => c.profileId)), journeyId, sinceOf(limit, now)) as string[],
  );
  const stored = new Set(
    prep('SELECT id FROM journey_entries WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(ws, JSON.stringify(customers.map((c) => c.id))) as string[],
  );
  return customers.filter((c) => !keptOut.has(c.profileId) && !stored.has(c.id));
}

/** See JourneyStore.enterAndRun; inside the caller's IMMEDIATE transaction. */
export function enterAndRun(
  prep: Prepare,
  run: ScheduledRun,
  entry: EntrySpec,
  results: readonly EntryResult[],
  now: number,
  leaseMs: number,
): number | null {
  const held = prep(
    `UPDATE journeys SET run_claim_until = ?
     WHERE workspace_id = ? AND id = ? AND run_claimed_by = ? AND status = 'published'`,
  ).run(now + leaseMs, run.workspaceId, run.journeyId, run.claim).changes;
  if (held === 0) return null;
  const ws = run.workspaceId;
  const keptOut = keptOutBy(prep, ws, run.journeyId, entry.limit, now);
  const ins = prep(
    `INSERT OR IGNORE INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase,
       steps_taken, signal, waiting_for, step_since, due_at, trigger, entered_at, ended_at, exit_reason, arm)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const log = prep(
    'INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const effects = effectsOf(prep, now);
  let entered = 0;
  for (const r of results) {
    if (r.workspaceId !== ws || r.journeyId !== run.journeyId || keptOut(r.profileId)) continue;
    const p = r.position;
    const added = ins.run(
      ws,
      r.entryId,
      run.journeyId,
      entry.version,
      r.profileId,
      r.state,
      p.step,
      p.phase,
      p.stepsTaken,
      p.signal === null ? null : JSON.stringify(p.signal),
      r.waitingFor,
      now,
      r.dueAt,
      entry.trigger,
      now,
      r.state === 'active' ? null : now,
      r.exitReason,
      r.arm ?? null,
    ).changes;
    if (added === 0) continue;
    log.run(ws, r.entryId, now, entry.step, 'entry', `entered: ${entry.trigger}`);
    effects(r);
    entered++;
  }
  return entered;
}

export function finishScheduledRun(
  prep: Prepare,
  ws: string,
  journeyId: string,
  claim: string,
  nextRunAt: number | null,
): boolean {
  return (
    prep(
      `UPDATE journeys SET next_run_at = ?, run_claimed_by = NULL, run_claim_until = NULL
       WHERE workspace_id = ? AND id = ? AND run_claimed_by = ?`,
    ).run(nextRunAt, ws, journeyId, claim).changes > 0
  );
}
