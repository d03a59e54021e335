import type { Clock } from '../domain/clock.js';
import type { LtvModel } from '../domain/ltv/model.js';
import {
  compileDefinitions,
  parseComputedTrait,
  parseStageModel,
  type Definitions,
  type DefinitionsRecord,
} from '../domain/engagement/definitions.js';
import {
  computedTraitsOf,
  evaluateDraft,
  explainSegment,
  explainStage,
  type StageExplanation,
} from '../domain/engagement/evaluate.js';
import type { StageModelSource } from '../domain/engagement/stages.js';
import { BUILTIN_COMPUTED, type RfmSettings } from '../domain/facts/computed.js';
import { computedRefs, eventSelectors, findCycle, segmentRefs, selectorKey } from '../domain/rules/graph.js';
import { parseRule } from '../domain/rules/schema.js';
import type { Explanation, RuleCatalog } from '../domain/rules/types.js';
import { NotFoundError, ValidationError, type FieldIssue } from '../errors.js';
import { newId } from '../ids.js';
import type { ProfileState } from '../domain/resolution.js';
import type { DefinitionChange, SegmentView, Store } from '../store/store.js';
import type { SegmentBuilder } from './builder.js';
import { SCAN_PAGE_SIZE, yieldToRequests } from './reevaluation.js';

export interface SegmentInput {
  name: string;
  description?: string;
  rule: unknown;
  /** absent on a change: kept as it was (false for a new segment) */
  requiresProfiling?: boolean | undefined;
}

function fail(issues: readonly FieldIssue[]): never {
  throw new ValidationError(issues);
}

/** Profiles a preview evaluates to estimate a large workspace's count (±2–3 points at 95 %). */
export const PREVIEW_SAMPLE = 2000;

interface ScanTally {
  count: number;
  scanned: number;
  ids: string[];
  /** every profile (of the sample) was scanned */
  complete: boolean;
}

function estimateFrom(t: ScanTally, total: number, exact: boolean) {
  const count = t.scanned > 0 ? Math.round((t.count * total) / t.scanned) : 0;
  return { count, estimated: true, exact, scanned: t.scanned, total, sample: t.ids };
}

/** The set of fact keys a compiled definition set needs; a change that adds keys needs a facts rebuild. */
function factKeys(d: Definitions): Set<string> {
  const keys = new Set<string>();
  for (const list of d.factPlan.selectors.values()) for (const s of list) keys.add(`s:${s.key}`);
  for (const list of d.factPlan.aggregates.values()) for (const a of list) keys.add(`a:${a.key}`);
  return keys;
}

/**
 * Engagement definitions as the admin API sees them: validation against the workspace's catalog
 * (known events, computed traits, stages, segments, no cycles), storage, and the builds that follow.
 */
export class EngagementService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly builder: SegmentBuilder,
    /** profiles a preview of a large workspace evaluates (smaller in tests) */
    private readonly previewSample = PREVIEW_SAMPLE,
  ) {}

  async catalog(ws: string, rec?: DefinitionsRecord, checkNames = true): Promise<RuleCatalog> {
    const r = rec ?? (await this.store.getDefinitions(ws));
    const events = checkNames
      ? new Set((await this.store.listEventNames(ws)).map((e) => `${e.type}:${e.name ?? ''}`))
      : null;
    const stages = parseStageModel(r.stageModel, {
      computedTraits: new Set(),
      events: null,
      segments: new Map(),
      traitKeys: null,
    }).stages.map((s) => s.name);
    const computedTraits = new Set<string>([...BUILTIN_COMPUTED, ...r.computed.map((c) => c.name)]);
    // Stored rules were valid when saved; parse them permissively just to learn what they refer to.
    const permissive: RuleCatalog = {
      computedTraits,
      events: null,
      stages: new Set(stages),
      segments: new Map(r.segments.map((x) => [x.id, new Set<string>()])),
      traitKeys: null,
    };
    const segments = new Map<string, Set<string>>();
    for (const s of r.segments) {
      const p = parseRule(s.rule, permissive, {});
      segments.set(s.id, p.ok ? segmentRefs(p.rule) : new Set());
    }
    const traitKeys = checkNames ? new Set(await this.store.listTraitKeys(ws)) : null;
    return { computedTraits, events, stages: new Set(stages), segments, traitKeys };
  }

  async definitions(ws: string): Promise<Definitions> {
    return compileDefinitions(await this.store.getDefinitions(ws));
  }

  /** Stores a change, then builds what it needs over existing history (in the background). */
  private async apply(ws: string, change: DefinitionChange, before: DefinitionsRecord): Promise<void> {
    const oldKeys = factKeys(compileDefinitions(before));
    await this.store.changeDefinitions(ws, change, this.clock.now());
    const after = compileDefinitions(await this.store.getDefinitions(ws));
    const rebuildFacts = [...factKeys(after)].some((k) => !oldKeys.has(k));
    const everyone =
      change.kind === 'set_stage_model' || change.kind === 'set_rfm' || change.kind === 'set_ltv_model';
    if (rebuildFacts || everyone || change.kind === 'put_segment')
      void this.builder.build(ws, { rebuildFacts, everyone });
  }

  async putSegment(
    ws: string,
    id: string | null,
    input: SegmentInput,
    opts: { allowUnknown: boolean },
  ): Promise<SegmentView> {
    const rec = await this.store.getDefinitions(ws);
    const existing = id === null ? undefined : rec.segments.find((s) => s.id === id);
    if (id !== null && !existing) throw new NotFoundError(`segment ${id} not found`);
    const segId = id ?? newId('seg');
    const catalog = await this.catalog(ws, rec, !opts.allowUnknown);
    // The segment may refer to itself only through a cycle check: put it in the catalog first.
    const withSelf: RuleCatalog = { ...catalog, segments: new Map(catalog.segments).set(segId, new Set()) };
    const parsed = parseRule(input.rule, withSelf, { now: this.clock.now() });
    if (!parsed.ok) fail(parsed.issues);
    const cycle = findCycle(segId, segmentRefs(parsed.rule), catalog.segments);
    if (cycle)
      fail([
        { field: 'rule', rule: `segments may not refer to each other in a cycle: ${cycle.join(' → ')}` },
      ]);
    await this.apply(
      ws,
      {
        kind: 'put_segment',
        segment: {
          id: segId,
          name: input.name,
          description: input.description ?? '',
          rule: input.rule,
          status: 'building',
          requiresProfiling: input.requiresProfiling ?? existing?.requiresProfiling === true,
        },
      },
      rec,
    );
    const view = await this.store.getSegment(ws, segId);
    if (!view) throw new NotFoundError(`segment ${segId} not found`);
    return view;
  }

  /**
   * How many profiles a rule would hold, and a sample, before it is saved. A workspace larger than a
   * few sample sizes is first evaluated on a uniform random sample of about PREVIEW_SAMPLE profiles;
   * when the sample's pace says an exact scan would not fit in `budgetMs`, the count is extrapolated
   * from it (`estimated: true`) and the sample members are random customers. Otherwise the scan counts
   * exactly, still bounded by `budgetMs`. A rule that filters events on properties the facts do not keep
   * yet cannot be answered from facts: it is counted as if those events never happened and `exact`
   * says so.
   */
  async preview(
    ws: string,
    rule: unknown,
    opts: { allowUnknown: boolean; sample: number; budgetMs: number },
  ): Promise<{
    count: number;
    estimated: boolean;
    exact: boolean;
    scanned: number;
    total: number;
    sample: string[];
  }> {
    const rec = await this.store.getDefinitions(ws);
    const catalog = await this.catalog(ws, rec, !opts.allowUnknown);
    const parsed = parseRule(rule, catalog, { now: this.clock.now() });
    if (!parsed.ok) fail(parsed.issues);
    const defs = compileDefinitions(rec);
    const kept = factKeys(defs);
    const exact = eventSelectors(parsed.rule).every(
      (s) => s.where.length === 0 || kept.has(`s:${selectorKey(s)}`),
    );
    const total = await this.store.countProfiles(ws);
    // A compute budget, so wall time (not the injected business clock).
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const matches = (p: ProfileState) => evaluateDraft(p, defs, parsed.rule, this.clock.now());
    let sampled: ScanTally | null = null;
    if (total > 2 * this.previewSample) {
      sampled = await this.tally(ws, this.previewSample / total, matches, opts.sample, Infinity);
      const paceMs = elapsed() / Math.max(1, sampled.scanned);
      if (paceMs * total > opts.budgetMs - elapsed()) return estimateFrom(sampled, total, exact);
    }
    const full = await this.tally(ws, undefined, matches, opts.sample, opts.budgetMs - elapsed());
    if (full.complete)
      return {
        count: full.count,
        estimated: false,
        exact,
        scanned: full.scanned,
        total: full.scanned,
        sample: full.ids,
      };
    return estimateFrom(sampled ?? full, total, exact);
  }

  /** Scans profiles (a sample of them when `fraction` is given) until done or `budgetMs` is spent. */
  private async tally(
    ws: string,
    fraction: number | undefined,
    matches: (p: ProfileState) => boolean,
    keep: number,
    budgetMs: number,
  ): Promise<ScanTally> {
    const started = performance.now();
    const out: ScanTally = { count: 0, scanned: 0, ids: [], complete: false };
    let after: string | null = null;
    for (;;) {
      await yieldToRequests();
      const page = await this.store.scanProfileStates(ws, {
        after,
        limit: SCAN_PAGE_SIZE,
        ...(fraction !== undefined && { sample: fraction }),
      });
      for (const p of page.profiles) {
        if (!matches(p)) continue;
        out.count++;
        if (out.ids.length < keep) out.ids.push(p.id);
      }
      out.scanned += page.profiles.length;
      if (page.next === null) return { ...out, complete: true };
      if (performance.now() - started > budgetMs) return out;
      after = page.next;
    }
  }

  async deleteSegment(ws: string, id: string): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    if (!rec.segments.some((s) => s.id === id)) throw new NotFoundError(`segment ${id} not found`);
    const catalog = await this.catalog(ws, rec, false);
    const users = [...catalog.segments].filter(([, refs]) => refs.has(id)).map(([sid]) => sid);
    if (users.length > 0)
      fail([{ field: 'id', rule: `segment ${id} is used by ${users.join(', ')}; change those first` }]);
    const journeys = await this.journeysUsing(ws, id);
    if (journeys.length > 0)
      fail([
        {
          field: 'id',
          rule: `segment ${id} is used by journey ${journeys.join(', ')}; change or archive those first`,
        },
      ]);
    await this.store.changeDefinitions(ws, { kind: 'delete_segment', id }, this.clock.now());
  }

  /** Journeys (not archived) whose draft or live version names the segment id anywhere. */
  private async journeysUsing(ws: string, segmentId: string): Promise<string[]> {
    const needle = JSON.stringify(segmentId);
    const out: string[] = [];
    for (const j of await this.store.listJourneys(ws)) {
      if (j.status === 'archived') continue;
      const live = j.version > 0 ? await this.store.getJourneyVersion(ws, j.id, j.version) : null;
      if (JSON.stringify(j.draft).includes(needle) || JSON.stringify(live).includes(needle)) out.push(j.id);
    }
    return out;
  }

  async putComputedTrait(ws: string, spec: unknown, opts: { allowUnknown: boolean }): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    const parsed = parseComputedTrait(spec, await this.catalog(ws, rec, !opts.allowUnknown));
    if (!parsed.ok) fail(parsed.issues);
    await this.apply(ws, { kind: 'put_computed_trait', name: parsed.def.name, spec }, rec);
  }

  async deleteComputedTrait(ws: string, name: string): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    if (!rec.computed.some((c) => c.name === name))
      throw new NotFoundError(`computed trait ${name} not found`);
    // Segments and stages that refer to it would stop compiling: refuse while any does.
    const defs = compileDefinitions(rec);
    const used = [
      ...defs.segments.filter((s) => computedRefs(s.rule).has(name)).map((s) => `segment ${s.id}`),
      ...defs.stages.filter((s) => s.rule && computedRefs(s.rule).has(name)).map((s) => `stage ${s.name}`),
    ];
    if (used.length > 0)
      fail([{ field: 'name', rule: `computed trait ${name} is used by ${used.join(', ')}` }]);
    await this.store.changeDefinitions(ws, { kind: 'delete_computed_trait', name }, this.clock.now());
  }

  async setStageModel(ws: string, model: unknown): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    const catalog = await this.catalog(ws, rec, false);
    const parsed = parseStageModel(model, catalog);
    if (!parsed.ok) fail(parsed.issues);
    // Segments may refer to stages by name: a stage they use must not disappear.
    const names = new Set(parsed.stages.map((s) => s.name));
    for (const s of rec.segments) {
      const p = parseRule(s.rule, { ...catalog, stages: names }, {});
      if (!p.ok) fail([{ field: 'stages', rule: `segment ${s.id} refers to a stage this model removes` }]);
    }
    await this.apply(ws, { kind: 'set_stage_model', model: model as StageModelSource }, rec);
  }

  /** RFM bands: four ascending cut points each (see docs/segments.md); null restores the defaults. */
  async setRfm(ws: string, rfm: RfmSettings | null): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    await this.apply(ws, { kind: 'set_rfm', rfm }, rec);
  }

  /** Stores a fitted lifetime-value model (or forgets it) and re-evaluates everyone with it. */
  async setLtvModel(ws: string, model: LtvModel | null): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    await this.apply(ws, { kind: 'set_ltv_model', model }, rec);
  }

  async resetStageModel(ws: string): Promise<void> {
    const rec = await this.store.getDefinitions(ws);
    await this.apply(ws, { kind: 'set_stage_model', model: null }, rec);
  }

  async explainSegment(ws: string, profileId: string, segmentId: string): Promise<Explanation> {
    const [p, defs] = await Promise.all([this.store.getProfileState(ws, profileId), this.definitions(ws)]);
    if (!p) throw new NotFoundError(`profile ${profileId} not found`);
    const e = explainSegment(p, defs, segmentId, this.clock.now());
    if (!e) throw new NotFoundError(`segment ${segmentId} not found`);
    return e;
  }

  /** Re-evaluates every profile in the background (a rule outside the definitions changed, e.g. profiling). */
  reevaluateEveryone(ws: string): void {
    void this.builder.build(ws, { rebuildFacts: false, everyone: true });
  }

  async explainStage(ws: string, profileId: string): Promise<StageExplanation> {
    const [p, defs] = await Promise.all([this.store.getProfileState(ws, profileId), this.definitions(ws)]);
    if (!p) throw new NotFoundError(`profile ${profileId} not found`);
    return explainStage(p, defs, this.clock.now());
  }

  async computedTraits(ws: string, profileId: string) {
    const [p, defs] = await Promise.all([this.store.getProfileState(ws, profileId), this.definitions(ws)]);
    if (!p) throw new NotFoundError(`profile ${profileId} not found`);
    const c = computedTraitsOf(p, defs, this.clock.now());
    return { traits: c.all(), eventCounts: c.eventCounts() };
  }
}
