import { describe, expect, it } from 'vitest';
import { Rng, Weighted, hex8, mix32 } from './random.js';

describe('mix32', () => {
  it('never maps two inputs to one output (the id scheme depends on it)', () => {
    const seen = new Set<number>();
    for (let x = 0; x < 1 << 20; x++) seen.add(mix32(x));
    expect(seen.size).toBe(1 << 20);
  });
});

describe('hex8', () => {
  it('prints eight zero-padded hex digits', () => {
    expect(hex8(0)).toBe('00000000');
    expect(hex8(0xdeadbeef)).toBe('deadbeef');
    expect(hex8(0x0000ff01)).toBe('0000ff01');
  });
});

describe('Rng', () => {
  it('repeats for a (seed, stream) and differs when either changes', () => {
    const draw = (seed: number, stream: number) => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.u32());
    };
    expect(draw(1, 5)).toEqual(draw(1, 5));
    expect(draw(1, 5)).not.toEqual(draw(2, 5));
    expect(draw(1, 5)).not.toEqual(draw(1, 6));
  });

  it('stays in range and is roughly uniform', () => {
    const r = new Rng(3);
    const buckets = [0, 0, 0, 0, 0, 0];
    let outside = 0;
    for (let i = 0; i < 60_000; i++) {
      const v = r.int(1, 6);
      if (v >= 1 && v <= 6) buckets[v - 1]! += 1;
      else outside++;
    }
    expect(outside).toBe(0);
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('draws a heavy tail from pareto', () => {
    const r = new Rng(4);
    const xs = Array.from({ length: 100_000 }, () => r.pareto(1.25));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1);
    // P(X > 10) = 10^-1.25 ≈ 5.6%
    const over10 = xs.filter((x) => x > 10).length / xs.length;
    expect(over10).toBeGreaterThan(0.045);
    expect(over10).toBeLessThan(0.065);
  });
});

describe('Weighted', () => {
  it('picks in proportion to the weights', () => {
    const w = new Weighted([
      ['a', 1],
      ['b', 3],
      ['c', 0],
    ] as const);
    const r = new Rng(5);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 40_000; i++) counts[w.pick(r)] += 1;
    expect(counts.c).toBe(0);
    expect(counts.b / counts.a).toBeGreaterThan(2.7);
    expect(counts.b / counts.a).toBeLessThan(3.3);
  });
});
