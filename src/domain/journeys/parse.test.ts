import { describe, expect, it } from 'vitest';
import { testCatalog } from '../rules/testing.js';
import type { RuleIssue } from '../rules/schema-values.js';
import { compileIndex, compileJourney } from './compile.js';
import { parseJourney, type JourneyCatalog } from './parse.js';
import type { Journey } from './types.js';

function catalog(overrides: Partial<JourneyCatalog> = {}): JourneyCatalog {
  return {
    ...testCatalog({
      events: new Set([
        'track:Signed Up',
        'track:Order Completed',
        'track:Email Opened',
        'track:Unsubscribed',
      ]),
    }),
    templates: new Map([
      ['welcome', 'email'],
      ['offer_sms', 'sms'],
      ['offer_push', 'push'],
    ]),
    ...overrides,
  };
}

function parsed(json: unknown, cat: JourneyCatalog = catalog()): Journey {
  const r = parseJourney(json, cat);
  if (!r.ok) throw new Error(`expected a journey, got ${JSON.stringify(r.issues)}`);
  return r.journey;
}

function issues(json: unknown, cat: JourneyCatalog = catalog()): RuleIssue[] {
  const r = parseJourney(json, cat);
  if (r.ok) throw new Error('expected issues, got a journey');
  return r.issues;
}

/** The one issue a journey has, as `field: rule`. */
function issue(json: unknown, cat?: JourneyCatalog): string {
  const list = issues(json, cat);
  expect(list, JSON.stringify(list)).toHaveLength(1);
  return `${list[0]!.field}: ${list[0]!.rule}`;
}

type Json = Record<string, unknown>;

/** A small valid journey; `steps` replaces its steps (and `start` defaults to "hello"). */
function journey(extra: Json = {}, steps?: Json): Json {
  return {
    name: 'Welcome',
    trigger: { event: 'Signed Up' },
    start: 'hello',
    steps: steps ?? {
      hello: { type: 'send', channel: 'email', template: 'welcome', next: 'done' },
      done: { type: 'exit' },
    },
    ...extra,
  };
}

const send = (next: string, template = 'welcome') => ({ type: 'send', channel: 'email', template, next });
const exit = { type: 'exit' };

describe('parseJourney accepts', () => {
  it('a journey using every step type', () => {
    const j = parsed({
      name: 'Onboarding',
      description: 'From sign-up to first order',
      trigger: { event: 'Signed Up', where: [{ property: 'plan', op: 'eq', value: 'gold' }] },
      entry: { limit: { once_per_days: 30 }, segment: 'seg_vip' },
      timezone: 'Asia/Tokyo',
      start: 'pause',
      steps: {
        pause: { type: 'delay', duration: '1h', next: 'welcome' },
        welcome: { type: 'send', channel: 'email', template: 'welcome', next: 'wait_open' },
        wait_open: {
          type: 'wait_for_event',
          event: 'Email Opened',
          where: [{ property: 'campaign', op: 'eq', value: 'welcome' }],
          timeout: '3d',
          next: 'is_vip',
          timeout_next: 'morning',
        },
        morning: { type: 'delay', at_local_time: '10:00', days: ['fri', 'mon', 'mon'], next: 'is_vip' },
        is_vip: { type: 'condition', rule: { segment: 'seg_vip' }, then: 'tier', else: 'ab' },
        tier: {
          type: 'branch',
          branches: [{ name: 'gold', rule: { trait: 'plan', op: 'eq', value: 'gold' }, next: 'tag' }],
          otherwise: 'ab',
        },
        tag: { type: 'update_profile', traits: { onboarded: true }, next: 'notify' },
        notify: {
          type: 'webhook',
          url: 'https://example.com/hook',
          body: { source: 'kizuna' },
          next: 'listed',
        },
        listed: { type: 'add_to_list', list: 'vip-list', next: 'unlisted' },
        unlisted: { type: 'remove_from_list', list: 'prospects', next: 'done' },
        ab: {
          type: 'split',
          variants: [
            { name: 'A', percent: 45, next: 'sms' },
            { name: 'B', percent: 45, next: 'push' },
            { name: 'holdout', percent: 10, control: true, next: 'done' },
          ],
        },
        sms: {
          type: 'send',
          channel: 'sms',
          template: 'offer_sms',
          priority: 'high',
          quiet_hours: 'drop',
          next: 'christmas',
        },
        push: { type: 'send', channel: 'push', template: 'offer_push', next: 'christmas' },
        christmas: { type: 'delay', until: '2026-12-24T09:00:00+09:00', next: 'done' },
        done: { type: 'exit' },
      },
      goal: { event: 'Order Completed', within: '7d' },
      exit_when: [{ event: 'Unsubscribed' }, { segment: 'seg_churn' }],
    });
    expect(j).toMatchObject({
      name: 'Onboarding',
      description: 'From sign-up to first order',
      trigger: {
        kind: 'event',
        event: {
          type: 'track',
          name: 'Signed Up',
          where: [{ path: 'plan', cmp: { op: 'eq', value: 'gold' } }],
        },
      },
      entry: { limit: { kind: 'once_per_days', days: 30 }, segment: 'seg_vip' },
      timezone: 'Asia/Tokyo',
      start: 'pause',
      goal: { event: { type: 'track', name: 'Order Completed', where: [] }, withinMs: 7 * 86_400_000 },
      exitWhen: { events: [{ type: 'track', name: 'Unsubscribed', where: [] }], segments: ['seg_churn'] },
    });
    const types = [...j.steps.values()].map((s) => s.type);
    expect(new Set(types)).toEqual(
      new Set([
        'delay',
        'wait_for_event',
        'condition',
        'branch',
        'split',
        'send',
        'update_profile',
        'webhook',
        'list',
        'exit',
      ]),
    );
    expect(j.steps.size).toBe(15);
    const step = (id: string) => j.steps.get(id);
    expect(step('pause')).toEqual({
      type: 'delay',
      id: 'pause',
      delay: { kind: 'duration', ms: 3_600_000 },
      next: 'welcome',
    });
    expect(step('morning')).toEqual({
      type: 'delay',
      id: 'morning',
      delay: { kind: 'local_time', at: { hour: 10, minute: 0 }, days: [1, 5] },
      next: 'is_vip',
    });
    expect(step('christmas')).toMatchObject({ delay: { kind: 'until', at: Date.UTC(2026, 11, 24, 0) } });
    expect(step('wait_open')).toEqual({
      type: 'wait_for_event',
      id: 'wait_open',
      event: {
        type: 'track',
        name: 'Email Opened',
        where: [{ path: 'campaign', cmp: { op: 'eq', value: 'welcome' } }],
      },
      timeoutMs: 3 * 86_400_000,
      next: 'is_vip',
      timeoutNext: 'morning',
    });
    expect(step('is_vip')).toMatchObject({
      type: 'condition',
      rule: { kind: 'segment', id: 'seg_vip' },
      then: 'tier',
      else: 'ab',
    });
    expect(step('tier')).toMatchObject({
      type: 'branch',
      branches: [{ name: 'gold', rule: { kind: 'trait', path: 'plan' }, next: 'tag' }],
      otherwise: 'ab',
    });
    expect(step('ab')).toEqual({
      type: 'split',
      id: 'ab',
      variants: [
        { name: 'A', percent: 45, control: false, next: 'sms' },
        { name: 'B', percent: 45, control: false, next: 'push' },
        { name: 'holdout', percent: 10, control: true, next: 'done' },
      ],
    });
    expect(step('sms')).toEqual({
      type: 'send',
      id: 'sms',
      channel: 'sms',
      template: 'offer_sms',
      priority: 'high',
      quietHours: 'drop',
      next: 'christmas',
    });
    expect(step('push')).toMatchObject({ priority: 'normal', quietHours: 'hold' });
    expect(step('tag')).toEqual({
      type: 'update_profile',
      id: 'tag',
      traits: { onboarded: true },
      next: 'notify',
    });
    expect(step('notify')).toEqual({
      type: 'webhook',
      id: 'notify',
      url: 'https://example.com/hook',
      body: { source: 'kizuna' },
      next: 'listed',
    });
    expect(step('listed')).toEqual({
      type: 'list',
      id: 'listed',
      op: 'add',
      list: 'vip-list',
      next: 'unlisted',
    });
    expect(step('unlisted')).toEqual({
      type: 'list',
      id: 'unlisted',
      op: 'remove',
      list: 'prospects',
      next: 'done',
    });
    expect(step('done')).toEqual({ type: 'exit', id: 'done' });
  });

  it('defaults: entry once with no segment, zone UTC, no goal, no exit criteria, empty description', () => {
    expect(parsed(journey())).toMatchObject({
      description: '',
      entry: { limit: { kind: 'once' }, segment: null },
      timezone: 'UTC',
      goal: null,
      exitWhen: { events: [], segments: [] },
    });
    expect(parsed(journey({ entry: { limit: 'every_time' } })).entry.limit).toEqual({ kind: 'every_time' });
  });

  it('a canvas layout of step positions, checked and otherwise ignored', () => {
    const laid = journey({ layout: { hello: { x: 0, y: 40 }, done: { x: 260.5, y: 40 } } });
    expect(parsed(laid)).toEqual(parsed(journey()));
    expect(issue(journey({ layout: { nope: { x: 1, y: 1 } } }))).toBe('layout.nope: names no step ("nope")');
    expect(issue(journey({ layout: { hello: { x: -1, y: 1 } } }))).toBe(
      'layout.hello.x: must be a number from 0 to 20000',
    );
    expect(issue(journey({ layout: { hello: { x: 1, y: 1, z: 2 } } }))).toBe('layout.hello: must be {x, y}');
    expect(issue(journey({ layout: [] }))).toBe('layout: must be an object of step id → {x, y}');
  });

  it('segment and stage triggers', () => {
    expect(parsed(journey({ trigger: { segment_entered: 'seg_vip' } })).trigger).toEqual({
      kind: 'segment_entered',
      segment: 'seg_vip',
    });
    expect(parsed(journey({ trigger: { segment_exited: 'seg_vip' } })).trigger).toEqual({
      kind: 'segment_exited',
      segment: 'seg_vip',
    });
    expect(parsed(journey({ trigger: { stage_entered: 'loyal' } })).trigger).toEqual({
      kind: 'stage_entered',
      stage: 'loyal',
    });
  });

  it('a loop that passes through a delay or a wait', () => {
    const viaDelay = parsed(
      journey(
        { start: 'check' },
        {
          check: { type: 'condition', rule: { segment: 'seg_vip' }, then: 'nudge', else: 'done' },
          nudge: send('pause'),
          pause: { type: 'delay', duration: '1d', next: 'check' },
          done: exit,
        },
      ),
    );
    expect(viaDelay.steps.size).toBe(4);
    const viaWait = parsed(
      journey(
        { start: 'check' },
        {
          check: { type: 'condition', rule: { segment: 'seg_vip' }, then: 'nudge', else: 'done' },
          nudge: send('wait'),
          wait: {
            type: 'wait_for_event',
            event: 'Email Opened',
            timeout: '2d',
            next: 'done',
            timeout_next: 'check',
          },
          done: exit,
        },
      ),
    );
    expect(viaWait.steps.size).toBe(4);
  });

  it('split percentages that add up to 100 with floating-point error', () => {
    const j = parsed(
      journey(
        { start: 'ab' },
        {
          ab: {
            type: 'split',
            variants: [
              { name: 'A', percent: 33.3, next: 'done' },
              { name: 'B', percent: 33.3, next: 'done' },
              { name: 'C', percent: 33.4, next: 'done' },
            ],
          },
          done: exit,
        },
      ),
    );
    expect(j.steps.get('ab')).toMatchObject({ type: 'split' });
  });

  it('any template name while the catalog has no template set', () => {
    const steps = { hello: send('done', 'not_a_template'), done: exit };
    expect(parsed(journey({}, steps), catalog({ templates: null })).steps.get('hello')).toMatchObject({
      template: 'not_a_template',
    });
  });
});

describe('parseJourney rejects, naming the field', () => {
  it('an unknown step type', () => {
    expect(issue(journey({}, { hello: { type: 'sleep', next: 'done' }, done: exit }))).toBe(
      'steps.hello.type: must be one of: delay, wait_for_event, condition, branch, split, send, update_profile, webhook, add_to_list, remove_from_list, exit',
    );
  });

  it('a next that names no step', () => {
    expect(
      issue(
        journey(
          { start: 'check' },
          {
            check: { type: 'condition', rule: { segment: 'seg_vip' }, then: 'done', else: 'nowhere' },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.check.else: names no step ("nowhere")');
    expect(issues(journey({}, { hello: send('nowhere'), done: exit }))).toContainEqual({
      field: 'steps.hello.next',
      rule: 'names no step ("nowhere")',
    });
    expect(issue(journey({ start: 'nowhere' }))).toBe('start: names no step ("nowhere")');
  });

  it('a missing next', () => {
    expect(
      issue(journey({}, { hello: { type: 'send', channel: 'email', template: 'welcome' }, done: exit })),
    ).toBe('steps.hello.next: is missing: every branch must lead to a step (use an "exit" step to end)');
    expect(
      issue(
        journey(
          { start: 'w' },
          {
            w: { type: 'wait_for_event', event: 'Email Opened', timeout: '1d', next: 'done' },
            done: exit,
          },
        ),
      ),
    ).toMatch(/^steps\.w\.timeout_next: is missing/);
  });

  it('an unreachable step', () => {
    expect(issue(journey({}, { hello: send('done'), done: exit, orphan: send('done') }))).toBe(
      'steps.orphan: is unreachable from the start step "hello"',
    );
  });

  it('a loop with no delay or wait (condition → send → condition)', () => {
    expect(
      issue(
        journey(
          { start: 'check' },
          {
            check: { type: 'condition', rule: { segment: 'seg_vip' }, then: 'nudge', else: 'done' },
            nudge: send('check'),
            done: exit,
          },
        ),
      ),
    ).toBe('steps.check: is on a loop with no delay or wait_for_event step (check → nudge → check)');
  });

  it('unknown segments in the trigger, the entry filter, exit criteria and step rules', () => {
    expect(issue(journey({ trigger: { segment_entered: 'seg_nope' } }))).toBe(
      'trigger.segment_entered: names no segment of the workspace ("seg_nope")',
    );
    expect(issue(journey({ entry: { segment: 'seg_nope' } }))).toBe(
      'entry.segment: names no segment of the workspace ("seg_nope")',
    );
    expect(issue(journey({ exit_when: { segment: 'seg_nope' } }))).toBe(
      'exit_when.segment: names no segment of the workspace ("seg_nope")',
    );
    expect(
      issue(
        journey(
          { start: 'check' },
          {
            check: {
              type: 'condition',
              rule: { and: [{ segment: 'seg_nope' }] },
              then: 'done',
              else: 'done',
            },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.check.rule.and[0].segment: unknown segment "seg_nope"');
    expect(
      issue(
        journey(
          { start: 'tier' },
          {
            tier: {
              type: 'branch',
              branches: [{ name: 'x', rule: { segment: 'seg_nope' }, next: 'done' }],
              otherwise: 'done',
            },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.tier.branches[0].rule.segment: unknown segment "seg_nope"');
  });

  it('unknown stages', () => {
    expect(issue(journey({ trigger: { stage_entered: 'vip' } }))).toBe(
      'trigger.stage_entered: names no stage of the workspace ("vip")',
    );
    expect(
      issue(
        journey(
          { start: 'check' },
          {
            check: { type: 'condition', rule: { stage: 'vip' }, then: 'done', else: 'done' },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.check.rule.stage: unknown stage "vip"');
  });

  it('unknown events and bad property filters in selectors', () => {
    expect(issue(journey({ trigger: { event: 'Never Sent' } }))).toBe(
      'trigger.event: unknown event "Never Sent" (never received in this workspace)',
    );
    expect(
      issues(
        journey({ trigger: { event: 'Signed Up', where: [{ property: 'plan', op: 'nope', value: 1 }] } }),
      )[0]!.field,
    ).toMatch(/^trigger\.where\[0\]/);
    expect(issue(journey({ goal: { event: 'Never Sent', within: '7d' } }))).toMatch(
      /^goal\.event: unknown event/,
    );
    expect(issue(journey({ exit_when: [{ event: 'Unsubscribed' }, { event: 'Never Sent' }] }))).toMatch(
      /^exit_when\[1\]\.event: unknown event/,
    );
  });

  it('split percentages that do not add up to 100', () => {
    expect(
      issue(
        journey(
          { start: 'ab' },
          {
            ab: {
              type: 'split',
              variants: [
                { name: 'A', percent: 50, next: 'done' },
                { name: 'B', percent: 40, next: 'done' },
              ],
            },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.ab.variants: percentages must add up to 100 (they add up to 90)');
    expect(
      issue(
        journey(
          { start: 'ab' },
          {
            ab: {
              type: 'split',
              variants: [
                { name: 'A', percent: 100, next: 'done' },
                { name: 'B', percent: 0, next: 'done' },
              ],
            },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.ab.variants[1].percent: must be a number above 0 and at most 100');
    expect(
      issue(
        journey(
          { start: 'ab' },
          { ab: { type: 'split', variants: [{ name: 'A', percent: 100, next: 'done' }] }, done: exit },
        ),
      ),
    ).toBe('steps.ab.variants: must be a list of 2 to 10 variants');
  });

  it('duplicate variant names', () => {
    expect(
      issue(
        journey(
          { start: 'ab' },
          {
            ab: {
              type: 'split',
              variants: [
                { name: 'A', percent: 50, next: 'done' },
                { name: 'A', percent: 50, next: 'done' },
              ],
            },
            done: exit,
          },
        ),
      ),
    ).toBe('steps.ab.variants[1].name: repeats the variant name "A"');
  });

  it('bad durations, times and dates', () => {
    const DURATION = 'must be a duration such as "30m", "2h", "3d" or "1w" (at most 5 years)';
    const delay = (d: Json) =>
      journey({ start: 'pause' }, { pause: { type: 'delay', ...d, next: 'done' }, done: exit });
    expect(issue(delay({ duration: '2 days' }))).toBe(`steps.pause.duration: ${DURATION}`);
    expect(issue(delay({ duration: '10y' }))).toBe(`steps.pause.duration: ${DURATION}`);
    expect(issue(delay({ duration: 3600 }))).toBe(`steps.pause.duration: ${DURATION}`);
    expect(issue(delay({ at_local_time: '25:00' }))).toBe(
      'steps.pause.at_local_time: must be a 24-hour time "HH:MM"',
    );
    expect(issue(delay({ at_local_time: '10:00', days: ['monday'] }))).toBe(
      'steps.pause.days: must be a non-empty list of: sun, mon, tue, wed, thu, fri, sat',
    );
    expect(issue(delay({ duration: '1h', days: ['mon'] }))).toBe(
      'steps.pause.days: only applies with at_local_time',
    );
    expect(issue(delay({ until: '2026-12-24' }))).toMatch(
      /^steps\.pause\.until: must be an ISO 8601 date-time/,
    );
    expect(issue(delay({}))).toBe(
      'steps.pause: a delay needs exactly one of: duration, until, at_local_time',
    );
    expect(issue(delay({ duration: '1h', until: '2026-12-24T09:00:00Z' }))).toBe(
      'steps.pause: a delay needs exactly one of: duration, until, at_local_time',
    );
    expect(
      issue(
        journey(
          { start: 'w' },
          {
            w: {
              type: 'wait_for_event',
              event: 'Email Opened',
              timeout: '0h',
              next: 'done',
              timeout_next: 'done',
            },
            done: exit,
          },
        ),
      ),
    ).toBe(`steps.w.timeout: ${DURATION}`);
    expect(issue(journey({ goal: { event: 'Order Completed', within: 'a week' } }))).toBe(
      `goal.within: ${DURATION}`,
    );
  });

  it('a bad time zone', () => {
    expect(issue(journey({ timezone: 'Asia/Tokio' }))).toBe(
      'timezone: must be an IANA time zone such as "Asia/Tokyo"',
    );
  });

  it('unknown keys, wherever they are', () => {
    expect(issue(journey({ colour: 'red' }))).toBe(
      'journey.colour: unknown key "colour" (a journey takes: name, description, trigger, entry, timezone, start, steps, goal, exit_when, throttle, ab_test, layout)',
    );
    expect(issue(journey({ ab_test: { split: 'ab' } }))).toBe(
      'ab_test: must be the A/B settings an A/B broadcast writes (split, rest, hold, channel, variants)',
    );
    const ab = { split: 'nope', rest: 'rest', hold: 'hello', channel: 'email', variants: { A: 'a', B: 'b' } };
    expect(issue(journey({ ab_test: ab }))).toBe('ab_test.split: names no step ("nope")');
    expect(issue(journey({}, { hello: { ...send('done'), delay: '1h' }, done: exit }))).toBe(
      'steps.hello.delay: unknown key "delay" (a send step takes: type, channel, template, priority, quiet_hours, next)',
    );
    expect(issue(journey({}, { hello: send('done'), done: { type: 'exit', next: 'hello' } }))).toBe(
      'steps.done.next: unknown key "next" (a exit step takes: type)',
    );
    expect(issue(journey({ trigger: { event: 'Signed Up', segment: 'seg_vip' } }))).toMatch(
      /^trigger\.segment: unknown key/,
    );
    expect(issue(journey({ entry: { limit: 'once', max: 3 } }))).toMatch(/^entry\.max: unknown key/);
  });

  it('an unknown channel', () => {
    expect(
      issue(
        journey(
          {},
          { hello: { type: 'send', channel: 'fax', template: 'welcome', next: 'done' }, done: exit },
        ),
      ),
    ).toBe('steps.hello.channel: must be one of: email, webhook, push, web_push, sms, line, in_app');
  });

  it('an unknown template when the catalog lists templates', () => {
    expect(issue(journey({}, { hello: send('done', 'not_a_template'), done: exit }))).toBe(
      'steps.hello.template: names no template of the workspace ("not_a_template")',
    );
  });

  it('a bad priority or quiet-hours rule on a send', () => {
    const steps = (extra: Record<string, unknown>) => ({ hello: { ...send('done'), ...extra }, done: exit });
    expect(issue(journey({}, steps({ priority: 'urgent' })))).toBe(
      'steps.hello.priority: must be high, normal or low',
    );
    expect(issue(journey({}, steps({ quiet_hours: 'later' })))).toBe(
      'steps.hello.quiet_hours: must be hold (wait for the window to open), drop or ignore',
    );
  });

  it('a template of another channel than the step sends on', () => {
    expect(issue(journey({}, { hello: send('done', 'offer_sms'), done: exit }))).toBe(
      'steps.hello.template: "offer_sms" is a sms template, not email',
    );
  });

  it('bad entry limits and step ids', () => {
    expect(issue(journey({ entry: { limit: { once_per_days: 0 } } }))).toBe(
      'entry.limit.once_per_days: must be a whole number of days from 1 to 3650',
    );
    expect(issue(journey({ entry: { limit: 'twice' } }))).toBe(
      'entry.limit: must be "once", "every_time" or {"once_per_days": N}',
    );
    expect(issue(journey({}, { hello: send('done'), done: exit, 'bad id': exit }))).toBe(
      'steps["bad id"]: a step id is 1 to 64 letters, digits, "_" or "-"',
    );
  });

  it('reports every problem at once', () => {
    const list = issues(
      journey(
        { timezone: 'Nowhere/Land' },
        {
          hello: { type: 'send', channel: 'fax', template: 'nope', next: 'done' },
          done: exit,
        },
      ),
    );
    expect(list.map((i) => i.field)).toEqual(['timezone', 'steps.hello.channel', 'steps.hello.template']);
  });
});

describe('compileJourney and compileIndex', () => {
  it('compile stored definitions whatever the workspace now holds', () => {
    const def = journey(
      { trigger: { segment_entered: 'seg_deleted' }, exit_when: { segment: 'seg_gone' } },
      { hello: send('done', 'deleted_template'), done: exit },
    );
    expect(parseJourney(def, catalog()).ok).toBe(false);
    expect(compileJourney(def)?.trigger).toEqual({ kind: 'segment_entered', segment: 'seg_deleted' });
    expect(compileJourney(journey({ trigger: { stage_entered: 'renamed_stage' } }))?.trigger).toEqual({
      kind: 'stage_entered',
      stage: 'renamed_stage',
    });
    expect(compileJourney({ name: 'broken' })).toBeNull();
  });

  it('index live versions for triggers and every version for lookups, skipping broken ones', () => {
    const index = compileIndex(7, [
      { journeyId: 'j1', version: 1, definition: journey(), live: false },
      {
        journeyId: 'j1',
        version: 2,
        definition: journey({ trigger: { event: 'Order Completed' } }),
        live: true,
      },
      { journeyId: 'j2', version: 1, definition: { name: 'broken' }, live: true },
    ]);
    expect(index.version).toBe(7);
    expect(index.journey('j1', 1)?.trigger).toMatchObject({ kind: 'event', event: { name: 'Signed Up' } });
    expect(index.journey('j1', 2)?.trigger).toMatchObject({
      kind: 'event',
      event: { name: 'Order Completed' },
    });
    expect(index.journey('j2', 1)).toBeUndefined();
    expect([...index.byEvent.keys()]).toEqual(['Order Completed']);
    expect(index.empty).toBe(false);
    expect(compileIndex(1, []).empty).toBe(true);
  });
});

describe('schedule triggers and throttles', () => {
  const seg = [...catalog().segments.keys()][0]!;
  const schedule = (s: Json) => journey({ trigger: { schedule: { segment: seg, ...s } } });

  it('parses a recurring schedule and a throttle', () => {
    const j = parsed({
      ...schedule({ at: '2026-12-01T10:00:00+09:00', every_days: 7 }),
      throttle: { per_minute: 600 },
    });
    expect(j.trigger).toEqual({
      kind: 'schedule',
      segment: seg,
      at: Date.parse('2026-12-01T01:00:00Z'),
      everyDays: 7,
    });
    expect(j.throttlePerMinute).toBe(600);
    expect(parsed(schedule({ at: '2026-12-01T10:00:00Z' })).trigger).toMatchObject({ everyDays: null });
  });

  it('refuses a time without a zone, a bad repeat, an unknown segment, and a throttle or entry segment that cannot apply', () => {
    expect(issue(schedule({ at: '2026-12-01T10:00:00' }))).toMatch(
      /^trigger\.schedule\.at: must be an ISO 8601 date-time with a zone/,
    );
    expect(issue(schedule({ at: '2026-12-01T10:00:00Z', every_days: 0 }))).toBe(
      'trigger.schedule.every_days: must be a whole number of days from 1 to 365',
    );
    expect(
      issue(journey({ trigger: { schedule: { segment: 'seg_nope', at: '2026-12-01T10:00:00Z' } } })),
    ).toBe('trigger.schedule.segment: names no segment of the workspace ("seg_nope")');
    expect(issue(journey({ throttle: { per_minute: 10 } }))).toBe(
      'throttle: applies to schedule triggers only',
    );
    expect(issue({ ...schedule({ at: '2026-12-01T10:00:00Z' }), throttle: { per_minute: 0 } })).toBe(
      'throttle.per_minute: must be a whole number from 1 to 10,000,000',
    );
    expect(issue({ ...schedule({ at: '2026-12-01T10:00:00Z' }), entry: { segment: seg } })).toMatch(
      /^entry\.segment: does not apply to a schedule trigger/,
    );
  });
});
