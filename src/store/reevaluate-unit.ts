import type { Definitions } from '../domain/engagement/definitions.js';
import {
  engagementEvents,
  factEvent,
  reevaluate,
  reevaluateSegments,
  type EngagementChange,
  type EngagementEvent,
} from '../domain/engagement/apply.js';
import type { ConsentEntry } from '../domain/consent.js';
import { addIdentityKind, emptyFacts, recordConsentFact, recordEvent } from '../domain/facts/facts.js';
import type { ProfileState } from '../domain/resolution.js';
import type { EntryRow, JourneyIndex, JourneyRouting } from '../domain/journeys/route.js';
import { routeJourneys } from './ingest-unit.js';
import type { ReevaluateResult } from './store.js';
import { factsNeededBy, type FactsProjection } from '../domain/engagement/needs.js';

/**
 * Re-evaluation of one page of profiles as a unit of work, run by both adapters inside one write
 * transaction (like ingest-unit.ts): the passage of time (a daily sweep) and the build of a new segment
 * go through here. With `rebuildFacts`, facts are recomputed from the stored events first.
 */
export interface FactSourceEvent {
  readonly profileId: string;
  readonly type: string;
  readonly name: string | null;
  readonly timestamp: number;
  /** the stored payload, JSON text or (PostgreSQL) already parsed */
  readonly payload: string | Record<string, unknown>;
}

export interface ReevaluateTx<R extends 'sync' | 'async' = 'async'> {
  definitions(): Io<R, Definitions>;
  /**
   * Canonical profiles with id > after (all when null), in id order; or, when `ids` is given, those of
   * them that are still canonical. On PostgreSQL locked. With `facts` (a build's confirmation, which
   * writes no facts) the adapter may read just that part of each profile's facts and traits, and only
   * what evaluation reads of the rest.
   */
  loadPage(
    after: string | null,
    limit: number,
    ids: readonly string[] | null,
    facts: FactsProjection | null,
  ): Io<R, ProfileState[]>;
  /** Every stored event of these profiles, and their identity kinds. */
  loadHistory(
    profileIds: readonly string[],
  ): Io<R, { events: FactSourceEvent[]; kinds: { profileId: string; kind: string }[] }>;
  journeyIndex(): Io<R, JourneyIndex>;
  journeyEntries(profileIds: readonly string[]): Io<R, Map<string, EntryRow[]>>;
  /** Appends entries to the consent ledger. */
  appendConsents(entries: readonly ConsentEntry[]): Io<R, void>;
  writeReevaluation(plan: ReevaluationPlan): Io<R, void>;
}
type Io<R, T> = R extends 'sync' ? T : Promise<T>;

export interface ReevaluationPlan {
  now: number;
  /** profiles whose facts were rebuilt or whose engagement changed, final state */
  profiles: ProfileState[];
  factsRebuilt: boolean;
  /**
   * The profiles whose facts changed and must be written (pruned, a consent entry); null: all of
   * `profiles`. The others' stored facts are left as they are.
   */
  factsChanged: ReadonlySet<string> | null;
  changes: EngagementChange[];
  engagementEvents: EngagementEvent[];
  /** journeys the changes trigger or end (a stage reached with the passage of time) */
  journeys: JourneyRouting;
}

export interface ReevaluateOptions {
  after: string | null;
  limit: number;
  now: number;
  rebuildFacts: boolean;
  /** re-evaluate just these profiles (a scan found they would change) instead of a page */
  ids?: readonly string[];
  /**
   * A build's confirmation: evaluate only these segments, leaving the stage, the other memberships and
   * the facts as stored (the sweep keeps those). Ignored with `rebuildFacts` or `consents`.
   */
  segments?: readonly string[];
  /**
   * Consent ledger entries of these profiles, appended in the same transaction and applied to their
   * facts before they are evaluated (a withdrawal leaves profiling segments at once).
   */
  consents?: readonly ConsentEntry[];
  newEntryId: () => string;
}

/**
 * The unit that appends consent entries (RightsStore.recordConsents, for purposes facts keep): just
 * their profiles, re-evaluated at the newest entry's time.
 */
export function consentUnit(
  entries: readonly ConsentEntry[],
  newEntryId: (now: number) => string,
): ReevaluateOptions {
  const ids = [...new Set(entries.map((e) => e.profileId))];
  const now = Math.max(...entries.map((e) => e.at));
  return {
    after: null,
    limit: ids.length,
    now,
    rebuildFacts: false,
    ids,
    consents: entries,
    newEntryId: () => newEntryId(now),
  };
}

type Step =
  | { op: 'definitions' }
  | { op: 'page'; facts: FactsProjection | null }
  | { op: 'history'; ids: string[] }
  | { op: 'journeyIndex' }
  | { op: 'journeyEntries'; profileIds: string[] }
  | { op: 'consents'; entries: readonly ConsentEntry[] }
  | { op: 'write'; plan: ReevaluationPlan };

function* unit(opts: ReevaluateOptions): Generator<Step, ReevaluateResult, unknown> {
  const defs = (yield { op: 'definitions' }) as Definitions;
  const only =
    opts.segments !== undefined && !opts.rebuildFacts && opts.consents === undefined
      ? new Set(opts.segments)
      : null;
  // A build's confirmation writes memberships only, never facts: it may read just what its rules read.
  const page = (yield { op: 'page', facts: only && factsNeededBy(defs, only) }) as ProfileState[];
  if (opts.consents && opts.consents.length > 0) yield { op: 'consents', entries: opts.consents };
  if (page.length === 0) return { processed: 0, next: null, changed: 0 };
  const byId = new Map(page.map((p) => [p.id, p]));
  const factsChanged = new Set<string>();
  for (const e of opts.consents ?? []) {
    const p = byId.get(e.profileId);
    if (p && e.topic === null && recordConsentFact(p.facts, e)) factsChanged.add(p.id);
  }
  if (opts.rebuildFacts) {
    const history = (yield { op: 'history', ids: page.map((p) => p.id) }) as {
      events: FactSourceEvent[];
      kinds: { profileId: string; kind: string }[];
    };
    // Consent state is not derived from events: it survives the rebuild.
    for (const p of page) p.facts = { ...emptyFacts(), ...(p.facts.c && { c: p.facts.c }) };
    for (const k of history.kinds) {
      const p = byId.get(k.profileId);
      if (p) addIdentityKind(p.facts, k.kind);
    }
    for (const e of history.events) {
      const p = byId.get(e.profileId);
      if (!p) continue;
      recordEvent(p.facts, factEvent(e), defs.factPlan);
    }
  }
  const pruned = new Set<string>();
  const changes = only
    ? reevaluateSegments(page, defs, only, opts.now)
    : reevaluate(page, defs, opts.now, pruned);
  const changedIds = new Set(changes.map((c) => c.profileId));
  const emitted = engagementEvents(changes, defs, opts.now);
  const journeys = yield* routeJourneys([], emitted, byId, opts);
  yield {
    op: 'write',
    plan: {
      now: opts.now,
      profiles: opts.rebuildFacts ? page : page.filter((p) => changedIds.has(p.id) || factsChanged.has(p.id)),
      factsRebuilt: opts.rebuildFacts,
      factsChanged: opts.rebuildFacts ? null : new Set([...factsChanged, ...pruned]),
      changes,
      engagementEvents: emitted,
      journeys,
    },
  };
  return {
    processed: page.length,
    next: opts.ids !== undefined || page.length < opts.limit ? null : page[page.length - 1]!.id,
    changed: changes.length,
  };
}

function perform(tx: ReevaluateTx<'sync'> | ReevaluateTx, step: Step, opts: ReevaluateOptions): unknown {
  switch (step.op) {
    case 'definitions':
      return tx.definitions();
    case 'page':
      return tx.loadPage(opts.after, opts.limit, opts.ids ?? null, step.facts);
    case 'history':
      return tx.loadHistory(step.ids);
    case 'journeyIndex':
      return tx.journeyIndex();
    case 'journeyEntries':
      return tx.journeyEntries(step.profileIds);
    case 'consents':
      return tx.appendConsents(step.entries);
    case 'write':
      return tx.writeReevaluation(step.plan);
  }
}

export function runReevaluateSync(tx: ReevaluateTx<'sync'>, opts: ReevaluateOptions): ReevaluateResult {
  const u = unit(opts);
  let next = u.next();
  while (!next.done) next = u.next(perform(tx, next.value, opts));
  return next.value;
}

export async function runReevaluate(tx: ReevaluateTx, opts: ReevaluateOptions): Promise<ReevaluateResult> {
  const u = unit(opts);
  let next = u.next();
  while (!next.done) next = u.next(await perform(tx, next.value, opts));
  return next.value;
}
