import { describe, expect, it } from 'vitest';
import { sequencePath } from './funnel.js';
import { scratchPath, SequenceScratch } from './sequence-path.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function generator(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const path = (s: SequenceScratch, n: number, stepOf: number[], spec: Parameters<typeof scratchPath>[3]) => {
  const out = new Float64Array(stepOf.length);
  const depth = scratchPath(s, n, stepOf, spec, out, 0);
  return { depth, times: Array.from(out.subarray(0, depth)) };
};

describe('funnel paths from reusable buffers', () => {
  it('follows the earliest event of each step after the previous one, within the window', () => {
    const s = new SequenceScratch(3);
    // names 0 (View), 1 (Cart), 2 (Order); a View before the range, then one in it
    const events: [number, number][] = [
      [0, 5],
      [1, 6],
      [0, 10],
      [1, 10], // same time as the View, after it in storage order: follows it
      [2, 20], // exactly at the window's end (10 + 10): counts
      [2, 21],
    ];
    events.forEach(([name, at], i) => {
      s.names[i] = name;
      s.times[i] = at;
    });
    const spec = { windowMs: 10, from: 8, to: 100 };
    expect(path(s, events.length, [0, 1, 2], spec)).toEqual({ depth: 3, times: [10, 10, 20] });
    expect(path(s, events.length, [0, 1, 2], { ...spec, windowMs: 9 })).toEqual({
      depth: 2,
      times: [10, 10],
    });
    // nobody enters when no first-step event is in the range
    expect(path(s, events.length, [0, 1, 2], { ...spec, from: 11 })).toEqual({ depth: 0, times: [] });
  });

  it('gives sequencePath’s answer on random sequences: repeated steps, ties, window and range edges', () => {
    const rand = generator(7);
    const s = new SequenceScratch(4);
    for (let round = 0; round < 3000; round++) {
      const n = Math.floor(rand() * 40);
      const names: number[] = [];
      const times: number[] = [];
      let t = 0;
      for (let i = 0; i < n; i++) {
        // a third of the events at the same time as the one before
        if (rand() > 0.33) t += Math.floor(rand() * 6);
        names.push(Math.floor(rand() * 4));
        times.push(t);
      }
      s.reserve(n);
      s.names.set(names);
      s.times.set(times);
      const steps = 2 + Math.floor(rand() * 4);
      const stepOf = Array.from({ length: steps }, () => Math.floor(rand() * 4));
      const spec = {
        windowMs: Math.floor(rand() * 12),
        from: Math.floor(rand() * 10),
        to: Math.floor(rand() * 60),
      };
      expect(path(s, n, stepOf, spec)).toEqual(sequencePath(names, times, stepOf, spec));
    }
  });
});
