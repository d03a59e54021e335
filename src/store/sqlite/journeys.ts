/**
 * Journey writes on the SQLite writer connection (inside the caller's IMMEDIATE transaction): the
 * definition lifecycle and routing from ingestion and re-evaluation (the runner's claims and results
 * are in journey-runs.ts).
 */
import { compileIndex, stepIds, type StoredVersion } from '../../domain/journeys/compile.js';
import type { EntryRow, JourneyIndex, JourneyRouting } from '../../domain/journeys/route.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { MERGED_EXIT, entryRow, type EntryRowDb } from '../journey-rows.js';
import type { JourneyView } from '../journey-store.js';
import type { Prepare } from './statements.js';

const bump = (prep: Prepare, ws: string) =>
  prep('UPDATE workspaces SET definitions_version = definitions_version + 1 WHERE id = ?').run(ws);

export function createJourney(
  prep: Prepare,
  ws: string,
  j: { id: string; name: string; draft: unknown },
  now: number,
): JourneyView {
  if (prep('SELECT 1 FROM journeys WHERE workspace_id = ? AND name = ?').get(ws, j.name)) {
    throw new ConflictError(`a journey named "${j.name}" already exists`);
  }
  prep(
    `INSERT INTO journeys (workspace_id, id, name, status, draft, version, created_at, updated_at)
     VALUES (?, ?, ?, 'draft', ?, 0, ?, ?)`,
  ).run(ws, j.id, j.name, JSON.stringify(j.draft), now, now);
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

function current(prep: Prepare, ws: string, id: string): { status: string; version: number } {
  const row = prep('SELECT status, version FROM journeys WHERE workspace_id = ? AND id = ?').get(ws, id) as
    { status: string; version: number } | undefined;
  if (!row) throw new NotFoundError(`journey ${id} not found`);
  return row;
}

export function updateJourneyDraft(
  prep: Prepare,
  ws: string,
  id: string,
  j: { name: string; draft: unknown },
  now: number,
): void {
  const cur = current(prep, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
  const taken = prep('SELECT 1 FROM journeys WHERE workspace_id = ? AND name = ? AND id <> ?').get(
    ws,
    j.name,
    id,
  );
  if (taken) throw new ConflictError(`a journey named "${j.name}" already exists`);
  prep('UPDATE journeys SET name = ?, draft = ?, updated_at = ? WHERE workspace_id = ? AND id = ?').run(
    j.name,
    JSON.stringify(j.draft),
    now,
    ws,
    id,
  );
}

export function publishJourney(
  prep: Prepare,
  ws: string,
  id: string,
  input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
  now: number,
): { version: number; migrated: number } {
  const cur = current(prep, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
  if (input.ifVersion !== undefined && cur.version !== input.ifVersion) {
    throw new ConflictError(`journey ${id} is at version ${cur.version}, not ${input.ifVersion}`);
  }
  const version = cur.version + 1;
  prep(
    'INSERT INTO journey_versions (workspace_id, journey_id, version, definition, published_at) VALUES (?, ?, ?, ?, ?)',
  ).run(ws, id, version, JSON.stringify(input.definition), now);
  prep(
    `UPDATE journeys SET version = ?, status = CASE WHEN status = 'paused' THEN 'paused' ELSE 'published' END,
       published_at = ?, updated_at = ?, next_run_at = ?, run_claimed_by = NULL, run_claim_until = NULL
     WHERE workspace_id = ? AND id = ?`,
  ).run(version, now, now, input.nextRunAt, ws, id);
  let migrated = 0;
  if (input.migrate && version > 1) {
    const steps = new Set(stepIds(input.definition));
    const move = prep('UPDATE journey_entries SET version = ? WHERE workspace_id = ? AND id = ?');
    const rows = prep(
      `SELECT id, step FROM journey_entries WHERE workspace_id = ? AND journey_id = ? AND state = 'active' AND version < ?`,
    ).all(ws, id, version) as { id: string; step: string }[];
    for (const r of rows) {
      if (!steps.has(r.step)) continue;
      move.run(version, ws, r.id);
      migrated++;
    }
  }
  bump(prep, ws);
  return { version, migrated };
}

export function setJourneyStatus(
  prep: Prepare,
  ws: string,
  id: string,
  status: 'published' | 'paused' | 'archived',
  now: number,
): void {
  const cur = current(prep, ws, id);
  if (cur.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
  if (cur.version === 0 && status !== 'archived') {
    throw new ConflictError(`journey ${id} has never been published`);
  }
  prep('UPDATE journeys SET status = ?, updated_at = ? WHERE workspace_id = ? AND id = ?').run(
    status,
    now,
    ws,
    id,
  );
  // Pausing takes the journey's entries out of the due index (claims would scan past them) and
  // revokes claims in flight, so a step claimed just before the pause is dropped and runs on resume.
  if (status === 'paused') {
    prep(
      `UPDATE journey_entries INDEXED BY journey_entries_by_journey
       SET held_due_at = CASE WHEN claimed_by IS NULL THEN due_at ELSE ? END, due_at = NULL, claimed_by = NULL
       WHERE workspace_id = ? AND journey_id = ? AND state = 'active' AND due_at IS NOT NULL`,
    ).run(now, ws, id);
  } else if (status === 'published') {
    // An entry woken by its event while paused already has a due time (now): it keeps it.
    prep(
      `UPDATE journey_entries INDEXED BY journey_entries_by_journey
       SET due_at = coalesce(due_at, held_due_at), held_due_at = NULL
       WHERE workspace_id = ? AND journey_id = ? AND state = 'active' AND held_due_at IS NOT NULL`,
    ).run(ws, id);
  }
  if (status === 'archived') {
    const ids = prep(
      `SELECT id FROM journey_entries WHERE workspace_id = ? AND journey_id = ? AND state = 'active'`,
    )
      .pluck()
      .all(ws, id) as string[];
    writeRouting(
      prep,
      ws,
      {
        enter: [],
        wake: [],
        convert: [],
        exit: ids.map((entryId) => ({ entryId, reason: 'journey archived' })),
      },
      now,
    );
  }
  bump(prep, ws);
}

/** Compiled published journeys per workspace, recompiled when the definitions version moved. */
export class JourneyIndexCache {
  private readonly cache = new Map<string, JourneyIndex>();

  /** `version`: the definitions version the caller's transaction already read, if any (saves the read). */
  get(prep: Prepare, ws: string, version?: number): JourneyIndex {
    version ??= prep('SELECT definitions_version FROM workspaces WHERE id = ?').pluck().get(ws) as number;
    const hit = this.cache.get(ws);
    if (hit && hit.version === version) return hit;
    const rows = prep(
      `SELECT v.journey_id, v.version, v.definition, (j.status = 'published' AND v.version = j.version) AS live
       FROM journey_versions v JOIN journeys j ON j.workspace_id = v.workspace_id AND j.id = v.journey_id
       WHERE v.workspace_id = ? AND j.status <> 'archived'`,
    ).all(ws) as { journey_id: string; version: number; definition: string; live: number }[];
    const index = compileIndex(
      version,
      rows.map((r): StoredVersion => ({
        journeyId: r.journey_id,
        version: r.version,
        definition: JSON.parse(r.definition) as unknown,
        live: r.live === 1,
      })),
    );
    this.cache.set(ws, index);
    return index;
  }
}

export function loadEntries(
  prep: Prepare,
  ws: string,
  profileIds: readonly string[],
): Map<string, EntryRow[]> {
  const stmt = prep(
    'SELECT * FROM journey_entries INDEXED BY journey_entries_by_profile WHERE workspace_id = ? AND profile_id = ?',
  );
  const out = new Map<string, EntryRow[]>();
  for (const id of profileIds) out.set(id, (stmt.all(ws, id) as EntryRowDb[]).map(entryRow));
  return out;
}

export function writeRouting(prep: Prepare, ws: string, r: JourneyRouting, now: number): void {
  const log = prep(
    'INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome) VALUES (?, ?, ?, ?, ?, ?)',
  );
  if (r.enter.length > 0) {
    const ins = prep(
      `INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase,
         steps_taken, step_since, due_at, trigger, entered_at, trigger_message_id)
       VALUES (?, ?, ?, ?, ?, 'active', ?, 'enter', 0, ?, ?, ?, ?, ?)`,
    );
    for (const e of r.enter) {
      ins.run(
        ws,
        e.id,
        e.journeyId,
        e.version,
        e.profileId,
        e.step,
        now,
        now,
        e.trigger,
        e.enteredAt,
        e.triggerMessageId,
      );
      log.run(ws, e.id, now, e.step, 'entry', `entered: ${e.trigger}`);
    }
  }
  if (r.wake.length > 0) {
    // Clearing the claim makes a runner that is timing this wait out drop its result: the event won.
    const wake = prep(
      `UPDATE journey_entries SET signal = ?, due_at = ?, claimed_by = NULL
       WHERE workspace_id = ? AND id = ? AND state = 'active' AND phase = 'waiting'`,
    );
    for (const w of r.wake) wake.run(JSON.stringify(w.signal), now, ws, w.entryId);
  }
  if (r.exit.length > 0) {
    const exit = prep(
      `UPDATE journey_entries SET state = 'exited', exit_reason = ?, ended_at = ?, due_at = NULL, claimed_by = NULL
       WHERE workspace_id = ? AND id = ? AND state = 'active' RETURNING step`,
    ).pluck();
    for (const x of r.exit) {
      const step = exit.get(x.reason, now, ws, x.entryId) as string | undefined;
      if (step !== undefined) log.run(ws, x.entryId, now, step, 'exit', `exited: ${x.reason}`);
    }
  }
  if (r.convert.length > 0) {
    const conv = prep(
      'UPDATE journey_entries SET converted_at = ?, converted_value = ? WHERE workspace_id = ? AND id = ? AND converted_at IS NULL',
    );
    for (const c of r.convert) conv.run(c.at, c.value, ws, c.entryId);
  }
}

export function mergeJourneys(prep: Prepare, ws: string, from: string, into: string, now: number): void {
  // One entry per customer per journey: where both had one running, the survivor's continues.
  prep(
    `UPDATE journey_entries INDEXED BY journey_entries_by_profile
     SET state = 'exited', exit_reason = ?, ended_at = ?, due_at = NULL, claimed_by = NULL
     WHERE workspace_id = ? AND profile_id = ? AND state = 'active' AND journey_id IN (
       SELECT journey_id FROM journey_entries INDEXED BY journey_entries_by_profile
       WHERE workspace_id = ? AND profile_id = ? AND state = 'active')`,
  ).run(MERGED_EXIT, now, ws, from, ws, into);
  prep(
    'UPDATE journey_entries INDEXED BY journey_entries_by_profile SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?',
  ).run(into, ws, from);
  prep(
    'UPDATE journey_messages INDEXED BY journey_messages_by_profile SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?',
  ).run(into, ws, from);
  prep(
    'UPDATE OR IGNORE list_members INDEXED BY list_members_by_profile SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?',
  ).run(into, ws, from);
  prep(
    'DELETE FROM list_members INDEXED BY list_members_by_profile WHERE workspace_id = ? AND profile_id = ?',
  ).run(ws, from);
}

/** Due now: the journey's unclaimed active entries waiting at `step` (journey-store.ts releaseWaiting). */
export function releaseWaiting(
  prep: Prepare,
  ws: string,
  journeyId: string,
  step: string,
  now: number,
): number {
  return prep(
    `UPDATE journey_entries SET due_at = ?
     WHERE workspace_id = ? AND journey_id = ? AND state = 'active' AND step = ? AND phase = 'waiting'
       AND claimed_by IS NULL AND due_at > ?`,
  ).run(now, ws, journeyId, step, now).changes;
}
