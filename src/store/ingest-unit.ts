import type { EventType, NormalizedEvent } from '../domain/event.js';
import { identityKeyString, lookupKeysOf } from '../domain/identity.js';
import {
  resolveBatch,
  type LoadedState,
  type RefusedMerge,
  type ResolutionResult,
} from '../domain/resolution.js';
import { applyTraits, type TimedTraits } from '../domain/traits.js';
import type { Definitions } from '../domain/engagement/definitions.js';
import {
  engagementEvents,
  recordBatch,
  reevaluate,
  type EngagementChange,
  type EngagementEvent,
} from '../domain/engagement/apply.js';
import {
  emptyRouting,
  route,
  routingSize,
  type EntryRow,
  type JourneyIndex,
  type JourneyRouting,
} from '../domain/journeys/route.js';
import type { IngestResult } from './store.js';
import type { Device } from './contact-store.js';
import { deviceOf } from '../domain/devices.js';
import { redeemedCoupon } from '../domain/coupons.js';

/**
 * One ingest call as a unit of work that both adapters run inside their own write transaction:
 * drop already-stored messageIds, load (and on PostgreSQL lock) the identities, profiles and groups the
 * batch touches, resolve identities with the pure domain rules, then hand the adapter one plan to write.
 */
export interface GroupState extends TimedTraits {
  createdAt: number;
  isNew: boolean;
}

/** What the unit asks of its transaction, in order. */
export interface IngestTx<R extends 'sync' | 'async' = 'async'> {
  /** The workspace's compiled engagement definitions as of this transaction. */
  definitions(): Io<R, Definitions>;
  /** The subset of `messageIds` already stored in the workspace. */
  existingMessageIds(messageIds: readonly string[]): Io<R, Set<string>>;
  /**
   * Identity key strings → owning profile id, and those profiles. On a multi-writer store this also
   * locks them until the transaction ends.
   */
  load(keys: readonly string[]): Io<R, LoadedState>;
  loadGroups(groupIds: readonly string[]): Io<R, Map<string, GroupState>>;
  /** The workspace's published journeys, compiled, as of this transaction. */
  journeyIndex(): Io<R, JourneyIndex>;
  /** Every journey entry of these profiles (on PostgreSQL, their profiles are already locked). */
  journeyEntries(profileIds: readonly string[]): Io<R, Map<string, EntryRow[]>>;
  /**
   * The subset of these identity keys (none of them known) that belong to an erased customer: one
   * index lookup each, asked only for keys the workspace has not seen, so known customers pay nothing.
   */
  tombstoned(keys: readonly string[]): Io<R, Set<string>>;
  write(plan: WritePlan): Io<R, void>;
}
type Io<R, T> = R extends 'sync' ? T : Promise<T>;

type Step =
  | { op: 'definitions' }
  | { op: 'existing'; messageIds: string[] }
  | { op: 'load'; keys: string[] }
  | { op: 'loadGroups'; groupIds: string[] }
  | { op: 'journeyIndex' }
  | { op: 'journeyEntries'; profileIds: string[] }
  | { op: 'tombstoned'; keys: string[] }
  | { op: 'write'; plan: WritePlan };

/**
 * Runs the unit on a synchronous transaction (better-sqlite3). It never yields to the event loop, so
 * no other work of this process can interleave with an open SQLite write transaction.
 */
export function runIngestSync(
  tx: IngestTx<'sync'>,
  events: readonly NormalizedEvent[],
  opts: UnitOptions,
): IngestResult {
  return runIngestSyncParts(tx, [events], opts)[0]!;
}

/**
 * Several callers' events as one unit (one load, one write): the result of each part, in order, as if
 * each had been ingested alone right after the ones before it — a messageId repeated in a later part
 * is that part's duplicate. The counts that belong to the whole unit rather than to an event
 * (profiles created and merged, journey work) are reported on the first part; a refused merge goes
 * to the part whose message asked for it. All parts commit or fail together: a caller that needs
 * one part to fail alone retries the parts one by one.
 */
export function runIngestSyncParts(
  tx: IngestTx<'sync'>,
  parts: readonly (readonly NormalizedEvent[])[],
  opts: UnitOptions,
): IngestResult[] {
  const events = parts.length === 1 ? parts[0]! : parts.flat();
  const unit = ingestUnit(events, opts);
  let next = unit.next();
  while (!next.done) next = unit.next(perform(tx, next.value));
  return splitResult(next.value, parts);
}

/** Runs the unit on an asynchronous transaction (PostgreSQL). */
export async function runIngest(
  tx: IngestTx,
  events: readonly NormalizedEvent[],
  opts: UnitOptions,
): Promise<IngestResult> {
  const unit = ingestUnit(events, opts);
  let next = unit.next();
  while (!next.done) next = unit.next(await perform(tx, next.value));
  return withoutFates(next.value);
}

function perform(tx: IngestTx<'sync'> | IngestTx, step: Step): unknown {
  switch (step.op) {
    case 'definitions':
      return tx.definitions();
    case 'existing':
      return tx.existingMessageIds(step.messageIds);
    case 'load':
      return tx.load(step.keys);
    case 'loadGroups':
      return tx.loadGroups(step.groupIds);
    case 'journeyIndex':
      return tx.journeyIndex();
    case 'journeyEntries':
      return tx.journeyEntries(step.profileIds);
    case 'tombstoned':
      return tx.tombstoned(step.keys);
    case 'write':
      return tx.write(step.plan);
  }
}

interface UnitOptions {
  now: number;
  newProfileId: () => string;
  newEntryId: () => string;
}

export interface EventNameDelta {
  type: EventType;
  name: string;
  count: number;
  firstSeenAt: number;
  lastSeenAt: number;
}

export interface WritePlan {
  now: number;
  resolution: ResolutionResult;
  /** events to insert, each with its final profile id. */
  events: { event: NormalizedEvent; profileId: string }[];
  /** stage and segment changes of the batch's profiles (their new state is on the profiles themselves). */
  engagement: EngagementChange[];
  /** what those changes append to the engagement event stream */
  engagementEvents: EngagementEvent[];
  /** what the batch does to journeys: entries, wakes, exits, conversions */
  journeys: JourneyRouting;
  /** top-level trait keys the batch's identify calls set (the adapter records the ones it has not seen) */
  traitKeys: string[];
  eventNames: EventNameDelta[];
  groups: { id: string; state: GroupState }[];
  memberships: { groupId: string; profileId: string; at: number }[];
  /** push devices the batch's events reported, the latest report of each token last */
  devices: Device[];
  /** coupon codes the batch's events report used (`Order Completed` / `Coupon Applied` with `coupon`) */
  redemptions: { code: string; at: number }[];
  /** erased identity keys the batch named → events dropped for them (the adapter counts the hits) */
  tombstoneHits: Map<string, number>;
}

/** What became of each event of a unit, by index: stored, or not (and why). */
const DUPLICATE = 1;
const DISCARDED = 2;
type UnitResult = IngestResult & { fates: Uint8Array };

function* ingestUnit(
  events: readonly NormalizedEvent[],
  opts: UnitOptions,
): Generator<Step, UnitResult, unknown> {
  const fates = new Uint8Array(events.length);
  const seen = new Set<string>();
  const unique: NormalizedEvent[] = [];
  const uniqueAt: number[] = [];
  events.forEach((e, i) => {
    if (seen.has(e.messageId)) fates[i] = DUPLICATE;
    else {
      seen.add(e.messageId);
      unique.push(e);
      uniqueAt.push(i);
    }
  });
  const existing =
    unique.length > 0
      ? ((yield { op: 'existing', messageIds: unique.map((e) => e.messageId) }) as Set<string>)
      : new Set<string>();
  const unseen: NormalizedEvent[] = [];
  const unseenAt: number[] = [];
  unique.forEach((e, k) => {
    if (existing.has(e.messageId)) fates[uniqueAt[k]!] = DUPLICATE;
    else {
      unseen.push(e);
      unseenAt.push(uniqueAt[k]!);
    }
  });
  const empty = {
    stored: 0,
    profilesCreated: 0,
    profilesMerged: 0,
    refusedMerges: [],
    journeyWork: 0,
    discarded: 0,
    fates,
  };
  if (unseen.length === 0) return { ...empty, duplicates: events.length };

  const keys = new Set<string>();
  for (const e of unseen) for (const k of lookupKeysOf(e)) keys.add(identityKeyString(k));
  const defs = (yield { op: 'definitions' }) as Definitions;
  const state = (yield { op: 'load', keys: [...keys].sort() }) as LoadedState;
  // Events naming an erased customer are accepted and dropped (docs/privacy.md#tombstones): only
  // identities the workspace does not know can be tombstoned, so only those are looked up.
  const unknown = [...keys].filter((k) => !state.identities.has(k)).sort();
  const erased =
    unknown.length > 0 ? ((yield { op: 'tombstoned', keys: unknown }) as Set<string>) : new Set<string>();
  const tombstoneHits = new Map<string, number>();
  const fresh =
    erased.size === 0
      ? unseen
      : unseen.filter((e, k) => {
          const hit = lookupKeysOf(e)
            .map(identityKeyString)
            .filter((k) => erased.has(k));
          // One hit per dropped event, on its first erased key, so the hits add up to events.
          const first = hit[0];
          if (first !== undefined) {
            tombstoneHits.set(first, (tombstoneHits.get(first) ?? 0) + 1);
            fates[unseenAt[k]!] = DISCARDED;
          }
          return hit.length === 0;
        });
  const discarded = unseen.length - fresh.length;
  if (fresh.length === 0) {
    if (discarded > 0) yield { op: 'write', plan: emptyPlan(opts.now, tombstoneHits) };
    return { ...empty, duplicates: events.length - unseen.length, discarded };
  }
  const resolution = resolveBatch(fresh, state, opts);
  recordBatch(fresh, resolution.assignments, resolution.newIdentities, state.profiles, defs);
  const touched = [...resolution.created, ...resolution.updated];
  const engagement = reevaluate(touched, defs, opts.now);
  const emitted = engagementEvents(engagement, defs, opts.now);

  const names = new Map<string, EventNameDelta>();
  const groupIds = new Set<string>();
  fresh.forEach((e) => {
    const name = e.name ?? '';
    const k = `${e.type}\u0000${name}`;
    const d = names.get(k);
    if (d) {
      d.count += 1;
      d.firstSeenAt = Math.min(d.firstSeenAt, e.timestamp);
      d.lastSeenAt = Math.max(d.lastSeenAt, e.timestamp);
    } else {
      names.set(k, { type: e.type, name, count: 1, firstSeenAt: e.timestamp, lastSeenAt: e.timestamp });
    }
    if (e.type === 'group' && e.groupId !== null) groupIds.add(e.groupId);
  });

  const groups =
    groupIds.size > 0
      ? ((yield { op: 'loadGroups', groupIds: [...groupIds].sort() }) as Map<string, GroupState>)
      : new Map<string, GroupState>();
  const memberships: WritePlan['memberships'] = [];
  fresh.forEach((e, i) => {
    if (e.type !== 'group' || e.groupId === null) return;
    let g = groups.get(e.groupId);
    if (!g) {
      g = { traits: {}, traitTimes: {}, createdAt: opts.now, isNew: true };
      groups.set(e.groupId, g);
    }
    if (e.traits) applyTraits(g, e.traits, e.timestamp);
    memberships.push({ groupId: e.groupId, profileId: resolution.assignments[i]!, at: e.timestamp });
  });

  const placed = fresh.map((event, i) => ({ event, profileId: resolution.assignments[i]! }));
  const journeys = yield* routeJourneys(placed, emitted, state.profiles, opts);

  yield {
    op: 'write',
    plan: {
      now: opts.now,
      resolution,
      events: placed,
      engagement,
      journeys,
      engagementEvents: emitted,
      traitKeys: [
        ...new Set(fresh.flatMap((e) => (e.type === 'identify' && e.traits ? Object.keys(e.traits) : []))),
      ].sort(),
      eventNames: [...names.values()],
      groups: [...groups].map(([id, state]) => ({ id, state })),
      memberships,
      devices: devicesOf(placed, opts.now),
      redemptions: fresh.flatMap((e) => {
        const code = redeemedCoupon(e);
        return code === null ? [] : [{ code, at: e.timestamp }];
      }),
      tombstoneHits,
    },
  };
  return {
    stored: fresh.length,
    duplicates: events.length - unseen.length,
    discarded,
    profilesCreated: resolution.created.length,
    profilesMerged: resolution.merges.length,
    refusedMerges: resolution.refused,
    journeyWork: journeys.enter.length + journeys.wake.length,
    fates,
  };
}

function withoutFates(r: UnitResult): IngestResult {
  const { fates: _, ...result } = r;
  return result;
}

/** A unit's result as the results of its parts (see runIngestSyncParts). */
function splitResult(r: UnitResult, parts: readonly (readonly NormalizedEvent[])[]): IngestResult[] {
  if (parts.length === 1) return [withoutFates(r)];
  const partOf = new Map<string, number>();
  let i = 0;
  const results = parts.map((events, p) => {
    let stored = 0;
    let duplicates = 0;
    let discarded = 0;
    for (const e of events) {
      const fate = r.fates[i++];
      if (fate === DUPLICATE) duplicates++;
      else if (fate === DISCARDED) discarded++;
      else {
        stored++;
        partOf.set(e.messageId, p);
      }
    }
    const whole = p === 0;
    return {
      stored,
      duplicates,
      discarded,
      profilesCreated: whole ? r.profilesCreated : 0,
      profilesMerged: whole ? r.profilesMerged : 0,
      refusedMerges: [] as RefusedMerge[],
      journeyWork: whole ? r.journeyWork : 0,
    };
  });
  for (const m of r.refusedMerges) results[partOf.get(m.messageId) ?? 0]!.refusedMerges.push(m);
  return results;
}

/** A plan that writes nothing but the tombstone hits of a batch whose every event was dropped. */
function emptyPlan(now: number, tombstoneHits: Map<string, number>): WritePlan {
  return {
    now,
    resolution: { assignments: [], created: [], updated: [], merges: [], refused: [], newIdentities: [] },
    events: [],
    engagement: [],
    engagementEvents: [],
    journeys: emptyRouting(),
    traitKeys: [],
    eventNames: [],
    groups: [],
    memberships: [],
    devices: [],
    redemptions: [],
    tombstoneHits,
  };
}

/** The devices the events report, in event-time order (a later report moves a token). */
function devicesOf(placed: readonly { event: NormalizedEvent; profileId: string }[], now: number): Device[] {
  const out: Device[] = [];
  for (const { event, profileId } of placed) {
    const d = deviceOf(event);
    if (d === null) continue;
    out.push({ ...d, profileId, subscription: null, createdAt: now, updatedAt: event.timestamp });
  }
  return out.sort((a, b) => a.updatedAt - b.updatedAt);
}

/**
 * Routes a batch's events and engagement events to journeys (domain/journeys/route.ts). Reads entries
 * only when some event concerns a journey, so a workspace without journeys pays one cached lookup.
 */
export function* routeJourneys(
  events: readonly { profileId: string; event: NormalizedEvent }[],
  engagement: readonly EngagementEvent[],
  profiles: ReadonlyMap<string, { engagement: { segments: readonly string[] } }>,
  opts: { now: number; newEntryId: () => string },
): Generator<
  { op: 'journeyIndex' } | { op: 'journeyEntries'; profileIds: string[] },
  JourneyRouting,
  unknown
> {
  if (events.length === 0 && engagement.length === 0) return emptyRouting();
  const index = (yield { op: 'journeyIndex' }) as JourneyIndex;
  const concerned = index.concerned(events, engagement);
  if (concerned.length === 0) return emptyRouting();
  const entries = (yield { op: 'journeyEntries', profileIds: concerned }) as Map<string, EntryRow[]>;
  const routing = route(index, {
    now: opts.now,
    events,
    engagement,
    segmentsOf: (id) => profiles.get(id)?.engagement.segments ?? [],
    entries,
    newEntryId: opts.newEntryId,
  });
  return routingSize(routing) > 0 ? routing : emptyRouting();
}
