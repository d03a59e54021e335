import { describe, expect, it } from 'vitest';
import { parseRule, type ParseResult } from './schema.js';
import { testCatalog } from './testing.js';
import type { Rule, RuleCatalog } from './types.js';

const NOW = Date.UTC(2026, 5, 15, 12);

function parsed(json: unknown, catalog: RuleCatalog = testCatalog()): Rule {
  const r = parseRule(json, catalog, { now: NOW });
  if (!r.ok) throw new Error(`expected a rule, got ${JSON.stringify(r.issues)}`);
  return r.rule;
}

function issues(json: unknown, catalog: RuleCatalog = testCatalog(), now: number | undefined = NOW) {
  const r: ParseResult = parseRule(json, catalog, now === undefined ? {} : { now });
  if (r.ok) throw new Error('expected issues, got a rule');
  return r.issues;
}

/** The one issue a rule has, as `field: rule`. */
function issue(json: unknown, catalog?: RuleCatalog): string {
  const list = issues(json, catalog);
  expect(list, JSON.stringify(list)).toHaveLength(1);
  return `${list[0]!.field}: ${list[0]!.rule}`;
}

describe('parseRule accepts', () => {
  it('every kind of condition, each node keeping its source path', () => {
    const rule = parsed({
      and: [
        { trait: 'plan', op: 'eq', value: 'gold' },
        { computed: 'revenue_total', op: 'gte', value: 100 },
        {
          event: 'Order Completed',
          where: [{ property: 'category', op: 'eq', value: 'shoes' }],
          count: { op: 'gte', value: 2 },
          within: { days: 30 },
        },
        { stage: 'loyal' },
        { not: { segment: 'seg_churn' } },
        { has: 'email' },
        { consent: 'marketing_email' },
      ],
    });
    expect(rule).toEqual({
      kind: 'and',
      at: 'rule',
      rules: [
        { kind: 'trait', at: 'rule.and[0]', path: 'plan', cmp: { op: 'eq', value: 'gold' } },
        { kind: 'computed', at: 'rule.and[1]', name: 'revenue_total', cmp: { op: 'gte', value: 100 } },
        {
          kind: 'event_count',
          at: 'rule.and[2]',
          event: {
            type: 'track',
            name: 'Order Completed',
            where: [{ path: 'category', cmp: { op: 'eq', value: 'shoes' } }],
          },
          window: { kind: 'last_days', days: 30 },
          count: { op: 'gte', value: 2 },
        },
        { kind: 'stage', at: 'rule.and[3]', field: 'current', anyOf: ['loyal'] },
        {
          kind: 'not',
          at: 'rule.and[4]',
          rule: { kind: 'segment', at: 'rule.and[4].not', id: 'seg_churn', member: true },
        },
        { kind: 'identity', at: 'rule.and[5]', identity: 'email' },
        { kind: 'consent', at: 'rule.and[6]', purpose: 'marketing_email' },
      ],
    });
  });

  it('event defaults: type track, no filters, at least once, all time', () => {
    expect(parsed({ event: 'Signed Up' })).toEqual({
      kind: 'event_count',
      at: 'rule',
      event: { type: 'track', name: 'Signed Up', where: [] },
      window: { kind: 'all' },
      count: { op: 'gte', value: 1 },
    });
    expect(parsed({ event: 'Pricing', type: 'page', performed: true })).toMatchObject({
      event: { type: 'page', name: 'Pricing' },
      count: { op: 'gte', value: 1 },
    });
  });

  it('"performed": false as count eq 0, with a window', () => {
    expect(parsed({ event: 'Signed Up', performed: false, within: { days: 7 } })).toMatchObject({
      count: { op: 'eq', value: 0 },
      window: { kind: 'last_days', days: 7 },
    });
  });

  it('first / last as event_time over all time', () => {
    expect(parsed({ event: 'Order Completed', first: { op: 'before', value: '2026-01-01' } })).toEqual({
      kind: 'event_time',
      at: 'rule',
      event: { type: 'track', name: 'Order Completed', where: [] },
      which: 'first',
      cmp: { op: 'before', value: Date.UTC(2026, 0, 1) },
    });
    expect(parsed({ event: 'Order Completed', last: { op: 'within_last_days', value: 30 } })).toMatchObject({
      which: 'last',
      cmp: { op: 'within_last_days', value: 30 },
    });
    expect(parsed({ event: 'Order Completed', last: { op: 'not_exists' } })).toMatchObject({
      cmp: { op: 'not_exists' },
    });
  });

  it('dates: a date is 00:00 UTC, a date-time carries its zone, numbers are epoch ms', () => {
    const at = (value: unknown) =>
      (parsed({ trait: 'x', op: 'after', value }) as { cmp: { value: number } }).cmp.value;
    expect(at('2026-01-31')).toBe(Date.UTC(2026, 0, 31));
    expect(at('2026-01-31T09:00:00+09:00')).toBe(Date.UTC(2026, 0, 31, 0));
    expect(at('2026-01-31T09:30Z')).toBe(Date.UTC(2026, 0, 31, 9, 30));
    expect(at('2026-01-31T09:30:15.5-05:00')).toBe(Date.UTC(2026, 0, 31, 14, 30, 15, 500));
    expect(at('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(at(1767225600000)).toBe(1767225600000);
    expect(
      parsed({ event: 'Signed Up', within: { from: '2026-01-01', to: '2026-02-01T00:00:00Z' } }),
    ).toMatchObject({ window: { kind: 'between', from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 1, 1) } });
  });

  it('matches with a compiled regex and optional "i" flag', () => {
    const r = parsed({ trait: 'email', op: 'matches', value: '@EXAMPLE\\.com$', flags: 'i' });
    expect(r.kind === 'trait' && r.cmp.op === 'matches' && r.cmp.regex.test('a@example.com')).toBe(true);
  });

  it('stage lists (deduplicated) and stage_was', () => {
    expect(parsed({ stage: { in: ['loyal', 'active', 'loyal'] } })).toEqual({
      kind: 'stage',
      at: 'rule',
      field: 'current',
      anyOf: ['loyal', 'active'],
    });
    expect(parsed({ stage_was: 'dormant' })).toMatchObject({ field: 'previous', anyOf: ['dormant'] });
  });

  it('segment membership and non-membership', () => {
    expect(parsed({ segment: 'seg_vip', member: false })).toEqual({
      kind: 'segment',
      at: 'rule',
      id: 'seg_vip',
      member: false,
    });
  });

  it('Unicode names and values', () => {
    const rule = parsed({
      or: [
        { event: '購入完了', where: [{ property: '商品.カテゴリ', op: 'eq', value: '靴' }] },
        { trait: '会員.ランク', op: 'in', value: ['ゴールド', '😀'] },
        { stage: '常連' },
      ],
    });
    expect(rule.kind === 'or' && rule.rules.length).toBe(3);
  });

  it('any event or trait when the catalog does not know them', () => {
    const open = testCatalog({ events: null, traitKeys: null });
    expect(parsed({ event: 'Anything', type: 'screen' }, open)).toMatchObject({ event: { type: 'screen' } });
    expect(parsed({ trait: 'anything.at.all', op: 'exists' }, open)).toMatchObject({
      path: 'anything.at.all',
    });
  });
});

describe('parseRule rejects, naming the field', () => {
  it.each<[string, unknown, string]>([
    ['a non-object', 'plan = gold', 'rule: must be a condition object'],
    ['an array', [], 'rule: must be a condition object'],
    ['no discriminating key', { op: 'eq' }, 'rule: must have one of the keys and, or, not, trait'],
    [
      'two discriminating keys',
      { trait: 'a', event: 'b' },
      'rule: has "trait" and "event"; a condition has exactly one',
    ],
    ['an unknown key', { trait: 'plan', op: 'eq', value: 'gold', valu: 1 }, 'rule.valu: unknown key "valu"'],
    [
      'a non-identifier unknown key',
      { has: 'email', 'the key': 1 },
      'rule["the key"]: unknown key "the key"',
    ],
    [
      '__proto__ as a key',
      JSON.parse('{"has":"email","__proto__":1}'),
      'rule.__proto__: unknown key "__proto__"',
    ],
    ['and that is not an array', { and: {} }, 'rule.and: must be a non-empty array of conditions'],
    ['an empty or', { or: [] }, 'rule.or: must be a non-empty array of conditions'],
    ['a non-string trait', { trait: 5, op: 'exists' }, 'rule.trait: must be a string'],
    ['an empty path part', { trait: 'a..b', op: 'exists' }, 'rule.trait: must be a name or a dotted path'],
    ['an unknown op', { trait: 'plan', op: 'equals', value: 'gold' }, 'rule.op: must be one of eq, neq'],
    ['a missing value', { trait: 'plan', op: 'eq' }, 'rule.value: is required by op "eq"'],
    [
      'an object for eq',
      { trait: 'plan', op: 'eq', value: {} },
      'rule.value: must be a string, number, boolean or null',
    ],
    ['a string for gt', { trait: 'age', op: 'gt', value: '18' }, 'rule.value: must be a number'],
    ['an empty in', { trait: 'plan', op: 'in', value: [] }, 'rule.value: must be a non-empty array'],
    [
      'a huge in',
      { trait: 'n', op: 'in', value: Array.from({ length: 1001 }, (_, i) => i) },
      'rule.value: must have at most 1000 values',
    ],
    [
      'an object inside in',
      { trait: 'plan', op: 'not_in', value: ['a', { b: 1 }] },
      'rule.value[1]: must be a string',
    ],
    [
      'a value for exists',
      { trait: 'plan', op: 'exists', value: true },
      'rule.value: op "exists" takes no value',
    ],
    ['an empty contains', { trait: 'tags', op: 'contains', value: '' }, 'rule.value: must not be empty'],
    [
      'a long string',
      { trait: 'plan', op: 'eq', value: 'x'.repeat(1001) },
      'rule.value: must be at most 1000 characters',
    ],
    [
      'flags without matches',
      { trait: 'plan', op: 'eq', value: 'a', flags: 'i' },
      'rule.flags: only applies to op "matches"',
    ],
    [
      'flags other than i',
      { trait: 'email', op: 'matches', value: 'a', flags: 'g' },
      'rule.flags: must be "i"',
    ],
    ['an unsafe regex', { trait: 'email', op: 'matches', value: '(a+)+$' }, 'rule.value: nested quantifiers'],
    [
      'an invalid regex',
      { trait: 'email', op: 'matches', value: '[a-' },
      'rule.value: not a valid regular expression',
    ],
    [
      'zero days',
      { trait: 'seen', op: 'within_last_days', value: 0 },
      'rule.value: must be a whole number of days from 1 to 3650',
    ],
    [
      'fractional days',
      { trait: 'seen', op: 'more_than_days_ago', value: 1.5 },
      'rule.value: must be a whole number of days',
    ],
    [
      'February 30',
      { trait: 'd', op: 'before', value: '2026-02-30' },
      'rule.value: 2026-02-30 is not a calendar date',
    ],
    [
      'a zone-less date-time',
      { trait: 'd', op: 'before', value: '2026-01-01T10:00' },
      'rule.value: must be an ISO-8601 date',
    ],
    [
      'hour 24',
      { trait: 'd', op: 'before', value: '2026-01-01T24:00Z' },
      'rule.value: 2026-01-01T24:00Z is not a valid time of day',
    ],
    [
      'epoch seconds',
      { trait: 'd', op: 'after', value: 1767225600 },
      'rule.value: looks like seconds since 1970',
    ],
    [
      'a date before 1900',
      { trait: 'd', op: 'after', value: '1899-12-31' },
      'rule.value: must not be before 1900-01-01',
    ],
    [
      'a date centuries ahead',
      { trait: 'd', op: 'after', value: '2206-01-01' },
      'rule.value: must not be more than 100 years from now',
    ],
    ['a bad has', { has: 'fax' }, 'rule.has: must be one of user_id, email, phone, anonymous_id, push_token'],
    ['a bad consent purpose', { consent: 'Marketing Email' }, 'rule.consent: must be a consent purpose'],
    ['a non-boolean member', { segment: 'seg_vip', member: 'no' }, 'rule.member: must be true or false'],
  ])('%s', (_name, json, expected) => {
    expect(issue(json)).toContain(expected);
  });

  it.each<[string, unknown, string]>([
    [
      'an unknown event',
      { event: 'Order Placed' },
      'rule.event: unknown event "Order Placed" (never received in this workspace)',
    ],
    [
      'an event of another type',
      { event: 'Pricing' },
      'rule.event: unknown event "Pricing" (never received in this workspace)',
    ],
    [
      'an unknown page',
      { event: 'Home', type: 'page' },
      'rule.event: unknown page event "Home" (never received in this workspace)',
    ],
    [
      'an unknown event type',
      { event: 'Signed Up', type: 'identify' },
      'rule.type: must be one of track, page, screen',
    ],
    [
      'an unknown computed trait',
      { computed: 'ltv', op: 'gt', value: 1 },
      'rule.computed: unknown computed trait "ltv"',
    ],
    ['an unknown stage', { stage: 'vip' }, 'rule.stage: unknown stage "vip"'],
    [
      'an unknown stage in a list',
      { stage_was: { in: ['loyal', 'gone'] } },
      'rule.stage_was.in[1]: unknown stage "gone"',
    ],
    [
      'an empty stage list',
      { stage: { in: [] } },
      'rule.stage: must be a stage name or {"in": [stage names]}',
    ],
    [
      'an unknown key in a stage list',
      { stage: { in: ['loyal'], not: true } },
      'rule.stage.not: unknown key "not"',
    ],
    ['an unknown segment', { segment: 'seg_nope' }, 'rule.segment: unknown segment "seg_nope"'],
  ])('%s', (_name, json, expected) => {
    expect(issue(json)).toContain(expected);
  });

  it('an unknown top-level trait key when the catalog knows them', () => {
    const catalog = testCatalog({ traitKeys: new Set(['plan', 'address']) });
    expect(parsed({ trait: 'address.city', op: 'eq', value: 'Kyoto' }, catalog)).toMatchObject({
      path: 'address.city',
    });
    expect(issue({ trait: 'adress.city', op: 'eq', value: 'Kyoto' }, catalog)).toBe(
      'rule.trait: unknown trait "adress" (no profile in this workspace has it)',
    );
  });

  describe('event conditions', () => {
    const ev = (extra: object) => ({
      and: [{ has: 'email' }, { has: 'phone' }, { event: 'Signed Up', ...extra }],
    });
    it.each<[string, object, string]>([
      [
        'zero days',
        { within: { days: 0 } },
        'rule.and[2].within.days: must be a whole number of days from 1 to 3650',
      ],
      [
        'too many days',
        { within: { days: 3651 } },
        'rule.and[2].within.days: must be a whole number of days',
      ],
      [
        'days and from',
        { within: { days: 3, from: '2026-01-01' } },
        'rule.and[2].within: use either "days" or "from"/"to"',
      ],
      [
        'from after to',
        { within: { from: '2026-02-01', to: '2026-01-01' } },
        'rule.and[2].within.to: must be after "from"',
      ],
      [
        'from equal to',
        { within: { from: '2026-01-01', to: '2026-01-01' } },
        'rule.and[2].within.to: must be after "from"',
      ],
      [
        'from without to',
        { within: { from: '2026-01-01' } },
        'rule.and[2].within.to: is required with "from"',
      ],
      [
        'an empty within',
        { within: {} },
        'rule.and[2].within: must be {"days": N} or {"from": date, "to": date}',
      ],
      ['weeks', { within: { weeks: 2, days: 14 } }, 'rule.and[2].within.weeks: unknown key "weeks"'],
      ['count lt 0', { count: { op: 'lt', value: 0 } }, 'rule.and[2].count.value: a count is never below 0'],
      [
        'a negative count',
        { count: { op: 'lte', value: -1 } },
        'rule.and[2].count.value: must be a whole number from 0',
      ],
      [
        'a fractional count',
        { count: { op: 'gte', value: 1.5 } },
        'rule.and[2].count.value: must be a whole number',
      ],
      [
        'a count op',
        { count: { op: 'neq', value: 1 } },
        'rule.and[2].count.op: must be one of gte, gt, lte, lt, eq',
      ],
      ['a bare count', { count: 2 }, 'rule.and[2].count: must be an object like {"op": "gte", "value": 2}'],
      [
        'performed with count',
        { performed: false, count: { op: 'gte', value: 1 } },
        'rule.and[2].performed: cannot be combined with "count"',
      ],
      ['a non-boolean performed', { performed: 'no' }, 'rule.and[2].performed: must be true or false'],
      [
        'first with count',
        { first: { op: 'exists' }, count: { op: 'gte', value: 1 } },
        'rule.and[2].count: cannot be combined with "first"',
      ],
      [
        'last with within',
        { last: { op: 'exists' }, within: { days: 3 } },
        'rule.and[2].within: cannot be combined with "last"',
      ],
      [
        'first and last',
        { first: { op: 'exists' }, last: { op: 'exists' } },
        'rule.and[2].last: cannot be combined with "first"',
      ],
      [
        'first with a value op',
        { first: { op: 'eq', value: 1 } },
        'rule.and[2].first.op: must be one of before, after',
      ],
      ['a string first', { first: '2026-01-01' }, 'rule.and[2].first: must be an object like'],
      [
        'an unknown key in first',
        { first: { op: 'exists', when: 1 } },
        'rule.and[2].first.when: unknown key "when"',
      ],
      [
        'where not an array',
        { where: { property: 'a', op: 'exists' } },
        'rule.and[2].where: must be an array of property filters',
      ],
      [
        'eleven filters',
        { where: Array.from({ length: 11 }, () => ({ property: 'a', op: 'exists' })) },
        'rule.and[2].where: must have at most 10 property filters',
      ],
      [
        'a filter without property',
        { where: [{ op: 'exists' }] },
        'rule.and[2].where[0].property: must be a string',
      ],
      [
        'an unknown filter key',
        { where: [{ property: 'a', op: 'exists', path: 'b' }] },
        'rule.and[2].where[0].path: unknown key "path"',
      ],
      [
        'an unsafe filter regex',
        { where: [{ property: 'a', op: 'matches', value: '(x*)*y' }] },
        'rule.and[2].where[0].value: nested quantifiers',
      ],
    ])('%s', (_name, extra, expected) => {
      expect(issue(ev(extra))).toContain(expected);
    });
  });

  it('collects every issue, once each, without cascading to the parents', () => {
    const list = issues({
      and: [
        { trait: 'plan', op: 'eq' },
        { or: [{ stage: 'vip' }, { has: 'email' }, 42] },
        { event: 'Nope', within: { days: 0 }, colour: 'red' },
        { not: { consent: 'OK' } },
      ],
    });
    expect(list).toEqual([
      { field: 'rule.and[0].value', rule: 'is required by op "eq"' },
      { field: 'rule.and[1].or[0].stage', rule: 'unknown stage "vip"' },
      { field: 'rule.and[1].or[2]', rule: expect.stringContaining('must be a condition object') as string },
      { field: 'rule.and[2].colour', rule: expect.stringContaining('unknown key "colour"') as string },
      { field: 'rule.and[2].event', rule: 'unknown event "Nope" (never received in this workspace)' },
      { field: 'rule.and[2].within.days', rule: expect.stringContaining('whole number of days') as string },
      { field: 'rule.and[3].not.consent', rule: expect.stringContaining('consent purpose') as string },
    ]);
  });

  it('nesting deeper than 12 levels, reported once at the first node too deep', () => {
    let json: unknown = { has: 'email' };
    for (let i = 0; i < 12; i++) json = { not: json };
    expect(issue(json)).toBe(`rule${'.not'.repeat(12)}: conditions may be nested at most 12 levels deep`);
    json = { has: 'email' };
    for (let i = 0; i < 11; i++) json = { not: json };
    expect(parseRule(json, testCatalog(), {}).ok).toBe(true);
    let inner: unknown = { has: 'email' };
    for (let i = 0; i < 10; i++) inner = { not: inner };
    const wide = { and: [inner, inner, { not: inner }, { not: inner }] };
    expect(issues(wide)).toEqual([
      { field: `rule.and[2]${'.not'.repeat(11)}`, rule: 'conditions may be nested at most 12 levels deep' },
    ]);
  });

  it('more than 300 conditions in total, or in one list', () => {
    const leaf = { has: 'email' };
    const twenty = { and: Array.from({ length: 19 }, () => leaf) };
    expect(parseRule({ and: Array.from({ length: 14 }, () => twenty) }, testCatalog(), {}).ok).toBe(true); // 281
    expect(issue({ and: Array.from({ length: 16 }, () => twenty) })).toBe(
      'rule: a rule may have at most 300 conditions',
    );
    expect(issue({ or: Array.from({ length: 301 }, () => leaf) })).toBe(
      'rule.or: must have at most 300 conditions',
    );
  });

  it('lists at most 100 issues, then says how many more there are', () => {
    const list = issues({ trait: 'plan', op: 'in', value: Array.from({ length: 250 }, () => ({})) });
    expect(list).toHaveLength(101);
    expect(list[99]).toEqual({ field: 'rule.value[99]', rule: 'must be a string, number, boolean or null' });
    expect(list[100]).toEqual({ field: 'rule', rule: '150 more issues not listed' });
  });

  it('dates far ahead only when a clock is given', () => {
    expect(parseRule({ trait: 'd', op: 'after', value: '2206-01-01' }, testCatalog(), {}).ok).toBe(true);
    expect(issues({ trait: 'd', op: 'after', value: '2206-01-01' }, testCatalog(), NOW)).toHaveLength(1);
  });

  it('never throws on arbitrary JSON', () => {
    const samples: unknown[] = [null, 0, true, 'x', [], {}, { and: [null] }, { not: [] }, { event: null }];
    samples.push({ event: 'Signed Up', where: [null, 1, 'a'], count: null, within: null, first: null });
    samples.push(
      { stage: null },
      { stage: { in: 'loyal' } },
      { segment: 1 },
      { trait: 'a', op: 'in', value: 'x' },
    );
    for (const s of samples) expect(parseRule(s, testCatalog(), {}).ok).toBe(false);
  });
});
