import type { JsonObject } from './event.js';

/**
 * Traits merge latest-wins per key: every key remembers the event time that last set it, so an
 * identify that arrives late (older timestamp) never overwrites a newer value, and merging two
 * profiles keeps, per key, whichever side set it last.
 */
export interface TimedTraits {
  traits: JsonObject;
  traitTimes: Record<string, number>;
}

/** Applies `incoming` set at time `at` onto `target` in place; returns true when anything changed. */
export function applyTraits(target: TimedTraits, incoming: JsonObject, at: number): boolean {
  let changed = false;
  for (const [key, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const prev = target.traitTimes[key];
    if (prev !== undefined && prev > at) continue;
    target.traits[key] = value;
    target.traitTimes[key] = at;
    changed = true;
  }
  return changed;
}

/** Merges `source` into `target` in place, per key latest-wins (ties keep the target's value). */
export function mergeTimedTraits(target: TimedTraits, source: TimedTraits): void {
  for (const [key, value] of Object.entries(source.traits)) {
    const at = source.traitTimes[key] ?? 0;
    const prev = target.traitTimes[key];
    if (prev !== undefined && prev >= at) continue;
    target.traits[key] = value;
    target.traitTimes[key] = at;
  }
}
