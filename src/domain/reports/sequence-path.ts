/**
 * Funnel paths (funnel.ts) from sequences held in reusable buffers: what a scan thread uses to find
 * hundreds of thousands of customers' paths without an object or array per customer or per event.
 * `scratchPath` gives exactly `sequencePath`'s answer (the tests hold it to it): for each start, each
 * later step is the first event of its name after the previous step's event, found in a table of
 * "next event of name m at or after position j" instead of a binary search over lists of positions.
 */
import type { FunnelSpec } from './funnel.js';

export class SequenceScratch {
  /** per event, its name number (below `nameCount`) */
  names = new Uint8Array(64);
  /** per event, its time, ascending */
  times = new Float64Array(64);
  /** next[m * (capacity + 1) + j]: the first position ≥ j of an event named m, or -1 */
  next = new Int32Array(0);
  /** the path being followed, then copied out when it goes deeper than the best so far */
  path = new Float64Array(0);

  constructor(readonly nameCount: number) {}

  /** Makes room for `n` events (keeping the first `keep`). */
  reserve(n: number, keep = 0): void {
    if (n <= this.names.length) return;
    let size = this.names.length;
    while (size < n) size *= 2;
    const names = new Uint8Array(size);
    const times = new Float64Array(size);
    names.set(this.names.subarray(0, keep));
    times.set(this.times.subarray(0, keep));
    this.names = names;
    this.times = times;
  }
}

/**
 * The deepest path of the `n` events in `s` (ascending times; names per `stepOf`, step k matching name
 * `stepOf[k]`): writes its times at `out[at ...]` and returns its depth (0: never entered).
 */
export function scratchPath(
  s: SequenceScratch,
  n: number,
  stepOf: readonly number[],
  spec: Pick<FunnelSpec, 'windowMs' | 'from' | 'to'>,
  out: Float64Array,
  at: number,
): number {
  const steps = stepOf.length;
  const { names, times } = s;
  const first = stepOf[0]!;
  // Quick exit: no first-step event in the range, no path.
  let start = -1;
  for (let i = 0; i < n; i++) {
    if (names[i] === first && times[i]! >= spec.from && times[i]! < spec.to) {
      start = i;
      break;
    }
  }
  if (start < 0) return 0;
  const row = n + 1;
  if (s.next.length < s.nameCount * row)
    s.next = new Int32Array(s.nameCount * Math.max(row, s.names.length + 1));
  const next = s.next;
  for (let m = 0; m < s.nameCount; m++) next[m * row + n] = -1;
  for (let j = n - 1; j >= 0; j--) {
    for (let m = 0; m < s.nameCount; m++) next[m * row + j] = names[j] === m ? j : next[m * row + j + 1]!;
  }
  if (s.path.length < steps) s.path = new Float64Array(steps);
  const path = s.path;
  let best = 0;
  for (let i = start; i < n; i++) {
    if (names[i] !== first) continue;
    const t0 = times[i]!;
    if (t0 < spec.from || t0 >= spec.to) continue;
    path[0] = t0;
    let depth = 1;
    let idx = i;
    const deadline = t0 + spec.windowMs;
    for (let k = 1; k < steps; k++) {
      const j = next[stepOf[k]! * row + idx + 1]!;
      if (j < 0 || times[j]! > deadline) break;
      idx = j;
      path[depth++] = times[j]!;
    }
    if (depth > best) {
      best = depth;
      out.set(path.subarray(0, depth), at);
    }
    if (best === steps) break;
  }
  return best;
}
