import type { IdentityKey } from '../../domain/identity.js';
import type { EnterCustomer, EntrySpec } from '../journey-store.js';
import type Database from 'better-sqlite3';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NormalizedEvent } from '../../domain/event.js';
import { ConflictError } from '../../errors.js';
import { newId } from '../../ids.js';
import { runIngestSyncParts } from '../ingest-unit.js';
import { loadMigrations } from '../migrations.js';
import type { IngestResult, Workspace } from '../store.js';
import { SqliteIngestTx } from './ingest-tx.js';
import { statementCache, type Prepare } from './statements.js';
import type { DefinitionChange, ReevaluatePage, ReevaluateResult, ScannedMemberships } from '../store.js';
import { ProfileWatches } from './profile-watch.js';
import { consentUnit, runReevaluateSync } from '../reevaluate-unit.js';
import { touchesConsentFacts } from '../../domain/facts/facts.js';
import {
  DefinitionsCache,
  SqliteReevaluateTx,
  applyDefinitionChange,
  recordSizes,
  setSegmentBuild,
} from './engagement.js';
import { recountStages } from './engagement-reads.js';
import { purgeStep } from './segment-purge.js';
import * as journeys from './journeys.js';
import * as runs from './journey-runs.js';
import * as delivery from './delivery.js';
import * as contacts from './contacts.js';
import * as coupons from './coupons.js';
import type { CouponRequest } from '../coupon-store.js';
import * as documents from './documents.js';
import type { AfterSendState, Device, Suppression } from '../contact-store.js';
import * as catalog from './catalog.js';
import * as inapp from './inapp.js';
import type { CardRecord, CardStateChange, InteractionInput, MessageRecord } from '../inapp-store.js';
import * as surveys from './surveys.js';
import * as rights from './rights.js';
import type { ConsentEntry } from '../../domain/consent.js';
import type { ErasureOutcome } from '../rights-store.js';
import { accessWrites, type AccessArgs, type AccessResult, type AccessWriteName } from './access.js';
import type { Feedback, FeedbackTags, SurveyPut, SurveyRecord, SurveyResponse } from '../survey-store.js';
import type { CatalogItem, SimilarItem } from '../catalog-store.js';
import type {
  ChannelRecord,
  ClaimedMessage,
  MessageResult,
  Subscription,
  TemplateRecord,
} from '../delivery-store.js';
import type { ClaimedEntry, EntryResult, JourneyView, ScheduledRun } from '../journey-store.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** A group commit is flushed early once it holds this many events, to bound its latency and memory. */
const GROUP_COMMIT_EVENTS = 5000;

/**
 * Gathering: a commit costs the writer a few hundred µs of CPU and an fsync's wait (1–4 ms here)
 * however few events it holds. When the last group commit held at least GATHER_MIN_CALLS calls and ended less
 * than GATHER_RECENT_MS ago, its callers are likely sending their next requests now (they come back
 * 1–2 ms after a commit of 32 single events, the first of them often alone): the next group waits
 * for as many calls as the last one held, but at most `gatherMs` after its first call, instead of
 * committing the first to arrive alone while the rest queue behind its fsync. A lone caller (groups
 * of one) and the first call after a quiet spell never wait.
 */
const GATHER_MIN_CALLS = 4;
const GATHER_RECENT_MS = 10;
export const GATHER_MS = 2;

/**
 * Small ingest calls (single events, an SDK's short batch) of one workspace, next to each other in a
 * group commit, run as one unit: one savepoint, one messageId probe, one identity and profile load,
 * one write for all of them, instead of one each — those fixed costs are most of a single event's.
 * Bounded so a unit stays about the size of one /v1/batch request.
 */
const COALESCE_CALL_EVENTS = 16;
const COALESCE_UNIT_EVENTS = 256;

/** The calls of a group commit as runs of calls that may share one ingest unit, in their order. */
function coalesce(calls: readonly PendingIngest[]): PendingIngest[][] {
  const runs: PendingIngest[][] = [];
  let run: PendingIngest[] = [];
  let events = 0;
  for (const c of calls) {
    const n = c.events.length;
    const joins =
      run.length > 0 &&
      n <= COALESCE_CALL_EVENTS &&
      events + n <= COALESCE_UNIT_EVENTS &&
      run[0]!.workspaceId === c.workspaceId &&
      run[0]!.events.length <= COALESCE_CALL_EVENTS;
    if (!joins && run.length > 0) {
      runs.push(run);
      run = [];
      events = 0;
    }
    run.push(c);
    events += n;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Everything that writes to a SQLite database. Times come in as arguments (no clock here), so the
 * same writer runs inline or on its own thread (writer-thread.ts).
 */
export interface SqliteWrites {
  migrate(now: number): Promise<string[]>;
  /** ConflictError when the name is taken. */
  createWorkspace(ws: Workspace, keys: { writeKeyHash: string; adminKeyHash: string }): Promise<void>;
  ingest(workspaceId: string, events: readonly NormalizedEvent[], now: number): Promise<IngestResult>;
  changeDefinitions(workspaceId: string, change: DefinitionChange, now: number): Promise<void>;
  reevaluateProfiles(workspaceId: string, page: ReevaluatePage): Promise<ReevaluateResult>;
  watchProfiles(workspaceId: string): Promise<number>;
  unwatchProfiles(watch: number): Promise<void>;
  applyScannedMemberships(
    workspaceId: string,
    watch: number,
    page: ScannedMemberships,
  ): Promise<{ applied: number; rest: string[] }>;
  setSegmentBuild(
    workspaceId: string,
    segmentId: string,
    build: { status: 'building' | 'ready'; done: number; total: number },
    now: number,
  ): Promise<void>;
  recordSegmentSizes(workspaceId: string, now: number): Promise<void>;
  recountStages(workspaceId: string): Promise<void>;
  /** One step of purging deleted segments' memberships (segment-purge.ts): whether any remain. */
  purgeDeletedSegments(limit: number): Promise<boolean>;
  createJourney(
    ws: string,
    j: { id: string; name: string; draft: unknown },
    now: number,
  ): Promise<JourneyView>;
  updateJourneyDraft(ws: string, id: string, j: { name: string; draft: unknown }, now: number): Promise<void>;
  publishJourney(
    ws: string,
    id: string,
    input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
    now: number,
  ): Promise<{ version: number; migrated: number }>;
  claimDueSchedules(claim: string, now: number, leaseMs: number): Promise<ScheduledRun[]>;
  enterJourney(
    ws: string,
    journeyId: string,
    entry: EntrySpec,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<number | null>;
  enterAndRun(
    run: ScheduledRun,
    entry: EntrySpec,
    results: readonly EntryResult[],
    now: number,
    leaseMs: number,
  ): Promise<number | null>;
  finishScheduledRun(
    ws: string,
    journeyId: string,
    claim: string,
    nextRunAt: number | null,
  ): Promise<boolean>;
  setJourneyStatus(
    ws: string,
    id: string,
    status: 'published' | 'paused' | 'archived',
    now: number,
  ): Promise<void>;
  claimDueEntries(claim: string, limit: number, now: number, leaseMs: number): Promise<ClaimedEntry[]>;
  releaseWaiting(ws: string, journeyId: string, step: string, now: number): Promise<number>;
  completeEntries(results: readonly EntryResult[], now: number): Promise<number>;
  completeAndClaim(
    results: readonly EntryResult[],
    now: number,
    next: { claim: string; limit: number; now: number; leaseMs: number },
  ): Promise<{ applied: number; claimed: ClaimedEntry[] }>;
  claimDueMessages(claim: string, limit: number, now: number, leaseMs: number): Promise<ClaimedMessage[]>;
  completeMessages(results: readonly MessageResult[], now: number): Promise<number>;
  putChannel(ws: string, record: ChannelRecord): Promise<void>;
  deleteChannel(ws: string, channel: string): Promise<boolean>;
  putTemplate(
    ws: string,
    t: { name: string; channel: string; definition: unknown },
    mode: 'create' | 'replace',
    now: number,
  ): Promise<TemplateRecord>;
  deleteTemplate(ws: string, name: string): Promise<boolean>;
  setSubscription(ws: string, s: Subscription | readonly Subscription[]): Promise<void>;
  putDeliverySettings(ws: string, settings: unknown, now: number): Promise<void>;
  putSuppression(ws: string, s: Suppression): Promise<void>;
  deleteSuppression(ws: string, channel: string, address: string): Promise<boolean>;
  putDevices(ws: string, devices: readonly Device[]): Promise<void>;
  deleteDevice(ws: string, token: string): Promise<boolean>;
  recordAfterSend(states: readonly AfterSendState[], now: number): Promise<number>;
  putCouponPool(ws: string, p: { name: string; description: string | null }, now: number): Promise<boolean>;
  deleteCouponPool(ws: string, name: string): Promise<boolean>;
  addCouponCodes(ws: string, pool: string, codes: readonly string[], now: number): Promise<number>;
  assignCoupons(
    ws: string,
    requests: readonly CouponRequest[],
    now: number,
  ): Promise<Map<string, string | null>>;
  putSubscriptionTopics(ws: string, topics: unknown, now: number): Promise<void>;
  putItems(ws: string, items: readonly CatalogItem[]): Promise<void>;
  deleteItem(ws: string, id: string): Promise<boolean>;
  replaceSimilar(ws: string, similar: ReadonlyMap<string, readonly SimilarItem[]>): Promise<void>;
  putInAppMessage(ws: string, m: MessageRecord): Promise<void>;
  putContentCard(ws: string, c: CardRecord): Promise<void>;
  recordMessageInteraction(ws: string, i: InteractionInput): Promise<void>;
  setCardState(ws: string, s: CardStateChange): Promise<void>;
  putSdkSettings(ws: string, settings: unknown, now: number): Promise<void>;
  putSurvey(ws: string, s: SurveyPut, mode: 'create' | 'replace', now: number): Promise<SurveyRecord>;
  recordSurveyResponses(
    ws: string,
    responses: readonly SurveyResponse[],
    feedback: readonly Feedback[],
  ): Promise<void>;
  addFeedback(ws: string, f: Feedback): Promise<void>;
  tagFeedback(ws: string, id: string, tags: FeedbackTags, now: number): Promise<Feedback | null>;
  recordConsents(ws: string, entries: readonly ConsentEntry[]): Promise<void>;
  putPrivacySettings(ws: string, settings: unknown, now: number): Promise<void>;
  eraseProfile(
    ws: string,
    profileId: string,
    opts: { id: string; requestedBy: string; now: number },
  ): Promise<ErasureOutcome>;
  deleteEventsBefore(ws: string, before: number, limit: number): Promise<number>;
  liftTombstones(ws: string, identities: readonly IdentityKey[]): Promise<IdentityKey[]>;
  /** One of the access writes (sqlite/access.ts), by name, in its own transaction. */
  access<K extends AccessWriteName>(name: K, ...args: AccessArgs<K>): Promise<AccessResult<K>>;
  close(): Promise<void>;
}

/** The methods a writer thread may be asked to run (everything but close, which has its own handshake). */
export type WriterMethod = Exclude<keyof SqliteWrites, 'close'>;

export { openConnection } from './connection.js';

type Outcome = { ok: true; result: IngestResult } | { ok: false; error: unknown };

interface PendingIngest {
  workspaceId: string;
  events: readonly NormalizedEvent[];
  now: number;
  resolve(r: IngestResult): void;
  reject(e: unknown): void;
}

/**
 * The one writer connection of a process. Every transaction is synchronous from BEGIN to COMMIT, so
 * nothing else on this thread interleaves with it; other processes (the CLI next to a server) wait on
 * SQLite's lock.
 *
 * Group commit: ingest calls that arrive in the same turn of the event loop share one IMMEDIATE
 * transaction, each in its own savepoint, so one bad call fails alone while a burst of small requests
 * pays for one fsync instead of one each. Small calls of one workspace next to each other share one
 * savepoint and one ingest unit (see coalesce); if that unit fails, its calls run again one by one, each
 * in its own savepoint, so still only the bad call fails. Every call resolves only after COMMIT has
 * returned, and with WAL and synchronous=FULL a committed transaction survives a crash or power cut.
 */
export class SqliteWriter implements SqliteWrites {
  private readonly w: Prepare;
  private readonly ingestOne: Database.Transaction<(run: readonly PendingIngest[]) => IngestResult[]>;
  private readonly commitGroup: Database.Transaction<(calls: PendingIngest[]) => Outcome[]>;
  private pending: PendingIngest[] = [];
  private pendingEvents = 0;
  private flushScheduled = false;
  /** while the next group gathers calls: its timer, and how many calls end the wait early */
  private gatherTimer: ReturnType<typeof setTimeout> | null = null;
  private gatherCalls = 0;
  /** the last group commit's calls and when it ended (performance.now(), only to time the gathering) */
  private lastGroup = { calls: 0, endedAt: 0 };
  private readonly definitions = new DefinitionsCache();
  private readonly journeyIndexes = new journeys.JourneyIndexCache();
  private readonly watches: ProfileWatches;

  /** `gatherMs`: how long a group may wait for more calls (see GATHER_MS); 0 never waits. */
  constructor(
    readonly db: Database.Database,
    private readonly gatherMs = db.memory ? 0 : GATHER_MS,
  ) {
    this.w = statementCache(db);
    // Every ingest call of a group commit runs in a savepoint, and SQLite keeps the original of each
    // page a savepoint changes in a sub-journal, which by default spills to a temporary file past
    // 64 KB: a call of 100 events changes hundreds of pages, so that file took more writes than the
    // WAL itself (strace, 50,000 events: 2.15M pwrite calls, 0.87M with this). In memory, the
    // sub-journal holds one call's pages (about 1.5 MB) and is emptied at each release.
    db.pragma('temp_store = MEMORY');
    this.watches = new ProfileWatches(db, this.w, this.definitions);
    // Nested better-sqlite3 transactions run as savepoints.
    this.ingestOne = db.transaction((run: readonly PendingIngest[]) => {
      const now = Math.max(...run.map((c) => c.now));
      return runIngestSyncParts(
        new SqliteIngestTx(this.w, run[0]!.workspaceId, this.definitions, this.journeyIndexes),
        run.map((c) => c.events),
        { now, newProfileId: () => newId('p', now), newEntryId: () => newId('je', now) },
      );
    });
    this.commitGroup = db.transaction((calls: PendingIngest[]) => {
      const outcomes: Outcome[] = [];
      for (const run of coalesce(calls)) {
        if (run.length > 1) {
          try {
            for (const result of this.ingestOne(run)) outcomes.push({ ok: true, result });
            continue;
          } catch (error) {
            if (!db.inTransaction) throw error;
            // Nothing of the run is left (its savepoint rolled back): each call again on its own,
            // so only the one that fails fails.
          }
        }
        for (const c of run) outcomes.push(this.ingestAlone(c));
      }
      return outcomes;
    });
  }

  private ingestAlone(c: PendingIngest): Outcome {
    try {
      return { ok: true, result: this.ingestOne([c])[0]! };
    } catch (error) {
      // SQLite may have ended the whole transaction (disk full, I/O error): then nothing of
      // this group can commit, and every caller must hear so.
      if (!this.db.inTransaction) throw error;
      return { ok: false, error };
    }
  }

  async migrate(now: number): Promise<string[]> {
    await Promise.resolve();
    const migrations = loadMigrations(MIGRATIONS_DIR);
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const applied: string[] = [];
    // A migration's backfill may sort or group a whole table: on disk, not in this process's memory.
    this.db.pragma('temp_store = FILE');
    try {
      this.applyMigrations(migrations, now, applied);
    } finally {
      this.db.pragma('temp_store = MEMORY');
    }
    return applied;
  }

  private applyMigrations(
    migrations: ReturnType<typeof loadMigrations>,
    now: number,
    applied: string[],
  ): void {
    for (const m of migrations) {
      // Checked inside the write lock, so two processes migrating at once apply each file once.
      this.db
        .transaction(() => {
          if (this.w('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
          this.db.exec(m.sql);
          this.w('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
            m.version,
            m.name,
            now,
          );
          applied.push(m.name);
        })
        .immediate();
    }
  }

  async createWorkspace(ws: Workspace, keys: { writeKeyHash: string; adminKeyHash: string }): Promise<void> {
    await Promise.resolve();
    this.db
      .transaction(() => {
        if (this.w('SELECT 1 FROM workspaces WHERE name = ?').get(ws.name)) {
          throw new ConflictError(`a workspace named "${ws.name}" already exists`);
        }
        this.w('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)').run(
          ws.id,
          ws.name,
          ws.createdAt,
        );
        const key = this.w(
          `INSERT INTO api_keys (key_hash, workspace_id, kind, created_at, id, name, scope)
           VALUES (?, ?, ?, ?, 'key_' || substr(?, 1, 20), ?, ?)`,
        );
        key.run(keys.writeKeyHash, ws.id, 'write', ws.createdAt, keys.writeKeyHash, 'write key', 'ingest');
        key.run(keys.adminKeyHash, ws.id, 'admin', ws.createdAt, keys.adminKeyHash, 'admin key', 'admin');
      })
      .immediate();
  }

  /** Runs `fn` in its own IMMEDIATE transaction after whatever ingest is pending, so writes keep their order. */
  private async exclusive<T>(fn: () => T): Promise<T> {
    this.flush();
    await Promise.resolve();
    return this.db.transaction(fn).immediate();
  }

  changeDefinitions(workspaceId: string, change: DefinitionChange, now: number): Promise<void> {
    return this.exclusive(() => applyDefinitionChange(this.w, workspaceId, change, now));
  }

  async reevaluateProfiles(workspaceId: string, page: ReevaluatePage): Promise<ReevaluateResult> {
    const run = () =>
      runReevaluateSync(new SqliteReevaluateTx(this.w, workspaceId, this.definitions, this.journeyIndexes), {
        ...page,
        newEntryId: () => newId('je', page.now),
      });
    return page.relaxedDurability ? this.relaxed(run) : this.exclusive(run);
  }

  /**
   * A page of a pass that is redone if lost commits without an fsync: in WAL mode the next FULL commit
   * (an ingest, the segment's ready mark) syncs the log up to and including it, and a crash before
   * that loses it whole (ReevaluatePage.relaxedDurability).
   */
  private async relaxed<T>(fn: () => T): Promise<T> {
    if (this.db.memory) return this.exclusive(fn);
    this.flush();
    await Promise.resolve();
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  async watchProfiles(workspaceId: string): Promise<number> {
    // After the writes queued before it: those are in what the scan will read.
    this.flush();
    await Promise.resolve();
    return this.watches.begin(workspaceId);
  }

  async unwatchProfiles(watch: number): Promise<void> {
    await Promise.resolve();
    this.watches.end(watch);
  }

  applyScannedMemberships(
    workspaceId: string,
    watch: number,
    page: ScannedMemberships,
  ): Promise<{ applied: number; rest: string[] }> {
    return this.relaxed(() => this.watches.apply(workspaceId, watch, page));
  }

  setSegmentBuild(
    workspaceId: string,
    segmentId: string,
    build: { status: 'building' | 'ready'; done: number; total: number },
    now: number,
  ): Promise<void> {
    return this.exclusive(() => setSegmentBuild(this.w, workspaceId, segmentId, build, now));
  }

  recordSegmentSizes(workspaceId: string, now: number): Promise<void> {
    return this.exclusive(() => recordSizes(this.w, workspaceId, now));
  }

  recountStages(workspaceId: string): Promise<void> {
    return this.exclusive(() => recountStages(this.w, workspaceId));
  }

  purgeDeletedSegments(limit: number): Promise<boolean> {
    return this.exclusive(() => purgeStep(this.w, limit));
  }

  createJourney(
    ws: string,
    j: { id: string; name: string; draft: unknown },
    now: number,
  ): Promise<JourneyView> {
    return this.exclusive(() => journeys.createJourney(this.w, ws, j, now));
  }

  updateJourneyDraft(
    ws: string,
    id: string,
    j: { name: string; draft: unknown },
    now: number,
  ): Promise<void> {
    return this.exclusive(() => journeys.updateJourneyDraft(this.w, ws, id, j, now));
  }

  publishJourney(
    ws: string,
    id: string,
    input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
    now: number,
  ): Promise<{ version: number; migrated: number }> {
    return this.exclusive(() => journeys.publishJourney(this.w, ws, id, input, now));
  }

  claimDueSchedules(claim: string, now: number, leaseMs: number): Promise<ScheduledRun[]> {
    return this.exclusive(() => runs.claimDueSchedules(this.w, claim, now, leaseMs));
  }

  enterJourney(
    ws: string,
    journeyId: string,
    entry: EntrySpec,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<number | null> {
    return this.exclusive(() => runs.enterJourney(this.w, ws, journeyId, entry, customers, now));
  }

  enterAndRun(
    run: ScheduledRun,
    entry: EntrySpec,
    results: readonly EntryResult[],
    now: number,
    leaseMs: number,
  ): Promise<number | null> {
    return this.exclusive(() => runs.enterAndRun(this.w, run, entry, results, now, leaseMs));
  }

  finishScheduledRun(
    ws: string,
    journeyId: string,
    claim: string,
    nextRunAt: number | null,
  ): Promise<boolean> {
    return this.exclusive(() => runs.finishScheduledRun(this.w, ws, journeyId, claim, nextRunAt));
  }

  setJourneyStatus(
    ws: string,
    id: string,
    status: 'published' | 'paused' | 'archived',
    now: number,
  ): Promise<void> {
    return this.exclusive(() => journeys.setJourneyStatus(this.w, ws, id, status, now));
  }

  claimDueEntries(claim: string, limit: number, now: number, leaseMs: number): Promise<ClaimedEntry[]> {
    return this.exclusive(() => runs.claimDueEntries(this.w, claim, limit, now, leaseMs));
  }

  releaseWaiting(ws: string, journeyId: string, step: string, now: number): Promise<number> {
    return this.exclusive(() => journeys.releaseWaiting(this.w, ws, journeyId, step, now));
  }

  completeEntries(results: readonly EntryResult[], now: number): Promise<number> {
    return this.exclusive(() => runs.completeEntries(this.w, results, now));
  }

  completeAndClaim(
    results: readonly EntryResult[],
    now: number,
    next: { claim: string; limit: number; now: number; leaseMs: number },
  ): Promise<{ applied: number; claimed: ClaimedEntry[] }> {
    return this.exclusive(() => ({
      applied: runs.completeEntries(this.w, results, now),
      claimed: runs.claimDueEntries(this.w, next.claim, next.limit, next.now, next.leaseMs),
    }));
  }

  claimDueMessages(claim: string, limit: number, now: number, leaseMs: number): Promise<ClaimedMessage[]> {
    return this.exclusive(() => delivery.claimDueMessages(this.w, claim, limit, now, leaseMs));
  }

  completeMessages(results: readonly MessageResult[], now: number): Promise<number> {
    return this.exclusive(() => delivery.completeMessages(this.w, results, now));
  }

  putChannel(ws: string, record: ChannelRecord): Promise<void> {
    return this.exclusive(() => delivery.putChannel(this.w, ws, record));
  }

  deleteChannel(ws: string, channel: string): Promise<boolean> {
    return this.exclusive(() => delivery.deleteChannel(this.w, ws, channel));
  }

  putTemplate(
    ws: string,
    t: { name: string; channel: string; definition: unknown },
    mode: 'create' | 'replace',
    now: number,
  ): Promise<TemplateRecord> {
    return this.exclusive(() => delivery.putTemplate(this.w, ws, t, mode, now));
  }

  deleteTemplate(ws: string, name: string): Promise<boolean> {
    return this.exclusive(() => delivery.deleteTemplate(this.w, ws, name));
  }

  /** The subscriptions and their consent-ledger entries (facts and re-evaluation included) in one transaction. */
  setSubscription(ws: string, s: Subscription | readonly Subscription[]): Promise<void> {
    const list = 'channel' in s ? [s] : s;
    return this.exclusive(() => {
      delivery.setSubscription(this.w, ws, list);
      this.consents(ws, rights.subscriptionLedger(this.w, ws, list));
    });
  }

  putDeliverySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.exclusive(() => delivery.putDeliverySettings(this.w, ws, settings, now));
  }

  putSuppression(ws: string, s: Suppression): Promise<void> {
    return this.exclusive(() => contacts.putSuppression(this.w, ws, s));
  }

  deleteSuppression(ws: string, channel: string, address: string): Promise<boolean> {
    return this.exclusive(() => contacts.deleteSuppression(this.w, ws, channel, address));
  }

  putDevices(ws: string, devices: readonly Device[]): Promise<void> {
    return this.exclusive(() => contacts.putDevices(this.w, ws, devices));
  }

  deleteDevice(ws: string, token: string): Promise<boolean> {
    return this.exclusive(() => contacts.deleteDevice(this.w, ws, token));
  }

  recordAfterSend(states: readonly AfterSendState[], now: number): Promise<number> {
    return this.exclusive(() => contacts.recordAfterSend(this.w, states, now));
  }

  putCouponPool(ws: string, p: { name: string; description: string | null }, now: number): Promise<boolean> {
    return this.exclusive(() => coupons.putCouponPool(this.w, ws, p, now));
  }

  deleteCouponPool(ws: string, name: string): Promise<boolean> {
    return this.exclusive(() => coupons.deleteCouponPool(this.w, ws, name));
  }

  addCouponCodes(ws: string, pool: string, codes: readonly string[], now: number): Promise<number> {
    return this.exclusive(() => coupons.addCouponCodes(this.w, ws, pool, codes, now));
  }

  assignCoupons(
    ws: string,
    requests: readonly CouponRequest[],
    now: number,
  ): Promise<Map<string, string | null>> {
    return this.exclusive(() => coupons.assignCoupons(this.w, ws, requests, now));
  }

  putSubscriptionTopics(ws: string, topics: unknown, now: number): Promise<void> {
    return this.exclusive(() => documents.putDocument(this.w, documents.TOPICS, ws, topics, now));
  }

  putItems(ws: string, items: readonly CatalogItem[]): Promise<void> {
    return this.exclusive(() => catalog.putItems(this.w, ws, items));
  }

  deleteItem(ws: string, id: string): Promise<boolean> {
    return this.exclusive(() => catalog.deleteItem(this.w, ws, id));
  }

  replaceSimilar(ws: string, similar: ReadonlyMap<string, readonly SimilarItem[]>): Promise<void> {
    return this.exclusive(() => catalog.replaceSimilar(this.w, ws, similar));
  }

  putInAppMessage(ws: string, m: MessageRecord): Promise<void> {
    return this.exclusive(() => inapp.putMessage(this.w, ws, m));
  }

  putContentCard(ws: string, c: CardRecord): Promise<void> {
    return this.exclusive(() => inapp.putCard(this.w, ws, c));
  }

  recordMessageInteraction(ws: string, i: InteractionInput): Promise<void> {
    return this.exclusive(() => inapp.recordInteraction(this.w, ws, i));
  }

  setCardState(ws: string, s: CardStateChange): Promise<void> {
    return this.exclusive(() => inapp.setCardState(this.w, ws, s));
  }

  putSdkSettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.exclusive(() => documents.putDocument(this.w, documents.SDK, ws, settings, now));
  }

  putSurvey(ws: string, s: SurveyPut, mode: 'create' | 'replace', now: number): Promise<SurveyRecord> {
    return this.exclusive(() => surveys.putSurvey(this.w, ws, s, mode, now));
  }

  recordSurveyResponses(
    ws: string,
    responses: readonly SurveyResponse[],
    feedback: readonly Feedback[],
  ): Promise<void> {
    return this.exclusive(() => surveys.recordSurveyResponses(this.w, ws, responses, feedback));
  }

  addFeedback(ws: string, f: Feedback): Promise<void> {
    return this.exclusive(() => surveys.addFeedback(this.w, ws, f));
  }

  tagFeedback(ws: string, id: string, tags: FeedbackTags, now: number): Promise<Feedback | null> {
    return this.exclusive(() => surveys.tagFeedback(this.w, ws, id, tags, now));
  }

  recordConsents(ws: string, entries: readonly ConsentEntry[]): Promise<void> {
    return this.exclusive(() => this.consents(ws, entries));
  }

  /**
   * Appends ledger entries inside the caller's transaction. A whole-purpose entry changes the
   * profile's facts (its consent state), so its profiles are re-evaluated in the same transaction.
   */
  private consents(ws: string, entries: readonly ConsentEntry[]): void {
    if (entries.length === 0) return;
    if (!touchesConsentFacts(entries)) return rights.recordConsents(this.w, ws, entries);
    runReevaluateSync(
      new SqliteReevaluateTx(this.w, ws, this.definitions, this.journeyIndexes),
      consentUnit(entries, (now) => newId('je', now)),
    );
  }

  putPrivacySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.exclusive(() => {
      documents.putDocument(this.w, documents.PRIVACY, ws, settings, now);
      // The profiling rule is part of the definitions (profiling segments): writers must recompile.
      this.w('UPDATE workspaces SET definitions_version = definitions_version + 1 WHERE id = ?').run(ws);
    });
  }

  async eraseProfile(
    ws: string,
    profileId: string,
    opts: { id: string; requestedBy: string; now: number },
  ): Promise<ErasureOutcome> {
    // secure_delete makes SQLite overwrite the erased rows' bytes with zeros instead of leaving them
    // in free pages; the checkpoint then moves the overwritten pages from the WAL into the file (it
    // stops early, harmlessly, while a reader holds an older snapshot).
    this.db.pragma('secure_delete = ON');
    try {
      return await this.exclusive(() => rights.eraseProfile(this.w, ws, profileId, opts));
    } finally {
      this.db.pragma('secure_delete = OFF');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
  }

  deleteEventsBefore(ws: string, before: number, limit: number): Promise<number> {
    return this.exclusive(() => rights.deleteEventsBefore(this.w, ws, before, limit));
  }

  liftTombstones(ws: string, identities: readonly IdentityKey[]): Promise<IdentityKey[]> {
    return this.exclusive(() => rights.liftTombstones(this.w, ws, identities));
  }

  access<K extends AccessWriteName>(name: K, ...args: AccessArgs<K>): Promise<AccessResult<K>> {
    // The name picks the function and its argument types together; TypeScript cannot follow that link.
    const write = accessWrites[name] as unknown as (w: Prepare, ...a: AccessArgs<K>) => AccessResult<K>;
    return this.exclusive(() => write(this.w, ...args));
  }

  ingest(workspaceId: string, events: readonly NormalizedEvent[], now: number): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ workspaceId, events, now, resolve, reject });
      this.pendingEvents += events.length;
      if (this.pendingEvents >= GROUP_COMMIT_EVENTS) this.flush();
      else if (this.gatherTimer) {
        if (this.pending.length >= this.gatherCalls) this.flushSoon();
      } else if (!this.flushScheduled) {
        if (this.gathers()) {
          this.gatherCalls = this.lastGroup.calls;
          this.gatherTimer = setTimeout(() => this.flush(), this.gatherMs);
        } else this.flushSoon();
      }
    });
  }

  /** Whether the group that starts now should wait for more calls (see GATHER_MS). */
  private gathers(): boolean {
    return (
      this.gatherMs > 0 &&
      this.lastGroup.calls >= GATHER_MIN_CALLS &&
      performance.now() - this.lastGroup.endedAt < GATHER_RECENT_MS
    );
  }

  /** Flushes once this turn's calls are in (the thread's message delivers a batch of them in one turn). */
  private flushSoon(): void {
    if (this.gatherTimer) clearTimeout(this.gatherTimer);
    this.gatherTimer = null;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.gatherTimer) clearTimeout(this.gatherTimer);
    this.gatherTimer = null;
    const calls = this.pending;
    this.pending = [];
    this.pendingEvents = 0;
    if (calls.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.commitGroup.immediate(calls);
    } catch (error) {
      for (const c of calls) c.reject(error);
      return;
    } finally {
      this.lastGroup = { calls: calls.length, endedAt: performance.now() };
    }
    calls.forEach((c, i) => {
      const o = outcomes[i]!;
      if (o.ok) c.resolve(o.result);
      else c.reject(o.error);
    });
  }

  async close(): Promise<void> {
    this.flush();
    await Promise.resolve();
    this.db.close();
  }
}
