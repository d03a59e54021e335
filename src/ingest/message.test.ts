import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../domain/event.js';
import { quickParse, schemaParse } from './message.js';

const long = 'x'.repeat(1025);
/** Values each field may take: the plain valid forms, the odd valid ones and invalid ones. */
const POOL: Record<string, unknown[]> = {
  type: ['track', 'identify', 'page', 'screen', 'group', 'alias', 'Track', 'nope', 3, null],
  messageId: ['m-1', '  padded  ', 42, 1.5, '', null, Infinity, long, ` ${long.slice(1)} `, {}],
  userId: ['u-1', ' u ', 7, '', null, Number.NaN, true, ['u'], long],
  anonymousId: ['a-1', 0, null, '', {}, long],
  previousId: ['p', 12, null, false],
  groupId: ['g', 3, null, []],
  event: ['Button Clicked', '', null, 5, long, 'x'.repeat(1024)],
  name: ['Home', null, 1, long],
  traits: [{ plan: 'pro' }, {}, null, [], 'x'],
  properties: [{ sku: 'A' }, null, [1], 2],
  context: [{ ip: '1.2.3.4' }, null, 'ctx'],
  timestamp: [
    '2026-11-01T10:00:00.000Z',
    '2026-11-01',
    '2026-11-01 10:00',
    '2026-11-01T10:00:00+09:00',
    '2026-02-30T00:00:00Z',
    '1969-12-31T23:59:59Z',
    'yesterday',
    1764600000000,
    null,
  ],
  originalTimestamp: ['2026-11-01T09:59:00Z', 'bad', null, 5],
  sentAt: ['2026-11-01T10:00:01Z', '2026-13-01', null],
  extra: ['kept out', null],
};

/** A small deterministic generator (mulberry32), so a failure names an input that can be rerun. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('quickParse', () => {
  it('accepts exactly what the schema accepts, with the same fields', () => {
    const next = random(20261201);
    let accepted = 0;
    for (let n = 0; n < 5000; n++) {
      const input: JsonObject = {};
      for (const [field, values] of Object.entries(POOL)) {
        // Each field is absent a third of the time; when present, usually one of its first (valid) forms.
        if (next() < 0.33) continue;
        const i = next() < 0.7 ? Math.floor(next() * 2) : Math.floor(next() * values.length);
        input[field] = values[i];
      }
      const quick = quickParse(input);
      const schema = schemaParse(input);
      expect([JSON.stringify(input), quick !== null]).toEqual([JSON.stringify(input), schema.success]);
      if (quick !== null && schema.success) {
        expect(quick).toEqual(schema.data);
        accepted++;
      }
    }
    // Both verdicts occur often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4500);
  });

  it('returns the values the schema returns for a single track call', () => {
    const input = {
      type: 'track',
      userId: ' 42 ',
      anonymousId: 7,
      event: 'Button Clicked',
      messageId: 'm-1',
      properties: { button: 'buy' },
      timestamp: '2026-11-01T10:00:00.000Z',
      writeKey: 'secret',
    };
    expect(quickParse(input)).toEqual({
      type: 'track',
      userId: '42',
      anonymousId: '7',
      event: 'Button Clicked',
      messageId: 'm-1',
      properties: { button: 'buy' },
      timestamp: Date.UTC(2026, 10, 1, 10),
    });
  });
});
