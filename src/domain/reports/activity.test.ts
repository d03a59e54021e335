import { describe, expect, it } from 'vitest';
import { activityRows, activityYears, DAY, dayBit, monthOf, monthSlices } from './activity.js';
import { boundaries } from './periods.js';

const JUL = Date.UTC(2026, 6, 1);
const AUG = Date.UTC(2026, 7, 1);

describe('activity rollup', () => {
  it('keys an event by its UTC month and day, to the millisecond at the edges', () => {
    expect(monthOf(AUG - 1)).toBe(JUL);
    expect(monthOf(AUG)).toBe(AUG);
    expect(dayBit(AUG - 1)).toBe(2 ** 30); // 31 July
    expect(dayBit(AUG)).toBe(1);
    expect(monthOf(-1)).toBe(Date.UTC(1969, 11, 1));
    expect(dayBit(-1)).toBe(2 ** 30);
  });

  it('adds one row per customer, key and month, days OR-ed; only track, page and screen events', () => {
    const rows = activityRows([
      { profileId: 'p', type: 'track', name: 'A', timestamp: JUL + 2 * DAY },
      { profileId: 'p', type: 'track', name: 'A', timestamp: JUL + 2 * DAY + 5 },
      { profileId: 'p', type: 'page', name: null, timestamp: JUL + 4 * DAY },
      { profileId: 'p', type: 'page', name: 'A', timestamp: AUG },
      { profileId: 'p', type: 'identify', name: null, timestamp: JUL },
    ]);
    expect(rows).toEqual([
      { profileId: 'p', kind: 1, name: 'A', month: JUL, days: 0b100 },
      { profileId: 'p', kind: 2, name: 'A', month: AUG, days: 1 },
    ]);
  });

  it('keeps any event as one row per customer and UTC year, months side by side, days OR-ed', () => {
    const NEW_YEAR = Date.UTC(2026, 0, 1);
    const rows = activityYears([
      { profileId: 'q', type: 'screen', timestamp: NEW_YEAR - 1 },
      { profileId: 'p', type: 'track', timestamp: JUL + 2 * DAY },
      { profileId: 'p', type: 'page', timestamp: JUL + 4 * DAY },
      { profileId: 'p', type: 'track', timestamp: JUL + 4 * DAY + 1 },
      { profileId: 'p', type: 'page', timestamp: AUG },
      { profileId: 'p', type: 'identify', timestamp: JUL },
      { profileId: 'q', type: 'track', timestamp: NEW_YEAR },
      { profileId: 'q', type: 'track', timestamp: Date.UTC(2025, 10, 30) },
    ]);
    const months = (m: Record<number, number>) => Array.from({ length: 12 }, (_, i) => m[i] ?? 0);
    expect(rows).toEqual([
      { profileId: 'p', year: 2026, months: months({ 6: 0b10100, 7: 1 }) },
      { profileId: 'q', year: 2025, months: months({ 10: 2 ** 29, 11: 2 ** 30 }) },
      { profileId: 'q', year: 2026, months: months({ 0: 1 }) },
    ]);
  });

  it('cuts weeks into the months they overlap, and says when a period is the whole month', () => {
    // weeks from Monday 29 June 2026: the first one holds 29–30 June and 1–5 July
    const weeks = monthSlices(boundaries(JUL, JUL + 14 * DAY, 'week'));
    expect(weeks).toEqual([
      { month: Date.UTC(2026, 5, 1), k: 0, mask: (1 << 28) | (1 << 29), whole: false },
      { month: JUL, k: 0, mask: 0b11111, whole: false },
      { month: JUL, k: 1, mask: 0b1111111 << 5, whole: false },
      { month: JUL, k: 2, mask: 0b1111111 << 12, whole: false },
    ]);
    const months = monthSlices(boundaries(Date.UTC(2026, 1, 1), AUG, 'month'));
    expect(months.map((m) => m.whole)).toEqual([true, true, true, true, true, true]);
    expect(months[0]!.mask).toBe((1 << 28) - 1); // February 2026: 28 days
    expect(() => monthSlices([JUL + 1, AUG])).toThrow(/boundary/);
  });
});
