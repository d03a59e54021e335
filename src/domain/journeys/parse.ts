/**
 * Validates a journey definition (JSON, docs/journeys.md) and compiles it. Every problem is reported
 * with the field it is in — `steps.welcome.next` — so the API's 400 names the step. Graph checks
 * (unreachable steps, cycles without a wait, dangling branches) are in graph.ts and run here too.
 */
import type { Priority } from '../respect.js';
import type { JsonObject } from '../event.js';
import { parseRule } from '../rules/schema.js';
import { Issues, checkKeys, fieldOf, isObject, text, type RuleIssue } from '../rules/schema-values.js';
import { readAbTest } from './ab-test.js';
import type { EventSelector, Rule, RuleCatalog } from '../rules/types.js';
import { checkGraph } from './graph.js';
import { isTimeZone, parseDuration, parseLocalTime, WEEKDAYS } from './time.js';
import type { DelaySpec, EntryLimit, ExitCriteria, Goal, Journey, Step, Trigger } from './types.js';

export const CHANNELS = ['email', 'webhook', 'push', 'web_push', 'sms', 'line', 'in_app'] as const;
export const JOURNEY_LIMITS = { steps: 200, variants: 10, branches: 20, traits: 50, exitEvents: 10 } as const;

export interface JourneyCatalog extends RuleCatalog {
  /** the workspace's templates, name → channel; null: any name is accepted (`allow_unknown`) */
  readonly templates: ReadonlyMap<string, string> | null;
}

export type JourneyParse = { ok: true; journey: Journey } | { ok: false; issues: RuleIssue[] };

const STEP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const LIST_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

const STEP_TYPES = [
  'delay',
  'wait_for_event',
  'condition',
  'branch',
  'split',
  'send',
  'update_profile',
  'webhook',
  'add_to_list',
  'remove_from_list',
  'exit',
] as const;
type StepTypeName = (typeof STEP_TYPES)[number];

const STEP_KEYS: Record<StepTypeName, readonly string[]> = {
  delay: ['type', 'duration', 'until', 'at_local_time', 'days', 'next'],
  wait_for_event: ['type', 'event', 'where', 'timeout', 'next', 'timeout_next'],
  condition: ['type', 'rule', 'then', 'else'],
  branch: ['type', 'branches', 'otherwise'],
  split: ['type', 'variants'],
  send: ['type', 'channel', 'template', 'priority', 'quiet_hours', 'next'],
  update_profile: ['type', 'traits', 'next'],
  webhook: ['type', 'url', 'body', 'next'],
  add_to_list: ['type', 'list', 'next'],
  remove_from_list: ['type', 'list', 'next'],
  exit: ['type'],
};

export function parseJourney(json: unknown, catalog: JourneyCatalog): JourneyParse {
  const p = new JourneyParser(catalog);
  const journey = p.journey(json);
  if (p.issues.count > 0 || !journey) return { ok: false, issues: p.issues.listed() };
  return { ok: true, journey };
}

class JourneyParser {
  readonly issues = new Issues();
  constructor(private readonly catalog: JourneyCatalog) {}

  journey(v: unknown): Journey | undefined {
    if (!isObject(v)) return this.issues.add('journey', 'must be an object');
    checkKeys(
      v,
      'journey',
      [
        'name',
        'description',
        'trigger',
        'entry',
        'timezone',
        'start',
        'steps',
        'goal',
        'exit_when',
        'throttle',
        'ab_test',
        'layout',
      ],
      'a journey',
      this.issues,
    );
    const name = text(v['name'], 'name', this.issues);
    const description =
      v['description'] === undefined ? '' : text(v['description'], 'description', this.issues);
    let timezone = 'UTC';
    if (v['timezone'] !== undefined) {
      const tz = text(v['timezone'], 'timezone', this.issues);
      if (tz && !isTimeZone(tz))
        this.issues.add('timezone', 'must be an IANA time zone such as "Asia/Tokyo"');
      else if (tz) timezone = tz;
    }
    const trigger = this.trigger(v['trigger']);
    const entry = this.entry(v['entry']);
    const steps = this.steps(v['steps']);
    const start = text(v['start'], 'start', this.issues);
    // Against the ids as written: a step that failed its own checks is still there to start from.
    if (start && steps && !Object.hasOwn(v['steps'] as JsonObject, start)) {
      this.issues.add('start', `names no step ("${start}")`);
    }
    const goal = v['goal'] === undefined || v['goal'] === null ? null : this.goal(v['goal']);
    const exitWhen = this.exitWhen(v['exit_when']);
    const throttlePerMinute = this.throttle(v['throttle']);
    if (v['ab_test'] !== undefined) this.abTest(v['ab_test'], v['steps']);
    if (v['layout'] !== undefined) this.layout(v['layout'], v['steps']);
    if (trigger?.kind === 'schedule' && entry?.segment) {
      this.issues.add(
        'entry.segment',
        "does not apply to a schedule trigger: its segment is the audience (refine that segment's rule)",
      );
    }
    if (throttlePerMinute === undefined) return undefined;
    if (throttlePerMinute !== null && trigger && trigger.kind !== 'schedule') {
      this.issues.add('throttle', 'applies to schedule triggers only');
    }
    if (!name || description === undefined || !trigger || !entry || !steps || !start || !exitWhen)
      return undefined;
    if (goal === undefined) return undefined;
    if (this.issues.count > 0) return undefined;
    for (const issue of checkGraph(start, steps)) this.issues.add(issue.field, issue.rule);
    return { name, description, trigger, entry, timezone, start, steps, goal, exitWhen, throttlePerMinute };
  }

  private trigger(v: unknown): Trigger | undefined {
    const at = 'trigger';
    if (!isObject(v)) {
      return this.issues.add(
        at,
        'must be an object with one of: event, segment_entered, segment_exited, stage_entered, schedule',
      );
    }
    if ('event' in v) {
      checkKeys(v, at, ['event', 'where'], 'an event trigger', this.issues);
      const event = this.selector(v['event'], v['where'], at);
      return event ? { kind: 'event', event } : undefined;
    }
    if ('segment_entered' in v || 'segment_exited' in v) {
      const key = 'segment_entered' in v ? 'segment_entered' : 'segment_exited';
      checkKeys(v, at, [key], 'a segment trigger', this.issues);
      const segment = this.segment(v[key], `${at}.${key}`);
      return segment ? { kind: key, segment } : undefined;
    }
    if ('stage_entered' in v) {
      checkKeys(v, at, ['stage_entered'], 'a stage trigger', this.issues);
      const stage = text(v['stage_entered'], `${at}.stage_entered`, this.issues);
      if (stage && !this.catalog.stages.has(stage)) {
        return this.issues.add(`${at}.stage_entered`, `names no stage of the workspace ("${stage}")`);
      }
      return stage ? { kind: 'stage_entered', stage } : undefined;
    }
    if ('schedule' in v) {
      checkKeys(v, at, ['schedule'], 'a schedule trigger', this.issues);
      return this.schedule(v['schedule'], `${at}.schedule`);
    }
    return this.issues.add(
      at,
      'must have one of: event, segment_entered, segment_exited, stage_entered, schedule',
    );
  }

  private schedule(v: unknown, at: string): Trigger | undefined {
    if (!isObject(v)) return this.issues.add(at, 'must be an object {segment, at, every_days?}');
    checkKeys(v, at, ['segment', 'at', 'every_days'], 'a schedule', this.issues);
    const segment = this.segment(v['segment'], `${at}.segment`);
    const when = v['at'];
    const t =
      typeof when === 'string' && /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(when)
        ? Date.parse(when)
        : NaN;
    if (!Number.isFinite(t)) {
      this.issues.add(
        `${at}.at`,
        'must be an ISO 8601 date-time with a zone, e.g. "2026-12-24T09:00:00+09:00"',
      );
    }
    let everyDays: number | null = null;
    const e = v['every_days'];
    if (e !== undefined && e !== null) {
      if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 365) {
        this.issues.add(`${at}.every_days`, 'must be a whole number of days from 1 to 365');
      } else everyDays = e;
    }
    return segment && Number.isFinite(t) ? { kind: 'schedule', segment, at: t, everyDays } : undefined;
  }

  /**
   * Where the dashboard's canvas draws each step: `{"<step id>": {"x": 0–20000, "y": 0–20000}}`.
   * Presentation only: checked and kept with the draft, never read by the runner.
   */
  private layout(v: unknown, steps: unknown): void {
    if (!isObject(v)) {
      this.issues.add('layout', 'must be an object of step id → {x, y}');
      return;
    }
    for (const [id, p] of Object.entries(v)) {
      const at = `layout.${id}`;
      if (!isObject(steps) || !Object.hasOwn(steps, id)) this.issues.add(at, `names no step ("${id}")`);
      else if (!isObject(p) || Object.keys(p).some((k) => k !== 'x' && k !== 'y'))
        this.issues.add(at, 'must be {x, y}');
      else
        for (const k of ['x', 'y'] as const) {
          const n = p[k];
          if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 20_000)
            this.issues.add(`${at}.${k}`, 'must be a number from 0 to 20000');
        }
    }
  }

  private throttle(v: unknown): number | null | undefined {
    if (v === undefined || v === null) return null;
    if (!isObject(v)) return this.issues.add('throttle', 'must be {"per_minute": N}');
    checkKeys(v, 'throttle', ['per_minute'], 'a throttle', this.issues);
    const n = v['per_minute'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10_000_000) {
      return this.issues.add('throttle.per_minute', 'must be a whole number from 1 to 10,000,000');
    }
    return n;
  }

  private entry(v: unknown): Journey['entry'] | undefined {
    if (v === undefined) return { limit: { kind: 'once' }, segment: null };
    if (!isObject(v)) return this.issues.add('entry', 'must be an object {limit, segment?}');
    checkKeys(v, 'entry', ['limit', 'segment'], 'entry', this.issues);
    let limit: EntryLimit | undefined = { kind: 'once' };
    const l = v['limit'];
    if (l === 'once' || l === undefined) limit = { kind: 'once' };
    else if (l === 'every_time') limit = { kind: 'every_time' };
    else if (isObject(l) && Object.keys(l).length === 1 && 'once_per_days' in l) {
      const d = l['once_per_days'];
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 3650) {
        limit = this.issues.add('entry.limit.once_per_days', 'must be a whole number of days from 1 to 3650');
      } else limit = { kind: 'once_per_days', days: d };
    } else limit = this.issues.add('entry.limit', 'must be "once", "every_time" or {"once_per_days": N}');
    const segment =
      v['segment'] === undefined || v['segment'] === null
        ? null
        : this.segment(v['segment'], 'entry.segment');
    if (!limit || segment === undefined) return undefined;
    return { limit, segment };
  }

  private steps(v: unknown): Map<string, Step> | undefined {
    if (!isObject(v)) return this.issues.add('steps', 'must be an object of steps by id');
    const ids = Object.keys(v);
    if (ids.length === 0) return this.issues.add('steps', 'must have at least one step');
    if (ids.length > JOURNEY_LIMITS.steps) {
      return this.issues.add('steps', `must have at most ${JOURNEY_LIMITS.steps} steps`);
    }
    const out = new Map<string, Step>();
    for (const id of ids) {
      const at = fieldOf('steps', id);
      if (!STEP_ID.test(id)) {
        this.issues.add(at, 'a step id is 1 to 64 letters, digits, "_" or "-"');
        continue;
      }
      const step = this.step(id, v[id], at);
      if (step) out.set(id, step);
    }
    return out;
  }

  private step(id: string, v: unknown, at: string): Step | undefined {
    if (!isObject(v)) return this.issues.add(at, 'must be an object with a "type"');
    const type = v['type'];
    if (typeof type !== 'string' || !(STEP_TYPES as readonly string[]).includes(type)) {
      return this.issues.add(`${at}.type`, `must be one of: ${STEP_TYPES.join(', ')}`);
    }
    checkKeys(v, at, STEP_KEYS[type as StepTypeName], `a ${type} step`, this.issues);
    const next = (key = 'next') => this.ref(v[key], `${at}.${key}`);
    switch (type as StepTypeName) {
      case 'delay': {
        const delay = this.delay(v, at);
        const n = next();
        return delay && n ? { type: 'delay', id, delay, next: n } : undefined;
      }
      case 'wait_for_event': {
        const event = this.selector(v['event'], v['where'], at);
        const timeoutMs = this.duration(v['timeout'], `${at}.timeout`);
        const n = next();
        const t = next('timeout_next');
        if (!event || !timeoutMs || !n || !t) return undefined;
        return { type: 'wait_for_event', id, event, timeoutMs, next: n, timeoutNext: t };
      }
      case 'condition': {
        const rule = this.rule(v['rule'], `${at}.rule`);
        const then = next('then');
        const otherwise = next('else');
        return rule && then && otherwise ? { type: 'condition', id, rule, then, else: otherwise } : undefined;
      }
      case 'branch':
        return this.branch(id, v, at);
      case 'split':
        return this.split(id, v['variants'], `${at}.variants`);
      case 'send': {
        const channel = text(v['channel'], `${at}.channel`, this.issues);
        if (channel && !(CHANNELS as readonly string[]).includes(channel)) {
          this.issues.add(`${at}.channel`, `must be one of: ${CHANNELS.join(', ')}`);
        }
        const template = text(v['template'], `${at}.template`, this.issues);
        const templateChannel = template ? this.catalog.templates?.get(template) : undefined;
        if (template && this.catalog.templates && templateChannel === undefined) {
          this.issues.add(`${at}.template`, `names no template of the workspace ("${template}")`);
        } else if (
          template &&
          channel &&
          (CHANNELS as readonly string[]).includes(channel) &&
          templateChannel !== undefined &&
          templateChannel !== channel
        ) {
          this.issues.add(`${at}.template`, `"${template}" is a ${templateChannel} template, not ${channel}`);
        }
        const priority = v['priority'] ?? 'normal';
        if (priority !== 'high' && priority !== 'normal' && priority !== 'low') {
          this.issues.add(`${at}.priority`, 'must be high, normal or low');
        }
        const quiet = v['quiet_hours'] ?? 'hold';
        if (quiet !== 'hold' && quiet !== 'drop' && quiet !== 'ignore') {
          this.issues.add(`${at}.quiet_hours`, 'must be hold (wait for the window to open), drop or ignore');
        }
        const n = next();
        return channel && template && n
          ? {
              type: 'send',
              id,
              channel,
              template,
              priority: priority as Priority,
              quietHours: quiet as 'hold' | 'drop' | 'ignore',
              next: n,
            }
          : undefined;
      }
      case 'update_profile': {
        const traits = v['traits'];
        const n = next();
        if (!isObject(traits) || Object.keys(traits).length === 0) {
          return this.issues.add(`${at}.traits`, 'must be an object of at least one trait');
        }
        if (Object.keys(traits).length > JOURNEY_LIMITS.traits) {
          return this.issues.add(`${at}.traits`, `must set at most ${JOURNEY_LIMITS.traits} traits`);
        }
        return n ? { type: 'update_profile', id, traits, next: n } : undefined;
      }
      case 'webhook': {
        const url = text(v['url'], `${at}.url`, this.issues);
        if (url && !/^https?:\/\/[^\s]+$/.test(url)) this.issues.add(`${at}.url`, 'must be an http(s) URL');
        const body = v['body'];
        if (body !== undefined && body !== null && !isObject(body)) {
          this.issues.add(`${at}.body`, 'must be a JSON object');
        }
        const n = next();
        if (!url || !n) return undefined;
        return { type: 'webhook', id, url, body: isObject(body) ? body : null, next: n };
      }
      case 'add_to_list':
      case 'remove_from_list': {
        const list = text(v['list'], `${at}.list`, this.issues);
        if (list && !LIST_NAME.test(list)) {
          this.issues.add(`${at}.list`, 'a list name is 1 to 100 letters, digits, ".", "_" or "-"');
        }
        const n = next();
        const op = type === 'add_to_list' ? 'add' : 'remove';
        return list && n ? { type: 'list', id, op, list, next: n } : undefined;
      }
      case 'exit':
        return { type: 'exit', id };
    }
  }

  private delay(v: JsonObject, at: string): DelaySpec | undefined {
    const kinds = ['duration', 'until', 'at_local_time'].filter((k) => v[k] !== undefined);
    if (kinds.length !== 1) {
      return this.issues.add(at, 'a delay needs exactly one of: duration, until, at_local_time');
    }
    if (v['days'] !== undefined && kinds[0] !== 'at_local_time') {
      return this.issues.add(`${at}.days`, 'only applies with at_local_time');
    }
    if (kinds[0] === 'duration') {
      const ms = this.duration(v['duration'], `${at}.duration`);
      return ms ? { kind: 'duration', ms } : undefined;
    }
    if (kinds[0] === 'until') {
      const u = v['until'];
      const t = typeof u === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(u) ? Date.parse(u) : NaN;
      if (!Number.isFinite(t)) {
        return this.issues.add(
          `${at}.until`,
          'must be an ISO 8601 date-time with a zone, e.g. "2026-12-24T09:00:00+09:00"',
        );
      }
      return { kind: 'until', at: t };
    }
    const time = this.localTime(v['at_local_time'], `${at}.at_local_time`);
    let days: number[] | null = null;
    if (v['days'] !== undefined) {
      const d = v['days'];
      if (
        !Array.isArray(d) ||
        d.length === 0 ||
        d.some((x) => !(WEEKDAYS as readonly unknown[]).includes(x))
      ) {
        return this.issues.add(`${at}.days`, `must be a non-empty list of: ${WEEKDAYS.join(', ')}`);
      }
      days = [...new Set(d.map((x) => WEEKDAYS.indexOf(x as (typeof WEEKDAYS)[number])))].sort();
    }
    return time ? { kind: 'local_time', at: time, days } : undefined;
  }

  private branch(id: string, v: JsonObject, at: string): Step | undefined {
    const list = v['branches'];
    if (!Array.isArray(list) || list.length === 0 || list.length > JOURNEY_LIMITS.branches) {
      return this.issues.add(`${at}.branches`, `must be a list of 1 to ${JOURNEY_LIMITS.branches} branches`);
    }
    const branches: { name: string; rule: Rule; next: string }[] = [];
    list.forEach((b, i) => {
      const bat = `${at}.branches[${i}]`;
      if (!isObject(b)) return this.issues.add(bat, 'must be an object {name, rule, next}');
      checkKeys(b, bat, ['name', 'rule', 'next'], 'a branch', this.issues);
      const name = text(b['name'], `${bat}.name`, this.issues);
      const rule = this.rule(b['rule'], `${bat}.rule`);
      const next = this.ref(b['next'], `${bat}.next`);
      if (name && rule && next) branches.push({ name, rule, next });
      return undefined;
    });
    const otherwise = this.ref(v['otherwise'], `${at}.otherwise`);
    if (!otherwise || branches.length !== list.length) return undefined;
    return { type: 'branch', id, branches, otherwise };
  }

  private split(id: string, list: unknown, at: string): Step | undefined {
    if (!Array.isArray(list) || list.length < 2 || list.length > JOURNEY_LIMITS.variants) {
      return this.issues.add(at, `must be a list of 2 to ${JOURNEY_LIMITS.variants} variants`);
    }
    const variants: { name: string; percent: number; control: boolean; next: string }[] = [];
    const names = new Set<string>();
    list.forEach((x, i) => {
      const vat = `${at}[${i}]`;
      if (!isObject(x)) return this.issues.add(vat, 'must be an object {name, percent, next, control?}');
      checkKeys(x, vat, ['name', 'percent', 'next', 'control'], 'a variant', this.issues);
      const name = text(x['name'], `${vat}.name`, this.issues);
      if (name && names.has(name)) this.issues.add(`${vat}.name`, `repeats the variant name "${name}"`);
      if (name) names.add(name);
      const percent = x['percent'];
      if (typeof percent !== 'number' || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
        this.issues.add(`${vat}.percent`, 'must be a number above 0 and at most 100');
      }
      const control = x['control'] ?? false;
      if (typeof control !== 'boolean') this.issues.add(`${vat}.control`, 'must be true or false');
      const next = this.ref(x['next'], `${vat}.next`);
      if (name && next && typeof percent === 'number') {
        variants.push({ name, percent, control: control === true, next });
      }
      return undefined;
    });
    if (variants.length !== list.length) return undefined;
    const total = variants.reduce((s, x) => s + x.percent, 0);
    if (Math.abs(total - 100) > 1e-9)
      return this.issues.add(at, `percentages must add up to 100 (they add up to ${total})`);
    return { type: 'split', id, variants };
  }

  private goal(v: unknown): Goal | null | undefined {
    if (!isObject(v)) return this.issues.add('goal', 'must be an object {event, where?, within}');
    checkKeys(v, 'goal', ['event', 'where', 'within'], 'a goal', this.issues);
    const event = this.selector(v['event'], v['where'], 'goal');
    const withinMs = this.duration(v['within'], 'goal.within');
    return event && withinMs ? { event, withinMs } : undefined;
  }

  private exitWhen(v: unknown): ExitCriteria | undefined {
    if (v === undefined || v === null) return { events: [], segments: [] };
    const list = Array.isArray(v) ? v : [v];
    if (list.length > JOURNEY_LIMITS.exitEvents) {
      return this.issues.add('exit_when', `must have at most ${JOURNEY_LIMITS.exitEvents} criteria`);
    }
    const events: EventSelector[] = [];
    const segments: string[] = [];
    const before = this.issues.count;
    list.forEach((c, i) => {
      const at = Array.isArray(v) ? `exit_when[${i}]` : 'exit_when';
      if (!isObject(c))
        return this.issues.add(at, 'must be {"event": name, "where"?: [...]} or {"segment": id}');
      if ('segment' in c) {
        checkKeys(c, at, ['segment'], 'a segment exit', this.issues);
        const s = this.segment(c['segment'], `${at}.segment`);
        if (s) segments.push(s);
        return undefined;
      }
      checkKeys(c, at, ['event', 'where'], 'an event exit', this.issues);
      const e = this.selector(c['event'], c['where'], at);
      if (e) events.push(e);
      return undefined;
    });
    return this.issues.count > before ? undefined : { events, segments };
  }

  /** A track event by name with optional property filters, validated by the segment-rule parser. */
  private selector(name: unknown, where: unknown, at: string): EventSelector | undefined {
    const nameOk = text(name, `${at}.event`, this.issues);
    if (!nameOk) return undefined;
    const rule: JsonObject = { event: name, count: { op: 'gte', value: 1 } };
    if (where !== undefined) rule['where'] = where;
    const p = parseRule(rule, this.catalog);
    if (!p.ok) {
      for (const i of p.issues) this.issues.add(i.field.replace(/^rule/, at), i.rule);
      return undefined;
    }
    return p.rule.kind === 'event_count' ? p.rule.event : undefined;
  }

  private rule(v: unknown, at: string): Rule | undefined {
    const p = parseRule(v, this.catalog);
    if (!p.ok) {
      for (const i of p.issues) this.issues.add(i.field.replace(/^rule/, at), i.rule);
      return undefined;
    }
    return p.rule;
  }

  private segment(v: unknown, at: string): string | undefined {
    const id = text(v, at, this.issues);
    if (id && !this.catalog.segments.has(id))
      return this.issues.add(at, `names no segment of the workspace ("${id}")`);
    return id;
  }

  private ref(v: unknown, at: string): string | undefined {
    if (v === undefined || v === null)
      return this.issues.add(at, 'is missing: every branch must lead to a step (use an "exit" step to end)');
    if (typeof v !== 'string' || !STEP_ID.test(v)) return this.issues.add(at, 'must be a step id');
    return v;
  }

  private duration(v: unknown, at: string): number | undefined {
    const ms = typeof v === 'string' ? parseDuration(v) : null;
    return (
      ms ?? this.issues.add(at, 'must be a duration such as "30m", "2h", "3d" or "1w" (at most 5 years)')
    );
  }

  /** `ab_test` is written by A/B broadcasts (domain/journeys/ab-test.ts); it must name real steps. */
  private abTest(v: unknown, steps: unknown): void {
    const t = readAbTest({ ab_test: v });
    if (!t) {
      this.issues.add(
        'ab_test',
        'must be the A/B settings an A/B broadcast writes (split, rest, hold, channel, variants)',
      );
      return;
    }
    const ids = isObject(steps) ? steps : {};
    for (const k of ['split', 'hold'] as const)
      if (!Object.hasOwn(ids, t[k])) this.issues.add(`ab_test.${k}`, `names no step ("${t[k]}")`);
  }

  private localTime(v: unknown, at: string): { hour: number; minute: number } | undefined {
    const t = typeof v === 'string' ? parseLocalTime(v) : null;
    return t ?? this.issues.add(at, 'must be a 24-hour time "HH:MM"');
  }
}
