import * as reports from './reports.js';
import type {
  CustomerSequence,
  FunnelPathQuery,
  ReportCursor,
  ReportEventQuery,
  ReportEventRow,
  RetentionQuery,
  SequenceQuery,
} from '../report-store.js';
import type { RetentionCounts } from '../../domain/reports/retention.js';
import type { Transition } from '../../domain/reports/stage-flow.js';
import type { PerformanceCounts } from '../../domain/reports/performance.js';
import type { Touch } from '../../domain/reports/attribution.js';
import type { FunnelPath } from '../../domain/reports/funnel.js';
import type { EnterCustomer, EntrySpec } from '../journey-store.js';
import type { EntryLimit } from '../../domain/journeys/types.js';
import * as runs from './journey-runs.js';
import * as delivery from './delivery.js';
import * as contacts from './contacts.js';
import * as coupons from './coupons.js';
import { PURGE_STEP } from './segment-purge.js';
import { triggerEvent } from '../journey-rows.js';
import type { TriggerEvent } from '../journey-store.js';
import type { CouponCode, CouponPool, CouponRequest } from '../coupon-store.js';
import * as documents from './documents.js';
import type { AfterSendState, Device, Suppression } from '../contact-store.js';
import * as catalog from './catalog.js';
import * as inapp from './inapp.js';
import type {
  CardRecord,
  CardStateChange,
  InAppState,
  ExposureOutcome,
  InteractionInput,
  MessageRecord,
} from '../inapp-store.js';
import type { CampaignStatus } from '../../domain/inapp/definition.js';
import * as surveys from './surveys.js';
import * as rights from './rights.js';
import type { ConsentEntry } from '../../domain/consent.js';
import type { ErasureOutcome, ErasureRecord, ExportPage } from '../rights-store.js';
import * as access from './access.js';
import type {
  ApiKeyRecord,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  SessionRecord,
  StaffUser,
  StaffUserPatch,
} from '../access-store.js';
import type { Scope } from '../../domain/access.js';
import type {
  Feedback,
  FeedbackQuery,
  FeedbackTags,
  SurveyPut,
  SurveyRecord,
  SurveyResponse,
} from '../survey-store.js';
import type { CatalogItem, Interaction, SimilarItem } from '../catalog-store.js';
import type {
  ChannelRecord,
  ClaimedMessage,
  MessageEvent,
  MessageResult,
  MessageState,
  Subscription,
  TemplateRecord,
} from '../delivery-store.js';
import type Database from 'better-sqlite3';
import type { Clock } from '../../domain/clock.js';
import type { JsonObject, NormalizedEvent } from '../../domain/event.js';
import type { IdentityKey } from '../../domain/identity.js';
import { newId } from '../../ids.js';
import {
  json,
  profileState,
  profileView,
  segmentsOfRow,
  storedEvent,
  type EventRow,
  type ProfileRow,
} from '../rows.js';
import type {
  EventCursor,
  EventNameCount,
  EventPage,
  FoundKey,
  GroupView,
  IngestResult,
  KeyKind,
  ProfilePage,
  ProfileView,
  DefinitionChange,
  EngagementEventView,
  ReevaluatePage,
  ReevaluateResult,
  SegmentView,
  StageTransition,
  Store,
  TraitFilter,
  Workspace,
  ScanPage,
  ScannedChunk,
  ScannedMemberships,
} from '../store.js';
import { traitPath } from '../trait-path.js';
import type { DefinitionsRecord } from '../../domain/engagement/definitions.js';
import type { ProfileState } from '../../domain/resolution.js';
import { loadDefinitionsRecord } from './engagement.js';
import * as reads from './engagement-reads.js';
import * as journeyReads from './journey-reads.js';
import type {
  ClaimedEntry,
  EntryResult,
  ScheduledRun,
  EntryView,
  JourneyMessage,
  JourneyStats,
  ArmOutcome,
  JourneyView,
} from '../journey-store.js';
import { statementCache, type Prepare } from './statements.js';
import { availableParallelism } from 'node:os';
import { scanInParallel } from './scan-pool.js';
import { funnelPathsInParallel } from './funnel-pool.js';
import { ThreadWriter } from './writer-thread.js';
import { Checkpointer } from './checkpointer.js';
import { openConnection, SqliteWriter, type SqliteWrites } from './writer.js';

/** The reader's page cache (dashboards and reports read through it); the server's peak memory stays under 300 MB. */
const READER_CACHE_MB = 32;

export interface SqliteStoreOptions {
  /** Database file, or ':memory:' for tests. */
  readonly path: string;
  readonly clock: Clock;
  /**
   * Where writes run: 'thread' (a worker thread with its own connection; what the server uses) or
   * 'inline' (this thread; needs no compiled worker file, so tests of the TypeScript sources use it).
   * ':memory:' is always inline. Default 'inline'.
   */
  readonly writer?: 'thread' | 'inline';
  /**
   * With the 'thread' writer, passes over at least `from` profiles (default 50,000: below, starting the threads costs about
   * what they save) scan on scan
   * threads (scan-pool.ts), handed `chunk` profiles at a time (default 5,000).
   */
  readonly parallelScan?: { readonly from?: number; readonly chunk?: number };
  /** memberships of deleted segments purged a transaction (segment-purge.ts; default PURGE_STEP) */
  readonly purgeStep?: number;
}

/** Each scan thread's page cache. */
const SCAN_CACHE_MB = 16;

/**
 * Funnels read on scan threads when at least this many monthly rollup rows of the first step's name
 * fall in the range's months (or `parallelScan.from`, if smaller): about 8 µs of reading per customer
 * who can enter on one thread, so from about 50,000 the second thread saves more than starting the
 * threads costs (about 0.1–0.2 s on the 2-core machine).
 */
const FUNNEL_THREADS_FROM = 50_000;

/**
 * The embedded default. Writes go through one writer connection (writer.ts), inline or on its own
 * thread; reads use a separate connection on this thread: in WAL mode readers never wait for the
 * writer, and they see every transaction that committed before they started.
 */
export class SqliteStore implements Store {
  private readonly writes: SqliteWrites;
  private readonly reader: Database.Database;
  private readonly clock: Clock;
  private readonly r: Prepare;
  /** the file scan threads open, when passes scan on them */
  private readonly scanPath: string | null;
  private readonly parallelScan: { readonly from: number; readonly chunk: number };
  /** with the thread writer: the thread that checkpoints the WAL (checkpointer.ts) */
  private readonly checkpointer: Checkpointer | null = null;
  private readonly purgeStep: number;
  /** the purge of deleted segments' memberships while it runs, and whether to look again after it */
  private purging: Promise<void> | null = null;
  private purgeAgain = false;
  private closing = false;

  private constructor(opts: SqliteStoreOptions) {
    this.clock = opts.clock;
    // Scan threads load compiled modules, as the writer thread does.
    this.scanPath = opts.path !== ':memory:' && opts.writer === 'thread' ? opts.path : null;
    this.parallelScan = { from: opts.parallelScan?.from ?? 50_000, chunk: opts.parallelScan?.chunk ?? 5000 };
    this.purgeStep = opts.purgeStep ?? PURGE_STEP;
    if (opts.path === ':memory:' || opts.writer !== 'thread') {
      const writer = new SqliteWriter(openConnection(opts.path));
      this.writes = writer;
      // An in-memory database is private to its connection, so it is read through the writer.
      this.reader = opts.path === ':memory:' ? writer.db : openConnection(opts.path, READER_CACHE_MB);
    } else {
      // Opened first, so the file exists in WAL mode before the writer thread opens it.
      this.reader = openConnection(opts.path, READER_CACHE_MB);
      this.writes = new ThreadWriter(opts.path);
      this.checkpointer = new Checkpointer(opts.path);
    }
    this.r = statementCache(this.reader);
  }

  static open(opts: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(opts);
  }

  async migrate(): Promise<{ applied: string[] }> {
    const applied = await this.writes.migrate(this.clock.now());
    // What a process that stopped mid-purge left.
    this.purgeDeleted();
    return { applied };
  }

  /** Resolves once no purge of deleted segments' memberships is running (purgeDeleted). */
  async purgesSettled(): Promise<void> {
    while (this.purging) await this.purging;
  }

  /**
   * Deletes deleted segments' memberships a step at a time, each step queued behind the writes before
   * it, until none are left (segment-purge.ts). A failed step leaves the rest for the next deletion or
   * the next start: until then the rows are invisible, and an erasure takes a customer's along.
   */
  private purgeDeleted(): void {
    if (this.purging) {
      this.purgeAgain = true;
      return;
    }
    const run = async () => {
      do {
        this.purgeAgain = false;
        while (!this.closing && (await this.writes.purgeDeletedSegments(this.purgeStep)));
      } while (this.purgeAgain && !this.closing);
    };
    this.purging = run()
      .catch(() => undefined)
      .finally(() => {
        this.purging = null;
      });
  }

  async createWorkspace(input: {
    name: string;
    writeKeyHash: string;
    adminKeyHash: string;
  }): Promise<Workspace> {
    const ws: Workspace = { id: newId('ws'), name: input.name, createdAt: this.clock.now() };
    await this.writes.createWorkspace(ws, input);
    return ws;
  }

  ingest(workspaceId: string, events: readonly NormalizedEvent[]): Promise<IngestResult> {
    return this.writes.ingest(workspaceId, events, this.clock.now());
  }
  async findWorkspaceByName(name: string): Promise<Workspace | null> {
    const row = this.r('SELECT id, name, created_at FROM workspaces WHERE name = ?').get(name) as
      { id: string; name: string; created_at: number } | undefined;
    return Promise.resolve(row ? { id: row.id, name: row.name, createdAt: row.created_at } : null);
  }

  async countWorkspaces(): Promise<number> {
    const row = this.r('SELECT count(*) AS n FROM workspaces').get() as { n: number };
    return Promise.resolve(row.n);
  }

  async findKey(keyHash: string): Promise<FoundKey | null> {
    const row = this.r(
      'SELECT workspace_id, kind, id, name, scope FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL',
    ).get(keyHash) as
      { workspace_id: string; kind: KeyKind; id: string; name: string; scope: Scope } | undefined;
    return Promise.resolve(
      row
        ? { workspaceId: row.workspace_id, kind: row.kind, id: row.id, name: row.name, scope: row.scope }
        : null,
    );
  }

  private canonicalRow(workspaceId: string, profileId: string): ProfileRow | null {
    const stmt = this.r(`SELECT ${reads.PROFILE_ROW} FROM profiles p WHERE workspace_id = ? AND id = ?`);
    let id = profileId;
    // Merges re-point older losers to the newest survivor, so this follows at most a step or two.
    for (let hops = 0; hops < 16; hops++) {
      const row = stmt.get(workspaceId, id) as ProfileRow | undefined;
      if (!row) return null;
      if (!row.merged_into) return row;
      id = row.merged_into;
    }
    return null;
  }

  private view(workspaceId: string, row: ProfileRow): ProfileView {
    const identities = this.r(
      'SELECT kind, value FROM identities WHERE workspace_id = ? AND profile_id = ?',
    ).all(workspaceId, row.id) as { kind: string; value: string }[];
    const groups = this.r('SELECT group_id FROM group_members WHERE workspace_id = ? AND profile_id = ?').all(
      workspaceId,
      row.id,
    ) as { group_id: string }[];
    const segments = reads.servingSegments(this.r, workspaceId, row.id, segmentsOfRow(row));
    return profileView(
      { ...row, segments },
      identities,
      groups.map((g) => g.group_id),
    );
  }

  async getProfile(workspaceId: string, profileId: string): Promise<ProfileView | null> {
    const row = this.canonicalRow(workspaceId, profileId);
    return Promise.resolve(row ? this.view(workspaceId, row) : null);
  }

  async lookupProfile(workspaceId: string, key: IdentityKey): Promise<ProfileView | null> {
    const hit = this.r(
      'SELECT profile_id FROM identities WHERE workspace_id = ? AND kind = ? AND value = ?',
    ).get(workspaceId, key.kind, key.value) as { profile_id: string } | undefined;
    return hit ? this.getProfile(workspaceId, hit.profile_id) : null;
  }

  async listProfileEvents(
    workspaceId: string,
    profileId: string,
    page: { limit: number; before?: EventCursor },
  ): Promise<EventPage> {
    const row = this.canonicalRow(workspaceId, profileId);
    if (!row) return { events: [], next: null };
    const limit = Math.min(Math.max(page.limit, 1), 1000);
    const rows = (
      page.before
        ? this.r(
            `SELECT * FROM events WHERE workspace_id = ? AND profile_id = ? AND (timestamp, id) < (?, ?)
               ORDER BY timestamp DESC, id DESC LIMIT ?`,
          ).all(workspaceId, row.id, page.before.timestamp, Number(page.before.id), limit + 1)
        : this.r(
            'SELECT * FROM events WHERE workspace_id = ? AND profile_id = ? ORDER BY timestamp DESC, id DESC LIMIT ?',
          ).all(workspaceId, row.id, limit + 1)
    ) as EventRow[];
    const events = rows.slice(0, limit).map(storedEvent);
    const last = events.at(-1);
    return Promise.resolve({
      events,
      next: rows.length > limit && last ? { timestamp: last.timestamp, id: last.id } : null,
    });
  }

  async searchProfiles(
    workspaceId: string,
    query: { filters: readonly TraitFilter[]; limit: number; after?: string },
  ): Promise<ProfilePage> {
    const where = ['workspace_id = ?', 'merged_into IS NULL'];
    const params: unknown[] = [workspaceId];
    for (const f of query.filters) {
      where.push(`(traits -> ?) IN (${f.anyOf.map(() => '?').join(', ')})`);
      params.push(traitPath(f.key), ...f.anyOf.map((v) => JSON.stringify(v)));
    }
    if (query.after !== undefined) {
      where.push('id > ?');
      params.push(query.after);
    }
    const limit = Math.min(Math.max(query.limit, 1), 1000);
    const rows = this.r(
      `SELECT ${reads.PROFILE_ROW} FROM profiles p WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    ).all(...params, limit + 1) as ProfileRow[];
    const profiles = rows.slice(0, limit).map((r) => this.view(workspaceId, r));
    return Promise.resolve({ profiles, next: rows.length > limit ? (profiles.at(-1)?.id ?? null) : null });
  }

  async listTraitKeys(workspaceId: string): Promise<string[]> {
    const keys = this.r('SELECT key FROM trait_keys WHERE workspace_id = ? ORDER BY key')
      .pluck()
      .all(workspaceId);
    return Promise.resolve(keys as string[]);
  }

  async listEventNames(workspaceId: string): Promise<EventNameCount[]> {
    const rows = this.r(
      'SELECT type, name, count, last_seen_at FROM event_names WHERE workspace_id = ? ORDER BY count DESC, type, name',
    ).all(workspaceId) as { type: string; name: string; count: number; last_seen_at: number }[];
    return Promise.resolve(
      rows.map((r) => ({
        type: r.type as EventNameCount['type'],
        name: r.name === '' ? null : r.name,
        count: r.count,
        lastSeenAt: r.last_seen_at,
      })),
    );
  }

  async getGroup(workspaceId: string, groupId: string): Promise<GroupView | null> {
    const row = this.r(
      `SELECT g.*, (SELECT count(*) FROM group_members m WHERE m.workspace_id = g.workspace_id AND m.group_id = g.id) AS members
         FROM groups g WHERE g.workspace_id = ? AND g.id = ?`,
    ).get(workspaceId, groupId) as
      { id: string; traits: string; created_at: number; updated_at: number; members: number } | undefined;
    return Promise.resolve(
      row
        ? {
            id: row.id,
            traits: json<JsonObject>(row.traits),
            memberCount: row.members,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
          }
        : null,
    );
  }

  async getDefinitions(workspaceId: string): Promise<DefinitionsRecord> {
    return Promise.resolve(loadDefinitionsRecord(this.r, workspaceId));
  }

  async changeDefinitions(workspaceId: string, change: DefinitionChange, now: number): Promise<void> {
    await this.writes.changeDefinitions(workspaceId, change, now);
    if (change.kind === 'delete_segment') this.purgeDeleted();
  }

  async listSegments(workspaceId: string): Promise<SegmentView[]> {
    return Promise.resolve(reads.listSegments(this.r, workspaceId));
  }

  async getSegment(workspaceId: string, segmentId: string): Promise<SegmentView | null> {
    return Promise.resolve(reads.getSegment(this.r, workspaceId, segmentId));
  }

  async listSegmentMembers(
    workspaceId: string,
    segmentId: string,
    page: { limit: number; after?: string },
  ): Promise<{ profileIds: string[]; next: string | null }> {
    return Promise.resolve(reads.listSegmentMembers(this.r, workspaceId, segmentId, page));
  }

  async segmentSizeHistory(
    workspaceId: string,
    segmentId: string,
    since: number,
  ): Promise<{ at: number; size: number }[]> {
    return Promise.resolve(reads.segmentSizeHistory(this.r, workspaceId, segmentId, since));
  }

  async stageCounts(workspaceId: string): Promise<Record<string, number>> {
    return Promise.resolve(reads.stageCounts(this.r, workspaceId));
  }

  async stageHistory(workspaceId: string, profileId: string): Promise<StageTransition[]> {
    const row = this.canonicalRow(workspaceId, profileId);
    return Promise.resolve(row ? reads.stageHistory(this.r, workspaceId, row.id) : []);
  }

  async listEngagementEvents(
    workspaceId: string,
    page: { after: number; limit: number; profileId?: string },
  ): Promise<EngagementEventView[]> {
    const row = page.profileId === undefined ? null : this.canonicalRow(workspaceId, page.profileId);
    if (page.profileId !== undefined && !row) return Promise.resolve([]);
    return Promise.resolve(
      reads.listEngagementEvents(this.r, workspaceId, { ...page, ...(row && { profileId: row.id }) }),
    );
  }

  async getProfileState(workspaceId: string, profileId: string): Promise<ProfileState | null> {
    const row = this.canonicalRow(workspaceId, profileId);
    return Promise.resolve(row ? profileState(row) : null);
  }

  async getProfileStates(
    workspaceId: string,
    profileIds: readonly string[],
  ): Promise<Map<string, ProfileState>> {
    const out = new Map<string, ProfileState>();
    for (const id of profileIds) {
      const row = this.canonicalRow(workspaceId, id);
      if (row) out.set(id, profileState(row));
    }
    return Promise.resolve(out);
  }

  reevaluateProfiles(workspaceId: string, page: ReevaluatePage): Promise<ReevaluateResult> {
    return this.writes.reevaluateProfiles(workspaceId, page);
  }

  async scanProfileStates(
    workspaceId: string,
    page: ScanPage,
  ): Promise<{ profiles: ProfileState[]; next: string | null }> {
    return Promise.resolve(reads.scanProfileStates(this.r, workspaceId, page));
  }

  async scanForChanges(
    workspaceId: string,
    opts: { only: readonly string[] | null; now: number; total: number },
    each: (chunk: ScannedChunk) => Promise<void>,
  ): Promise<boolean> {
    if (this.scanPath === null || opts.total < this.parallelScan.from) return false;
    await scanInParallel(
      this.r,
      {
        path: this.scanPath,
        threads: Math.max(1, Math.min(availableParallelism(), 4)),
        chunk: this.parallelScan.chunk,
        cacheMb: SCAN_CACHE_MB,
      },
      {
        workspaceId,
        definitions: loadDefinitionsRecord(this.r, workspaceId),
        only: opts.only === null ? null : [...opts.only],
        now: opts.now,
        pageSize: 500,
      },
      each,
    );
    return true;
  }

  watchProfiles(workspaceId: string): Promise<number> {
    return this.writes.watchProfiles(workspaceId);
  }

  unwatchProfiles(watch: number): Promise<void> {
    return this.writes.unwatchProfiles(watch);
  }

  applyScannedMemberships(
    workspaceId: string,
    watch: number,
    page: ScannedMemberships,
  ): Promise<{ applied: number; rest: string[] }> {
    return this.writes.applyScannedMemberships(workspaceId, watch, page);
  }

  async countProfiles(workspaceId: string): Promise<number> {
    return Promise.resolve(reads.countProfiles(this.r, workspaceId));
  }

  setSegmentBuild(
    workspaceId: string,
    segmentId: string,
    build: { status: 'building' | 'ready'; done: number; total: number },
    now: number,
  ): Promise<void> {
    return this.writes.setSegmentBuild(workspaceId, segmentId, build, now);
  }

  recordSegmentSizes(workspaceId: string, now: number): Promise<void> {
    return this.writes.recordSegmentSizes(workspaceId, now);
  }

  async recountStages(workspaceId: string): Promise<Record<string, number>> {
    await this.writes.recountStages(workspaceId);
    return reads.stageCounts(this.r, workspaceId);
  }

  async listWorkspaces(): Promise<Workspace[]> {
    const rows = this.r('SELECT id, name, created_at FROM workspaces ORDER BY created_at, id').all() as {
      id: string;
      name: string;
      created_at: number;
    }[];
    return Promise.resolve(rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at })));
  }

  // --- Journeys ---

  createJourney(
    ws: string,
    j: { id: string; name: string; draft: unknown },
    now: number,
  ): Promise<JourneyView> {
    return this.writes.createJourney(ws, j, now);
  }

  async getJourney(ws: string, id: string): Promise<JourneyView | null> {
    return Promise.resolve(journeyReads.getJourney(this.r, ws, id));
  }

  async listJourneys(ws: string): Promise<JourneyView[]> {
    return Promise.resolve(journeyReads.listJourneys(this.r, ws));
  }

  updateJourneyDraft(
    ws: string,
    id: string,
    j: { name: string; draft: unknown },
    now: number,
  ): Promise<void> {
    return this.writes.updateJourneyDraft(ws, id, j, now);
  }

  publishJourney(
    ws: string,
    id: string,
    input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
    now: number,
  ): Promise<{ version: number; migrated: number }> {
    return this.writes.publishJourney(ws, id, input, now);
  }

  claimDueSchedules(worker: string, now: number, leaseMs: number): Promise<ScheduledRun[]> {
    return this.writes.claimDueSchedules(`${worker}/${newId('c', now)}`, now, leaseMs);
  }

  enterJourney(
    ws: string,
    journeyId: string,
    entry: EntrySpec,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<number | null> {
    return this.writes.enterJourney(ws, journeyId, entry, customers, now);
  }

  async enterableCustomers(
    ws: string,
    journeyId: string,
    limit: EntryLimit,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<EnterCustomer[]> {
    return Promise.resolve(runs.enterableCustomers(this.r, ws, journeyId, limit, customers, now));
  }

  enterAndRun(
    run: ScheduledRun,
    entry: EntrySpec,
    results: readonly EntryResult[],
    now: number,
    leaseMs: number,
  ): Promise<number | null> {
    return this.writes.enterAndRun(run, entry, results, now, leaseMs);
  }

  finishScheduledRun(
    ws: string,
    journeyId: string,
    claim: string,
    nextRunAt: number | null,
  ): Promise<boolean> {
    return this.writes.finishScheduledRun(ws, journeyId, claim, nextRunAt);
  }

  setJourneyStatus(
    ws: string,
    id: string,
    status: 'published' | 'paused' | 'archived',
    now: number,
  ): Promise<void> {
    return this.writes.setJourneyStatus(ws, id, status, now);
  }

  async getJourneyVersion(ws: string, id: string, version: number): Promise<unknown> {
    return Promise.resolve(journeyReads.getJourneyVersion(this.r, ws, id, version));
  }

  claimDueEntries(worker: string, limit: number, now: number, leaseMs: number): Promise<ClaimedEntry[]> {
    return this.writes.claimDueEntries(`${worker}/${newId('c', now)}`, limit, now, leaseMs);
  }

  completeEntries(results: readonly EntryResult[], now: number): Promise<number> {
    return this.writes.completeEntries(results, now);
  }

  completeAndClaim(
    results: readonly EntryResult[],
    now: number,
    next: { worker: string; limit: number; now: number; leaseMs: number },
  ): Promise<{ applied: number; claimed: ClaimedEntry[] }> {
    const { worker, ...rest } = next;
    return this.writes.completeAndClaim(results, now, {
      ...rest,
      claim: `${worker}/${newId('c', next.now)}`,
    });
  }

  async journeyOutcomes(ws: string, journeyId: string): Promise<ArmOutcome[]> {
    return Promise.resolve(journeyReads.journeyOutcomes(this.r, ws, journeyId));
  }

  async getJourneyStats(ws: string, journeyId: string, since: number): Promise<JourneyStats> {
    return Promise.resolve(journeyReads.getJourneyStats(this.r, ws, journeyId, since));
  }

  async listProfileEntries(ws: string, profileId: string): Promise<EntryView[]> {
    const row = this.canonicalRow(ws, profileId);
    return Promise.resolve(row ? journeyReads.listProfileEntries(this.r, ws, row.id) : []);
  }

  async listJourneyMessages(
    ws: string,
    q: { journeyId?: string; profileId?: string; limit: number; after?: string },
  ): Promise<JourneyMessage[]> {
    return Promise.resolve(journeyReads.listJourneyMessages(this.r, ws, q));
  }

  async listStaticListMembers(
    ws: string,
    list: string,
    page: { limit: number; after?: string },
  ): Promise<string[]> {
    return Promise.resolve(journeyReads.listStaticListMembers(this.r, ws, list, page));
  }

  claimDueMessages(worker: string, limit: number, now: number, leaseMs: number): Promise<ClaimedMessage[]> {
    return this.writes.claimDueMessages(`${worker}/${newId('c', now)}`, limit, now, leaseMs);
  }

  completeMessages(results: readonly MessageResult[], now: number): Promise<number> {
    return this.writes.completeMessages(results, now);
  }

  async getMessage(ws: string, key: string): Promise<JourneyMessage | null> {
    return Promise.resolve(delivery.getMessage(this.r, ws, key));
  }

  async listProfileMessageStates(
    ws: string,
    profileId: string,
    q: { before: number | null; limit: number },
  ): Promise<MessageState[]> {
    const row = this.canonicalRow(ws, profileId);
    return Promise.resolve(row ? delivery.listProfileMessageStates(this.r, ws, row.id, q) : []);
  }

  async listMessageEvents(ws: string, key: string): Promise<MessageEvent[]> {
    return Promise.resolve(delivery.listMessageEvents(this.r, ws, key));
  }

  async getChannel(ws: string, channel: string): Promise<ChannelRecord | null> {
    return Promise.resolve(delivery.getChannel(this.r, ws, channel));
  }

  async listChannels(ws: string): Promise<ChannelRecord[]> {
    return Promise.resolve(delivery.listChannels(this.r, ws));
  }

  putChannel(ws: string, record: ChannelRecord): Promise<void> {
    return this.writes.putChannel(ws, record);
  }

  deleteChannel(ws: string, channel: string): Promise<boolean> {
    return this.writes.deleteChannel(ws, channel);
  }

  putTemplate(
    ws: string,
    t: { name: string; channel: string; definition: unknown },
    mode: 'create' | 'replace',
    now: number,
  ): Promise<TemplateRecord> {
    return this.writes.putTemplate(ws, t, mode, now);
  }

  async getTemplate(ws: string, name: string): Promise<TemplateRecord | null> {
    return Promise.resolve(delivery.getTemplate(this.r, ws, name));
  }

  async listTemplates(ws: string): Promise<TemplateRecord[]> {
    return Promise.resolve(delivery.listTemplates(this.r, ws));
  }

  deleteTemplate(ws: string, name: string): Promise<boolean> {
    return this.writes.deleteTemplate(ws, name);
  }

  setSubscription(ws: string, s: Subscription | readonly Subscription[]): Promise<void> {
    return this.writes.setSubscription(ws, s);
  }

  async getDeliverySettings(ws: string): Promise<unknown> {
    return Promise.resolve(delivery.getDeliverySettings(this.r, ws));
  }

  putDeliverySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.writes.putDeliverySettings(ws, settings, now);
  }

  /** Canonical ids are what the runner passes; one indexed range read per profile on the reader. */
  async recentMessages(
    ws: string,
    profileIds: readonly string[],
    since: number,
  ): Promise<Map<string, { key: string; channel: string; topic: string | null; at: number }[]>> {
    return Promise.resolve(delivery.recentMessages(this.r, ws, profileIds, since));
  }

  async listSubscriptions(
    ws: string,
    channel: string,
    addresses: readonly string[],
  ): Promise<Subscription[]> {
    return Promise.resolve(delivery.listSubscriptions(this.r, ws, channel, addresses));
  }

  putSuppression(ws: string, s: Suppression): Promise<void> {
    return this.writes.putSuppression(ws, s);
  }

  deleteSuppression(ws: string, channel: string, address: string): Promise<boolean> {
    return this.writes.deleteSuppression(ws, channel, address);
  }

  async findSuppressions(ws: string, channel: string, addresses: readonly string[]): Promise<Suppression[]> {
    return Promise.resolve(contacts.findSuppressions(this.r, ws, channel, addresses));
  }

  async listSuppressions(
    ws: string,
    q: { channel: string | null; after: { channel: string; address: string } | null; limit: number },
  ): Promise<Suppression[]> {
    return Promise.resolve(contacts.listSuppressions(this.r, ws, q));
  }

  putDevices(ws: string, devices: readonly Device[]): Promise<void> {
    return devices.length === 0 ? Promise.resolve() : this.writes.putDevices(ws, devices);
  }

  async listDevices(ws: string, profileIds: readonly string[]): Promise<Map<string, Device[]>> {
    return Promise.resolve(contacts.listDevices(this.r, ws, profileIds));
  }

  deleteDevice(ws: string, token: string): Promise<boolean> {
    return this.writes.deleteDevice(ws, token);
  }

  recordAfterSend(states: readonly AfterSendState[], now: number): Promise<number> {
    return states.length === 0 ? Promise.resolve(0) : this.writes.recordAfterSend(states, now);
  }

  async getTriggerEvents(ws: string, messageIds: readonly string[]): Promise<Map<string, TriggerEvent>> {
    const q = this.r(
      'SELECT name, payload, timestamp FROM events INDEXED BY events_by_message WHERE workspace_id = ? AND message_id = ?',
    );
    const out = new Map<string, TriggerEvent>();
    for (const id of new Set(messageIds)) {
      const row = q.get(ws, id) as { name: string | null; payload: string; timestamp: number } | undefined;
      if (row) out.set(id, triggerEvent(row));
    }
    return Promise.resolve(out);
  }

  putCouponPool(ws: string, p: { name: string; description: string | null }, now: number): Promise<boolean> {
    return this.writes.putCouponPool(ws, p, now);
  }

  async getCouponPool(ws: string, name: string): Promise<CouponPool | null> {
    return Promise.resolve(coupons.getCouponPool(this.r, ws, name));
  }

  async listCouponPools(ws: string): Promise<CouponPool[]> {
    return Promise.resolve(coupons.listCouponPools(this.r, ws));
  }

  deleteCouponPool(ws: string, name: string): Promise<boolean> {
    return this.writes.deleteCouponPool(ws, name);
  }

  addCouponCodes(ws: string, pool: string, codes: readonly string[], now: number): Promise<number> {
    return this.writes.addCouponCodes(ws, pool, codes, now);
  }

  async getCouponCode(ws: string, pool: string, code: string): Promise<CouponCode | null> {
    return Promise.resolve(coupons.getCouponCode(this.r, ws, pool, code));
  }

  assignCoupons(
    ws: string,
    requests: readonly CouponRequest[],
    now: number,
  ): Promise<Map<string, string | null>> {
    return requests.length === 0
      ? Promise.resolve(new Map<string, string | null>())
      : this.writes.assignCoupons(ws, requests, now);
  }

  async getSubscriptionTopics(ws: string): Promise<unknown> {
    return Promise.resolve(documents.getDocument(this.r, documents.TOPICS, ws));
  }

  putSubscriptionTopics(ws: string, topics: unknown, now: number): Promise<void> {
    return this.writes.putSubscriptionTopics(ws, topics, now);
  }

  putItems(ws: string, items: readonly CatalogItem[]): Promise<void> {
    return items.length === 0 ? Promise.resolve() : this.writes.putItems(ws, items);
  }

  async getItems(ws: string, ids: readonly string[]): Promise<Map<string, CatalogItem>> {
    return Promise.resolve(catalog.getItems(this.r, ws, ids));
  }

  async listItems(ws: string, page: { after: string | null; limit: number }): Promise<CatalogItem[]> {
    return Promise.resolve(catalog.listItems(this.r, ws, page));
  }

  deleteItem(ws: string, id: string): Promise<boolean> {
    return this.writes.deleteItem(ws, id);
  }

  async countItems(ws: string): Promise<number> {
    return Promise.resolve(catalog.countItems(this.r, ws));
  }

  replaceSimilar(ws: string, similar: ReadonlyMap<string, readonly SimilarItem[]>): Promise<void> {
    return this.writes.replaceSimilar(ws, similar);
  }

  async similarTo(ws: string, items: readonly string[], limit: number): Promise<Map<string, SimilarItem[]>> {
    return Promise.resolve(catalog.similarTo(this.r, ws, items, limit));
  }

  async interactionsOf(
    ws: string,
    profileIds: readonly string[],
    q: { names: readonly string[]; perProfile: number },
  ): Promise<Map<string, Interaction[]>> {
    return Promise.resolve(catalog.interactionsOf(this.r, ws, profileIds, q));
  }

  async scanInteractions(
    ws: string,
    q: { after: string | null; limit: number; names: readonly string[]; perProfile: number },
  ): Promise<{ interactions: Map<string, Interaction[]>; profiles: number; next: string | null }> {
    return Promise.resolve(catalog.scanInteractions(this.r, ws, q));
  }

  putInAppMessage(ws: string, m: MessageRecord): Promise<void> {
    return this.writes.putInAppMessage(ws, m);
  }

  async getInAppMessage(ws: string, id: string): Promise<MessageRecord | null> {
    return Promise.resolve(inapp.getMessage(this.r, ws, id));
  }

  async listInAppMessages(ws: string, q: { status?: CampaignStatus }): Promise<MessageRecord[]> {
    return Promise.resolve(inapp.listMessages(this.r, ws, q.status ?? null));
  }

  putContentCard(ws: string, c: CardRecord): Promise<void> {
    return this.writes.putContentCard(ws, c);
  }

  async getContentCard(ws: string, id: string): Promise<CardRecord | null> {
    return Promise.resolve(inapp.getCard(this.r, ws, id));
  }

  async listContentCards(
    ws: string,
    q: { status?: CampaignStatus; profileId?: string | null },
  ): Promise<CardRecord[]> {
    return Promise.resolve(inapp.listCards(this.r, ws, q));
  }

  async listActiveInApp(ws: string): Promise<{ messages: MessageRecord[]; cards: CardRecord[] }> {
    return Promise.resolve(inapp.listActive(this.r, ws));
  }

  async inAppStateOf(ws: string, profileId: string, q: { journeys: boolean }): Promise<InAppState> {
    return Promise.resolve(inapp.stateOf(this.r, ws, profileId, q.journeys));
  }

  async inAppOutcomes(
    ws: string,
    messageId: string,
    goal: { readonly event: string; readonly withinMs: number },
  ): Promise<ExposureOutcome[]> {
    return Promise.resolve(inapp.outcomes(this.r, ws, messageId, goal));
  }

  recordMessageInteraction(ws: string, i: InteractionInput): Promise<void> {
    return this.writes.recordMessageInteraction(ws, i);
  }

  setCardState(ws: string, s: CardStateChange): Promise<void> {
    return this.writes.setCardState(ws, s);
  }

  async getSdkSettings(ws: string): Promise<unknown> {
    return Promise.resolve(documents.getDocument(this.r, documents.SDK, ws));
  }

  putSdkSettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.writes.putSdkSettings(ws, settings, now);
  }

  putSurvey(ws: string, s: SurveyPut, mode: 'create' | 'replace', now: number): Promise<SurveyRecord> {
    return this.writes.putSurvey(ws, s, mode, now);
  }

  async getSurvey(ws: string, id: string): Promise<SurveyRecord | null> {
    return Promise.resolve(surveys.getSurvey(this.r, ws, id));
  }

  async listSurveys(ws: string): Promise<SurveyRecord[]> {
    return Promise.resolve(surveys.listSurveys(this.r, ws));
  }

  recordSurveyResponses(
    ws: string,
    responses: readonly SurveyResponse[],
    feedback: readonly Feedback[],
  ): Promise<void> {
    return this.writes.recordSurveyResponses(ws, responses, feedback);
  }

  async listSurveyResponses(
    ws: string,
    surveyId: string,
    page: { limit: number; after?: { profileId: string; questionId: string } },
  ): Promise<SurveyResponse[]> {
    return Promise.resolve(surveys.listSurveyResponses(this.r, ws, surveyId, page));
  }

  addFeedback(ws: string, f: Feedback): Promise<void> {
    return this.writes.addFeedback(ws, f);
  }

  async getFeedback(ws: string, id: string): Promise<Feedback | null> {
    return Promise.resolve(surveys.getFeedback(this.r, ws, id));
  }

  tagFeedback(ws: string, id: string, tags: FeedbackTags, now: number): Promise<Feedback | null> {
    return this.writes.tagFeedback(ws, id, tags, now);
  }

  async listFeedback(ws: string, q: FeedbackQuery): Promise<Feedback[]> {
    return Promise.resolve(surveys.listFeedback(this.r, ws, q));
  }

  // --- Data rights (docs/privacy.md) ---

  recordConsents(ws: string, entries: readonly ConsentEntry[]): Promise<void> {
    return this.writes.recordConsents(ws, entries);
  }

  async listConsents(ws: string, profileId: string): Promise<ConsentEntry[]> {
    return Promise.resolve(rights.listConsents(this.r, ws, profileId));
  }

  async consentsOf(ws: string, profileIds: readonly string[]): Promise<Map<string, ConsentEntry[]>> {
    return Promise.resolve(rights.consentsOf(this.r, ws, profileIds));
  }

  async getPrivacySettings(ws: string): Promise<unknown> {
    return Promise.resolve(documents.getDocument(this.r, documents.PRIVACY, ws));
  }

  putPrivacySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.writes.putPrivacySettings(ws, settings, now);
  }

  eraseProfile(
    ws: string,
    profileId: string,
    opts: { id: string; requestedBy: string; now: number },
  ): Promise<ErasureOutcome> {
    return this.writes.eraseProfile(ws, profileId, opts);
  }

  async isErased(ws: string, profileId: string): Promise<boolean> {
    return Promise.resolve(rights.isErased(this.r, ws, profileId));
  }

  async listErasures(ws: string, limit: number): Promise<ErasureRecord[]> {
    return Promise.resolve(rights.listErasures(this.r, ws, limit));
  }

  liftTombstones(ws: string, identities: readonly IdentityKey[]): Promise<IdentityKey[]> {
    return this.writes.liftTombstones(ws, identities);
  }

  async tombstoneHits(ws: string): Promise<number> {
    return Promise.resolve(rights.tombstoneHits(this.r, ws));
  }

  async *exportProfile(ws: string, profileId: string): AsyncIterable<ExportPage> {
    // One page at a time, handing the event loop back between pages.
    for (const page of rights.exportProfile(this.r, ws, profileId)) {
      await Promise.resolve();
      yield page;
    }
  }

  deleteEventsBefore(ws: string, before: number, limit: number): Promise<number> {
    return this.writes.deleteEventsBefore(ws, before, limit);
  }

  createStaffUser(u: StaffUser): Promise<void> {
    return this.writes.access('createStaffUser', u);
  }

  async getStaffUser(ws: string, id: string): Promise<StaffUser | null> {
    return Promise.resolve(access.getStaffUser(this.r, ws, id));
  }

  async findStaffUsersByEmail(email: string): Promise<StaffUser[]> {
    return Promise.resolve(access.findStaffUsersByEmail(this.r, email));
  }

  async listStaffUsers(ws: string): Promise<StaffUser[]> {
    return Promise.resolve(access.listStaffUsers(this.r, ws));
  }

  updateStaffUser(ws: string, id: string, patch: StaffUserPatch, now: number): Promise<StaffUser | null> {
    return this.writes.access('updateStaffUser', ws, id, patch, now);
  }

  createSession(s: SessionRecord): Promise<void> {
    return this.writes.access('createSession', s);
  }

  async findSession(tokenHash: string): Promise<SessionRecord | null> {
    return Promise.resolve(access.findSession(this.r, tokenHash));
  }

  touchSession(tokenHash: string, now: number): Promise<void> {
    return this.writes.access('touchSession', tokenHash, now);
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.writes.access('deleteSession', tokenHash);
  }

  createApiKey(k: ApiKeyRecord, keyHash: string): Promise<void> {
    return this.writes.access('createApiKey', k, keyHash);
  }

  async listApiKeys(ws: string): Promise<ApiKeyRecord[]> {
    return Promise.resolve(access.listApiKeys(this.r, ws));
  }

  revokeApiKey(ws: string, id: string, now: number): Promise<ApiKeyRecord | null> {
    return this.writes.access('revokeApiKey', ws, id, now);
  }

  touchApiKey(ws: string, id: string, now: number): Promise<void> {
    return this.writes.access('touchApiKey', ws, id, now);
  }

  appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    return this.writes.access('appendAudit', entries);
  }

  purgeAudit(ws: string, before: number, limit: number): Promise<number> {
    return this.writes.access('purgeAudit', ws, before, limit);
  }

  async listAudit(ws: string, q: AuditQuery): Promise<AuditRecord[]> {
    return Promise.resolve(access.listAudit(this.r, ws, q));
  }

  // --- Reports (store/report-store.ts): reads on the reader connection ---

  reportEvents(
    ws: string,
    q: ReportEventQuery,
    page: { after: ReportCursor | null; limit: number },
  ): Promise<{ rows: ReportEventRow[]; next: ReportCursor | null }> {
    return Promise.resolve(reports.reportEvents(this.r, ws, q, page));
  }

  reportSequences(
    ws: string,
    q: SequenceQuery,
    page: { after: string | null; limit: number },
  ): Promise<{ rows: CustomerSequence[]; next: string | null }> {
    return Promise.resolve(reports.reportSequences(this.r, ws, q, page));
  }

  async funnelPaths(
    ws: string,
    q: FunnelPathQuery,
    each: (chunk: { ids: string[]; paths: FunnelPath[] }) => Promise<void>,
  ): Promise<boolean> {
    if (this.scanPath === null) return false;
    return funnelPathsInParallel(
      this.r,
      {
        path: this.scanPath,
        threads: Math.max(1, Math.min(availableParallelism(), 4)),
        chunk: this.parallelScan.chunk,
        from: Math.min(this.parallelScan.from, FUNNEL_THREADS_FROM),
        cacheMb: SCAN_CACHE_MB,
      },
      ws,
      q,
      each,
    );
  }

  profileGroups(ws: string, ids: readonly string[], by: 'stage' | 'segment'): Promise<Map<string, string[]>> {
    return Promise.resolve(reports.profileGroups(this.r, ws, ids, by));
  }

  retentionCounts(ws: string, q: RetentionQuery): Promise<RetentionCounts> {
    return Promise.resolve(reports.retentionCounts(this.r, ws, q));
  }

  stageTransitions(ws: string, before: number): Promise<Transition[]> {
    return Promise.resolve(reports.stageTransitions(this.r, ws, before));
  }

  messagePerformance(ws: string, from: number, to: number): Promise<PerformanceCounts[]> {
    return Promise.resolve(reports.messagePerformance(this.r, ws, from, to));
  }

  messageTouches(ws: string, from: number, to: number): Promise<(Touch & { readonly profileId: string })[]> {
    return Promise.resolve(reports.messageTouches(this.r, ws, from, to));
  }

  releaseWaiting(ws: string, journeyId: string, step: string, now: number): Promise<number> {
    return this.writes.releaseWaiting(ws, journeyId, step, now);
  }

  async close(): Promise<void> {
    // A purge stops after its current step; the next start goes on with it.
    this.closing = true;
    await this.purging;
    await this.checkpointer?.close();
    await this.writes.close();
    if (this.reader.open) this.reader.close();
  }
}
