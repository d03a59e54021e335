import { describe, expect, it } from 'vitest';
import { evaluate } from '../rules/evaluate.js';
import { testContext, type TestProfile } from '../rules/testing.js';
import { PERMISSIVE_CATALOG } from './compile.js';
import { advance, unitDraw, type Advance, type StepContext } from './machine.js';
import { parseJourney } from './parse.js';
import type { Journey, Position } from './types.js';

const NOW = Date.UTC(2026, 0, 15, 0, 0); // Thursday; 09:00 in Tokyo, Wed 19:00 in New York
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Json = Record<string, unknown>;

function journey(steps: Json, extra: Json = {}): Journey {
  const r = parseJourney(
    { name: 'Test', trigger: { event: 'Signed Up' }, start: Object.keys(steps)[0], steps, ...extra },
    PERMISSIVE_CATALOG,
  );
  if (!r.ok) throw new Error(`expected a journey, got ${JSON.stringify(r.issues)}`);
  return r.journey;
}

const send = (next: string, template = 'welcome') => ({ type: 'send', channel: 'email', template, next });
const exit = { type: 'exit' };

/** A context whose rules run through the real evaluator against `profile`. */
function ctx(over: Partial<StepContext> & { profile?: TestProfile } = {}): StepContext {
  const { profile = {}, ...rest } = over;
  const now = rest.now ?? NOW;
  return {
    now,
    entryId: 'e1',
    exists: () => true,
    evaluate: (rule) => evaluate(rule, testContext(profile, now)),
    inSegment: (s) => profile.segments?.includes(s) ?? false,
    timezone: () => null,
    ...rest,
  };
}

function startOf(j: Journey): Position {
  return { step: j.start, phase: 'enter', stepsTaken: 0, signal: null };
}

const outcomes = (a: Advance) => a.log.map((r) => `${r.step}: ${r.outcome}`);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('delay steps', () => {
  it('wait for a duration, then go on', () => {
    const j = journey({
      pause: { type: 'delay', duration: '2h', next: 'hello' },
      hello: send('done'),
      done: exit,
    });
    const first = advance(j, startOf(j), ctx());
    expect(first).toMatchObject({
      state: 'active',
      position: { step: 'pause', phase: 'waiting', stepsTaken: 1, signal: null },
      dueAt: NOW + 2 * HOUR,
      waitingFor: null,
      exitReason: null,
      actions: [],
    });
    expect(outcomes(first)).toEqual(['pause: waiting until 2026-01-15T02:00:00.000Z']);

    const later = advance(j, first.position, ctx({ now: NOW + 2 * HOUR }));
    expect(later).toMatchObject({
      state: 'completed',
      dueAt: null,
      position: { step: 'done', stepsTaken: 3 },
    });
    expect(later.actions).toEqual([
      {
        kind: 'send',
        key: 'e1:hello:1',
        step: 'hello',
        channel: 'email',
        template: 'welcome',
        priority: 'normal',
        quietHours: 'hold',
      },
    ]);
    expect(outcomes(later)).toEqual(['hello: email welcome queued', 'done: completed']);
  });

  it('until a date in the past goes straight on; in the future it waits for that date', () => {
    const past = journey({
      pause: { type: 'delay', until: '2020-01-01T00:00:00Z', next: 'hello' },
      hello: send('done'),
      done: exit,
    });
    const a = advance(past, startOf(past), ctx());
    expect(a.state).toBe('completed');
    expect(outcomes(a)).toEqual(['pause: no wait needed', 'hello: email welcome queued', 'done: completed']);
    expect(a.actions.map((x) => x.key)).toEqual(['e1:hello:1']);

    const exactlyNow = journey({
      pause: { type: 'delay', until: '2026-01-15T00:00:00Z', next: 'done' },
      done: exit,
    });
    expect(outcomes(advance(exactlyNow, startOf(exactlyNow), ctx()))).toEqual([
      'pause: no wait needed',
      'done: completed',
    ]);

    const future = journey({
      pause: { type: 'delay', until: '2026-12-24T09:00:00+09:00', next: 'hello' },
      hello: send('done'),
      done: exit,
    });
    const b = advance(future, startOf(future), ctx());
    expect(b).toMatchObject({ state: 'active', position: { step: 'pause', phase: 'waiting' }, actions: [] });
    expect(iso(b.dueAt)).toBe('2026-12-24T00:00:00.000Z');
  });

  it("at a local time uses the customer's timezone trait, else the journey's zone", () => {
    const j = journey(
      { pause: { type: 'delay', at_local_time: '10:00', next: 'hello' }, hello: send('done'), done: exit },
      { timezone: 'America/New_York' },
    );
    const due = (tz: string | null) => iso(advance(j, startOf(j), ctx({ timezone: () => tz })).dueAt);
    expect(due('Asia/Tokyo')).toBe('2026-01-15T01:00:00.000Z');
    expect(due('Europe/Berlin')).toBe('2026-01-15T09:00:00.000Z');
    expect(due(null)).toBe('2026-01-15T15:00:00.000Z');
    expect(due('Not/A_Zone')).toBe('2026-01-15T15:00:00.000Z');

    const utc = journey({
      pause: { type: 'delay', at_local_time: '10:00', days: ['mon'], next: 'done' },
      done: exit,
    });
    expect(iso(advance(utc, startOf(utc), ctx()).dueAt)).toBe('2026-01-19T10:00:00.000Z');
  });
});

describe('wait_for_event steps', () => {
  const j = journey({
    wait: {
      type: 'wait_for_event',
      event: 'Email Opened',
      timeout: '3d',
      next: 'thanks',
      timeout_next: 'reminder',
    },
    thanks: send('done', 'thanks'),
    reminder: send('done', 'reminder'),
    done: exit,
  });

  it('wait for the event with a timeout', () => {
    const a = advance(j, startOf(j), ctx());
    expect(a).toMatchObject({
      state: 'active',
      position: { step: 'wait', phase: 'waiting', stepsTaken: 1, signal: null },
      dueAt: NOW + 3 * DAY,
      waitingFor: 'Email Opened',
      actions: [],
    });
    expect(outcomes(a)).toEqual(['wait: waiting for Email Opened until 2026-01-18T00:00:00.000Z']);
  });

  it('go to next when the event arrived', () => {
    const waiting = advance(j, startOf(j), ctx()).position;
    const signal = { event: 'Email Opened', messageId: 'm-1', at: NOW + HOUR };
    const a = advance(j, { ...waiting, signal }, ctx({ now: NOW + HOUR }));
    expect(a.state).toBe('completed');
    expect(outcomes(a)).toEqual([
      'wait: event Email Opened arrived',
      'thanks: email thanks queued',
      'done: completed',
    ]);
    expect(a.actions).toMatchObject([{ key: 'e1:thanks:1', template: 'thanks' }]);
  });

  it('go to timeout_next when it did not', () => {
    const waiting = advance(j, startOf(j), ctx()).position;
    const a = advance(j, waiting, ctx({ now: NOW + 3 * DAY }));
    expect(a.state).toBe('completed');
    expect(outcomes(a)).toEqual(['wait: timed out', 'reminder: email reminder queued', 'done: completed']);
    expect(a.actions).toMatchObject([{ key: 'e1:reminder:1', template: 'reminder' }]);
  });
});

describe('condition and branch steps', () => {
  it('a condition takes then or else by evaluating its rule against the profile', () => {
    const j = journey({
      check: {
        type: 'condition',
        rule: { trait: 'plan', op: 'eq', value: 'gold' },
        then: 'gold',
        else: 'other',
      },
      gold: send('done', 'gold'),
      other: send('done', 'other'),
      done: exit,
    });
    const gold = advance(j, startOf(j), ctx({ profile: { traits: { plan: 'gold' } } }));
    expect(outcomes(gold)).toEqual(['check: then', 'gold: email gold queued', 'done: completed']);
    const silver = advance(j, startOf(j), ctx({ profile: { traits: { plan: 'silver' } } }));
    expect(outcomes(silver)).toEqual(['check: else', 'other: email other queued', 'done: completed']);
  });

  it('a branch takes the first branch whose rule holds, else otherwise', () => {
    const j = journey({
      tier: {
        type: 'branch',
        branches: [
          { name: 'vip', rule: { segment: 'seg_vip' }, next: 'vip' },
          { name: 'big', rule: { computed: 'revenue_total', op: 'gte', value: 100 }, next: 'big' },
        ],
        otherwise: 'rest',
      },
      vip: send('done', 'vip'),
      big: send('done', 'big'),
      rest: send('done', 'rest'),
      done: exit,
    });
    const run = (profile: TestProfile) => {
      const a = advance(j, startOf(j), ctx({ profile }));
      return [a.log[0]?.outcome, a.actions.map((x) => (x.kind === 'send' ? x.template : x.kind))];
    };
    // both rules hold: the first one wins
    expect(run({ segments: ['seg_vip'], computed: { revenue_total: 500 } })).toEqual(['branch vip', ['vip']]);
    expect(run({ computed: { revenue_total: 500 } })).toEqual(['branch big', ['big']]);
    expect(run({ computed: { revenue_total: 50 } })).toEqual(['otherwise', ['rest']]);
  });
});

describe('ending', () => {
  it('an exit step completes the entry', () => {
    const j = journey({ done: exit });
    const a = advance(j, startOf(j), ctx());
    expect(a).toEqual({
      state: 'completed',
      position: { step: 'done', phase: 'enter', stepsTaken: 1, signal: null },
      dueAt: null,
      waitingFor: null,
      exitReason: null,
      log: [{ step: 'done', type: 'exit', at: NOW, outcome: 'completed' }],
      actions: [],
      arm: null,
    });
  });

  it('an entry in an exit segment leaves before doing anything, also from a wait', () => {
    const j = journey(
      {
        hello: send('pause'),
        pause: { type: 'delay', duration: '1d', next: 'bye' },
        bye: send('done'),
        done: exit,
      },
      { exit_when: [{ event: 'Unsubscribed' }, { segment: 'seg_churn' }] },
    );
    const churned = ctx({ profile: { segments: ['seg_vip', 'seg_churn'] } });
    const a = advance(j, startOf(j), churned);
    expect(a).toMatchObject({
      state: 'exited',
      exitReason: 'exit criteria: in segment seg_churn',
      dueAt: null,
      actions: [],
    });
    expect(a.log).toEqual([
      { step: 'hello', type: 'send', at: NOW, outcome: 'exited: exit criteria: in segment seg_churn' },
    ]);

    const waiting = advance(j, startOf(j), ctx({ profile: { segments: ['seg_vip'] } }));
    expect(waiting.state).toBe('active');
    const b = advance(j, waiting.position, { ...churned, now: NOW + DAY });
    expect(b).toMatchObject({
      state: 'exited',
      exitReason: 'exit criteria: in segment seg_churn',
      actions: [],
    });
    expect(b.position.step).toBe('pause');
  });

  it('an entry whose profile is gone leaves', () => {
    const j = journey({ hello: send('done'), done: exit });
    const a = advance(j, startOf(j), ctx({ exists: () => false }));
    expect(a).toMatchObject({ state: 'exited', exitReason: 'profile no longer exists', actions: [] });
    expect(a.log).toHaveLength(1);
  });

  it('an entry at a step the version no longer has leaves', () => {
    const j = journey({ hello: send('done'), done: exit });
    const a = advance(j, { step: 'gone', phase: 'waiting', stepsTaken: 4, signal: null }, ctx());
    expect(a).toMatchObject({
      state: 'exited',
      exitReason: 'step "gone" is not in this version',
      actions: [],
      log: [],
    });
  });
});

describe('side effects', () => {
  const j = journey({
    hello: send('tag'),
    tag: { type: 'update_profile', traits: { onboarded: true }, next: 'hook' },
    hook: { type: 'webhook', url: 'https://example.com/hook', body: { a: 1 }, next: 'add' },
    add: { type: 'add_to_list', list: 'vip-list', next: 'remove' },
    remove: { type: 'remove_from_list', list: 'prospects', next: 'pause' },
    pause: { type: 'delay', duration: '1d', next: 'again' },
    again: send('done', 'again'),
    done: exit,
  });

  it('carry the key entry:step:stepsTaken', () => {
    const a = advance(j, startOf(j), ctx());
    expect(a.actions).toEqual([
      {
        kind: 'send',
        key: 'e1:hello:0',
        step: 'hello',
        channel: 'email',
        template: 'welcome',
        priority: 'normal',
        quietHours: 'hold',
      },
      { kind: 'update_profile', key: 'e1:tag:1', step: 'tag', traits: { onboarded: true } },
      { kind: 'webhook', key: 'e1:hook:2', step: 'hook', url: 'https://example.com/hook', body: { a: 1 } },
      { kind: 'list', key: 'e1:add:3', step: 'add', op: 'add', list: 'vip-list' },
      { kind: 'list', key: 'e1:remove:4', step: 'remove', op: 'remove', list: 'prospects' },
    ]);
    expect(a.position).toEqual({ step: 'pause', phase: 'waiting', stepsTaken: 6, signal: null });
    const b = advance(j, a.position, ctx({ now: NOW + DAY }));
    expect(b.actions.map((x) => x.key)).toEqual(['e1:again:6']);
  });

  it('are keyed identically when the same position is advanced again (a re-run after a crash)', () => {
    const a1 = advance(j, startOf(j), ctx());
    const a2 = advance(j, startOf(j), ctx());
    expect(a2).toEqual(a1);
    const resumed = a1.position;
    const b1 = advance(j, resumed, ctx({ now: NOW + DAY }));
    const b2 = advance(j, resumed, ctx({ now: NOW + DAY + 5 * 60_000 }));
    expect(b2.actions).toEqual(b1.actions);
    // another entry gets other keys
    expect(advance(j, startOf(j), ctx({ entryId: 'e2' })).actions.map((x) => x.key)).toEqual([
      'e2:hello:0',
      'e2:tag:1',
      'e2:hook:2',
      'e2:add:3',
      'e2:remove:4',
    ]);
  });

  it('are keyed apart on each turn of a loop', () => {
    const loop = journey({
      check: { type: 'condition', rule: { segment: 'seg_vip' }, then: 'nudge', else: 'done' },
      nudge: send('pause', 'nudge'),
      pause: { type: 'delay', duration: '1d', next: 'check' },
      done: exit,
    });
    const vip = { profile: { segments: ['seg_vip'] } };
    const turn1 = advance(loop, startOf(loop), ctx(vip));
    const turn2 = advance(loop, turn1.position, ctx({ ...vip, now: NOW + DAY }));
    expect(turn1.actions.map((x) => x.key)).toEqual(['e1:nudge:1']);
    expect(turn2.actions.map((x) => x.key)).toEqual(['e1:nudge:4']);
    const last = advance(loop, turn2.position, ctx({ now: NOW + 2 * DAY }));
    expect(last.state).toBe('completed');
    expect(outcomes(last)).toEqual(['check: else', 'done: completed']);
  });
});

describe('split steps', () => {
  const j = journey({
    ab: {
      type: 'split',
      variants: [
        { name: 'A', percent: 45, next: 'a' },
        { name: 'B', percent: 45, next: 'b' },
        { name: 'holdout', percent: 10, control: true, next: 'done' },
      ],
    },
    a: send('done', 'a'),
    b: send('done', 'b'),
    done: exit,
  });
  const variantOf = (entryId: string) => advance(j, startOf(j), ctx({ entryId })).log[0]!.outcome;

  it('reports the variant drawn as the arm, the same one every time for an entry', () => {
    for (let i = 0; i < 50; i++) {
      const a = advance(j, startOf(j), ctx({ entryId: `e${i}` }));
      expect(a.arm).toBe(a.log[0]!.outcome.replace(/^(variant|control) /, ''));
      expect(advance(j, startOf(j), ctx({ entryId: `e${i}` })).arm).toBe(a.arm);
    }
  });

  it('draws uniformly in [0, 1)', () => {
    for (let i = 0; i < 1000; i++) {
      const d = unitDraw(`x${i}`);
      expect(d >= 0 && d < 1, String(d)).toBe(true);
    }
    expect(unitDraw('same')).toBe(unitDraw('same'));
    expect(unitDraw('same')).not.toBe(unitDraw('Same'));
  });

  it('splits 20,000 entries 45/45/10 within four standard deviations', () => {
    const n = 20_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const v = variantOf(`entry-${i}`);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['control holdout', 'variant A', 'variant B']);
    for (const [v, p] of [
      ['variant A', 0.45],
      ['variant B', 0.45],
      ['control holdout', 0.1],
    ] as const) {
      const tolerance = 4 * Math.sqrt(n * p * (1 - p)); // ≈ 281 for 45 %, 170 for 10 %
      expect(Math.abs(counts.get(v)! - n * p), `${v}: ${counts.get(v)}`).toBeLessThan(tolerance);
    }
  });

  it('always puts the same entry in the same variant', () => {
    for (let i = 0; i < 200; i++) {
      const id = `entry-${i}`;
      const first = advance(j, startOf(j), ctx({ entryId: id }));
      const again = advance(j, startOf(j), ctx({ entryId: id, now: NOW + DAY }));
      expect(again.log[0]!.outcome).toBe(first.log[0]!.outcome);
      expect(again.actions).toEqual(first.actions);
    }
  });

  it('sends variants on, and the holdout nothing', () => {
    const seen = new Map<string, string[]>();
    for (let i = 0; i < 200; i++) {
      const a = advance(j, startOf(j), ctx({ entryId: `entry-${i}` }));
      seen.set(
        a.log[0]!.outcome,
        a.actions.map((x) => (x.kind === 'send' ? x.template : x.kind)),
      );
      expect(a.state).toBe('completed');
    }
    expect(seen.get('variant A')).toEqual(['a']);
    expect(seen.get('variant B')).toEqual(['b']);
    expect(seen.get('control holdout')).toEqual([]);
  });
});
