/** Helpers for the rule-language tests (and for other tests that need a rule context). */
import { compare, getPath } from './compare.js';
import type {
  EventKind,
  EventSelector,
  EventStats,
  IdentityPresence,
  RuleCatalog,
  RuleContext,
  Window,
} from './types.js';

/** A small deterministic PRNG (mulberry32): same seed, same sequence, so property tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A catalog that knows the names the rule tests use; pass overrides to narrow or widen it. */
export function testCatalog(overrides: Partial<RuleCatalog> = {}): RuleCatalog {
  return {
    computedTraits: new Set(['revenue_total', 'order_count']),
    events: new Set(['track:Order Completed', 'track:Signed Up', 'page:Pricing', 'track:購入完了']),
    stages: new Set(['new', 'active', 'loyal', 'dormant', '常連']),
    segments: new Map([
      ['seg_vip', new Set<string>()],
      ['seg_churn', new Set<string>()],
    ]),
    traitKeys: null,
    ...overrides,
  };
}

export interface TestEvent {
  readonly type?: EventKind;
  readonly name: string;
  readonly at: number;
  readonly properties?: Record<string, unknown>;
}

/** One profile, as plain data, for `testContext`. */
export interface TestProfile {
  readonly traits?: Record<string, unknown>;
  readonly computed?: Record<string, unknown>;
  readonly identities?: readonly IdentityPresence[];
  readonly consents?: readonly string[];
  readonly events?: readonly TestEvent[];
  readonly stage?: { current: string | null; previous: string | null };
  readonly segments?: readonly string[];
}

const DAY = 86_400_000;

/** Is `t` inside `w` at time `now`? Relative windows are whole UTC days, today included; `between` is [from, to). */
export function inWindow(t: number, w: Window, now: number): boolean {
  switch (w.kind) {
    case 'all':
      return true;
    case 'last_days':
      return t >= Math.floor(now / DAY) * DAY - (w.days - 1) * DAY;
    case 'between':
      return t >= w.from && t < w.to;
  }
}

/**
 * A RuleContext over plain data, computed the slow obvious way (what the store's facts must agree with).
 * `calls` counts the questions asked, to test short-circuiting.
 */
export function testContext(p: TestProfile, now: number): RuleContext & { calls: number } {
  const ctx = {
    now,
    calls: 0,
    trait(path: string): unknown {
      ctx.calls++;
      return getPath(p.traits ?? {}, path);
    },
    computed(name: string): unknown {
      ctx.calls++;
      return p.computed?.[name];
    },
    hasIdentity(kind: IdentityPresence): boolean {
      ctx.calls++;
      return p.identities?.includes(kind) ?? false;
    },
    consent(purpose: string): boolean {
      ctx.calls++;
      return p.consents?.includes(purpose) ?? false;
    },
    events(selector: EventSelector, window: Window): EventStats {
      ctx.calls++;
      const times = (p.events ?? [])
        .filter(
          (e) =>
            (e.type ?? 'track') === selector.type &&
            e.name === selector.name &&
            inWindow(e.at, window, now) &&
            selector.where.every((f) => compare(getPath(e.properties ?? {}, f.path), f.cmp, e.at)),
        )
        .map((e) => e.at);
      return {
        count: times.length,
        first: times.length ? Math.min(...times) : null,
        last: times.length ? Math.max(...times) : null,
      };
    },
    stage(): { current: string | null; previous: string | null } {
      ctx.calls++;
      return p.stage ?? { current: null, previous: null };
    },
    inSegment(segmentId: string): boolean {
      ctx.calls++;
      return p.segments?.includes(segmentId) ?? false;
    },
  };
  return ctx;
}
