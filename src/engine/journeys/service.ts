import type { Clock } from '../../domain/clock.js';
import { journeyResults, type Results } from '../../domain/journeys/results.js';
import { compileDefinitions } from '../../domain/engagement/definitions.js';
import { evaluateDraft } from '../../domain/engagement/evaluate.js';
import { eventKey } from '../../domain/facts/facts.js';
import { parseJourney, type JourneyCatalog } from '../../domain/journeys/parse.js';
import type { TemplateService } from '../delivery/templates.js';
import type { Journey } from '../../domain/journeys/types.js';
import { nextRun } from '../../domain/journeys/time.js';
import { abTestJson } from '../../domain/journeys/ab-test.js';
import { isObject } from '../../domain/rules/schema-values.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { EntryView, JourneyView } from '../../store/journey-store.js';
import type { Store } from '../../store/store.js';
import type { EngagementService } from '../engagement.js';

/** Where a generated broadcast journey's fields came from in the broadcast request. */
const BROADCAST_FIELDS: Record<string, string> = {
  name: 'name',
  'trigger.schedule.segment': 'segment',
  'trigger.schedule.at': 'send_at',
  'trigger.schedule.every_days': 'every_days',
  'steps.send.channel': 'channel',
  'steps.send.template': 'template',
  'throttle.per_minute': 'throttle_per_minute',
  goal: 'goal',
  'goal.event': 'goal.event',
  'goal.within': 'goal.within',
};

export interface BroadcastInput {
  readonly name: string;
  readonly segment: string;
  readonly channel: string;
  readonly template: string;
  /** when the run starts (with a local time: a minute before that time first happens anywhere) */
  readonly startAt: number;
  readonly localTime: string | null;
  readonly everyDays: number | null;
  readonly throttlePerMinute: number | null;
  readonly controlPercent: number | null;
  /** the conversion the results report measures: a journey goal (`{ event, within }`), as given */
  readonly goal: unknown;
  /** an A/B test on a share of the audience, the rest sent the winner later (null: one template) */
  readonly abTest?: BroadcastAbTest | null;
}

export interface BroadcastAbTest {
  readonly variants: readonly { readonly name: string; readonly template: string }[];
  /** the share of the audience the variants split between them; the rest waits for the winner */
  readonly testPercent: number;
  readonly metric: 'conversion' | 'revenue';
  /** send the rest automatically this long after the start; null: when asked */
  readonly decideAfterMs: number | null;
}

/** How long the rest of an A/B broadcast waits for a winner before it leaves with nothing. */
const HOLD_LIMIT_MS = 30 * 86_400_000;

export interface JourneyCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface JourneyExplanation {
  readonly journeyId: string;
  readonly profileId: string;
  readonly entered: boolean;
  readonly entries: readonly EntryView[];
  /** for a customer who never entered (or could enter again): each entry condition and how it stands */
  readonly checks: readonly JourneyCheck[];
}

/**
 * Journeys as the admin API sees them: definitions validated against the workspace (segments, stages,
 * events, traits as segment rules are), the draft → publish → pause/resume → archive lifecycle, and
 * the explainer ("why did / didn't this customer enter?").
 */
export class JourneyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly engagement: EngagementService,
    private readonly templates: TemplateService,
  ) {}

  /**
   * With `allowUnknown`, event names, trait keys and templates the workspace does not have yet are
   * accepted; `checkTemplates` checks templates all the same (broadcasts, whose only reference is one).
   */
  private async validate(
    ws: string,
    body: unknown,
    allowUnknown: boolean,
    checkTemplates = false,
  ): Promise<Journey> {
    const rules = await this.engagement.catalog(ws, undefined, !allowUnknown);
    const templates = allowUnknown && !checkTemplates ? null : await this.templates.catalog(ws);
    const catalog: JourneyCatalog = { ...rules, templates };
    const p = parseJourney(body, catalog);
    if (!p.ok) throw new ValidationError(p.issues);
    return p.journey;
  }

  async create(
    ws: string,
    body: unknown,
    opts: { allowUnknown: boolean; checkTemplates?: boolean },
  ): Promise<JourneyView> {
    const j = await this.validate(ws, body, opts.allowUnknown, opts.checkTemplates);
    return this.store.createJourney(
      ws,
      { id: newId('jr', this.clock.now()), name: j.name, draft: body },
      this.clock.now(),
    );
  }

  async get(ws: string, id: string): Promise<JourneyView> {
    const j = await this.store.getJourney(ws, id);
    if (!j) throw new NotFoundError(`journey ${id} not found`);
    return j;
  }

  list(ws: string): Promise<JourneyView[]> {
    return this.store.listJourneys(ws);
  }

  /** Replaces the draft. Published versions are frozen: a change reaches customers only by publishing it. */
  async update(ws: string, id: string, body: unknown, opts: { allowUnknown: boolean }): Promise<JourneyView> {
    await this.get(ws, id);
    const j = await this.validate(ws, body, opts.allowUnknown);
    await this.store.updateJourneyDraft(ws, id, { name: j.name, draft: body }, this.clock.now());
    return this.get(ws, id);
  }

  /** Publishes the draft as the next version, validated again (a segment it names may be gone). */
  async publish(
    ws: string,
    id: string,
    opts: { migrate: boolean },
  ): Promise<{ version: number; migrated: number }> {
    const j = await this.get(ws, id);
    if (j.status === 'archived') throw new ConflictError(`journey ${id} is archived`);
    const journey = await this.validate(ws, j.draft, true);
    const t = journey.trigger;
    const now = this.clock.now();
    // A schedule whose time has passed runs at once (a one-off) or at its next occurrence.
    const nextRunAt = t.kind === 'schedule' ? nextRun(t.at, t.everyDays, now) : null;
    return this.store.publishJourney(ws, id, { definition: j.draft, migrate: opts.migrate, nextRunAt }, now);
  }

  /**
   * A broadcast: a journey made from a few fields — at a time (or at a local time on a date in each
   * customer's own time zone), the segment's members get one message, spread by a throttle, with an
   * optional control group that gets nothing. It is created and published at once.
   */
  async broadcast(ws: string, b: BroadcastInput): Promise<{ journey: JourneyView; definition: unknown }> {
    const first = b.abTest ? 'ab' : b.controlPercent ? 'holdout' : b.localTime ? 'local' : 'send';
    const steps: Record<string, unknown> = {};
    let abTest: Record<string, unknown> | null = null;
    if (b.abTest) {
      const t = b.abTest;
      const control = b.controlPercent ?? 0;
      const each = t.testPercent / t.variants.length;
      steps['ab'] = {
        type: 'split',
        variants: [
          ...t.variants.map((v) => ({ name: v.name, percent: each, next: `send_${v.name}` })),
          ...(control > 0 ? [{ name: 'control', percent: control, control: true, next: 'done' }] : []),
          { name: 'rest', percent: 100 - t.testPercent - control, next: 'hold' },
        ],
      };
      for (const v of t.variants)
        steps[`send_${v.name}`] = { type: 'send', channel: b.channel, template: v.template, next: 'done' };
      const holdUntil = b.startAt + (t.decideAfterMs ?? 0) + HOLD_LIMIT_MS;
      steps['hold'] = { type: 'delay', until: new Date(holdUntil).toISOString(), next: 'done' };
      abTest = abTestJson({
        split: 'ab',
        rest: 'rest',
        hold: 'hold',
        channel: b.channel,
        variants: Object.fromEntries(t.variants.map((v) => [v.name, v.template])),
        metric: t.metric,
        decideAfterMs: t.decideAfterMs,
        winner: null,
        decidedAt: null,
      });
    } else if (b.controlPercent) {
      steps['holdout'] = {
        type: 'split',
        variants: [
          { name: 'treatment', percent: 100 - b.controlPercent, next: b.localTime ? 'local' : 'send' },
          { name: 'control', percent: b.controlPercent, control: true, next: 'done' },
        ],
      };
    }
    if (b.localTime) steps['local'] = { type: 'delay', at_local_time: b.localTime, next: 'send' };
    if (!b.abTest) steps['send'] = { type: 'send', channel: b.channel, template: b.template, next: 'done' };
    steps['done'] = { type: 'exit' };
    const definition = {
      name: b.name,
      description: `broadcast to segment ${b.segment}`,
      trigger: {
        schedule: {
          segment: b.segment,
          at: new Date(b.startAt).toISOString(),
          ...(b.everyDays && { every_days: b.everyDays }),
        },
      },
      entry: { limit: 'every_time' },
      ...(b.throttlePerMinute && { throttle: { per_minute: b.throttlePerMinute } }),
      ...(b.goal !== undefined && b.goal !== null && { goal: b.goal }),
      start: first,
      steps,
      ...(abTest && { ab_test: abTest }),
    };
    let j: JourneyView;
    try {
      j = await this.create(ws, definition, { allowUnknown: true, checkTemplates: true });
    } catch (err) {
      // The definition is made here, so name the broadcast's own fields, not the journey's.
      if (!(err instanceof ValidationError)) throw err;
      throw new ValidationError(
        err.issues.map((i) => ({
          field:
            BROADCAST_FIELDS[i.field] ?? (/^steps\.send_.+\.template$/.test(i.field) ? 'variants' : i.field),
          rule: i.rule,
        })),
        { cause: err },
      );
    }
    await this.publish(ws, j.id, { migrate: false });
    return { journey: await this.get(ws, j.id), definition };
  }

  async setStatus(ws: string, id: string, status: 'published' | 'paused' | 'archived'): Promise<JourneyView> {
    const j = await this.get(ws, id);
    if (status === 'published' && j.status !== 'paused') {
      throw new ConflictError(`journey ${id} is ${j.status}; only a paused journey can be resumed`);
    }
    if (status === 'paused' && j.status !== 'published') {
      throw new ConflictError(`journey ${id} is ${j.status}; only a published journey can be paused`);
    }
    await this.store.setJourneyStatus(ws, id, status, this.clock.now());
    return this.get(ws, id);
  }

  async version(ws: string, id: string, version: number): Promise<unknown> {
    await this.get(ws, id);
    const def = await this.store.getJourneyVersion(ws, id, version);
    if (def === null) throw new NotFoundError(`journey ${id} has no version ${version}`);
    return def;
  }

  /**
   * Results by split variant (domain/journeys/results.ts). The control variants are those marked
   * `control` in any published version, so renaming across versions keeps both names' entries counted.
   */
  async results(ws: string, id: string, metric: 'conversion' | 'revenue'): Promise<Results> {
    const j = await this.get(ws, id);
    const controls = new Set<string>();
    for (let v = 1; v <= j.version; v++) {
      for (const name of controlVariants(await this.store.getJourneyVersion(ws, id, v))) controls.add(name);
    }
    return journeyResults(await this.store.journeyOutcomes(ws, id), controls, { metric });
  }

  /** Why a customer is or is not in a journey, condition by condition, from what is stored now. */
  async explain(ws: string, journeyId: string, profileId: string): Promise<JourneyExplanation> {
    const j = await this.get(ws, journeyId);
    const profile = await this.store.getProfileState(ws, profileId);
    const view = await this.store.getProfile(ws, profileId);
    if (!profile || !view) throw new NotFoundError(`profile ${profileId} not found`);
    const entries = (await this.store.listProfileEntries(ws, view.id)).filter(
      (e) => e.journeyId === journeyId,
    );
    const checks: JourneyCheck[] = [];
    checks.push({
      check: 'status',
      ok: j.status === 'published',
      detail:
        j.status === 'published'
          ? `published (version ${j.version}) and taking entries`
          : `${j.status}: not taking entries`,
    });
    const def = j.version > 0 ? await this.store.getJourneyVersion(ws, journeyId, j.version) : j.draft;
    const p = isObject(def)
      ? parseJourney(def, { ...(await this.engagement.catalog(ws, undefined, false)), templates: null })
      : null;
    if (p?.ok) {
      const journey = p.journey;
      const t = journey.trigger;
      const since = j.publishedAt ?? 0;
      if (t.kind === 'event') {
        const series = profile.facts.e[eventKey(t.event.type, t.event.name)];
        const last = series?.l ?? null;
        checks.push({
          check: 'trigger',
          ok: last !== null && last >= since,
          detail:
            last === null
              ? `never performed ${t.event.name}`
              : `last performed ${t.event.name} at ${new Date(last).toISOString()}${last < since ? ', before the journey was published' : ''}${t.event.where.length > 0 ? ' (its property filters are checked when the event arrives)' : ''}`,
        });
      } else if (t.kind === 'stage_entered') {
        checks.push({
          check: 'trigger',
          ok: profile.engagement.stage === t.stage,
          detail: `enters on reaching stage ${t.stage}; the customer is in ${profile.engagement.stage ?? 'no stage yet'}`,
        });
      } else if (t.kind === 'schedule') {
        const inIt = profile.engagement.segments.includes(t.segment);
        checks.push({
          check: 'trigger',
          ok: inIt,
          detail: `members of segment ${t.segment} enter at each scheduled run (first ${new Date(t.at).toISOString()}${t.everyDays ? `, every ${t.everyDays} days` : ''}); the customer is ${inIt ? 'in' : 'not in'} it now`,
        });
      } else {
        const inIt = profile.engagement.segments.includes(t.segment);
        checks.push({
          check: 'trigger',
          ok: t.kind === 'segment_entered' ? inIt : !inIt,
          detail: `enters on ${t.kind === 'segment_entered' ? 'entering' : 'leaving'} segment ${t.segment}; the customer is ${inIt ? 'in' : 'not in'} it`,
        });
      }
      const seg = journey.entry.segment;
      if (seg !== null) {
        const inSeg = profile.engagement.segments.includes(seg);
        checks.push({
          check: 'entry_segment',
          ok: inSeg,
          detail: `must be in segment ${seg}; ${inSeg ? 'is' : 'is not'}`,
        });
      }
      const limit = journey.entry.limit;
      const now = this.clock.now();
      const last = Math.max(...entries.map((e) => e.enteredAt), -Infinity);
      const active = entries.some((e) => e.state === 'active');
      const limitOk =
        !active &&
        (limit.kind === 'every_time' ||
          (limit.kind === 'once' && entries.length === 0) ||
          (limit.kind === 'once_per_days' && last <= now - limit.days * 86_400_000));
      checks.push({
        check: 'entry_limit',
        ok: limitOk,
        detail: active
          ? 'already in the journey (one entry at a time)'
          : limit.kind === 'once'
            ? `once ever; ${entries.length === 0 ? 'never entered' : 'already entered'}`
            : limit.kind === 'every_time'
              ? 'every time the trigger happens'
              : `once per ${limit.days} days; ${entries.length === 0 ? 'never entered' : `last entered ${new Date(last).toISOString()}`}`,
      });
      const defs = compileDefinitions(await this.store.getDefinitions(ws));
      for (const s of journey.exitWhen.segments) {
        const inSeg = evaluateDraft(
          profile,
          defs,
          { kind: 'segment', at: 'exit_when', id: s, member: true },
          now,
        );
        if (inSeg)
          checks.push({
            check: 'exit_criteria',
            ok: false,
            detail: `in segment ${s}, which makes customers leave`,
          });
      }
    }
    return { journeyId, profileId: view.id, entered: entries.length > 0, entries, checks };
  }
}

/** The names of the split variants marked `control` in a stored definition (as the admin wrote it). */
function controlVariants(def: unknown): string[] {
  if (!isObject(def) || !isObject(def['steps'])) return [];
  const out: string[] = [];
  for (const step of Object.values(def['steps'])) {
    if (!isObject(step) || step['type'] !== 'split' || !Array.isArray(step['variants'])) continue;
    for (const v of step['variants'] as unknown[])
      if (isObject(v) && v['control'] === true && typeof v['name'] === 'string') out.push(v['name']);
  }
  return out;
}
