/**
 * Compiles stored journey versions for the runner and for routing. They were validated against the
 * workspace when published; compiling again uses a permissive catalog, because a segment, stage or
 * event name that was valid then must not make a running journey vanish now.
 */
import type { RuleCatalog } from '../rules/types.js';
import { parseJourney, type JourneyCatalog } from './parse.js';
import { JourneyIndex, type LiveJourney } from './route.js';
import type { Journey } from './types.js';

const anySegment: ReadonlyMap<string, ReadonlySet<string>> = {
  has: () => true,
  get: () => new Set<string>(),
  size: 0,
  forEach: () => undefined,
  entries: () => new Map<string, ReadonlySet<string>>().entries(),
  keys: () => new Map<string, ReadonlySet<string>>().keys(),
  values: () => new Map<string, ReadonlySet<string>>().values(),
  [Symbol.iterator]: () => new Map<string, ReadonlySet<string>>()[Symbol.iterator](),
};
const anyName: ReadonlySet<string> = new Proxy(new Set<string>(), {
  get(target, prop, receiver) {
    if (prop === 'has') return () => true;
    const v: unknown = Reflect.get(target, prop, receiver);
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  },
});

export const PERMISSIVE_CATALOG: JourneyCatalog = {
  computedTraits: anyName,
  events: null,
  stages: anyName,
  segments: anySegment,
  traitKeys: null,
  templates: null,
} satisfies RuleCatalog & JourneyCatalog;

/** A stored (already validated) definition; null if it no longer compiles at all. */
export function compileJourney(definition: unknown): Journey | null {
  const p = parseJourney(definition, PERMISSIVE_CATALOG);
  return p.ok ? p.journey : null;
}

export interface StoredVersion {
  readonly journeyId: string;
  readonly version: number;
  readonly definition: unknown;
  /** the journey's current version and it is published (takes new entries) */
  readonly live: boolean;
}

export function compileIndex(definitionsVersion: number, rows: readonly StoredVersion[]): JourneyIndex {
  const running: LiveJourney[] = [];
  const live: LiveJourney[] = [];
  for (const r of rows) {
    const journey = compileJourney(r.definition);
    if (!journey) continue;
    const j = { journeyId: r.journeyId, version: r.version, journey };
    running.push(j);
    if (r.live) live.push(j);
  }
  return new JourneyIndex(definitionsVersion, live, running);
}

/** The step ids of a stored definition (publishing with `migrate` moves entries whose step still exists). */
export function stepIds(definition: unknown): string[] {
  return [...(compileJourney(definition)?.steps.keys() ?? [])];
}
