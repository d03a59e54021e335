/**
 * A workspace's engagement definitions — computed traits, the stage model, segments — validated from
 * their JSON sources and compiled into what evaluation needs, including the FactPlan telling ingestion
 * which filtered series and aggregates to keep.
 */
import type { LtvModel } from '../ltv/model.js';
import type { FieldIssue } from '../../errors.js';
import { aggregateKey, type AggregateSpec } from '../facts/aggregate.js';
import {
  BUILTIN_AGGREGATES,
  BUILTIN_COMPUTED,
  factNeeds,
  type ComputedFn,
  type ComputedTraitDef,
  type RfmSettings,
} from '../facts/computed.js';
import { eventKey, type FactPlan } from '../facts/facts.js';
import { compare, getPath } from '../rules/compare.js';
import { eventSelectors, evaluationOrder, segmentRefs, selectorKey } from '../rules/graph.js';
import { parseRule } from '../rules/schema.js';
import type { EventSelector, PropertyFilter, Rule, RuleCatalog } from '../rules/types.js';
import type { StageModelSource } from './stages.js';

export interface SegmentRecord {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly rule: unknown;
  /** `building` while its history is being computed; its changes emit no events until `ready` */
  readonly status: 'building' | 'ready';
  /** a profiling segment: customers who may not be profiled are never members (docs/privacy.md#profiling) */
  readonly requiresProfiling?: boolean;
}

export interface ComputedTraitRecord {
  readonly name: string;
  readonly spec: unknown;
}

/** What the store keeps for a workspace; `version` changes with every definition change. */
export interface DefinitionsRecord {
  readonly version: number;
  readonly stageModel: StageModelSource;
  readonly segments: readonly SegmentRecord[];
  readonly computed: readonly ComputedTraitRecord[];
  readonly rfm: RfmSettings;
  /** the fitted lifetime-value model, if one was fitted */
  readonly ltv: LtvModel | null;
  /** the privacy setting `profiling_required`: profiling needs a granted consent, not just no withdrawal */
  readonly profilingRequired?: boolean;
}

export interface CompiledStage {
  readonly name: string;
  readonly label: string;
  readonly rule: Rule | null;
}

export interface CompiledSegment {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly rule: Rule;
  readonly status: 'building' | 'ready';
  readonly requiresProfiling: boolean;
}

export interface Definitions {
  readonly version: number;
  readonly computed: ReadonlyMap<string, ComputedTraitDef>;
  readonly rfm: RfmSettings;
  readonly ltv: LtvModel | null;
  /** see DefinitionsRecord.profilingRequired */
  readonly profilingRequired: boolean;
  readonly stages: readonly CompiledStage[];
  /** dependencies first */
  readonly segments: readonly CompiledSegment[];
  readonly factPlan: FactPlan;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FNS: readonly ComputedFn[] = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a user-defined computed trait: `{name, event, type?, where?, fn, property?, within?}`. */
export function parseComputedTrait(
  json: unknown,
  catalog: RuleCatalog,
): { ok: true; def: ComputedTraitDef } | { ok: false; issues: FieldIssue[] } {
  if (!isObject(json)) return { ok: false, issues: [{ field: 'trait', rule: 'must be an object' }] };
  const issues: FieldIssue[] = [];
  const { name, fn, property, event, type, where, within, ...rest } = json;
  for (const k of Object.keys(rest)) issues.push({ field: `trait.${k}`, rule: 'unknown field' });
  if (typeof name !== 'string' || !NAME.test(name))
    issues.push({ field: 'trait.name', rule: 'must match ^[a-z][a-z0-9_]{0,62}$' });
  else if ((BUILTIN_COMPUTED as readonly string[]).includes(name))
    issues.push({ field: 'trait.name', rule: `"${name}" is a built-in computed trait` });
  if (typeof fn !== 'string' || !FNS.includes(fn as ComputedFn))
    issues.push({ field: 'trait.fn', rule: `must be one of ${FNS.join(', ')}` });
  if (fn === 'count') {
    if (property !== undefined) issues.push({ field: 'trait.property', rule: 'not allowed with fn "count"' });
  } else if (typeof property !== 'string' || property.length === 0 || property.length > 200)
    issues.push({ field: 'trait.property', rule: 'required: the event property to aggregate (dotted path)' });
  if ((fn === 'first' || fn === 'last') && within !== undefined)
    issues.push({ field: 'trait.within', rule: `not supported with fn "${fn}"` });
  const parsed = parseRule(
    {
      event,
      ...(type !== undefined && { type }),
      ...(where !== undefined && { where }),
      ...(within !== undefined && { within }),
    },
    catalog,
    {},
  );
  if (!parsed.ok)
    issues.push(...parsed.issues.map((i) => ({ ...i, field: i.field.replace(/^rule/, 'trait') })));
  if (issues.length > 0 || !parsed.ok) return { ok: false, issues };
  const node = parsed.rule;
  if (node.kind !== 'event_count') return { ok: false, issues: [{ field: 'trait.event', rule: 'required' }] };
  return {
    ok: true,
    def: {
      name: name as string,
      selector: node.event,
      fn: fn as ComputedFn,
      property: typeof property === 'string' ? property : null,
      window: node.window,
    },
  };
}

export interface StageModelParse {
  ok: boolean;
  stages: CompiledStage[];
  issues: FieldIssue[];
}

/** Validates a stage model: 2–20 uniquely named stages, every one but the last with a rule, no segment references. */
export function parseStageModel(source: unknown, catalog: Omit<RuleCatalog, 'stages'>): StageModelParse {
  const issues: FieldIssue[] = [];
  const stages: CompiledStage[] = [];
  if (!isObject(source) || !Array.isArray(source['stages']))
    return { ok: false, stages, issues: [{ field: 'stages', rule: 'must be an array of stages' }] };
  const list = source['stages'] as unknown[];
  if (list.length < 2 || list.length > 20) issues.push({ field: 'stages', rule: 'must hold 2 to 20 stages' });
  const names = new Set<string>();
  for (const s of list) {
    if (isObject(s) && typeof s['name'] === 'string') names.add(s['name']);
  }
  const ruleCatalog: RuleCatalog = { ...catalog, stages: names };
  const seen = new Set<string>();
  list.forEach((s, i) => {
    const at = `stages[${i}]`;
    if (!isObject(s)) {
      issues.push({ field: at, rule: 'must be an object' });
      return;
    }
    const { name, label, description, rule, ...rest } = s;
    for (const k of Object.keys(rest)) issues.push({ field: `${at}.${k}`, rule: 'unknown field' });
    if (typeof name !== 'string' || !NAME.test(name))
      issues.push({ field: `${at}.name`, rule: 'must match ^[a-z][a-z0-9_]{0,62}$' });
    else if (seen.has(name)) issues.push({ field: `${at}.name`, rule: `"${name}" is used twice` });
    else seen.add(name);
    if (label !== undefined && (typeof label !== 'string' || label.length > 100))
      issues.push({ field: `${at}.label`, rule: 'must be a string of at most 100 characters' });
    if (description !== undefined && (typeof description !== 'string' || description.length > 1000))
      issues.push({ field: `${at}.description`, rule: 'must be a string of at most 1000 characters' });
    const lastOne = i === list.length - 1;
    let compiled: Rule | null = null;
    if (lastOne) {
      if (rule !== undefined)
        issues.push({ field: `${at}.rule`, rule: 'the last stage takes everyone else and has no rule' });
    } else if (rule === undefined) {
      issues.push({ field: `${at}.rule`, rule: 'required on every stage but the last' });
    } else {
      const parsed = parseRule(rule, ruleCatalog, {});
      if (!parsed.ok)
        issues.push(...parsed.issues.map((x) => ({ ...x, field: x.field.replace(/^rule/, `${at}.rule`) })));
      else if (segmentRefs(parsed.rule).size > 0)
        issues.push({ field: `${at}.rule`, rule: 'stage rules may not refer to segments' });
      else compiled = parsed.rule;
    }
    stages.push({
      name: typeof name === 'string' ? name : '',
      label: typeof label === 'string' ? label : String(name),
      rule: compiled,
    });
  });
  return { ok: issues.length === 0, stages, issues };
}

/** Relative date filters on a property (`within_last_days`) are measured from the event's own time. */
export function filterMatcher(where: readonly PropertyFilter[]): (props: unknown, at: number) => boolean {
  return (props, at) => {
    for (const f of where) if (!compare(getPath(props, f.path), f.cmp, at)) return false;
    return true;
  };
}

/** Compiles stored definitions. Sources were validated when saved; anything that no longer parses is skipped. */
export function compileDefinitions(rec: DefinitionsRecord): Definitions {
  const permissive = (stages: ReadonlySet<string>): RuleCatalog => ({
    computedTraits: new Set([...BUILTIN_COMPUTED, ...rec.computed.map((c) => c.name)]),
    events: null,
    stages,
    segments: new Map(rec.segments.map((s) => [s.id, new Set<string>()])),
    traitKeys: null,
  });
  const computed = new Map<string, ComputedTraitDef>();
  for (const c of rec.computed) {
    const p = parseComputedTrait(c.spec, permissive(new Set()));
    if (p.ok) computed.set(c.name, p.def);
  }
  const stageParse = parseStageModel(rec.stageModel, permissive(new Set()));
  const stageNames = new Set(stageParse.stages.map((s) => s.name));
  const segRules = new Map<string, { rec: SegmentRecord; rule: Rule }>();
  for (const s of rec.segments) {
    const p = parseRule(s.rule, permissive(stageNames), {});
    if (p.ok) segRules.set(s.id, { rec: s, rule: p.rule });
  }
  const order = evaluationOrder(new Map([...segRules].map(([id, s]) => [id, segmentRefs(s.rule)])));
  const segments = order.flatMap((id) => {
    const s = segRules.get(id);
    return s
      ? [
          {
            id,
            name: s.rec.name,
            version: s.rec.version,
            rule: s.rule,
            status: s.rec.status,
            requiresProfiling: s.rec.requiresProfiling === true,
          },
        ]
      : [];
  });

  const selectors = new Map<string, EventSelector>();
  const aggregates = new Map<string, AggregateSpec>();
  const rules = [
    ...stageParse.stages.flatMap((s) => (s.rule ? [s.rule] : [])),
    ...segments.map((s) => s.rule),
  ];
  for (const r of rules)
    for (const sel of eventSelectors(r)) if (sel.where.length > 0) selectors.set(selectorKey(sel), sel);
  for (const def of computed.values()) {
    const need = factNeeds(def);
    if (need.selector) selectors.set(selectorKey(need.selector), need.selector);
    if (need.aggregate) aggregates.set(aggregateKey(need.aggregate), need.aggregate);
  }
  for (const a of BUILTIN_AGGREGATES) aggregates.set(aggregateKey(a), a);

  const planSelectors = new Map<string, { key: string; matches: (p: unknown, at: number) => boolean }[]>();
  for (const [key, sel] of selectors) {
    const ek = eventKey(sel.type, sel.name);
    const list = planSelectors.get(ek) ?? [];
    list.push({ key, matches: filterMatcher(sel.where) });
    planSelectors.set(ek, list);
  }
  const planAggregates = new Map<
    string,
    { key: string; spec: AggregateSpec; matches: (p: unknown, at: number) => boolean }[]
  >();
  for (const [key, spec] of aggregates) {
    const ek = eventKey(spec.selector.type, spec.selector.name);
    const list = planAggregates.get(ek) ?? [];
    list.push({ key, spec, matches: filterMatcher(spec.selector.where) });
    planAggregates.set(ek, list);
  }
  return {
    version: rec.version,
    computed,
    rfm: rec.rfm,
    ltv: rec.ltv,
    profilingRequired: rec.profilingRequired === true,
    stages: stageParse.stages,
    segments,
    factPlan: { selectors: planSelectors, aggregates: planAggregates },
  };
}
