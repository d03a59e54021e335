/**
 * A small seeded PRNG for the demo generator. `Math.random` cannot be seeded, and the demo must be
 * reproducible: the same seed gives byte-identical histories, so re-running it is idempotent under
 * messageId dedup and benchmarks compare like with like.
 */

/**
 * Chris Wellons' "lowbias32" integer hash. Every step (xor-shift, multiply by an odd constant) is
 * invertible, so this is a bijection on 32-bit integers: distinct inputs never collide. The id
 * scheme in `ids.ts` relies on that to make ids unique by construction rather than by luck.
 */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const HEX2 = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Eight lowercase hex digits, zero-padded; by table, as it runs several times per message. */
export function hex8(x: number): string {
  return (
    (HEX2[x >>> 24] as string) +
    (HEX2[(x >>> 16) & 255] as string) +
    (HEX2[(x >>> 8) & 255] as string) +
    (HEX2[x & 255] as string)
  );
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator): 128 bits of state, passes PractRand,
 * and needs only 32-bit integer operations, which V8 runs without allocating.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * `stream` selects an independent sequence for the same seed (one per customer), so customer `i`
   * comes out the same whatever number of customers is asked for.
   */
  constructor(seed: number, stream = 0) {
    this.a = mix32(seed ^ 0x9e3779b9);
    this.b = mix32(stream ^ 0x632be5ab);
    this.c = mix32(this.a ^ this.b ^ 0x85ebca6b);
    this.d = 1;
    // Neighbouring seeds start from related states; a few rounds decorrelate them.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** Exponentially distributed with the given mean: waiting times between independent events. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /**
   * Pareto-distributed, >= 1: P(X > x) = x^-alpha. Small alpha means a heavier tail; this is what
   * makes a few customers buy most of the goods.
   */
  pareto(alpha: number): number {
    return 1 / Math.pow(1 - this.next(), 1 / alpha);
  }
}

/**
 * Picks items with given weights in O(log n). Build once per list (module load), not per call, so
 * the cumulative table costs nothing on the hot path.
 */
export class Weighted<T> {
  private readonly items: readonly T[];
  private readonly cumulative: number[];
  private readonly sum: number;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new RangeError('Weighted needs at least one entry');
    this.items = entries.map(([item]) => item);
    let sum = 0;
    this.cumulative = entries.map(([, w]) => (sum += w));
    this.sum = sum;
  }

  pick(rng: Rng): T {
    const x = rng.next() * this.sum;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }
}
