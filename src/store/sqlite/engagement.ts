import type { ProfileState } from '../../domain/resolution.js';
import type { LtvModel } from '../../domain/ltv/model.js';
import type { EngagementChange, EngagementEvent } from '../../domain/engagement/apply.js';
import {
  compileDefinitions,
  type Definitions,
  type DefinitionsRecord,
  type SegmentRecord,
} from '../../domain/engagement/definitions.js';
import { DEFAULT_STAGE_MODEL, type StageModelSource } from '../../domain/engagement/stages.js';
import { DEFAULT_RFM, type RfmSettings } from '../../domain/facts/computed.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { FactSourceEvent, ReevaluateTx, ReevaluationPlan } from '../reevaluate-unit.js';
import { json, lazyProfileState, type ProfileRow } from '../rows.js';
import type { DefinitionChange } from '../store.js';
import type { Prepare } from './statements.js';
import {
  PROFILE_ROW,
  SEGMENT_SIZE,
  projectedColumns,
  projectedState,
  type ProjectedRow,
} from './engagement-reads.js';
import type { FactsProjection } from '../../domain/engagement/needs.js';
import type { ConsentEntry } from '../../domain/consent.js';
import { recordConsents } from './rights.js';
import { purgeBeforeReuse } from './segment-purge.js';
import type { EntryRow, JourneyIndex } from '../../domain/journeys/route.js';
import { loadEntries, writeRouting, type JourneyIndexCache } from './journeys.js';

/** Reads a workspace's stored definitions (on whichever connection `prep` belongs to). */
export function loadDefinitionsRecord(prep: Prepare, ws: string): DefinitionsRecord {
  const w = prep('SELECT definitions_version, stage_model, rfm, ltv_model FROM workspaces WHERE id = ?').get(
    ws,
  ) as
    | {
        definitions_version: number;
        stage_model: string | null;
        rfm: string | null;
        ltv_model: string | null;
      }
    | undefined;
  if (!w) throw new NotFoundError(`workspace ${ws} not found`);
  const segments = (
    prep(
      'SELECT id, name, version, rule, status, requires_profiling FROM segments WHERE workspace_id = ? ORDER BY id',
    ).all(ws) as {
      id: string;
      name: string;
      version: number;
      rule: string;
      status: 'building' | 'ready';
      requires_profiling: number;
    }[]
  ).map((r): SegmentRecord => ({
    id: r.id,
    name: r.name,
    version: r.version,
    rule: json(r.rule),
    status: r.status,
    requiresProfiling: r.requires_profiling === 1,
  }));
  // The privacy settings' profiling rule decides profiling segments' membership: part of the definitions.
  const profilingRequired = prep(
    "SELECT json_extract(settings, '$.profiling_required') FROM privacy_settings WHERE workspace_id = ?",
  )
    .pluck()
    .get(ws);
  const computed = (
    prep('SELECT name, spec FROM computed_traits WHERE workspace_id = ? ORDER BY name').all(ws) as {
      name: string;
      spec: string;
    }[]
  ).map((r) => ({ name: r.name, spec: json<unknown>(r.spec) }));
  return {
    version: w.definitions_version,
    stageModel: w.stage_model === null ? DEFAULT_STAGE_MODEL : json<StageModelSource>(w.stage_model),
    rfm: w.rfm === null ? DEFAULT_RFM : json<RfmSettings>(w.rfm),
    ltv: w.ltv_model === null ? null : json<LtvModel>(w.ltv_model),
    profilingRequired: profilingRequired === 1,
    segments,
    computed,
  };
}

/** Compiled definitions per workspace, recompiled when the stored version moved (one indexed read per transaction). */
export class DefinitionsCache {
  private readonly cache = new Map<string, Definitions>();

  get(prep: Prepare, ws: string): Definitions {
    const version = prep('SELECT definitions_version FROM workspaces WHERE id = ?').pluck().get(ws) as
      number | undefined;
    const hit = this.cache.get(ws);
    if (hit && hit.version === version) return hit;
    const defs = compileDefinitions(loadDefinitionsRecord(prep, ws));
    this.cache.set(ws, defs);
    return defs;
  }
}

/**
 * Stores segment membership changes and appends the engagement events (the profiles' own columns are
 * written by the caller).
 */
export function writeEngagementChanges(
  prep: Prepare,
  ws: string,
  changes: readonly EngagementChange[],
  events: readonly EngagementEvent[],
  now: number,
): void {
  const enter = prep(
    'INSERT OR IGNORE INTO segment_members (workspace_id, segment_id, profile_id, entered_at) VALUES (?, ?, ?, ?)',
  );
  const exit = prep(
    'DELETE FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND profile_id = ?',
  );
  for (const c of changes) {
    for (const id of c.entered) enter.run(ws, id, c.profileId, now);
    for (const id of c.exited) exit.run(ws, id, c.profileId);
  }
  const append = prep(
    'INSERT INTO engagement_events (workspace_id, profile_id, at, type, subject, properties) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const e of events) append.run(ws, e.profileId, e.at, e.type, e.subject, JSON.stringify(e.properties));
}

/** Moves what belongs to a merged-away profile's engagement: its event history follows, its memberships go. */
export function mergeEngagement(prep: Prepare, ws: string, from: string, into: string): void {
  prep('UPDATE engagement_events SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?').run(
    into,
    ws,
    from,
  );
  prep(
    `DELETE FROM segment_members WHERE workspace_id = ? AND profile_id = ? AND segment_id IN (
       SELECT s.id FROM profiles p JOIN profile_segments ps ON ps.profile_rowid = p.rowid
       JOIN segments s ON s.num = ps.segment_num WHERE p.workspace_id = ? AND p.id = ?)`,
  ).run(ws, from, ws, from);
}

/** A profile's engagement columns (its segments are not one of them: `segment_members` keeps them). */
export function engagementColumns(p: ProfileState): [string, string | null, string | null, number | null] {
  return [JSON.stringify(p.facts), p.engagement.stage, p.engagement.previousStage, p.engagement.stageSince];
}

export class SqliteReevaluateTx implements ReevaluateTx<'sync'> {
  constructor(
    private readonly prep: Prepare,
    private readonly ws: string,
    private readonly defs: DefinitionsCache,
    private readonly journeys: JourneyIndexCache,
  ) {}

  /** The version read for definitions(): one transaction sees one version, so the index reuses it. */
  private version: number | undefined;

  definitions(): Definitions {
    const d = this.defs.get(this.prep, this.ws);
    this.version = d.version;
    return d;
  }

  journeyIndex(): JourneyIndex {
    return this.journeys.get(this.prep, this.ws, this.version);
  }

  appendConsents(entries: readonly ConsentEntry[]): void {
    recordConsents(this.prep, this.ws, entries);
  }

  journeyEntries(profileIds: readonly string[]): Map<string, EntryRow[]> {
    return loadEntries(this.prep, this.ws, profileIds);
  }

  loadPage(
    after: string | null,
    limit: number,
    ids: readonly string[] | null,
    facts: FactsProjection | null,
  ): ProfileState[] {
    if (ids !== null && facts !== null) {
      // A build's confirmation: the columns evaluation reads, of the facts the series its rules name
      // (as its scan read them), not the whole row.
      const rows = this.prep(
        `SELECT ${projectedColumns(facts)} FROM json_each(?) j CROSS JOIN profiles p
         WHERE p.workspace_id = ? AND p.id = j.value AND p.merged_into IS NULL ORDER BY p.id`,
      )
        .raw(true)
        .all(JSON.stringify([...new Set(ids)].sort()), this.ws) as ProjectedRow[];
      return rows.map((row) => projectedState(row, facts));
    }
    if (ids !== null) {
      // One statement for the whole list: the primary key is probed in id order, inside SQLite.
      const rows = this.prep(
        `SELECT ${PROFILE_ROW} FROM json_each(?) j CROSS JOIN profiles p
         WHERE p.workspace_id = ? AND p.id = j.value AND p.merged_into IS NULL ORDER BY p.id`,
      ).all(JSON.stringify([...new Set(ids)].sort()), this.ws) as ProfileRow[];
      return rows.map(lazyProfileState);
    }
    const rows = this.prep(
      `SELECT ${PROFILE_ROW} FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ?
       ORDER BY id LIMIT ?`,
    ).all(this.ws, after ?? '', limit) as ProfileRow[];
    return rows.map(lazyProfileState);
  }

  loadHistory(profileIds: readonly string[]): {
    events: FactSourceEvent[];
    kinds: { profileId: string; kind: string }[];
  } {
    const ev = this.prep(
      'SELECT profile_id, type, name, timestamp, payload FROM events WHERE workspace_id = ? AND profile_id = ?',
    );
    const kinds = this.prep(
      'SELECT DISTINCT kind FROM identities WHERE workspace_id = ? AND profile_id = ?',
    ).pluck();
    const events: FactSourceEvent[] = [];
    const out: { profileId: string; kind: string }[] = [];
    for (const id of profileIds) {
      for (const r of ev.all(this.ws, id) as {
        profile_id: string;
        type: string;
        name: string | null;
        timestamp: number;
        payload: string;
      }[])
        events.push({
          profileId: r.profile_id,
          type: r.type,
          name: r.name,
          timestamp: r.timestamp,
          payload: r.payload,
        });
      for (const kind of kinds.all(this.ws, id) as string[]) out.push({ profileId: id, kind });
    }
    return { events, kinds: out };
  }

  writeReevaluation(plan: ReevaluationPlan): void {
    const upd = this.prep(
      `UPDATE profiles SET facts = ?, stage = ?, previous_stage = ?, stage_since = ?
       WHERE workspace_id = ? AND id = ?`,
    );
    // Without the indexed stage column when it did not change (see ingest-tx.ts).
    const updSameStage = this.prep(
      'UPDATE profiles SET facts = ?, previous_stage = ?, stage_since = ? WHERE workspace_id = ? AND id = ?',
    );
    // Facts unchanged by this evaluation are not rewritten (most of a sweep's or a build's profiles).
    const updStage = this.prep(
      `UPDATE profiles SET stage = ?, previous_stage = ?, stage_since = ?
       WHERE workspace_id = ? AND id = ?`,
    );
    const moved = new Set(plan.changes.filter((c) => c.stageChange).map((c) => c.profileId));
    for (const p of plan.profiles) {
      const e = p.engagement;
      if (plan.factsChanged && !plan.factsChanged.has(p.id)) {
        // Only segments changed (all of a build's confirmations): the membership rows below are the
        // whole write, the profile row is left alone.
        if (moved.has(p.id)) updStage.run(e.stage, e.previousStage, e.stageSince, this.ws, p.id);
        continue;
      }
      const facts = JSON.stringify(p.facts);
      if (moved.has(p.id)) upd.run(facts, e.stage, e.previousStage, e.stageSince, this.ws, p.id);
      else updSameStage.run(facts, e.previousStage, e.stageSince, this.ws, p.id);
    }
    writeEngagementChanges(this.prep, this.ws, plan.changes, plan.engagementEvents, plan.now);
    writeRouting(this.prep, this.ws, plan.journeys, plan.now);
  }
}

/** One definition change inside the caller's write transaction; bumps the definitions version. */
export function applyDefinitionChange(
  prep: Prepare,
  ws: string,
  change: DefinitionChange,
  now: number,
): void {
  switch (change.kind) {
    case 'put_segment': {
      const s = change.segment;
      const clash = prep('SELECT id FROM segments WHERE workspace_id = ? AND name = ? AND id <> ?').get(
        ws,
        s.name,
        s.id,
      );
      if (clash) throw new ConflictError(`a segment named "${s.name}" already exists`);
      // A deleted segment's rows not purged yet must not become this one's.
      purgeBeforeReuse(prep, ws, s.id);
      // A ready segment whose rule changes keeps serving its current members until the rebuild is done.
      const prev = prep('SELECT status FROM segments WHERE workspace_id = ? AND id = ?')
        .pluck()
        .get(ws, s.id);
      if (prev === 'ready') {
        prep('DELETE FROM segment_snapshots WHERE workspace_id = ? AND segment_id = ?').run(ws, s.id);
        prep(
          `INSERT INTO segment_snapshots (workspace_id, segment_id, profile_id)
           SELECT workspace_id, segment_id, profile_id FROM segment_members WHERE workspace_id = ? AND segment_id = ?`,
        ).run(ws, s.id);
        prep('UPDATE segments SET snapshot = 1 WHERE workspace_id = ? AND id = ?').run(ws, s.id);
      }
      prep(
        `INSERT INTO segments (workspace_id, id, name, description, rule, version, status, requires_profiling,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, description = excluded.description,
           rule = excluded.rule, version = version + 1, status = excluded.status, build_done = 0, build_total = 0,
           requires_profiling = excluded.requires_profiling, updated_at = excluded.updated_at`,
      ).run(
        ws,
        s.id,
        s.name,
        s.description,
        JSON.stringify(s.rule),
        s.status,
        s.requiresProfiling ? 1 : 0,
        now,
        now,
      );
      break;
    }
    case 'delete_segment':
      // The definition goes now, its memberships a step at a time afterwards (segment-purge.ts).
      prep(
        `INSERT INTO segment_purges (workspace_id, segment_id, num, deleted_at)
         SELECT workspace_id, id, num, ? FROM segments WHERE workspace_id = ? AND id = ?`,
      ).run(now, ws, change.id);
      prep('DELETE FROM segments WHERE workspace_id = ? AND id = ?').run(ws, change.id);
      prep('DELETE FROM segment_sizes WHERE workspace_id = ? AND segment_id = ?').run(ws, change.id);
      prep('DELETE FROM segment_snapshots WHERE workspace_id = ? AND segment_id = ?').run(ws, change.id);
      break;
    case 'put_computed_trait':
      prep(
        `INSERT INTO computed_traits (workspace_id, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
      ).run(ws, change.name, JSON.stringify(change.spec), now, now);
      break;
    case 'delete_computed_trait':
      prep('DELETE FROM computed_traits WHERE workspace_id = ? AND name = ?').run(ws, change.name);
      break;
    case 'set_stage_model':
      prep('UPDATE workspaces SET stage_model = ? WHERE id = ?').run(
        change.model === null ? null : JSON.stringify(change.model),
        ws,
      );
      break;
    case 'set_rfm':
      prep('UPDATE workspaces SET rfm = ? WHERE id = ?').run(
        change.rfm === null ? null : JSON.stringify(change.rfm),
        ws,
      );
      break;
    case 'set_ltv_model':
      prep('UPDATE workspaces SET ltv_model = ? WHERE id = ?').run(
        change.model === null ? null : JSON.stringify(change.model),
        ws,
      );
      break;
  }
  prep('UPDATE workspaces SET definitions_version = definitions_version + 1 WHERE id = ?').run(ws);
}

export function setSegmentBuild(
  prep: Prepare,
  ws: string,
  segmentId: string,
  build: { status: 'building' | 'ready'; done: number; total: number },
  now: number,
): void {
  const prev = prep('SELECT status FROM segments WHERE workspace_id = ? AND id = ?')
    .pluck()
    .get(ws, segmentId) as string | undefined;
  if (prev === undefined) return;
  prep(
    `UPDATE segments SET status = ?, build_done = ?, build_total = ?, built_at = CASE WHEN ? = 'ready' THEN ? ELSE built_at END
     WHERE workspace_id = ? AND id = ?`,
  ).run(build.status, build.done, build.total, build.status, now, ws, segmentId);
  if (build.status === 'ready') {
    // The rebuilt membership now serves; the snapshot readers saw meanwhile goes.
    prep('DELETE FROM segment_snapshots WHERE workspace_id = ? AND segment_id = ?').run(ws, segmentId);
    prep('UPDATE segments SET snapshot = 0 WHERE workspace_id = ? AND id = ?').run(ws, segmentId);
    recordSizes(prep, ws, now, segmentId);
    // Status is part of the definitions (a building segment emits no events): writers must recompile.
    if (prev !== 'ready')
      prep('UPDATE workspaces SET definitions_version = definitions_version + 1 WHERE id = ?').run(ws);
  }
}

export function recordSizes(prep: Prepare, ws: string, now: number, segmentId?: string): void {
  prep(
    `INSERT OR REPLACE INTO segment_sizes (workspace_id, segment_id, at, size)
     SELECT s.workspace_id, s.id, ?, ${SEGMENT_SIZE} FROM segments s WHERE s.workspace_id = ? AND (? IS NULL OR s.id = ?)`,
  ).run(now, ws, segmentId ?? null, segmentId ?? null);
}
