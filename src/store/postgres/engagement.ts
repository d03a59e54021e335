import type { EngagementChange, EngagementEvent } from '../../domain/engagement/apply.js';
import type { LtvModel } from '../../domain/ltv/model.js';
import {
  compileDefinitions,
  type Definitions,
  type DefinitionsRecord,
  type SegmentRecord,
} from '../../domain/engagement/definitions.js';
import { DEFAULT_STAGE_MODEL, type StageModelSource } from '../../domain/engagement/stages.js';
import { DEFAULT_RFM, type RfmSettings } from '../../domain/facts/computed.js';
import type { ProfileState } from '../../domain/resolution.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { DefinitionChange } from '../store.js';
import type { Sql } from './pg-driver.js';
import type { ProfileRow } from '../rows.js';
import { LOAD_SEGMENTS } from './ingest-statements.js';

/**
 * Engagement definitions and their writes on PostgreSQL, where several processes may change them.
 *
 * Every transaction whose outcome depends on the definitions (ingest, re-evaluation, size recording)
 * holds the workspace's advisory lock in shared mode — ingest takes it anyway, with its key locks —
 * and every transaction that changes them (and bumps `definitions_version`) holds it exclusively. So
 * a definition change waits for the writers in flight and the writers after it wait for its COMMIT:
 * no writer stores an evaluation made with definitions older than what committed before it, and a
 * deleted segment cannot get members back from a writer that still knew it.
 */
const LOCK_EXCLUSIVE = 'SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))';
const LOCK_SHARED = 'SELECT pg_advisory_xact_lock_shared(hashtextextended($1::text, 0))';

export async function lockDefinitionsShared(sql: Sql, ws: string): Promise<void> {
  await sql.query(LOCK_SHARED, [ws]);
}

/** For changes made outside `applyDefinitionChange` that routing depends on (journeys.ts). */
export async function lockDefinitionsExclusive(sql: Sql, ws: string): Promise<void> {
  await sql.query(LOCK_EXCLUSIVE, [ws]);
}

/** A workspace's stored definitions, in one statement (on whichever connection `sql` is). */
export async function loadDefinitionsRecord(sql: Sql, ws: string): Promise<DefinitionsRecord> {
  const [w] = await sql.query<{
    definitions_version: number;
    stage_model: StageModelSource | null;
    rfm: RfmSettings | null;
    ltv_model: LtvModel | null;
    segments: SegmentRecord[];
    computed: { name: string; spec: unknown }[];
    profiling_required: boolean | null;
  }>(
    `SELECT w.definitions_version, w.stage_model, w.rfm, w.ltv_model,
       coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name, 'version', s.version, 'rule', s.rule,
                                                   'status', s.status, 'requiresProfiling', s.requires_profiling)
                          ORDER BY s.id)
                 FROM segments s WHERE s.workspace_id = w.id), '[]') AS segments,
       coalesce((SELECT json_agg(json_build_object('name', c.name, 'spec', c.spec) ORDER BY c.name)
                 FROM computed_traits c WHERE c.workspace_id = w.id), '[]') AS computed,
       (SELECT (p.settings->>'profiling_required')::boolean FROM privacy_settings p
        WHERE p.workspace_id = w.id) AS profiling_required
     FROM workspaces w WHERE w.id = $1`,
    [ws],
  );
  if (!w) throw new NotFoundError(`workspace ${ws} not found`);
  return {
    version: w.definitions_version,
    stageModel: w.stage_model ?? DEFAULT_STAGE_MODEL,
    rfm: w.rfm ?? DEFAULT_RFM,
    ltv: w.ltv_model,
    profilingRequired: w.profiling_required === true,
    segments: w.segments,
    computed: w.computed,
  };
}

/**
 * Compiled definitions per workspace, shared by the transactions of one store. The caller passes the
 * version its transaction read (or none, and one indexed read asks); a stale copy is recompiled from
 * what this transaction sees. The version check runs in every transaction: other processes change
 * definitions too.
 */
export class DefinitionsCache {
  private readonly compiled = new Map<string, Definitions>();

  async get(sql: Sql, ws: string, version?: number | null): Promise<Definitions> {
    let current = version;
    if (current === undefined) {
      const [row] = await sql.query<{ definitions_version: number }>(
        'SELECT definitions_version FROM workspaces WHERE id = $1',
        [ws],
      );
      current = row?.definitions_version ?? null;
    }
    const hit = this.compiled.get(ws);
    if (hit && hit.version === current) return hit;
    const defs = compileDefinitions(await loadDefinitionsRecord(sql, ws));
    // Concurrent transactions may compile different versions; keep the newest.
    const cached = this.compiled.get(ws);
    if (!cached || cached.version <= defs.version) this.compiled.set(ws, defs);
    return defs;
  }
}

/**
 * What a set of engagement changes writes besides the profiles, as JSON arrays: segment entries and
 * engagement events (inserted by ENGAGEMENT_CTES), exits (deleted by EXITS; null when there are none,
 * so the caller skips that statement).
 */
export function engagementRows(
  changes: readonly EngagementChange[],
  events: readonly EngagementEvent[],
): { entered: string; exits: string | null; engagement_events: string } {
  const entered: { segment_id: string; profile_id: string }[] = [];
  const exits: { segment_id: string; profile_id: string }[] = [];
  for (const c of changes) {
    for (const id of c.entered) entered.push({ segment_id: id, profile_id: c.profileId });
    for (const id of c.exited) exits.push({ segment_id: id, profile_id: c.profileId });
  }
  return {
    entered: JSON.stringify(entered),
    exits: exits.length > 0 ? JSON.stringify(exits) : null,
    engagement_events: JSON.stringify(
      events.map((e) => ({
        profile_id: e.profileId,
        at: e.at,
        type: e.type,
        subject: e.subject,
        properties: e.properties,
      })),
    ),
  };
}

/** A profile's engagement columns as a JSON row for `json_to_recordset` (see ingest-statements.ts). */
export function engagementFields(p: ProfileState): Record<string, unknown> {
  return {
    facts: p.facts,
    stage: p.engagement.stage,
    previous_stage: p.engagement.previousStage,
    stage_since: p.engagement.stageSince,
  };
}

/**
 * Fills in the segments of profile rows read under their locks (LOAD_SEGMENTS: in a statement after
 * the locking one), so the memberships are those committed before this transaction held the profiles.
 */
export async function withSegments<R extends ProfileRow>(sql: Sql, ws: string, rows: R[]): Promise<R[]> {
  if (rows.length === 0) return rows;
  const found = await sql.once<{ profile_id: string; segment_id: string }>(LOAD_SEGMENTS, {
    ws,
    ids: [...new Set(rows.map((r) => r.id))],
  });
  const of = new Map<string, string[]>();
  for (const m of found) {
    const list = of.get(m.profile_id);
    if (list) list.push(m.segment_id);
    else of.set(m.profile_id, [m.segment_id]);
  }
  return rows.map((r) => ({ ...r, segments: of.get(r.id) ?? [] }));
}

/**
 * One definition change inside the caller's transaction: takes the workspace's lock exclusively (so
 * the name check cannot race another change), applies the change and bumps the definitions version.
 * ConflictError when a segment name is taken.
 */
export async function applyDefinitionChange(
  sql: Sql,
  ws: string,
  change: DefinitionChange,
  now: number,
): Promise<void> {
  await sql.query(LOCK_EXCLUSIVE, [ws]);
  switch (change.kind) {
    case 'put_segment': {
      const s = change.segment;
      const clash = await sql.query(
        'SELECT id FROM segments WHERE workspace_id = $1 AND name = $2 AND id <> $3',
        [ws, s.name, s.id],
      );
      if (clash.length > 0) throw new ConflictError(`a segment named "${s.name}" already exists`);
      // A ready segment whose rule changes keeps serving its current members until the rebuild is done.
      const [prev] = await sql.query<{ status: string }>(
        'SELECT status FROM segments WHERE workspace_id = $1 AND id = $2',
        [ws, s.id],
      );
      if (prev?.status === 'ready') {
        await sql.query('DELETE FROM segment_snapshots WHERE workspace_id = $1 AND segment_id = $2', [
          ws,
          s.id,
        ]);
        await sql.query(
          `INSERT INTO segment_snapshots (workspace_id, segment_id, profile_id)
           SELECT workspace_id, segment_id, profile_id FROM segment_members WHERE workspace_id = $1 AND segment_id = $2`,
          [ws, s.id],
        );
        await sql.query('UPDATE segments SET snapshot = true WHERE workspace_id = $1 AND id = $2', [
          ws,
          s.id,
        ]);
      }
      await sql.query(
        `INSERT INTO segments AS s (workspace_id, id, name, description, rule, version, status, requires_profiling,
           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $8, $7, $7)
         ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, description = excluded.description,
           rule = excluded.rule, version = s.version + 1, status = excluded.status, build_done = 0, build_total = 0,
           requires_profiling = excluded.requires_profiling, updated_at = excluded.updated_at`,
        [
          ws,
          s.id,
          s.name,
          s.description,
          JSON.stringify(s.rule),
          s.status,
          now,
          s.requiresProfiling === true,
        ],
      );
      break;
    }
    case 'delete_segment':
      await sql.query('DELETE FROM segments WHERE workspace_id = $1 AND id = $2', [ws, change.id]);
      await sql.query('DELETE FROM segment_members WHERE workspace_id = $1 AND segment_id = $2', [
        ws,
        change.id,
      ]);
      await sql.query('DELETE FROM segment_sizes WHERE workspace_id = $1 AND segment_id = $2', [
        ws,
        change.id,
      ]);
      await sql.query('DELETE FROM segment_snapshots WHERE workspace_id = $1 AND segment_id = $2', [
        ws,
        change.id,
      ]);
      break;
    case 'put_computed_trait':
      await sql.query(
        `INSERT INTO computed_traits (workspace_id, name, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (workspace_id, name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
        [ws, change.name, JSON.stringify(change.spec), now],
      );
      break;
    case 'delete_computed_trait':
      await sql.query('DELETE FROM computed_traits WHERE workspace_id = $1 AND name = $2', [ws, change.name]);
      break;
    case 'set_stage_model':
      await sql.query('UPDATE workspaces SET stage_model = $2 WHERE id = $1', [
        ws,
        change.model === null ? null : JSON.stringify(change.model),
      ]);
      break;
    case 'set_rfm':
      await sql.query('UPDATE workspaces SET rfm = $2 WHERE id = $1', [
        ws,
        change.rfm === null ? null : JSON.stringify(change.rfm),
      ]);
      break;
    case 'set_ltv_model':
      await sql.query('UPDATE workspaces SET ltv_model = $2 WHERE id = $1', [
        ws,
        change.model === null ? null : JSON.stringify(change.model),
      ]);
      break;
  }
  await bumpVersion(sql, ws);
}

/** Marks every compiled copy stale; the caller holds the workspace's lock exclusively. */
export async function bumpVersion(sql: Sql, ws: string): Promise<void> {
  const bumped = await sql.query(
    'UPDATE workspaces SET definitions_version = definitions_version + 1 WHERE id = $1 RETURNING 1',
    [ws],
  );
  if (bumped.length === 0) throw new NotFoundError(`workspace ${ws} not found`);
}

/**
 * Records a segment's build progress. Turning `ready` changes the definitions (a building segment
 * emits no events), so it takes the workspace's lock exclusively and bumps the version; progress
 * while building is one row update.
 */
export async function setSegmentBuild(
  sql: Sql,
  ws: string,
  segmentId: string,
  build: { status: 'building' | 'ready'; done: number; total: number },
  now: number,
): Promise<void> {
  const ready = build.status === 'ready';
  if (ready) await sql.query(LOCK_EXCLUSIVE, [ws]);
  const [prev] = await sql.query<{ status: string }>(
    'SELECT status FROM segments WHERE workspace_id = $1 AND id = $2 FOR NO KEY UPDATE',
    [ws, segmentId],
  );
  if (!prev) return;
  await sql.query(
    `UPDATE segments SET status = $3, build_done = $4, build_total = $5,
       built_at = CASE WHEN $3 = 'ready' THEN $6::bigint ELSE built_at END
     WHERE workspace_id = $1 AND id = $2`,
    [ws, segmentId, build.status, build.done, build.total, now],
  );
  if (ready) {
    // The rebuilt membership now serves; the snapshot readers saw meanwhile goes.
    await sql.query('DELETE FROM segment_snapshots WHERE workspace_id = $1 AND segment_id = $2', [
      ws,
      segmentId,
    ]);
    await sql.query('UPDATE segments SET snapshot = false WHERE workspace_id = $1 AND id = $2', [
      ws,
      segmentId,
    ]);
    await recordSizes(sql, ws, now, segmentId);
    if (prev.status !== 'ready') await bumpVersion(sql, ws);
  }
}

/** A size-history point for every segment of the workspace, or for one; a second point at `now` replaces the first. */
export async function recordSizes(sql: Sql, ws: string, now: number, segmentId?: string): Promise<void> {
  await sql.query(
    `INSERT INTO segment_sizes (workspace_id, segment_id, at, size)
     SELECT s.workspace_id, s.id, $2::bigint, CASE WHEN s.snapshot
       THEN (SELECT count(*) FROM segment_snapshots m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id)
       ELSE (SELECT count(*) FROM segment_members m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id) END
     FROM segments s WHERE s.workspace_id = $1 AND ($3::text IS NULL OR s.id = $3::text)
     ORDER BY s.id
     ON CONFLICT (workspace_id, segment_id, at) DO UPDATE SET size = excluded.size`,
    [ws, now, segmentId ?? null],
  );
}
