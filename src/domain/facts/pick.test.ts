import { describe, expect, it } from 'vitest';
import { DAY_MS } from './day.js';
import { emptyFacts, readFacts, recordEvent, type FactPlan } from './facts.js';
import { pickSeries } from './pick.js';

const NOW = Date.UTC(2026, 5, 15, 12);
const plan: FactPlan = { selectors: new Map(), aggregates: new Map() };
const ev = (type: string, name: string | null, timestamp: number, properties: unknown = {}) => ({
  type,
  name,
  timestamp,
  properties: () => properties,
});

function stored() {
  const f = emptyFacts();
  recordEvent(f, ev('track', 'Order Completed', NOW - 3 * DAY_MS), plan);
  recordEvent(f, ev('track', 'Order Completed', NOW), plan);
  recordEvent(f, ev('page', 'Home', NOW), plan);
  // Names that look like the stored form must not confuse the search.
  recordEvent(f, ev('track', 'x":{"n":1},"s":{', NOW), plan);
  recordEvent(f, ev('track', '"track:Cart Viewed":{', NOW), plan);
  f.k.push('email');
  f.c = { profiling: ['g', NOW] };
  return f;
}

describe('pickSeries', () => {
  it('picks the named series out of the stored text, equal to parsing it whole', () => {
    const f = stored();
    const text = JSON.stringify(f);
    const keys = ['track:Order Completed', 'page:Home', 'track:x":{"n":1},"s":{'];
    const picked = pickSeries(text, keys)!;
    const whole = readFacts(JSON.parse(text));
    for (const k of keys) expect(picked.e[k]).toEqual(whole.e[k]);
    expect(Object.keys(picked.e).sort()).toEqual([...keys].sort());
  });

  it('leaves out series the profile does not have, even when a key contains their name', () => {
    const text = JSON.stringify(stored());
    expect(pickSeries(text, ['track:Cart Viewed', 'track:Signed Up'])!.e).toEqual({});
  });

  it('declines text of another shape: version-1 facts, other key orders', () => {
    const f = stored();
    expect(pickSeries(JSON.stringify({ e: f.e, s: {}, a: {}, k: [] }), ['page:Home'])).toBeNull();
    expect(pickSeries(JSON.stringify({ e: f.e, v: 2, s: {} }), ['page:Home'])).toBeNull();
    expect(pickSeries(JSON.stringify({ v: 2, e: f.e }), ['page:Home'])).toBeNull();
  });
});
