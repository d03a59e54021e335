import { describe, expect, it } from 'vitest';
import { COMPARISON_OPS } from './compare.js';
import { describeRule } from './describe.js';
import { evaluate, explain } from './evaluate.js';
import { parseRule } from './schema.js';
import { seededRandom, testCatalog, testContext, type TestEvent, type TestProfile } from './testing.js';
import type { Explanation, Rule } from './types.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 15, 12);

function rule(json: unknown): Rule {
  const r = parseRule(json, testCatalog({ events: null }), {});
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.rule;
}

function check(json: unknown, profile: TestProfile): boolean {
  const r = rule(json);
  const result = evaluate(r, testContext(profile, NOW));
  expect(explain(r, testContext(profile, NOW)).pass).toBe(result);
  return result;
}

const order = (daysAgo: number, properties: Record<string, unknown> = {}): TestEvent => ({
  name: 'Order Completed',
  at: NOW - daysAgo * DAY,
  properties,
});

describe('evaluate, by kind of condition', () => {
  it('trait', () => {
    const p: TestProfile = { traits: { plan: 'gold', age: '42', address: { city: 'Kyoto' } } };
    expect(check({ trait: 'plan', op: 'eq', value: 'gold' }, p)).toBe(true);
    expect(check({ trait: 'age', op: 'gte', value: 40 }, p)).toBe(true);
    expect(check({ trait: 'address.city', op: 'starts_with', value: 'Kyo' }, p)).toBe(true);
    expect(check({ trait: 'missing', op: 'neq', value: 'x' }, p)).toBe(true);
    expect(check({ trait: 'missing', op: 'eq', value: 'x' }, p)).toBe(false);
    expect(check({ trait: 'plan', op: 'matches', value: '^GO', flags: 'i' }, p)).toBe(true);
  });

  it('computed trait', () => {
    const p: TestProfile = { computed: { revenue_total: 120 } };
    expect(check({ computed: 'revenue_total', op: 'gte', value: 100 }, p)).toBe(true);
    expect(check({ computed: 'order_count', op: 'exists' }, p)).toBe(false);
  });

  it('event count, with filters, count operators and windows', () => {
    const p: TestProfile = {
      events: [
        order(1, { category: 'shoes' }),
        order(10, { category: 'shoes' }),
        order(40, { category: 'shoes' }),
      ],
    };
    const shoes = { event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: 'shoes' }] };
    expect(check({ ...shoes, count: { op: 'gte', value: 2 }, within: { days: 30 } }, p)).toBe(true);
    expect(check({ ...shoes, count: { op: 'gte', value: 3 }, within: { days: 30 } }, p)).toBe(false);
    expect(check({ ...shoes, count: { op: 'eq', value: 3 } }, p)).toBe(true);
    expect(check({ ...shoes, count: { op: 'lt', value: 3 } }, p)).toBe(false);
    expect(check({ ...shoes, count: { op: 'lte', value: 3 } }, p)).toBe(true);
    expect(check({ ...shoes, count: { op: 'gt', value: 0 }, within: { days: 1 } }, p)).toBe(false);
    const jan = { from: NOW - 15 * DAY, to: NOW - 5 * DAY };
    expect(check({ ...shoes, count: { op: 'eq', value: 1 }, within: jan }, p)).toBe(true);
    expect(
      check({ event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: 'hats' }] }, p),
    ).toBe(false);
    expect(check({ event: 'Signed Up', performed: false }, p)).toBe(true);
    expect(check({ event: 'Order Completed', performed: false, within: { days: 5 } }, p)).toBe(false);
    expect(check({ event: 'Order Completed', type: 'page' }, p)).toBe(false);
  });

  it('first / last event time, and no such event', () => {
    const p: TestProfile = { events: [order(200), order(3)] };
    expect(check({ event: 'Order Completed', first: { op: 'more_than_days_ago', value: 100 } }, p)).toBe(
      true,
    );
    expect(check({ event: 'Order Completed', last: { op: 'within_last_days', value: 7 } }, p)).toBe(true);
    expect(check({ event: 'Order Completed', first: { op: 'after', value: NOW - 100 * DAY } }, p)).toBe(
      false,
    );
    expect(check({ event: 'Order Completed', last: { op: 'exists' } }, p)).toBe(true);
    expect(check({ event: 'Signed Up', last: { op: 'not_exists' } }, p)).toBe(true);
    expect(check({ event: 'Signed Up', last: { op: 'exists' } }, p)).toBe(false);
    expect(check({ event: 'Signed Up', first: { op: 'before', value: NOW } }, p)).toBe(false);
  });

  it('stage and previous stage', () => {
    const p: TestProfile = { stage: { current: 'loyal', previous: 'dormant' } };
    expect(check({ stage: 'loyal' }, p)).toBe(true);
    expect(check({ stage: { in: ['active', 'new'] } }, p)).toBe(false);
    expect(check({ stage_was: { in: ['dormant', 'new'] } }, p)).toBe(true);
    expect(check({ stage_was: 'loyal' }, p)).toBe(false);
    expect(check({ stage_was: 'loyal' }, { stage: { current: null, previous: null } })).toBe(false);
  });

  it('segment membership, identities and consent', () => {
    const p: TestProfile = { segments: ['seg_vip'], identities: ['email'], consents: ['marketing_email'] };
    expect(check({ segment: 'seg_vip' }, p)).toBe(true);
    expect(check({ segment: 'seg_vip', member: false }, p)).toBe(false);
    expect(check({ segment: 'seg_churn', member: false }, p)).toBe(true);
    expect(check({ has: 'email' }, p)).toBe(true);
    expect(check({ has: 'phone' }, p)).toBe(false);
    expect(check({ consent: 'marketing_email' }, p)).toBe(true);
    expect(check({ consent: 'marketing_sms' }, p)).toBe(false);
  });

  it('and / or / not, short-circuiting in evaluate but not in explain', () => {
    const r = rule({ and: [{ has: 'phone' }, { has: 'email' }, { trait: 'a', op: 'exists' }] });
    const ctx = testContext({}, NOW);
    expect(evaluate(r, ctx)).toBe(false);
    expect(ctx.calls).toBe(1);
    const full = testContext({}, NOW);
    expect(explain(r, full).children).toHaveLength(3);
    expect(full.calls).toBe(3);

    const any = rule({ or: [{ not: { has: 'phone' } }, { has: 'email' }] });
    const ctx2 = testContext({}, NOW);
    expect(evaluate(any, ctx2)).toBe(true);
    expect(ctx2.calls).toBe(1);
  });
});

describe('explain', () => {
  const profile: TestProfile = {
    traits: { plan: 'silver' },
    events: [order(2, { category: 'shoes' }), order(400, { category: 'hats' })],
    stage: { current: 'active', previous: 'new' },
    identities: ['email'],
  };

  it('says each condition in plain English with what the profile has', () => {
    const e = explain(
      rule({
        and: [
          { trait: 'plan', op: 'eq', value: 'gold' },
          {
            event: 'Order Completed',
            where: [{ property: 'category', op: 'eq', value: 'shoes' }],
            count: { op: 'gte', value: 2 },
            within: { days: 30 },
          },
          { event: 'Order Completed', first: { op: 'before', value: '2026-01-01' } },
          { or: [{ stage: 'loyal' }, { stage_was: { in: ['new', 'dormant'] } }] },
          { not: { has: 'email' } },
        ],
      }),
      testContext(profile, NOW),
    );
    expect(e.pass).toBe(false);
    expect(e.children!.map((c) => [c.at, c.pass, c.condition, c.actual])).toEqual([
      ['rule.and[0]', false, 'trait "plan" equals "gold"', 'silver'],
      [
        'rule.and[1]',
        false,
        'performed track "Order Completed" where category equals "shoes" at least 2 times in the last 30 days',
        1,
      ],
      [
        'rule.and[2]',
        true,
        'first "Order Completed" before 2026-01-01T00:00:00.000Z',
        new Date(NOW - 400 * DAY).toISOString(),
      ],
      [
        'rule.and[3]',
        true,
        'current stage is "loyal" or previous stage is one of "new", "dormant"',
        undefined,
      ],
      ['rule.and[4]', false, 'not has email', undefined],
    ]);
    expect(e.children![3]!.children!.map((c) => c.actual)).toEqual(['active', 'new']);
    expect(e.children![4]!.children![0]).toMatchObject({ kind: 'identity', pass: true, actual: true });
    expect(e.condition).toBe(
      'trait "plan" equals "gold" and performed track "Order Completed" where category equals "shoes" at least 2 times in the last 30 days and first "Order Completed" before 2026-01-01T00:00:00.000Z and (current stage is "loyal" or previous stage is one of "new", "dormant") and not has email',
    );
    expect('actual' in e).toBe(false);
  });

  it('shows missing event times as null and counts as numbers', () => {
    const e = explain(rule({ event: 'Signed Up', last: { op: 'not_exists' } }), testContext(profile, NOW));
    expect(e).toEqual({
      at: 'rule',
      kind: 'event_time',
      pass: true,
      condition: 'has never performed "Signed Up"',
      actual: null,
    });
  });

  it.each<[unknown, string]>([
    [
      { event: 'Signed Up', performed: false, within: { days: 7 } },
      'never performed track "Signed Up" in the last 7 days',
    ],
    [{ event: 'Signed Up', within: { days: 1 } }, 'performed track "Signed Up" at least once today'],
    [
      { event: 'Pricing', type: 'page', count: { op: 'lt', value: 3 } },
      'performed page "Pricing" fewer than 3 times',
    ],
    [
      { event: 'Signed Up', within: { from: '2026-01-01', to: '2026-02-01' } },
      'performed track "Signed Up" at least once between 2026-01-01T00:00:00.000Z and 2026-02-01T00:00:00.000Z',
    ],
    [
      { event: 'Pricing', type: 'page', last: { op: 'within_last_days', value: 1 } },
      'last page "Pricing" within the last 1 day',
    ],
    [
      { computed: 'revenue_total', op: 'in', value: [1, 2, 3, 4, 5, 6, 7] },
      'computed trait "revenue_total" is one of 1, 2, 3, 4, 5 (and 2 more)',
    ],
    [
      { trait: 'email', op: 'matches', value: '@example\\.com$', flags: 'i' },
      'trait "email" matches /@example\\.com$/i',
    ],
    [{ trait: 'seen', op: 'more_than_days_ago', value: 30 }, 'trait "seen" more than 30 days ago'],
    [{ segment: 'seg_vip', member: false }, 'is not in segment "seg_vip"'],
    [{ consent: 'marketing_email' }, 'consented to "marketing_email"'],
    [{ not: { or: [{ has: 'email' }, { has: 'phone' }] } }, 'not (has email or has phone)'],
    [{ and: [{ has: 'email' }] }, 'has email'],
  ])('%j', (json, text) => {
    expect(explain(rule(json), testContext(profile, NOW)).condition).toBe(text);
    expect(describeRule(rule(json))).toBe(text);
  });
});

/** Random rules in the user syntax (so the parser is exercised too) and random profiles. */
function generator(seed: number) {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const scalars = ['gold', 'silver', 'shoes', 30, '30', 0, true, false, null];
  const time = () => NOW - int(400) * DAY + int(DAY);

  const comparison = (): Record<string, unknown> => {
    const op = pick(COMPARISON_OPS);
    switch (op) {
      case 'exists':
      case 'not_exists':
        return { op };
      case 'eq':
      case 'neq':
        return { op, value: pick(scalars) };
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return { op, value: int(60) };
      case 'in':
      case 'not_in':
        return { op, value: scalars.filter(() => rand() < 0.3).concat(pick(scalars)) };
      case 'contains':
      case 'not_contains':
      case 'starts_with':
      case 'ends_with':
        return { op, value: pick(['go', 'ld', 'sh', 'a', '3']) };
      case 'matches':
        return {
          op,
          value: pick(['^g', 'o{1,2}', '\\d+', '(ol|il)d$']),
          ...(rand() < 0.5 && { flags: 'i' }),
        };
      case 'before':
      case 'after':
        return { op, value: rand() < 0.5 ? time() : new Date(time()).toISOString() };
      case 'within_last_days':
      case 'more_than_days_ago':
        return { op, value: 1 + int(200) };
    }
  };
  const timeComparison = (): Record<string, unknown> => {
    let c = comparison();
    while (
      !['before', 'after', 'within_last_days', 'more_than_days_ago', 'exists', 'not_exists'].includes(
        c.op as string,
      )
    ) {
      c = comparison();
    }
    return c;
  };
  const event = (): Record<string, unknown> => ({
    event: pick(['Order Completed', 'Signed Up']),
    ...(rand() < 0.2 && { type: pick(['track', 'page']) }),
    ...(rand() < 0.5 && {
      where: Array.from({ length: 1 + int(2) }, () => ({
        property: pick(['category', 'price', 'x.y']),
        ...comparison(),
      })),
    }),
  });

  const ruleJson = (depth: number): unknown => {
    const r = rand();
    if (depth > 0 && r < 0.3) {
      return { [pick(['and', 'or'])]: Array.from({ length: 1 + int(4) }, () => ruleJson(depth - 1)) };
    }
    if (depth > 0 && r < 0.4) return { not: ruleJson(depth - 1) };
    switch (int(10)) {
      case 0:
        return { trait: pick(['plan', 'age', 'tags', 'signup', 'address.city', 'missing']), ...comparison() };
      case 1:
        return { computed: pick(['revenue_total', 'order_count']), ...comparison() };
      case 2: {
        const count = pick(['gte', 'gt', 'lte', 'lt', 'eq'] as const);
        return {
          ...event(),
          ...(rand() < 0.7 && { count: { op: count, value: (count === 'lt' ? 1 : 0) + int(4) } }),
          ...(rand() < 0.5 && {
            within: rand() < 0.7 ? { days: 1 + int(120) } : { from: NOW - 300 * DAY, to: NOW - 20 * DAY },
          }),
        };
      }
      case 3:
        return {
          ...event(),
          performed: rand() < 0.5,
          ...(rand() < 0.5 && { within: { days: 1 + int(60) } }),
        };
      case 4:
        return { ...event(), [pick(['first', 'last'])]: timeComparison() };
      case 5:
        return rand() < 0.5
          ? { stage: pick(['new', 'active', 'loyal']) }
          : { stage_was: { in: ['dormant', pick(['new', 'loyal'])] } };
      case 6:
        return { segment: pick(['seg_vip', 'seg_churn']), ...(rand() < 0.5 && { member: rand() < 0.5 }) };
      case 7:
        return { has: pick(['email', 'phone', 'user_id']) };
      case 8:
        return { consent: pick(['marketing_email', 'sms']) };
      default:
        return { ...event() };
    }
  };

  const profile = (): TestProfile => {
    const maybe = <T>(v: T): T | undefined => (rand() < 0.7 ? v : undefined);
    return {
      traits: {
        plan: maybe(pick(scalars)),
        age: maybe(pick([int(60), String(int(60)), 'n/a'])),
        tags: maybe(['gold', 'sh']),
        signup: maybe(rand() < 0.5 ? time() : new Date(time()).toISOString()),
        address: maybe({ city: pick(['Kyoto', 'gold', '30']) }),
      },
      computed: { revenue_total: maybe(int(60)), order_count: maybe(String(int(5))) },
      identities: (['email', 'phone', 'user_id'] as const).filter(() => rand() < 0.5),
      consents: ['marketing_email', 'sms'].filter(() => rand() < 0.5),
      events: Array.from({ length: int(8) }, () => ({
        type: rand() < 0.8 ? 'track' : 'page',
        name: pick(['Order Completed', 'Signed Up']),
        at: time(),
        properties: { category: pick(scalars), price: maybe(int(60)), x: { y: pick(scalars) } },
      })),
      stage: {
        current: maybe(pick(['new', 'active', 'loyal'])) ?? null,
        previous: maybe(pick(['new', 'dormant'])) ?? null,
      },
      segments: ['seg_vip', 'seg_churn'].filter(() => rand() < 0.5),
    };
  };

  return { ruleJson, profile };
}

/** Every composite node's pass follows from its children's; leaves say what they saw. */
function consistent(e: Explanation): boolean {
  const kids = e.children ?? [];
  if (e.kind === 'and') return kids.every(consistent) && e.pass === kids.every((c) => c.pass);
  if (e.kind === 'or') return kids.every(consistent) && e.pass === kids.some((c) => c.pass);
  if (e.kind === 'not') return kids.length === 1 && consistent(kids[0]!) && e.pass === !kids[0]!.pass;
  return kids.length === 0 && 'actual' in e;
}

describe('explain(...).pass equals evaluate(...)', () => {
  it('on 2,000 generated rules, each against 10 generated profiles', () => {
    const gen = generator(2026);
    let passes = 0;
    let checks = 0;
    for (let i = 0; i < 2000; i++) {
      const json = gen.ruleJson(4);
      const parsed = parseRule(json, testCatalog({ events: null }), { now: NOW });
      if (!parsed.ok)
        throw new Error(`generated rule rejected: ${JSON.stringify({ json, issues: parsed.issues })}`);
      for (let k = 0; k < 10; k++) {
        const p = gen.profile();
        const result = evaluate(parsed.rule, testContext(p, NOW));
        const e = explain(parsed.rule, testContext(p, NOW));
        expect(e.pass, JSON.stringify({ json, p })).toBe(result);
        expect(consistent(e)).toBe(true);
        if (result) passes++;
        checks++;
      }
    }
    // The generator must exercise both answers, or the property says little.
    expect(passes / checks).toBeGreaterThan(0.2);
    expect(passes / checks).toBeLessThan(0.8);
  });
});
