import type { NormalizedEvent } from './event.js';
import { identityKeyString, identityKeysOf, type IdentityKey } from './identity.js';
import { applyTraits, mergeTimedTraits, type TimedTraits } from './traits.js';
import { emptyFacts, mergeFacts, type ProfileFacts } from './facts/facts.js';
import { emptyEngagement, type EngagementState } from './engagement/evaluate.js';

/**
 * Identity resolution over a working set: the store loads, for one batch, every profile that any of
 * the batch's identity keys points to; `resolveBatch` decides which profile each event belongs to,
 * which profiles are created or merged and how their traits and counters change; the store then writes
 * the result in one transaction. Keeping this pure means both adapters share one set of rules.
 *
 * The rules (docs/identity.md explains them with examples):
 * - One profile holds at most one primary `userId`. Identifiers of two profiles with different user ids
 *   never merge implicitly: an identify that names user U with an anonymous id already owned by user V
 *   puts the event on U's profile (created if needed) and leaves the anonymous id with V.
 * - Otherwise, an event whose identifiers point to several profiles merges them. The survivor is the
 *   one with a user id, else the oldest (createdAt, then id).
 * - `alias(previousId → userId)` is an explicit instruction: it merges previousId's profile into
 *   userId's even when both are known users; the old user id stays as a secondary identifier.
 * - Traits are latest-wins per key by event time; first/last seen are min/max; counts add up.
 */
export interface ProfileState extends TimedTraits {
  id: string;
  userId: string | null;
  createdAt: number;
  firstSeenAt: number | null;
  lastSeenAt: number | null;
  eventCount: number;
  /** what segments and stages need to know of the history; the ingest unit records the events into it */
  facts: ProfileFacts;
  /** stage and segment memberships; the loser's are dropped on a merge, the survivor is re-evaluated */
  engagement: EngagementState;
}

export interface LoadedState {
  /** identity key string → id of the (canonical) profile owning it; keys not present are unknown. */
  identities: Map<string, string>;
  profiles: Map<string, ProfileState>;
}

export interface Merge {
  from: string;
  into: string;
}

export interface RefusedMerge {
  profileIds: [string, string];
  userIds: [string, string];
  messageId: string;
}

export interface ResolutionResult {
  /** profile id per input event, index-aligned. */
  assignments: string[];
  created: ProfileState[];
  /** existing profiles whose state changed, final state. */
  updated: ProfileState[];
  newIdentities: { key: IdentityKey; profileId: string }[];
  /** stored profiles that merged away, each with its final survivor; order does not matter. */
  merges: Merge[];
  refused: RefusedMerge[];
}

export interface ResolveOptions {
  newProfileId: () => string;
  now: number;
}

class WorkingSet {
  readonly created = new Set<string>();
  readonly dirty = new Set<string>();
  readonly merges: Merge[] = [];
  readonly refused: RefusedMerge[] = [];
  readonly newIdentities = new Map<string, { key: IdentityKey; profileId: string }>();

  constructor(
    private readonly state: LoadedState,
    private readonly opts: ResolveOptions,
  ) {}

  profileOf(key: IdentityKey): ProfileState | undefined {
    const id = this.state.identities.get(identityKeyString(key));
    return id === undefined ? undefined : this.state.profiles.get(id);
  }

  create(userId: string | null): ProfileState {
    const p: ProfileState = {
      id: this.opts.newProfileId(),
      userId,
      createdAt: this.opts.now,
      traits: {},
      traitTimes: {},
      firstSeenAt: null,
      lastSeenAt: null,
      eventCount: 0,
      facts: emptyFacts(),
      engagement: emptyEngagement(),
    };
    this.state.profiles.set(p.id, p);
    this.created.add(p.id);
    return p;
  }

  /** Attaches `key` to `profile` unless another profile already owns it. */
  attach(key: IdentityKey, profile: ProfileState): void {
    const s = identityKeyString(key);
    if (this.state.identities.has(s)) return;
    this.state.identities.set(s, profile.id);
    this.newIdentities.set(s, { key, profileId: profile.id });
    if (key.kind === 'user_id' && profile.userId === null) {
      profile.userId = key.value;
      this.dirty.add(profile.id);
    }
  }

  /** Merges `loser` into `winner`: every identity, event and counter of the loser moves. */
  merge(loser: ProfileState, winner: ProfileState): void {
    mergeTimedTraits(winner, loser);
    mergeFacts(winner.facts, loser.facts);
    winner.firstSeenAt = minOrNull(winner.firstSeenAt, loser.firstSeenAt);
    winner.lastSeenAt = maxOrNull(winner.lastSeenAt, loser.lastSeenAt);
    winner.eventCount += loser.eventCount;
    winner.userId ??= loser.userId;
    winner.createdAt = Math.min(winner.createdAt, loser.createdAt);
    for (const [k, owner] of this.state.identities) {
      if (owner === loser.id) this.state.identities.set(k, winner.id);
    }
    for (const ni of this.newIdentities.values()) {
      if (ni.profileId === loser.id) ni.profileId = winner.id;
    }
    this.state.profiles.delete(loser.id);
    this.dirty.delete(loser.id);
    this.created.delete(loser.id);
    this.merges.push({ from: loser.id, into: winner.id });
    this.dirty.add(winner.id);
  }

  record(profile: ProfileState, event: NormalizedEvent): void {
    profile.eventCount += 1;
    profile.firstSeenAt = minOrNull(profile.firstSeenAt, event.timestamp);
    profile.lastSeenAt = maxOrNull(profile.lastSeenAt, event.timestamp);
    if (event.type === 'identify' && event.traits) applyTraits(profile, event.traits, event.timestamp);
    this.dirty.add(profile.id);
  }
}

function minOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** Survivor of an implicit merge: the known user, else the older profile. */
export function mergeWinner(a: ProfileState, b: ProfileState): ProfileState {
  if ((a.userId === null) !== (b.userId === null)) return a.userId !== null ? a : b;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? a : b;
  return a.id < b.id ? a : b;
}

function canMergeImplicitly(a: ProfileState, b: ProfileState): boolean {
  return a.userId === null || b.userId === null || a.userId === b.userId;
}

function resolveOne(ws: WorkingSet, event: NormalizedEvent): ProfileState {
  const keys = identityKeysOf(event);
  let target: ProfileState | undefined;
  for (const k of keys) {
    target = ws.profileOf(k);
    if (target) break;
  }
  if (target && event.userId !== null && target.userId !== null && target.userId !== event.userId) {
    // A new user on an identifier (device, e-mail) that belongs to another user: a profile of their
    // own; the loop below records the refused merge and leaves the identifier with its owner.
    target = ws.create(event.userId);
  }
  target ??= ws.create(event.userId);
  for (const k of keys) {
    const owner = ws.profileOf(k);
    if (!owner) {
      ws.attach(k, target);
    } else if (owner.id !== target.id) {
      if (canMergeImplicitly(owner, target)) {
        const winner = mergeWinner(owner, target);
        ws.merge(winner === owner ? target : owner, winner);
        target = winner;
      } else {
        ws.refused.push({
          profileIds: [owner.id, target.id],
          userIds: [owner.userId ?? '', target.userId ?? ''],
          messageId: event.messageId,
        });
      }
    }
  }
  return target;
}

function resolveAlias(ws: WorkingSet, event: NormalizedEvent): ProfileState {
  const userId = event.userId;
  const prev = event.previousId;
  if (userId === null || prev === null) return resolveOne(ws, event);
  const userKey: IdentityKey = { kind: 'user_id', value: userId };
  let target = ws.profileOf(userKey);
  const source =
    ws.profileOf({ kind: 'user_id', value: prev }) ?? ws.profileOf({ kind: 'anonymous_id', value: prev });
  if (!target) {
    target = source ?? ws.create(userId);
    ws.attach(userKey, target);
  } else if (source && source.id !== target.id) {
    ws.merge(source, target);
  }
  if (!source) ws.attach({ kind: 'anonymous_id', value: prev }, target);
  // The caller's anonymous id, if any, follows the usual rules.
  if (event.anonymousId !== null) {
    const anonKey: IdentityKey = { kind: 'anonymous_id', value: event.anonymousId };
    const owner = ws.profileOf(anonKey);
    if (!owner) ws.attach(anonKey, target);
    else if (owner.id !== target.id && canMergeImplicitly(owner, target)) ws.merge(owner, target);
  }
  return target;
}

export function resolveBatch(
  events: readonly NormalizedEvent[],
  state: LoadedState,
  opts: ResolveOptions,
): ResolutionResult {
  const stored = new Set(state.profiles.keys());
  const ws = new WorkingSet(state, opts);
  const assigned: ProfileState[] = [];
  for (const event of events) {
    const p = event.type === 'alias' ? resolveAlias(ws, event) : resolveOne(ws, event);
    ws.record(p, event);
    assigned.push(p);
  }
  // Follow merges that happened after an event was assigned.
  const redirect = new Map<string, string>();
  for (const m of ws.merges) redirect.set(m.from, m.into);
  const final = (id: string): string => {
    let cur = id;
    for (let next = redirect.get(cur); next !== undefined; next = redirect.get(cur)) cur = next;
    return cur;
  };
  const createdIds = new Set(ws.created);
  return {
    assignments: assigned.map((p) => final(p.id)),
    created: [...ws.created].map((id) => mustGet(state.profiles, id)),
    updated: [...ws.dirty].filter((id) => !createdIds.has(id)).map((id) => mustGet(state.profiles, id)),
    newIdentities: [...ws.newIdentities.values()],
    // Only stored losers need work in the store, and each points at its final survivor, so a chain
    // through a profile created (and merged) within this batch never leaves a dangling pointer.
    merges: ws.merges.filter((m) => stored.has(m.from)).map((m) => ({ from: m.from, into: final(m.into) })),
    refused: ws.refused,
  };
}

function mustGet(m: Map<string, ProfileState>, id: string): ProfileState {
  const p = m.get(id);
  if (!p) throw new Error(`profile ${id} vanished from the working set`);
  return p;
}
