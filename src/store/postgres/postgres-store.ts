import * as reports from './reports.js';
import type {
  CustomerSequence,
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
import type { EnterCustomer, EntrySpec } from '../journey-store.js';
import type { EntryLimit } from '../../domain/journeys/types.js';
import * as delivery from './delivery.js';
import * as contacts from './contacts.js';
import * as coupons from './coupons.js';
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
import type pg from 'pg';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../domain/clock.js';
import type { NormalizedEvent } from '../../domain/event.js';
import type { IdentityKey } from '../../domain/identity.js';
import { ConflictError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { DefinitionsRecord } from '../../domain/engagement/definitions.js';
import type { ProfileState } from '../../domain/resolution.js';
import { runIngest } from '../ingest-unit.js';
import { loadMigrations } from '../migrations.js';
import { consentUnit, runReevaluate } from '../reevaluate-unit.js';
import { touchesConsentFacts } from '../../domain/facts/facts.js';
import type {
  DefinitionChange,
  EngagementEventView,
  EventCursor,
  EventNameCount,
  EventPage,
  GroupView,
  IngestResult,
  KeyKind,
  FoundKey,
  ProfilePage,
  ProfileView,
  ReevaluatePage,
  ReevaluateResult,
  SegmentView,
  StageTransition,
  Store,
  TraitFilter,
  Workspace,
  ScanPage,
} from '../store.js';
import { TraitKeyCache } from '../trait-keys.js';
import { createPool, sqlOf, transaction, type RetryPolicy, type Sql } from './pg-driver.js';
import { guarded, violatedConstraint } from './pg-errors.js';
import {
  applyDefinitionChange,
  DefinitionsCache,
  loadDefinitionsRecord,
  lockDefinitionsExclusive,
  lockDefinitionsShared,
  recordSizes,
  setSegmentBuild,
} from './engagement.js';
import * as reads from './engagement-reads.js';
import * as profiles from './profile-reads.js';
import { PostgresIngestTx } from './ingest-tx.js';
import { PostgresReevaluateTx } from './reevaluate-tx.js';
import * as journeys from './journeys.js';
import * as runs from './journey-runs.js';
import * as journeyReads from './journey-reads.js';
import type {
  ClaimedEntry,
  EntryResult,
  EntryView,
  JourneyMessage,
  JourneyStats,
  ArmOutcome,
  JourneyView,
  ScheduledRun,
} from '../journey-store.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Advisory lock (two-int form, so it never collides with the ingest's bigint locks) for migrations. */
const MIGRATION_LOCK = [0x4b5a4e41, 1] as const;

/** Rows per event-name counter (see migrations/0001_initial.sql); readers sum them. */
const EVENT_NAME_SHARDS = 16;

/**
 * Racing writers re-run a conflicting ingest (or re-evaluation page, or definition change); ten tries
 * with a growing random pause are plenty.
 */
const WRITE_RETRY: RetryPolicy = { attempts: 10, jitterMs: 10 };

/** Delta rows a stage-count read sums before it folds them (migration 0022). */
const STAGE_COUNT_ROWS_BEFORE_FOLD = 256;

export interface PostgresStoreOptions {
  /** A `postgres://` connection URL. */
  readonly url: string;
  readonly clock: Clock;
  /** Connections in this process's pool (default 10). */
  readonly poolSize?: number;
}

/**
 * The multi-process adapter: every Kizuna process opens its own pool on one database. Writes run in
 * READ COMMITTED transactions that lock what they touch (see PostgresIngestTx, PostgresReevaluateTx,
 * and engagement.ts for definition changes); reads run on the pool and see committed data, each in
 * one statement (profile-reads.ts, engagement-reads.ts).
 *
 * Durability is the server's: with its default synchronous_commit, an acknowledged ingest is on disk.
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly sql: Sql;
  private readonly clock: Clock;
  private closed = false;
  /**
   * The next event-name counter shard: handed out round-robin, so this process's concurrent writers
   * (at most the pool size) add to different rows; the random start spreads processes apart.
   */
  private shard = Math.floor(Math.random() * EVENT_NAME_SHARDS);
  /** compiled engagement definitions, checked against the stored version in every transaction */
  private readonly definitions = new DefinitionsCache();
  private readonly traitKeys = new TraitKeyCache();
  /** compiled published journeys, checked against the same version */
  private readonly journeyIndexes = new journeys.JourneyIndexCache();

  private constructor(opts: PostgresStoreOptions) {
    this.clock = opts.clock;
    this.pool = createPool({ url: opts.url, size: opts.poolSize ?? 10 });
    this.sql = sqlOf(this.pool);
  }

  /** Connects lazily: an unreachable server surfaces as StoreUnavailableError on first use. */
  static open(opts: PostgresStoreOptions): PostgresStore {
    return new PostgresStore(opts);
  }

  migrate(): Promise<{ applied: string[] }> {
    return guarded(async () => {
      const migrations = loadMigrations(MIGRATIONS_DIR);
      const lock = (sql: Sql) => sql.query('SELECT pg_advisory_xact_lock($1, $2)', MIGRATION_LOCK);
      await transaction(this.pool, async (sql) => {
        await lock(sql);
        await sql.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
        );
      });
      const applied: string[] = [];
      for (const m of migrations) {
        // Checked under the lock, so processes migrating at once apply each file exactly once.
        await transaction(this.pool, async (sql) => {
          await lock(sql);
          const done = await sql.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
          if (done.length > 0) return;
          await sql.query(m.sql);
          await sql.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            this.clock.now(),
          ]);
          applied.push(m.name);
        });
      }
      return { applied };
    });
  }

  createWorkspace(input: { name: string; writeKeyHash: string; adminKeyHash: string }): Promise<Workspace> {
    const ws: Workspace = { id: newId('ws'), name: input.name, createdAt: this.clock.now() };
    return guarded(async () => {
      try {
        await transaction(this.pool, async (sql) => {
          await sql.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [
            ws.id,
            ws.name,
            ws.createdAt,
          ]);
          await sql.query(
            `INSERT INTO api_keys (key_hash, workspace_id, kind, created_at, id, name, scope)
             VALUES ($1, $3, 'write', $4, 'key_' || substr($1, 1, 20), 'write key', 'ingest'),
                    ($2, $3, 'admin', $4, 'key_' || substr($2, 1, 20), 'admin key', 'admin')`,
            [input.writeKeyHash, input.adminKeyHash, ws.id, ws.createdAt],
          );
        });
      } catch (err) {
        if (violatedConstraint(err) === 'workspaces_name_unique') {
          throw new ConflictError(`a workspace named "${input.name}" already exists`, { cause: err });
        }
        throw err;
      }
      return ws;
    });
  }

  findWorkspaceByName(name: string): Promise<Workspace | null> {
    return guarded(async () => {
      const [row] = await this.sql.query<{ id: string; name: string; created_at: number }>(
        'SELECT id, name, created_at FROM workspaces WHERE name = $1',
        [name],
      );
      return row ? { id: row.id, name: row.name, createdAt: row.created_at } : null;
    });
  }

  countWorkspaces(): Promise<number> {
    return guarded(async () => {
      const [row] = await this.sql.query<{ n: number }>('SELECT count(*) AS n FROM workspaces');
      return row?.n ?? 0;
    });
  }

  findKey(keyHash: string): Promise<FoundKey | null> {
    return guarded(async () => {
      const [row] = await this.sql.query<{
        workspace_id: string;
        kind: KeyKind;
        id: string;
        name: string;
        scope: Scope;
      }>(
        'SELECT workspace_id, kind, id, name, scope FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [keyHash],
      );
      return row
        ? { workspaceId: row.workspace_id, kind: row.kind, id: row.id, name: row.name, scope: row.scope }
        : null;
    });
  }

  private nextShard(): number {
    this.shard = (this.shard + 1) % EVENT_NAME_SHARDS;
    return this.shard;
  }

  ingest(workspaceId: string, events: readonly NormalizedEvent[]): Promise<IngestResult> {
    return guarded(() =>
      transaction(
        this.pool,
        (sql) => {
          const now = this.clock.now();
          const tx = new PostgresIngestTx(
            sql,
            workspaceId,
            now,
            events,
            this.nextShard(),
            this.definitions,
            this.traitKeys,
            this.journeyIndexes,
          );
          return runIngest(tx, events, {
            now,
            newProfileId: () => newId('p', now),
            newEntryId: () => newId('je', now),
          });
        },
        WRITE_RETRY,
      ),
    );
  }

  getProfile(workspaceId: string, profileId: string): Promise<ProfileView | null> {
    return guarded(() => profiles.getProfile(this.sql, workspaceId, profileId));
  }

  lookupProfile(workspaceId: string, key: IdentityKey): Promise<ProfileView | null> {
    return guarded(() => profiles.lookupProfile(this.sql, workspaceId, key));
  }

  listProfileEvents(
    workspaceId: string,
    profileId: string,
    page: { limit: number; before?: EventCursor },
  ): Promise<EventPage> {
    return guarded(() => profiles.listProfileEvents(this.sql, workspaceId, profileId, page));
  }

  searchProfiles(
    workspaceId: string,
    query: { filters: readonly TraitFilter[]; limit: number; after?: string },
  ): Promise<ProfilePage> {
    return guarded(() => profiles.searchProfiles(this.sql, workspaceId, query));
  }

  listEventNames(workspaceId: string): Promise<EventNameCount[]> {
    return guarded(() => profiles.listEventNames(this.sql, workspaceId));
  }

  getGroup(workspaceId: string, groupId: string): Promise<GroupView | null> {
    return guarded(() => profiles.getGroup(this.sql, workspaceId, groupId));
  }

  getDefinitions(workspaceId: string): Promise<DefinitionsRecord> {
    return guarded(() => loadDefinitionsRecord(this.sql, workspaceId));
  }

  /** Waits for the workspace's writers in flight; its writers wait for this change (see engagement.ts). */
  changeDefinitions(workspaceId: string, change: DefinitionChange, now: number): Promise<void> {
    return guarded(async () => {
      try {
        await transaction(
          this.pool,
          (sql) => applyDefinitionChange(sql, workspaceId, change, now),
          WRITE_RETRY,
        );
      } catch (err) {
        // The name is checked under the workspace's lock; the constraint is the backstop.
        if (violatedConstraint(err) === 'segments_name_unique' && change.kind === 'put_segment') {
          throw new ConflictError(`a segment named "${change.segment.name}" already exists`, { cause: err });
        }
        throw err;
      }
    });
  }

  listSegments(workspaceId: string): Promise<SegmentView[]> {
    return guarded(() => reads.listSegments(this.sql, workspaceId));
  }

  getSegment(workspaceId: string, segmentId: string): Promise<SegmentView | null> {
    return guarded(() => reads.getSegment(this.sql, workspaceId, segmentId));
  }

  listSegmentMembers(
    workspaceId: string,
    segmentId: string,
    page: { limit: number; after?: string },
  ): Promise<{ profileIds: string[]; next: string | null }> {
    return guarded(() => reads.listSegmentMembers(this.sql, workspaceId, segmentId, page));
  }

  segmentSizeHistory(
    workspaceId: string,
    segmentId: string,
    since: number,
  ): Promise<{ at: number; size: number }[]> {
    return guarded(() => reads.segmentSizeHistory(this.sql, workspaceId, segmentId, since));
  }

  stageCounts(workspaceId: string): Promise<Record<string, number>> {
    return guarded(async () => {
      const { counts, rows } = await reads.stageCounts(this.sql, workspaceId);
      // Every transition adds delta rows; folding them keeps this read O(stages).
      if (rows > STAGE_COUNT_ROWS_BEFORE_FOLD)
        await transaction(this.pool, (sql) => reads.foldStageCounts(sql, workspaceId));
      return counts;
    });
  }

  recountStages(workspaceId: string): Promise<Record<string, number>> {
    return guarded(async () => {
      await transaction(this.pool, (sql) => reads.recountStages(sql, workspaceId), WRITE_RETRY);
      return (await reads.stageCounts(this.sql, workspaceId)).counts;
    });
  }

  listEngagementEvents(
    workspaceId: string,
    page: { after: number; limit: number; profileId?: string },
  ): Promise<EngagementEventView[]> {
    return guarded(() => reads.listEngagementEvents(this.sql, workspaceId, page));
  }

  listTraitKeys(workspaceId: string): Promise<string[]> {
    return guarded(async () =>
      (
        await this.sql.query<{ key: string }>(
          'SELECT key FROM trait_keys WHERE workspace_id = $1 ORDER BY key',
          [workspaceId],
        )
      ).map((r) => r.key),
    );
  }

  stageHistory(workspaceId: string, profileId: string): Promise<StageTransition[]> {
    return guarded(() => reads.stageHistory(this.sql, workspaceId, profileId));
  }

  getProfileState(workspaceId: string, profileId: string): Promise<ProfileState | null> {
    return guarded(() => reads.getProfileState(this.sql, workspaceId, profileId));
  }

  getProfileStates(workspaceId: string, profileIds: readonly string[]): Promise<Map<string, ProfileState>> {
    return guarded(() => reads.getProfileStates(this.sql, workspaceId, profileIds));
  }

  /** One transaction per page; the page's profiles are locked in id order (see PostgresReevaluateTx). */
  reevaluateProfiles(workspaceId: string, page: ReevaluatePage): Promise<ReevaluateResult> {
    return guarded(() =>
      transaction(
        this.pool,
        async (sql) => {
          // A page of a pass that is redone if lost commits without waiting for the WAL flush; the next
          // synchronous commit flushes it (ReevaluatePage.relaxedDurability).
          if (page.relaxedDurability) await sql.query('SET LOCAL synchronous_commit = off');
          return runReevaluate(
            new PostgresReevaluateTx(sql, workspaceId, this.definitions, this.journeyIndexes),
            { ...page, newEntryId: () => newId('je', page.now) },
          );
        },
        WRITE_RETRY,
      ),
    );
  }

  scanProfileStates(
    workspaceId: string,
    page: ScanPage,
  ): Promise<{ profiles: ProfileState[]; next: string | null }> {
    return guarded(() => reads.scanProfileStates(this.sql, workspaceId, page));
  }

  countProfiles(workspaceId: string): Promise<number> {
    return guarded(() => reads.countProfiles(this.sql, workspaceId));
  }

  setSegmentBuild(
    workspaceId: string,
    segmentId: string,
    build: { status: 'building' | 'ready'; done: number; total: number },
    now: number,
  ): Promise<void> {
    return guarded(() =>
      transaction(this.pool, (sql) => setSegmentBuild(sql, workspaceId, segmentId, build, now), WRITE_RETRY),
    );
  }

  recordSegmentSizes(workspaceId: string, now: number): Promise<void> {
    return guarded(() =>
      transaction(
        this.pool,
        async (sql) => {
          // Shared: no segment is deleted while its size is counted.
          await lockDefinitionsShared(sql, workspaceId);
          await recordSizes(sql, workspaceId, now);
        },
        WRITE_RETRY,
      ),
    );
  }

  listWorkspaces(): Promise<Workspace[]> {
    return guarded(() => reads.listWorkspaces(this.sql));
  }

  // --- Journeys (journeys.ts for the concurrency) ---

  createJourney(
    ws: string,
    j: { id: string; name: string; draft: unknown },
    now: number,
  ): Promise<JourneyView> {
    return guarded(() =>
      this.journeyNameChecked(j.name, () =>
        transaction(this.pool, (sql) => journeys.createJourney(sql, ws, j, now)),
      ),
    );
  }

  getJourney(ws: string, id: string): Promise<JourneyView | null> {
    return guarded(() => journeyReads.getJourney(this.sql, ws, id));
  }

  listJourneys(ws: string): Promise<JourneyView[]> {
    return guarded(() => journeyReads.listJourneys(this.sql, ws));
  }

  updateJourneyDraft(
    ws: string,
    id: string,
    j: { name: string; draft: unknown },
    now: number,
  ): Promise<void> {
    return guarded(() =>
      this.journeyNameChecked(j.name, () =>
        transaction(this.pool, (sql) => journeys.updateJourneyDraft(sql, ws, id, j, now)),
      ),
    );
  }

  /** Waits for the workspace's writers in flight; its writers wait for this change (see journeys.ts). */
  publishJourney(
    ws: string,
    id: string,
    input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
    now: number,
  ): Promise<{ version: number; migrated: number }> {
    return guarded(() =>
      transaction(this.pool, (sql) => journeys.publishJourney(sql, ws, id, input, now), WRITE_RETRY),
    );
  }

  /** One statement; concurrent workers (any process) skip each other's locked runs. */
  claimDueSchedules(worker: string, now: number, leaseMs: number): Promise<ScheduledRun[]> {
    return guarded(() => runs.claimDueSchedules(this.sql, `${worker}/${newId('c', now)}`, now, leaseMs));
  }

  /** Locks the customers' profiles as ingestion does, so routing and this never both enter one. */
  enterJourney(
    ws: string,
    journeyId: string,
    entry: EntrySpec,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<number | null> {
    if (customers.length === 0) return Promise.resolve(0);
    return guarded(() =>
      transaction(
        this.pool,
        (sql) => runs.enterJourney(sql, ws, journeyId, entry, customers, now),
        WRITE_RETRY,
      ),
    );
  }

  enterableCustomers(
    ws: string,
    journeyId: string,
    limit: EntryLimit,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<EnterCustomer[]> {
    return guarded(() => runs.enterableCustomers(this.sql, ws, journeyId, limit, customers, now));
  }

  /** Locks the customers' profiles as enterJourney does. */
  enterAndRun(
    run: ScheduledRun,
    entry: EntrySpec,
    results: readonly EntryResult[],
    now: number,
    leaseMs: number,
  ): Promise<number | null> {
    return guarded(() =>
      transaction(this.pool, (sql) => runs.enterAndRun(sql, run, entry, results, now, leaseMs), WRITE_RETRY),
    );
  }

  finishScheduledRun(
    ws: string,
    journeyId: string,
    claim: string,
    nextRunAt: number | null,
  ): Promise<boolean> {
    return guarded(() => runs.finishScheduledRun(this.sql, ws, journeyId, claim, nextRunAt));
  }

  setJourneyStatus(
    ws: string,
    id: string,
    status: 'published' | 'paused' | 'archived',
    now: number,
  ): Promise<void> {
    return guarded(() =>
      transaction(this.pool, (sql) => journeys.setJourneyStatus(sql, ws, id, status, now), WRITE_RETRY),
    );
  }

  getJourneyVersion(ws: string, id: string, version: number): Promise<unknown> {
    return guarded(() => journeyReads.getJourneyVersion(this.sql, ws, id, version));
  }

  /** One statement; concurrent workers (any process) skip each other's locked rows. */
  claimDueEntries(worker: string, limit: number, now: number, leaseMs: number): Promise<ClaimedEntry[]> {
    return guarded(() => runs.claimDueEntries(this.sql, `${worker}/${newId('c', now)}`, limit, now, leaseMs));
  }

  completeEntries(results: readonly EntryResult[], now: number): Promise<number> {
    if (results.length === 0) return Promise.resolve(0);
    return guarded(() =>
      transaction(this.pool, (sql) => runs.completeEntries(sql, results, now), WRITE_RETRY),
    );
  }

  completeAndClaim(
    results: readonly EntryResult[],
    now: number,
    next: { worker: string; limit: number; now: number; leaseMs: number },
  ): Promise<{ applied: number; claimed: ClaimedEntry[] }> {
    const claim = `${next.worker}/${newId('c', next.now)}`;
    return guarded(() =>
      transaction(
        this.pool,
        async (sql) => ({
          applied: results.length === 0 ? 0 : await runs.completeEntries(sql, results, now),
          claimed: await runs.claimDueEntries(sql, claim, next.limit, next.now, next.leaseMs),
        }),
        WRITE_RETRY,
      ),
    );
  }

  journeyOutcomes(ws: string, journeyId: string): Promise<ArmOutcome[]> {
    return guarded(() => journeyReads.journeyOutcomes(this.sql, ws, journeyId));
  }

  getJourneyStats(ws: string, journeyId: string, since: number): Promise<JourneyStats> {
    return guarded(() => journeyReads.getJourneyStats(this.sql, ws, journeyId, since));
  }

  listProfileEntries(ws: string, profileId: string): Promise<EntryView[]> {
    return guarded(() => journeyReads.listProfileEntries(this.sql, ws, profileId));
  }

  listJourneyMessages(
    ws: string,
    q: { journeyId?: string; profileId?: string; limit: number; after?: string },
  ): Promise<JourneyMessage[]> {
    return guarded(() => journeyReads.listJourneyMessages(this.sql, ws, q));
  }

  listStaticListMembers(
    ws: string,
    list: string,
    page: { limit: number; after?: string },
  ): Promise<string[]> {
    return guarded(() => journeyReads.listStaticListMembers(this.sql, ws, list, page));
  }

  /** One statement; concurrent dispatchers (any process) skip each other's locked rows. */
  claimDueMessages(worker: string, limit: number, now: number, leaseMs: number): Promise<ClaimedMessage[]> {
    return guarded(() =>
      delivery.claimDueMessages(this.sql, `${worker}/${newId('c', now)}`, limit, now, leaseMs),
    );
  }

  completeMessages(results: readonly MessageResult[], now: number): Promise<number> {
    return guarded(() => delivery.completeMessages(this.sql, results, now));
  }

  getMessage(ws: string, key: string): Promise<JourneyMessage | null> {
    return guarded(() => delivery.getMessage(this.sql, ws, key));
  }

  listProfileMessageStates(
    ws: string,
    profileId: string,
    q: { before: number | null; limit: number },
  ): Promise<MessageState[]> {
    return guarded(() => delivery.listProfileMessageStates(this.sql, ws, profileId, q));
  }

  listMessageEvents(ws: string, key: string): Promise<MessageEvent[]> {
    return guarded(() => delivery.listMessageEvents(this.sql, ws, key));
  }

  getChannel(ws: string, channel: string): Promise<ChannelRecord | null> {
    return guarded(() => delivery.getChannel(this.sql, ws, channel));
  }

  listChannels(ws: string): Promise<ChannelRecord[]> {
    return guarded(() => delivery.listChannels(this.sql, ws));
  }

  putChannel(ws: string, record: ChannelRecord): Promise<void> {
    return guarded(() => delivery.putChannel(this.sql, ws, record));
  }

  deleteChannel(ws: string, channel: string): Promise<boolean> {
    return guarded(() => delivery.deleteChannel(this.sql, ws, channel));
  }

  putTemplate(
    ws: string,
    t: { name: string; channel: string; definition: unknown },
    mode: 'create' | 'replace',
    now: number,
  ): Promise<TemplateRecord> {
    return guarded(() => delivery.putTemplate(this.sql, ws, t, mode, now));
  }

  getTemplate(ws: string, name: string): Promise<TemplateRecord | null> {
    return guarded(() => delivery.getTemplate(this.sql, ws, name));
  }

  listTemplates(ws: string): Promise<TemplateRecord[]> {
    return guarded(() => delivery.listTemplates(this.sql, ws));
  }

  deleteTemplate(ws: string, name: string): Promise<boolean> {
    return guarded(() => delivery.deleteTemplate(this.sql, ws, name));
  }

  /** The subscriptions and their consent-ledger entries (facts and re-evaluation included) in one transaction. */
  setSubscription(ws: string, s: Subscription | readonly Subscription[]): Promise<void> {
    const list = 'channel' in s ? [s] : s;
    return guarded(() =>
      transaction(
        this.pool,
        async (sql) => {
          await delivery.setSubscription(sql, ws, list);
          await this.consents(sql, ws, await rights.subscriptionLedger(sql, ws, list));
        },
        WRITE_RETRY,
      ),
    );
  }

  getDeliverySettings(ws: string): Promise<unknown> {
    return guarded(() => delivery.getDeliverySettings(this.sql, ws));
  }

  putDeliverySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return guarded(() => delivery.putDeliverySettings(this.sql, ws, settings, now));
  }

  recentMessages(
    ws: string,
    profileIds: readonly string[],
    since: number,
  ): Promise<Map<string, { key: string; channel: string; topic: string | null; at: number }[]>> {
    return guarded(() => delivery.recentMessages(this.sql, ws, profileIds, since));
  }

  listSubscriptions(ws: string, channel: string, addresses: readonly string[]): Promise<Subscription[]> {
    return guarded(() => delivery.listSubscriptions(this.sql, ws, channel, addresses));
  }

  putSuppression(ws: string, s: Suppression): Promise<void> {
    return guarded(() => contacts.putSuppression(this.sql, ws, s));
  }

  deleteSuppression(ws: string, channel: string, address: string): Promise<boolean> {
    return guarded(() => contacts.deleteSuppression(this.sql, ws, channel, address));
  }

  findSuppressions(ws: string, channel: string, addresses: readonly string[]): Promise<Suppression[]> {
    return guarded(() => contacts.findSuppressions(this.sql, ws, channel, addresses));
  }

  listSuppressions(
    ws: string,
    q: { channel: string | null; after: { channel: string; address: string } | null; limit: number },
  ): Promise<Suppression[]> {
    return guarded(() => contacts.listSuppressions(this.sql, ws, q));
  }

  putDevices(ws: string, devices: readonly Device[]): Promise<void> {
    return guarded(() => contacts.putDevices(this.sql, ws, devices));
  }

  listDevices(ws: string, profileIds: readonly string[]): Promise<Map<string, Device[]>> {
    return guarded(() => contacts.listDevices(this.sql, ws, profileIds));
  }

  deleteDevice(ws: string, token: string): Promise<boolean> {
    return guarded(() => contacts.deleteDevice(this.sql, ws, token));
  }

  recordAfterSend(states: readonly AfterSendState[], now: number): Promise<number> {
    if (states.length === 0) return Promise.resolve(0);
    return guarded(() =>
      transaction(this.pool, (sql) => contacts.recordAfterSend(sql, states, now), WRITE_RETRY),
    );
  }

  async getTriggerEvents(ws: string, messageIds: readonly string[]): Promise<Map<string, TriggerEvent>> {
    if (messageIds.length === 0) return new Map();
    const rows = await guarded(() =>
      this.sql.query<{ message_id: string; name: string | null; payload: object; timestamp: number }>(
        'SELECT message_id, name, payload, timestamp FROM events WHERE workspace_id = $1 AND message_id = ANY($2::text[])',
        [ws, [...new Set(messageIds)]],
      ),
    );
    return new Map(rows.map((r) => [r.message_id, triggerEvent(r)]));
  }

  putCouponPool(ws: string, p: { name: string; description: string | null }, now: number): Promise<boolean> {
    return guarded(() => coupons.putCouponPool(this.sql, ws, p, now));
  }

  getCouponPool(ws: string, name: string): Promise<CouponPool | null> {
    return guarded(() => coupons.getCouponPool(this.sql, ws, name));
  }

  listCouponPools(ws: string): Promise<CouponPool[]> {
    return guarded(() => coupons.listCouponPools(this.sql, ws));
  }

  deleteCouponPool(ws: string, name: string): Promise<boolean> {
    return guarded(() => transaction(this.pool, (sql) => coupons.deleteCouponPool(sql, ws, name)));
  }

  addCouponCodes(ws: string, pool: string, codes: readonly string[], now: number): Promise<number> {
    return guarded(() => coupons.addCouponCodes(this.sql, ws, pool, codes, now));
  }

  getCouponCode(ws: string, pool: string, code: string): Promise<CouponCode | null> {
    return guarded(() => coupons.getCouponCode(this.sql, ws, pool, code));
  }

  assignCoupons(
    ws: string,
    requests: readonly CouponRequest[],
    now: number,
  ): Promise<Map<string, string | null>> {
    if (requests.length === 0) return Promise.resolve(new Map<string, string | null>());
    return guarded(() =>
      transaction(this.pool, (sql) => coupons.assignCoupons(sql, ws, requests, now), WRITE_RETRY),
    );
  }

  getSubscriptionTopics(ws: string): Promise<unknown> {
    return guarded(() => documents.getDocument(this.sql, documents.TOPICS, ws));
  }

  putSubscriptionTopics(ws: string, topics: unknown, now: number): Promise<void> {
    return guarded(() => documents.putDocument(this.sql, documents.TOPICS, ws, topics, now));
  }

  putItems(ws: string, items: readonly CatalogItem[]): Promise<void> {
    return guarded(() => catalog.putItems(this.sql, ws, items));
  }

  getItems(ws: string, ids: readonly string[]): Promise<Map<string, CatalogItem>> {
    return guarded(() => catalog.getItems(this.sql, ws, ids));
  }

  listItems(ws: string, page: { after: string | null; limit: number }): Promise<CatalogItem[]> {
    return guarded(() => catalog.listItems(this.sql, ws, page));
  }

  deleteItem(ws: string, id: string): Promise<boolean> {
    return guarded(() => transaction(this.pool, (sql) => catalog.deleteItem(sql, ws, id), WRITE_RETRY));
  }

  countItems(ws: string): Promise<number> {
    return guarded(() => catalog.countItems(this.sql, ws));
  }

  replaceSimilar(ws: string, similar: ReadonlyMap<string, readonly SimilarItem[]>): Promise<void> {
    return guarded(() =>
      transaction(this.pool, (sql) => catalog.replaceSimilar(sql, ws, similar), WRITE_RETRY),
    );
  }

  similarTo(ws: string, items: readonly string[], limit: number): Promise<Map<string, SimilarItem[]>> {
    return guarded(() => catalog.similarTo(this.sql, ws, items, limit));
  }

  interactionsOf(
    ws: string,
    profileIds: readonly string[],
    q: { names: readonly string[]; perProfile: number },
  ): Promise<Map<string, Interaction[]>> {
    return guarded(() => catalog.interactionsOf(this.sql, ws, profileIds, q));
  }

  scanInteractions(
    ws: string,
    q: { after: string | null; limit: number; names: readonly string[]; perProfile: number },
  ): Promise<{ interactions: Map<string, Interaction[]>; profiles: number; next: string | null }> {
    return guarded(() => catalog.scanInteractions(this.sql, ws, q));
  }

  putInAppMessage(ws: string, m: MessageRecord): Promise<void> {
    return guarded(() => inapp.putMessage(this.sql, ws, m));
  }

  getInAppMessage(ws: string, id: string): Promise<MessageRecord | null> {
    return guarded(() => inapp.getMessage(this.sql, ws, id));
  }

  listInAppMessages(ws: string, q: { status?: CampaignStatus }): Promise<MessageRecord[]> {
    return guarded(() => inapp.listMessages(this.sql, ws, q.status ?? null));
  }

  putContentCard(ws: string, c: CardRecord): Promise<void> {
    return guarded(() => inapp.putCard(this.sql, ws, c));
  }

  getContentCard(ws: string, id: string): Promise<CardRecord | null> {
    return guarded(() => inapp.getCard(this.sql, ws, id));
  }

  listContentCards(
    ws: string,
    q: { status?: CampaignStatus; profileId?: string | null },
  ): Promise<CardRecord[]> {
    return guarded(() => inapp.listCards(this.sql, ws, q));
  }

  listActiveInApp(ws: string): Promise<{ messages: MessageRecord[]; cards: CardRecord[] }> {
    return guarded(() => inapp.listActive(this.sql, ws));
  }

  inAppStateOf(ws: string, profileId: string, q: { journeys: boolean }): Promise<InAppState> {
    return guarded(() => inapp.stateOf(this.sql, ws, profileId, q.journeys));
  }

  inAppOutcomes(
    ws: string,
    messageId: string,
    goal: { readonly event: string; readonly withinMs: number },
  ): Promise<ExposureOutcome[]> {
    return guarded(() => inapp.outcomes(this.sql, ws, messageId, goal));
  }

  recordMessageInteraction(ws: string, i: InteractionInput): Promise<void> {
    return guarded(() => inapp.recordInteraction(this.sql, ws, i));
  }

  setCardState(ws: string, s: CardStateChange): Promise<void> {
    return guarded(() => inapp.setCardState(this.sql, ws, s));
  }

  getSdkSettings(ws: string): Promise<unknown> {
    return guarded(() => documents.getDocument(this.sql, documents.SDK, ws));
  }

  putSdkSettings(ws: string, settings: unknown, now: number): Promise<void> {
    return guarded(() => documents.putDocument(this.sql, documents.SDK, ws, settings, now));
  }

  putSurvey(ws: string, s: SurveyPut, mode: 'create' | 'replace', now: number): Promise<SurveyRecord> {
    return guarded(() => transaction(this.pool, (sql) => surveys.putSurvey(sql, ws, s, mode, now)));
  }

  getSurvey(ws: string, id: string): Promise<SurveyRecord | null> {
    return guarded(() => surveys.getSurvey(this.sql, ws, id));
  }

  listSurveys(ws: string): Promise<SurveyRecord[]> {
    return guarded(() => surveys.listSurveys(this.sql, ws));
  }

  recordSurveyResponses(
    ws: string,
    responses: readonly SurveyResponse[],
    feedback: readonly Feedback[],
  ): Promise<void> {
    return guarded(() =>
      transaction(
        this.pool,
        (sql) => surveys.recordSurveyResponses(sql, ws, responses, feedback),
        WRITE_RETRY,
      ),
    );
  }

  listSurveyResponses(
    ws: string,
    surveyId: string,
    page: { limit: number; after?: { profileId: string; questionId: string } },
  ): Promise<SurveyResponse[]> {
    return guarded(() => surveys.listSurveyResponses(this.sql, ws, surveyId, page));
  }

  addFeedback(ws: string, f: Feedback): Promise<void> {
    return guarded(() => surveys.addFeedback(this.sql, ws, f));
  }

  getFeedback(ws: string, id: string): Promise<Feedback | null> {
    return guarded(() => surveys.getFeedback(this.sql, ws, id));
  }

  tagFeedback(ws: string, id: string, tags: FeedbackTags, now: number): Promise<Feedback | null> {
    return guarded(() => surveys.tagFeedback(this.sql, ws, id, tags, now));
  }

  listFeedback(ws: string, q: FeedbackQuery): Promise<Feedback[]> {
    return guarded(() => surveys.listFeedback(this.sql, ws, q));
  }

  createStaffUser(u: StaffUser): Promise<void> {
    return guarded(() => access.createStaffUser(this.sql, u));
  }

  getStaffUser(ws: string, id: string): Promise<StaffUser | null> {
    return guarded(() => access.getStaffUser(this.sql, ws, id));
  }

  findStaffUsersByEmail(email: string): Promise<StaffUser[]> {
    return guarded(() => access.findStaffUsersByEmail(this.sql, email));
  }

  listStaffUsers(ws: string): Promise<StaffUser[]> {
    return guarded(() => access.listStaffUsers(this.sql, ws));
  }

  updateStaffUser(ws: string, id: string, patch: StaffUserPatch, now: number): Promise<StaffUser | null> {
    return guarded(() =>
      transaction(this.pool, (sql) => access.updateStaffUser(sql, ws, id, patch, now), WRITE_RETRY),
    );
  }

  createSession(s: SessionRecord): Promise<void> {
    return guarded(() => access.createSession(this.sql, s));
  }

  findSession(tokenHash: string): Promise<SessionRecord | null> {
    return guarded(() => access.findSession(this.sql, tokenHash));
  }

  touchSession(tokenHash: string, now: number): Promise<void> {
    return guarded(() => access.touchSession(this.sql, tokenHash, now));
  }

  deleteSession(tokenHash: string): Promise<void> {
    return guarded(() => access.deleteSession(this.sql, tokenHash));
  }

  createApiKey(k: ApiKeyRecord, keyHash: string): Promise<void> {
    return guarded(() => access.createApiKey(this.sql, k, keyHash));
  }

  listApiKeys(ws: string): Promise<ApiKeyRecord[]> {
    return guarded(() => access.listApiKeys(this.sql, ws));
  }

  revokeApiKey(ws: string, id: string, now: number): Promise<ApiKeyRecord | null> {
    return guarded(() => access.revokeApiKey(this.sql, ws, id, now));
  }

  touchApiKey(ws: string, id: string, now: number): Promise<void> {
    return guarded(() => access.touchApiKey(this.sql, ws, id, now));
  }

  appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    return guarded(() => access.appendAudit(this.sql, entries));
  }

  purgeAudit(ws: string, before: number, limit: number): Promise<number> {
    return guarded(() =>
      transaction(this.pool, (sql) => access.purgeAudit(sql, ws, before, limit), WRITE_RETRY),
    );
  }

  listAudit(ws: string, q: AuditQuery): Promise<AuditRecord[]> {
    return guarded(() => access.listAudit(this.sql, ws, q));
  }

  // --- Reports (store/report-store.ts): reads on the pool ---

  reportEvents(
    ws: string,
    q: ReportEventQuery,
    page: { after: ReportCursor | null; limit: number },
  ): Promise<{ rows: ReportEventRow[]; next: ReportCursor | null }> {
    return guarded(() => reports.reportEvents(this.sql, ws, q, page));
  }

  reportSequences(
    ws: string,
    q: SequenceQuery,
    page: { after: string | null; limit: number },
  ): Promise<{ rows: CustomerSequence[]; next: string | null }> {
    return guarded(() => reports.reportSequences(this.sql, ws, q, page));
  }

  profileGroups(ws: string, ids: readonly string[], by: 'stage' | 'segment'): Promise<Map<string, string[]>> {
    return guarded(() => reports.profileGroups(this.sql, ws, ids, by));
  }

  retentionCounts(ws: string, q: RetentionQuery): Promise<RetentionCounts> {
    return guarded(() => reports.retentionCounts(this.sql, ws, q));
  }

  stageTransitions(ws: string, before: number): Promise<Transition[]> {
    return guarded(() => reports.stageTransitions(this.sql, ws, before));
  }

  messagePerformance(ws: string, from: number, to: number): Promise<PerformanceCounts[]> {
    return guarded(() => reports.messagePerformance(this.sql, ws, from, to));
  }

  messageTouches(ws: string, from: number, to: number): Promise<(Touch & { readonly profileId: string })[]> {
    return guarded(() => reports.messageTouches(this.sql, ws, from, to));
  }

  releaseWaiting(ws: string, journeyId: string, step: string, now: number): Promise<number> {
    return guarded(() => journeys.releaseWaiting(this.sql, ws, journeyId, step, now));
  }

  /** The name is checked before writing; two writers racing for it meet at the unique constraint. */
  private async journeyNameChecked<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (violatedConstraint(err) === 'journeys_name_unique') {
        throw new ConflictError(`a journey named "${name}" already exists`, { cause: err });
      }
      throw err;
    }
  }

  /** Waits for checked-out clients to be returned, then closes every connection. Idempotent. */
  // --- Data rights (docs/privacy.md) ---

  recordConsents(ws: string, entries: readonly ConsentEntry[]): Promise<void> {
    if (!touchesConsentFacts(entries)) return guarded(() => rights.recordConsents(this.sql, ws, entries));
    return guarded(() => transaction(this.pool, (sql) => this.consents(sql, ws, entries), WRITE_RETRY));
  }

  /**
   * Appends ledger entries inside the caller's transaction. A whole-purpose entry changes the
   * profile's facts (its consent state), so its profiles are re-evaluated (and locked) with it.
   */
  private async consents(sql: Sql, ws: string, entries: readonly ConsentEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (!touchesConsentFacts(entries)) return rights.recordConsents(sql, ws, entries);
    await runReevaluate(
      new PostgresReevaluateTx(sql, ws, this.definitions, this.journeyIndexes),
      consentUnit(entries, (now) => newId('je', now)),
    );
  }

  listConsents(ws: string, profileId: string): Promise<ConsentEntry[]> {
    return guarded(() => rights.listConsents(this.sql, ws, profileId));
  }

  consentsOf(ws: string, profileIds: readonly string[]): Promise<Map<string, ConsentEntry[]>> {
    return guarded(() => rights.consentsOf(this.sql, ws, profileIds));
  }

  getPrivacySettings(ws: string): Promise<unknown> {
    return guarded(() => documents.getDocument(this.sql, documents.PRIVACY, ws));
  }

  putPrivacySettings(ws: string, settings: unknown, now: number): Promise<void> {
    // The profiling rule is part of the definitions (profiling segments): a definition change.
    return guarded(() =>
      transaction(
        this.pool,
        async (sql) => {
          await lockDefinitionsExclusive(sql, ws);
          await documents.putDocument(sql, documents.PRIVACY, ws, settings, now);
          await sql.query(
            'UPDATE workspaces SET definitions_version = definitions_version + 1 WHERE id = $1',
            [ws],
          );
        },
        WRITE_RETRY,
      ),
    );
  }

  eraseProfile(
    ws: string,
    profileId: string,
    opts: { id: string; requestedBy: string; now: number },
  ): Promise<ErasureOutcome> {
    return guarded(() =>
      transaction(this.pool, (sql) => rights.eraseProfile(sql, ws, profileId, opts), WRITE_RETRY),
    );
  }

  isErased(ws: string, profileId: string): Promise<boolean> {
    return guarded(() => rights.isErased(this.sql, ws, profileId));
  }

  listErasures(ws: string, limit: number): Promise<ErasureRecord[]> {
    return guarded(() => rights.listErasures(this.sql, ws, limit));
  }

  liftTombstones(ws: string, identities: readonly IdentityKey[]): Promise<IdentityKey[]> {
    return guarded(() => rights.liftTombstones(this.sql, ws, identities));
  }

  tombstoneHits(ws: string): Promise<number> {
    return guarded(() => rights.tombstoneHits(this.sql, ws));
  }

  exportProfile(ws: string, profileId: string): AsyncIterable<ExportPage> {
    return rights.exportProfile(this.sql, ws, profileId);
  }

  deleteEventsBefore(ws: string, before: number, limit: number): Promise<number> {
    // One transaction: the events and the activity rollup's days they leave empty go together.
    return guarded(() =>
      transaction(this.pool, (sql) => rights.deleteEventsBefore(sql, ws, before, limit), WRITE_RETRY),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
