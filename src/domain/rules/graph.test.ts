import { describe, expect, it } from 'vitest';
import {
  computedRefs,
  evaluationOrder,
  eventSelectors,
  findCycle,
  segmentRefs,
  selectorKey,
} from './graph.js';
import { parseRule } from './schema.js';
import { testCatalog } from './testing.js';
import type { EventSelector, Rule } from './types.js';

function rule(json: unknown): Rule {
  const r = parseRule(json, testCatalog({ events: null }), {});
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.rule;
}

function selector(where: unknown[], name = 'Order Completed', type = 'track'): EventSelector {
  const r = rule({ event: name, type, where });
  if (r.kind !== 'event_count') throw new Error('not an event rule');
  return r.event;
}

describe('references', () => {
  const r = rule({
    and: [
      { segment: 'seg_vip' },
      { or: [{ segment: 'seg_churn', member: false }, { not: { segment: 'seg_vip' } }] },
      { computed: 'revenue_total', op: 'gt', value: 0 },
      { not: { computed: 'order_count', op: 'exists' } },
    ],
  });
  it('segmentRefs finds every segment condition, at any depth', () => {
    expect(segmentRefs(r)).toEqual(new Set(['seg_vip', 'seg_churn']));
    expect(segmentRefs(rule({ has: 'email' })).size).toBe(0);
  });
  it('computedRefs finds every computed trait', () => {
    expect(computedRefs(r)).toEqual(new Set(['revenue_total', 'order_count']));
  });
});

describe('selectorKey', () => {
  const a = { property: 'category', op: 'eq', value: 'shoes' };
  const b = { property: 'price', op: 'gte', value: 10 };

  it('is type:name without filters (the workspace event key)', () => {
    expect(selectorKey(selector([]))).toBe('track:Order Completed');
    expect(selectorKey(selector([], 'Pricing', 'page'))).toBe('page:Pricing');
  });

  it('ignores filter order, object key order, duplicate filters and in-list order', () => {
    const key = selectorKey(selector([a, b]));
    expect(selectorKey(selector([b, a]))).toBe(key);
    expect(selectorKey(selector([{ value: 10, op: 'gte', property: 'price' }, a]))).toBe(key);
    expect(selectorKey(selector([a, b, a]))).toBe(key);
    const inList = (value: unknown[]) => selectorKey(selector([{ property: 'size', op: 'in', value }]));
    expect(inList([40, 'L', null])).toBe(inList([null, 40, 'L', 40]));
  });

  it('differs when what is matched differs', () => {
    const keys = [
      selector([]),
      selector([a]),
      selector([b]),
      selector([a, b]),
      selector([{ ...a, value: 'boots' }]),
      selector([{ ...a, op: 'neq' }]),
      selector([{ property: 'category', op: 'eq', value: 1 }]),
      selector([{ property: 'category', op: 'eq', value: '1' }]),
      selector([{ property: 'category', op: 'matches', value: 'sh' }]),
      selector([{ property: 'category', op: 'matches', value: 'sh', flags: 'i' }]),
      selector([{ property: 'category', op: 'exists' }]),
      selector([a], 'Order Completed', 'page'),
      selector([a], 'Signed Up'),
    ].map(selectorKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('cannot confuse a name that looks like a filtered key with a filtered selector', () => {
    const filtered = selectorKey(selector([a], 'X'));
    expect(selectorKey(selector([], filtered))).not.toBe(filtered);
  });

  it('is stable: the format is persisted by stores', () => {
    expect(selectorKey(selector([b, a]))).toBe(
      '["track","Order Completed",[["category","eq","shoes"],["price","gte",10]]]',
    );
  });
});

describe('eventSelectors', () => {
  it('lists each selector once, in order of appearance, across count and time conditions', () => {
    const r = rule({
      or: [
        {
          event: 'Order Completed',
          where: [
            { property: 'a', op: 'exists' },
            { property: 'b', op: 'exists' },
          ],
        },
        {
          event: 'Order Completed',
          where: [
            { property: 'b', op: 'exists' },
            { property: 'a', op: 'exists' },
          ],
          count: { op: 'gte', value: 3 },
        },
        { not: { event: 'Signed Up', last: { op: 'within_last_days', value: 7 } } },
        { event: 'Signed Up', within: { days: 30 } },
      ],
    });
    expect(eventSelectors(r).map(selectorKey)).toEqual([
      '["track","Order Completed",[["a","exists"],["b","exists"]]]',
      'track:Signed Up',
    ]);
  });
});

describe('findCycle', () => {
  const graph = (edges: Record<string, string[]>) =>
    new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

  it('a self-reference', () => {
    expect(findCycle('a', new Set(['a']), graph({}))).toEqual(['a', 'a']);
  });
  it('A → B → A', () => {
    expect(findCycle('a', new Set(['b']), graph({ b: ['a'] }))).toEqual(['a', 'b', 'a']);
  });
  it('a longer cycle, through segments the new one does not name directly', () => {
    const g = graph({ b: ['c'], c: ['d', 'x'], d: ['a'], x: [] });
    expect(findCycle('a', new Set(['z', 'b']), g)).toEqual(['a', 'b', 'c', 'd', 'a']);
  });
  it('the shortest of several cycles', () => {
    const g = graph({ b: ['c'], c: ['d'], d: ['a'], e: ['a'] });
    expect(findCycle('a', new Set(['b', 'e']), g)).toEqual(['a', 'e', 'a']);
  });
  it('none, even when other segments form a cycle among themselves or share dependencies', () => {
    expect(findCycle('a', new Set(['b', 'c']), graph({ b: ['d'], c: ['d'], d: [] }))).toBeNull();
    expect(findCycle('a', new Set(['b']), graph({ b: ['c'], c: ['b'] }))).toBeNull();
    expect(findCycle('a', new Set(), graph({ b: ['a'] }))).toBeNull();
  });
  it('ignores the stored references of the segment being saved (they are being replaced)', () => {
    expect(findCycle('a', new Set(['b']), graph({ a: ['a'], b: [] }))).toBeNull();
  });
});

describe('evaluationOrder', () => {
  const graph = (edges: Record<string, string[]>) =>
    new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

  it('puts dependencies first and keeps the map order otherwise', () => {
    expect(evaluationOrder(graph({ a: ['b', 'c'], b: ['c'], c: [], d: [] }))).toEqual(['c', 'b', 'a', 'd']);
    expect(evaluationOrder(graph({ x: [], y: [], z: [] }))).toEqual(['x', 'y', 'z']);
  });
  it('ignores references to unknown segments', () => {
    expect(evaluationOrder(graph({ a: ['gone'], b: ['a'] }))).toEqual(['a', 'b']);
  });
  it('returns every segment once, even if stored data holds a cycle', () => {
    const order = evaluationOrder(graph({ a: ['b'], b: ['a'], c: ['a'] }));
    expect([...order].sort()).toEqual(['a', 'b', 'c']);
    expect(order.indexOf('c')).toBeGreaterThan(order.indexOf('a'));
  });
  it('handles a chain of 10,000 segments without overflowing the stack', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 10_000; i++) edges[`s${i}`] = i + 1 < 10_000 ? [`s${i + 1}`] : [];
    const order = evaluationOrder(graph(edges));
    expect(order[0]).toBe('s9999');
    expect(order[9999]).toBe('s0');
  });
});
