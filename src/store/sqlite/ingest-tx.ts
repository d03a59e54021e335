import type { JsonObject, NormalizedEvent } from '../../domain/event.js';
import type { LoadedState, ProfileState } from '../../domain/resolution.js';
import type { GroupState, IngestTx, WritePlan } from '../ingest-unit.js';
import { json, profileState } from '../rows.js';
import type { Prepare } from './statements.js';
import { segmentsOf } from './engagement-reads.js';
import type { Definitions } from '../../domain/engagement/definitions.js';
import {
  engagementColumns,
  mergeEngagement,
  writeEngagementChanges,
  type DefinitionsCache,
} from './engagement.js';
import type { EntryRow, JourneyIndex } from '../../domain/journeys/route.js';
import { mergeDevices, putDevices } from './contacts.js';
import { mergeSurveyAnswers } from './surveys.js';
import { addActivity, mergeActivity } from './activity.js';
import { redeemCoupons } from './coupons.js';
import { loadEntries, mergeJourneys, writeRouting, type JourneyIndexCache } from './journeys.js';
import { countTombstoneHits, tombstoned } from './rights.js';

/** The ingest unit of work on the writer connection (already inside BEGIN IMMEDIATE). */
export class SqliteIngestTx implements IngestTx<'sync'> {
  constructor(
    private readonly prep: Prepare,
    private readonly ws: string,
    private readonly defs: DefinitionsCache,
    private readonly journeys: JourneyIndexCache,
  ) {}

  /** The version read for definitions(): one transaction sees one version, so the index reuses it. */
  private version: number | undefined;

  definitions(): Definitions {
    const d = this.defs.get(this.prep, this.ws);
    this.version = d.version;
    return d;
  }

  journeyIndex(): JourneyIndex {
    return this.journeys.get(this.prep, this.ws, this.version);
  }

  journeyEntries(profileIds: readonly string[]): Map<string, EntryRow[]> {
    return loadEntries(this.prep, this.ws, profileIds);
  }

  tombstoned(keys: readonly string[]): Set<string> {
    return tombstoned(this.prep, this.ws, keys);
  }

  existingMessageIds(messageIds: readonly string[]): Set<string> {
    // One statement for the whole list, as JSON: SQLite sorts the list and probes the index in that
    // order. Text JSON cannot carry as it was (a lone surrogate, NUL; ingestion refuses both) is probed
    // one id at a time.
    if (messageIds.every(plainText)) {
      const all = this.prep(
        'SELECT message_id FROM events WHERE workspace_id = ? AND message_id IN (SELECT value FROM json_each(?))',
      ).pluck();
      return new Set(all.all(this.ws, JSON.stringify(messageIds)) as string[]);
    }
    const stmt = this.prep('SELECT 1 FROM events WHERE workspace_id = ? AND message_id = ?').pluck();
    const found = new Set<string>();
    for (const id of messageIds) if (stmt.get(this.ws, id) !== undefined) found.add(id);
    return found;
  }

  /** The rowids of the profiles load() read: write() updates them by rowid (see saveProfiles). */
  private readonly rowids = new Map<string, number>();

  load(keys: readonly string[]): LoadedState {
    // A key's owner and the owner's profile in one statement. Rows as arrays: better-sqlite3 builds a
    // named row property by property, which cost about 1 µs a profile more than the literal below
    // (docs/performance.md, ingestion run J).
    const stmt = this.prep(
      `SELECT i.profile_id, ${LOAD_COLUMNS} FROM identities i
       LEFT JOIN profiles p ON p.workspace_id = i.workspace_id AND p.id = i.profile_id
       WHERE i.workspace_id = ? AND i.kind = ? AND i.value = ?`,
    ).raw();
    const state: LoadedState = { identities: new Map(), profiles: new Map() };
    for (const key of keys) {
      const sep = key.indexOf(':');
      const r = stmt.get(this.ws, key.slice(0, sep), key.slice(sep + 1)) as LoadRow | undefined;
      if (r === undefined) continue;
      const owner = r[0];
      state.identities.set(key, owner);
      if (r[1] === null || state.profiles.has(owner)) continue;
      this.rowids.set(owner, r[1]);
      state.profiles.set(
        owner,
        profileState({
          id: owner,
          user_id: r[2],
          traits: r[3],
          trait_times: r[4],
          first_seen_at: r[5],
          last_seen_at: r[6],
          event_count: r[7],
          created_at: r[8],
          updated_at: r[9],
          facts: r[10],
          stage: r[11],
          previous_stage: r[12],
          stage_since: r[13],
          segments: r[14],
        }),
      );
    }
    return state;
  }

  loadGroups(groupIds: readonly string[]): Map<string, GroupState> {
    const stmt = this.prep(
      'SELECT traits, trait_times, created_at FROM groups WHERE workspace_id = ? AND id = ?',
    );
    const out = new Map<string, GroupState>();
    for (const id of groupIds) {
      const row = stmt.get(this.ws, id) as
        { traits: string; trait_times: string; created_at: number } | undefined;
      if (row)
        out.set(id, {
          traits: json<JsonObject>(row.traits),
          traitTimes: json<Record<string, number>>(row.trait_times),
          createdAt: row.created_at,
          isNew: false,
        });
    }
    return out;
  }

  /**
   * New and changed profiles alike get the final state the resolution computed. The stage column is
   * indexed (stage counts), and SQLite rewrites an index entry whenever its column is assigned, changed
   * or not; so neither statement assigns it, and the rare stage change is its own update (measured:
   * +10 % batch ingest). A profile load() read is updated by its rowid, one b-tree seek instead of the
   * upsert's probe of the primary-key index and then its seek (nothing in the transaction deletes a
   * profile, so the rowid still holds); any other goes through the upsert.
   */
  private saveProfiles(
    created: readonly ProfileState[],
    updated: readonly ProfileState[],
    now: number,
  ): void {
    const { prep, ws } = this;
    const upsert = prep(
      `INSERT INTO profiles (workspace_id, id, user_id, traits, trait_times, first_seen_at, last_seen_at, event_count, created_at, updated_at,
         facts, stage, previous_stage, stage_since)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, id) DO UPDATE SET ${PROFILE_SETS}`,
    );
    const byRowid = prep(
      `UPDATE profiles SET ${PROFILE_SETS.replace(/excluded\.\w+/g, '?')} WHERE rowid = ?`,
    );
    for (const p of created) upsert.run(ws, p.id, ...profileColumns(p, now), ...engagementColumns(p));
    for (const p of updated) {
      const rowid = this.rowids.get(p.id);
      if (rowid === undefined) upsert.run(ws, p.id, ...profileColumns(p, now), ...engagementColumns(p));
      else {
        const [facts, , previousStage, stageSince] = engagementColumns(p);
        byRowid.run(...profileColumns(p, now), facts, previousStage, stageSince, rowid);
      }
    }
  }

  write(plan: WritePlan): void {
    const { prep, ws } = this;
    const { now, resolution } = plan;
    if (plan.tombstoneHits.size > 0) countTombstoneHits(prep, ws, plan.tombstoneHits);
    if (plan.events.length === 0) return;
    // The secondary indexes are named: without statistics SQLite prefers a WITHOUT ROWID table's
    // primary-key prefix (every row of the workspace) to them, which made each merge a workspace scan.
    for (const m of resolution.merges) {
      prep('UPDATE profiles SET merged_into = ?, updated_at = ? WHERE workspace_id = ? AND id = ?').run(
        m.into,
        now,
        ws,
        m.from,
      );
      prep(
        'UPDATE profiles INDEXED BY profiles_merged SET merged_into = ? WHERE workspace_id = ? AND merged_into = ?',
      ).run(m.into, ws, m.from);
      prep(
        'UPDATE identities INDEXED BY identities_by_profile SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?',
      ).run(m.into, ws, m.from);
      prep('UPDATE events SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?').run(
        m.into,
        ws,
        m.from,
      );
      prep(
        `INSERT OR IGNORE INTO group_members (workspace_id, group_id, profile_id, joined_at)
         SELECT workspace_id, group_id, ?, joined_at FROM group_members INDEXED BY group_members_by_profile WHERE workspace_id = ? AND profile_id = ?`,
      ).run(m.into, ws, m.from);
      prep(
        'DELETE FROM group_members INDEXED BY group_members_by_profile WHERE workspace_id = ? AND profile_id = ?',
      ).run(ws, m.from);
      mergeEngagement(prep, ws, m.from, m.into);
      mergeJourneys(prep, ws, m.from, m.into, now);
      mergeDevices(prep, ws, m.from, m.into);
      mergeSurveyAnswers(prep, ws, m.from, m.into);
      mergeActivity(prep, ws, m.from, m.into);
    }
    this.saveProfiles(resolution.created, resolution.updated, now);
    const created = new Set(resolution.created.map((p) => p.id));
    const setStage = prep('UPDATE profiles SET stage = ? WHERE workspace_id = ? AND id = ?');
    for (const c of plan.engagement)
      if (c.stageChange && !created.has(c.profileId)) setStage.run(c.stageChange.to, ws, c.profileId);
    writeEngagementChanges(prep, ws, plan.engagement, plan.engagementEvents, now);
    const insIdentity = prep(
      'INSERT INTO identities (workspace_id, kind, value, profile_id, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const ni of resolution.newIdentities)
      insIdentity.run(ws, ni.key.kind, ni.key.value, ni.profileId, now);
    insertEvents(prep, ws, plan.events);
    addActivity(
      prep,
      ws,
      plan.events.map(({ event: e, profileId }) => ({
        profileId,
        type: e.type,
        name: e.name,
        timestamp: e.timestamp,
      })),
      created,
    );
    // A known key costs one index probe and writes nothing, so no cache is needed here.
    const key = prep('INSERT OR IGNORE INTO trait_keys (workspace_id, key) VALUES (?, ?)');
    for (const k of plan.traitKeys) key.run(ws, k);
    const bump = prep(
      `INSERT INTO event_names (workspace_id, type, name, count, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, type, name) DO UPDATE SET count = count + excluded.count,
         first_seen_at = min(first_seen_at, excluded.first_seen_at), last_seen_at = max(last_seen_at, excluded.last_seen_at)`,
    );
    for (const n of plan.eventNames) bump.run(ws, n.type, n.name, n.count, n.firstSeenAt, n.lastSeenAt);
    const upGroup = prep(
      `INSERT INTO groups (workspace_id, id, traits, trait_times, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, id) DO UPDATE SET traits = excluded.traits, trait_times = excluded.trait_times, updated_at = excluded.updated_at`,
    );
    for (const g of plan.groups)
      upGroup.run(
        ws,
        g.id,
        JSON.stringify(g.state.traits),
        JSON.stringify(g.state.traitTimes),
        g.state.createdAt,
        now,
      );
    const member = prep(
      'INSERT OR IGNORE INTO group_members (workspace_id, group_id, profile_id, joined_at) VALUES (?, ?, ?, ?)',
    );
    for (const m of plan.memberships) member.run(ws, m.groupId, m.profileId, m.at);
    putDevices(prep, ws, plan.devices);
    if (plan.redemptions.length > 0) redeemCoupons(prep, ws, plan.redemptions);
    writeRouting(prep, ws, plan.journeys, now);
  }
}

/** The columns an upsert of a known profile sets (all but stage and merged_into), in profileColumns' order. */
const PROFILE_SETS = `user_id = excluded.user_id, traits = excluded.traits, trait_times = excluded.trait_times,
  first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at, event_count = excluded.event_count,
  created_at = excluded.created_at, updated_at = excluded.updated_at, facts = excluded.facts,
  previous_stage = excluded.previous_stage, stage_since = excluded.stage_since`;

function profileColumns(p: ProfileState, now: number) {
  return [
    p.userId,
    JSON.stringify(p.traits),
    JSON.stringify(p.traitTimes),
    p.firstSeenAt,
    p.lastSeenAt,
    p.eventCount,
    p.createdAt,
    now,
  ] as const;
}

/** Whether SQLite's json_each gives `s` back as it is. */
const plainText = (s: string): boolean => s.isWellFormed() && !s.includes('\u0000');

/** What load() reads of a profile, in this order (rows as arrays, see load). */
const LOAD_COLUMNS = `p.rowid, p.user_id, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at, p.event_count,
  p.created_at, p.updated_at, p.facts, p.stage, p.previous_stage, p.stage_since, ${segmentsOf('p')}`;
type LoadRow = [
  string,
  number | null,
  string | null,
  string,
  string,
  number | null,
  number | null,
  number,
  number,
  number,
  string | null,
  string | null,
  string | null,
  number | null,
  string,
];

/** Inserts events with their final profile ids (client events and Kizuna's own alike). */
export function insertEvents(
  prep: Prepare,
  ws: string,
  events: readonly { event: NormalizedEvent; profileId: string }[],
): void {
  const insEvent = prep(
    `INSERT INTO events (workspace_id, profile_id, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const { event: e, profileId } of events) {
    insEvent.run(
      ws,
      profileId,
      e.messageId,
      e.type,
      e.name,
      e.userId,
      e.anonymousId,
      e.timestamp,
      e.receivedAt,
      e.payload,
    );
  }
}
