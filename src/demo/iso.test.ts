import { describe, expect, it } from 'vitest';
import { isoTimestamp } from './iso.js';
import { Rng } from './random.js';

describe('isoTimestamp', () => {
  it('formats exactly like Date#toISOString, across days, years and millisecond edges', () => {
    const rng = new Rng(9);
    const samples = [
      0,
      999,
      1000,
      86_399_999,
      86_400_000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2026, 0, 1),
    ];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor(rng.between(0, Date.UTC(2100, 0, 1))));
    // Runs of nearby times exercise the cached date part as the generator does.
    for (let t = Date.UTC(2026, 2, 31, 23, 59, 58); t < Date.UTC(2026, 3, 1, 0, 0, 2); t += 7)
      samples.push(t);
    const wrong = samples.filter((t) => isoTimestamp(t) !== new Date(t).toISOString());
    expect(wrong).toEqual([]);
  });
});
