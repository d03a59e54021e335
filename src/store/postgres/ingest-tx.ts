import type { JsonObject, NormalizedEvent } from '../../domain/event.js';
import { identityKeyString, lookupKeysOf } from '../../domain/identity.js';
import type { LoadedState, ProfileState } from '../../domain/resolution.js';
import type { Definitions } from '../../domain/engagement/definitions.js';
import type { EntryRow, JourneyIndex } from '../../domain/journeys/route.js';
import type { GroupState, IngestTx, WritePlan } from '../ingest-unit.js';
import { profileState, type ProfileRow } from '../rows.js';
import { engagementRows, withSegments, type DefinitionsCache } from './engagement.js';
import {
  EXITS,
  LOAD_PROFILES,
  LOCK_GROUPS,
  LOCK_KEYS_EXISTING,
  LOCK_WORKSPACE_EXISTING,
  MERGE,
  joinJson,
  WRITE,
} from './ingest-statements.js';
import type { Sql } from './pg-driver.js';
import type { TraitKeyCache } from '../trait-keys.js';
import { StaleReadError } from './pg-errors.js';
import { mergeDevices, putDevices } from './contacts.js';
import { mergeSurveyAnswers } from './surveys.js';
import { activityRows, activityYears } from '../../domain/reports/activity.js';
import { yearRow } from './activity.js';
import { redeemCoupons } from './coupons.js';
import { loadEntries, mergeJourneys, writeRouting, type JourneyIndexCache } from './journeys.js';
import { countTombstoneHits, tombstoned } from './rights.js';

/**
 * A batch naming more identity keys than this takes the workspace's lock exclusively instead of one
 * advisory lock per key. The server's lock table is shared by every session and sized by
 * max_locks_per_transaction × max_connections (64 × 100 by default): concurrent writers may together
 * hold up to this many locks each, and a full table fails their transactions (503).
 */
const MAX_KEY_LOCKS = 512;

/**
 * The ingest unit of work inside one READ COMMITTED transaction (see `runIngest`).
 *
 * Concurrency, across processes:
 * - The first statement (`existingMessageIds`) takes the workspace's advisory lock in shared mode and
 *   one transaction-scoped advisory lock per identity key of the call's events. Whoever inserts an
 *   identity holds its key's lock, so a key `load` (a later statement, with a later snapshot) reads
 *   as unknown stays unknown until this unit commits.
 * - `load` locks the keys' owning profiles `FOR UPDATE`, in id order. A merge re-points the loser's
 *   other identities without their key locks; a profile found merged once its lock is granted means
 *   those identities were read before that merge committed, so the unit is rolled back and re-run
 *   (StaleReadError). Every profile the plan updates is locked; new ones have fresh random ids.
 * - Groups are locked as rows (created empty if missing), so concurrent trait updates lose nothing.
 * - The messageId check takes no lock: when two writers store the same messageId the unique index
 *   rejects the second, which is re-run and then counts the event as a duplicate.
 * - Definitions: the first statement also reads the definitions version, possibly from before the
 *   workspace's shared lock was granted. Definition changes hold that lock exclusively (engagement.ts),
 *   so the version WRITE reads (under the lock) is final: if it differs from the one the unit evaluated
 *   with, a change committed while this unit waited, and the unit is re-run (StaleReadError). The
 *   journey index is checked the same way (publishing and status changes bump the version too).
 * - Journey entries are read and routed for the batch's profiles, which are locked (new ones have no
 *   entries); the runner's claims never block routing (see journeys.ts).
 * Rows many writers share (event names, groups, identities) are written in one fixed order.
 */
export class PostgresIngestTx implements IngestTx {
  /** Identity keys locked so far (sorted), or 'workspace' once the workspace is locked exclusively. */
  private locked: ReadonlySet<string> | 'workspace' = new Set();
  /** the definitions version the first statement read (undefined before it ran, null: no workspace) */
  private seenVersion: number | null | undefined;
  /** the version of the definitions handed to the unit */
  private usedVersion: number | undefined;
  /**
   * Whether the definitions handed to the unit have segments. Without any, no profile has a membership
   * (deleting a segment deletes its members), so `load` skips reading them; a segment defined
   * meanwhile changes the version, and WRITE then re-runs the unit.
   */
  private segmentsDefined = true;
  /** the version of the journey index handed to the unit, if it asked for one */
  private journeyVersion: number | undefined;
  /** Keys `load` found no identity of → whether each is tombstoned (read in the same statement). */
  private checked = new Map<string, boolean>();

  constructor(
    private readonly sql: Sql,
    private readonly ws: string,
    /** the unit's `now`: missing groups are created at this time. */
    private readonly now: number,
    /** the call's events: their identity keys are locked together with the messageId check. */
    private readonly events: readonly NormalizedEvent[],
    /** the event-name counter shard this transaction adds to (see migrations/0001_initial.sql). */
    private readonly shard: number,
    private readonly defs: DefinitionsCache,
    /** trait keys this process has recorded: only new ones cost a statement */
    private readonly traitKeys: TraitKeyCache,
    private readonly journeys: JourneyIndexCache,
  ) {}

  /** No round trip unless the compiled copy is stale: the version came with the messageId check. */
  async definitions(): Promise<Definitions> {
    const defs = await this.defs.get(this.sql, this.ws, this.seenVersion);
    this.usedVersion = defs.version;
    this.segmentsDefined = defs.segments.length > 0;
    return defs;
  }

  /** Like `definitions`: no round trip unless the compiled copy is stale. */
  async journeyIndex(): Promise<JourneyIndex> {
    const index = await this.journeys.get(this.sql, this.ws, this.seenVersion);
    this.journeyVersion = index.version;
    return index;
  }

  journeyEntries(profileIds: readonly string[]): Promise<Map<string, EntryRow[]>> {
    return loadEntries(this.sql, this.ws, profileIds);
  }

  /**
   * Answered from what `load` read when it covered every key asked for (the unit asks for the keys
   * `load` found no identity of); otherwise, e.g. for a key whose owner was erased while `load` waited
   * for its lock, by a statement of its own.
   */
  tombstoned(keys: readonly string[]): Promise<Set<string>> {
    const checked = this.checked;
    if (keys.every((k) => checked.has(k)))
      return Promise.resolve(new Set(keys.filter((k) => checked.get(k))));
    return tombstoned(this.sql, this.ws, keys);
  }

  /**
   * Locks the identity keys of every event of the call (a superset of what `load` asks for: the
   * unit drops stored messageIds first) in the same round trip as the messageId check.
   */
  async existingMessageIds(messageIds: readonly string[]): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const e of this.events) for (const k of lookupKeysOf(e)) keys.add(identityKeyString(k));
    const sorted = [...keys].sort(cmp);
    const whole = sorted.length > MAX_KEY_LOCKS;
    const [row] = await this.sql.run<{ existing: string[]; definitions_version: number | null }>(
      whole ? LOCK_WORKSPACE_EXISTING : LOCK_KEYS_EXISTING,
      { ws: this.ws, ids: messageIds, keys: sorted },
    );
    this.locked = whole ? 'workspace' : keys;
    this.seenVersion = row?.definitions_version ?? null;
    return new Set(row?.existing ?? []);
  }

  async load(keys: readonly string[]): Promise<LoadedState> {
    const locked = this.locked;
    // The unit asks only for keys of the events this transaction was given, which are all locked.
    if (locked !== 'workspace' && keys.some((k) => !locked.has(k))) {
      throw new Error('load() was asked for identity keys of events this transaction was not given');
    }
    const kinds: string[] = [];
    const values: string[] = [];
    for (const key of keys) {
      const sep = key.indexOf(':');
      kinds.push(key.slice(0, sep));
      values.push(key.slice(sep + 1));
    }
    const found = await this.sql.run<LoadRow>(LOAD_PROFILES, { ws: this.ws, kinds, values });
    const owners: (ProfileRow & { kind: string; value: string })[] = [];
    this.checked = new Map();
    for (const row of found) {
      if (row.id !== null) owners.push({ ...row, id: row.id });
      else if (row.owner === null) this.checked.set(`${row.kind}:${row.value}`, row.erased === true);
    }
    const rows = this.segmentsDefined
      ? await withSegments(this.sql, this.ws, owners)
      : owners.map((r) => ({ ...r, segments: [] }));
    const state: LoadedState = { identities: new Map(), profiles: new Map() };
    for (const row of rows) {
      if (row.merged_into) throw new StaleReadError(`profile ${row.id} was merged by a concurrent writer`);
      state.identities.set(`${row.kind}:${row.value}`, row.id);
      if (!state.profiles.has(row.id)) state.profiles.set(row.id, profileState(row));
    }
    return state;
  }

  async loadGroups(groupIds: readonly string[]): Promise<Map<string, GroupState>> {
    const rows = await this.sql.run<{
      id: string;
      traits: JsonObject;
      trait_times: Record<string, number>;
      created_at: number;
    }>(LOCK_GROUPS, { ws: this.ws, ids: groupIds, now: this.now });
    return new Map(
      rows.map((r) => [
        r.id,
        { traits: r.traits, traitTimes: r.trait_times, createdAt: r.created_at, isNew: false },
      ]),
    );
  }

  async write(plan: WritePlan): Promise<void> {
    const { ws } = this;
    const { now, resolution } = plan;
    if (plan.tombstoneHits.size > 0) await countTombstoneHits(this.sql, ws, plan.tombstoneHits);
    if (plan.events.length === 0) return;
    // Every argument is built before the first statement is sent, so a bad value changes nothing.
    const identities = [...resolution.newIdentities].sort(
      (a, b) => cmp(a.key.kind, b.key.kind) || cmp(a.key.value, b.key.value),
    );
    const groups = [...plan.groups].sort((a, b) => cmp(a.id, b.id));
    const members = [...plan.memberships].sort(
      (a, b) => cmp(a.groupId, b.groupId) || cmp(a.profileId, b.profileId),
    );
    const names = [...plan.eventNames].sort((a, b) => cmp(a.type, b.type) || cmp(a.name, b.name));
    const engagement = engagementRows(plan.engagement, plan.engagementEvents);
    const activity = plan.events.map(({ event: e, profileId }) => ({
      profileId,
      type: e.type,
      name: e.name,
      timestamp: e.timestamp,
    }));
    // Profiles this plan creates have no rollup rows to look up, unless a merge just moved a loser's
    // onto one (then ON CONFLICT still adds the days; the lookup only spares writing known ones).
    const created = new Set(resolution.created.map((p) => p.id));
    const rows = {
      ws,
      now,
      created: JSON.stringify(resolution.created.map(profileRow)),
      created_facts: joinJson(resolution.created.map((p) => JSON.stringify(p.facts))),
      updated: JSON.stringify(resolution.updated.map(profileRow)),
      updated_facts: joinJson(resolution.updated.map((p) => JSON.stringify(p.facts))),
      identities: JSON.stringify(
        identities.map((i) => ({ kind: i.key.kind, value: i.key.value, profile_id: i.profileId })),
      ),
      events: JSON.stringify(plan.events.map(eventRow)),
      payloads: joinJson(plan.events.map(({ event }) => event.payload)),
      activity: JSON.stringify(
        activityRows(activity).map((a) => ({
          name: a.name,
          profile_id: a.profileId,
          kind: a.kind,
          month: a.month,
          days: a.days,
          fresh: created.has(a.profileId),
        })),
      ),
      activity_years: JSON.stringify(
        activityYears(activity).map((y) => ({ ...yearRow(y), fresh: created.has(y.profileId) })),
      ),
      entered: engagement.entered,
      engagement_events: engagement.engagement_events,
      groups: JSON.stringify(
        groups.map((g) => ({ id: g.id, traits: g.state.traits, trait_times: g.state.traitTimes })),
      ),
      members: JSON.stringify(
        members.map((m) => ({ group_id: m.groupId, profile_id: m.profileId, joined_at: m.at })),
      ),
      shard: this.shard,
      names: JSON.stringify(
        names.map((n) => ({
          type: n.type,
          name: n.name,
          count: n.count,
          first_seen_at: n.firstSeenAt,
          last_seen_at: n.lastSeenAt,
        })),
      ),
    };
    if (resolution.merges.length > 0) {
      const merge = {
        ws,
        now,
        from: resolution.merges.map((m) => m.from),
        into: resolution.merges.map((m) => m.into),
      };
      for (const statement of MERGE) await this.sql.run(statement, merge);
      await mergeJourneys(this.sql, ws, resolution.merges, plan.now);
      await mergeDevices(this.sql, ws, resolution.merges);
      await mergeSurveyAnswers(this.sql, ws, resolution.merges);
    }
    if (engagement.exits !== null) await this.sql.once(EXITS, { ws, exits: engagement.exits });
    const [written] = await this.sql.run<{ definitions_version: number | null }>(WRITE, rows);
    if (
      written?.definitions_version !== this.usedVersion ||
      (this.journeyVersion !== undefined && written?.definitions_version !== this.journeyVersion)
    ) {
      throw new StaleReadError('the definitions changed while this unit waited for its locks');
    }
    await putDevices(this.sql, ws, plan.devices);
    await redeemCoupons(this.sql, ws, plan.redemptions);
    // After the merges: the plan's entries and wakes name survivors.
    await writeRouting(this.sql, ws, plan.journeys, now);
    const newKeys = this.traitKeys.unseen(ws, plan.traitKeys);
    if (newKeys.length > 0) {
      await this.sql.query(
        'INSERT INTO trait_keys (workspace_id, key) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [ws, newKeys],
      );
      // Remembered before COMMIT: if the commit then fails, the key is written again only after a
      // restart. It only feeds "unknown trait" warnings at rule validation, so that is acceptable.
      this.traitKeys.remember(ws, newKeys);
    }
  }
}

/** A profile's row, without its facts (WRITE takes them apart, see `joinJson`). */
function profileRow(p: ProfileState): Record<string, unknown> {
  return {
    id: p.id,
    user_id: p.userId,
    traits: p.traits,
    trait_times: p.traitTimes,
    first_seen_at: p.firstSeenAt,
    last_seen_at: p.lastSeenAt,
    event_count: p.eventCount,
    created_at: p.createdAt,
    stage: p.engagement.stage,
    previous_stage: p.engagement.previousStage,
    stage_since: p.engagement.stageSince,
  };
}

/** One event's row, without its payload (WRITE takes the payloads apart, see `joinJson`). */
function eventRow({ event: e, profileId }: WritePlan['events'][number]): Record<string, unknown> {
  return {
    profile_id: profileId,
    message_id: e.messageId,
    type: e.type,
    name: e.name,
    user_id: e.userId,
    anonymous_id: e.anonymousId,
    timestamp: e.timestamp,
    received_at: e.receivedAt,
  };
}

/**
 * A row of LOAD_PROFILES: a key's owner, locked (`id` set); a key no identity names (`owner` null,
 * `erased` set); or a key whose owner was gone once locked (`owner` set, `id` null).
 */
type LoadRow = Omit<ProfileRow, 'id'> & {
  kind: string;
  value: string;
  owner: string | null;
  id: string | null;
  erased: boolean | null;
};

/** Code-unit order: any fixed total order serves for lock ordering, and this one needs no locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
