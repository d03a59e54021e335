import type { FoundChange } from '../domain/engagement/evaluate.js';
import type { FactsProjection } from '../domain/engagement/needs.js';
import type { NormalizedEvent, StoredEvent, JsonObject, EventType } from '../domain/event.js';
import type { LtvModel } from '../domain/ltv/model.js';
import type { IdentityKey } from '../domain/identity.js';
import type { RefusedMerge, ProfileState } from '../domain/resolution.js';
import type { DefinitionsRecord } from '../domain/engagement/definitions.js';
import type { StageModelSource } from '../domain/engagement/stages.js';
import type { RfmSettings } from '../domain/facts/computed.js';
import type { JourneyStore } from './journey-store.js';
import type { DeliveryStore } from './delivery-store.js';
import type { ContactStore } from './contact-store.js';
import type { CouponStore } from './coupon-store.js';
import type { PreferenceStore } from './preference-store.js';
import type { CatalogStore } from './catalog-store.js';
import type { InAppStore } from './inapp-store.js';
import type { SurveyStore } from './survey-store.js';
import type { RightsStore } from './rights-store.js';
import type { AccessStore } from './access-store.js';
import type { Scope } from '../domain/access.js';
import type { ReportStore } from './report-store.js';

/**
 * The store port. It speaks the domain; each adapter (sqlite/, postgres/) owns its connections,
 * transactions and SQL. `test/store/contract.ts` runs the same suite against every adapter.
 *
 * Partitioning: every table is keyed by workspace first and, for customer data, by profile, so the
 * schema can later be distributed by customer and one customer's data can be found for export/erasure.
 */
export interface Workspace {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export type KeyKind = 'write' | 'admin';

/** An API key as authentication sees it. */
export interface FoundKey {
  readonly workspaceId: string;
  readonly kind: KeyKind;
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
}

export interface ProfileView {
  readonly id: string;
  readonly userId: string | null;
  readonly identities: readonly IdentityKey[];
  readonly traits: JsonObject;
  readonly firstSeenAt: number | null;
  readonly lastSeenAt: number | null;
  readonly eventCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly groups: readonly string[];
  /** engagement stage (null until first evaluated) and since when */
  readonly stage: string | null;
  readonly stageSince: number | null;
  /** ids of the segments the profile is in */
  readonly segments: readonly string[];
}

export interface IngestResult {
  /** events stored by this call. */
  readonly stored: number;
  /** events skipped because their messageId was already stored (or repeated within the call). */
  readonly duplicates: number;
  /** events accepted and dropped because they named an erased customer (docs/privacy.md#tombstones) */
  readonly discarded: number;
  readonly profilesCreated: number;
  readonly profilesMerged: number;
  readonly refusedMerges: readonly RefusedMerge[];
  /** journey entries made or woken by the batch (the runner is nudged when it is above 0) */
  readonly journeyWork: number;
}

export interface EventCursor {
  readonly timestamp: number;
  readonly id: string;
}

export interface EventPage {
  readonly events: readonly StoredEvent[];
  /** pass as `before` to get the next (older) page; null when there is none. */
  readonly next: EventCursor | null;
}

export interface TraitFilter {
  readonly key: string;
  /** matches a trait equal to any of these JSON values. */
  readonly anyOf: readonly (string | number | boolean | null)[];
}

export interface ProfilePage {
  readonly profiles: readonly ProfileView[];
  readonly next: string | null;
}

export interface EventNameCount {
  readonly type: EventType;
  readonly name: string | null;
  readonly count: number;
  readonly lastSeenAt: number;
}

export interface GroupView {
  readonly id: string;
  readonly traits: JsonObject;
  readonly memberCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type DefinitionChange =
  | {
      kind: 'put_segment';
      segment: {
        id: string;
        name: string;
        description: string;
        rule: unknown;
        status: 'building' | 'ready';
        /** absent: false */
        requiresProfiling?: boolean;
      };
    }
  | { kind: 'delete_segment'; id: string }
  | { kind: 'put_computed_trait'; name: string; spec: unknown }
  | { kind: 'delete_computed_trait'; name: string }
  /** null restores the default ladder */
  | { kind: 'set_stage_model'; model: StageModelSource | null }
  /** null restores the default bands */
  | { kind: 'set_rfm'; rfm: RfmSettings | null }
  /** null forgets the model (the predicted traits then have no value) */
  | { kind: 'set_ltv_model'; model: LtvModel | null };

export interface SegmentView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly rule: unknown;
  readonly version: number;
  readonly status: 'building' | 'ready';
  /** customers who may not be profiled are never members (docs/privacy.md#profiling) */
  readonly requiresProfiling: boolean;
  readonly build: { readonly done: number; readonly total: number };
  readonly builtAt: number | null;
  readonly size: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ScanPage {
  after: string | null;
  limit: number;
  /**
   * Only a uniform random subset of about this fraction of the profiles (0–1; chosen by the random
   * part of their ids, so the same profiles every time): a preview estimates from it.
   */
  sample?: number;
  /**
   * Read only these facts (and traits only when asked): a build scan evaluating a few rules needs a
   * few event series, not every profile's whole facts. The states then hold just that, for evaluating
   * those rules; a store may return more.
   */
  facts?: FactsProjection;
}

export interface ReevaluatePage {
  after: string | null;
  limit: number;
  now: number;
  rebuildFacts: boolean;
  /** just these profiles (ignoring after/limit) */
  ids?: readonly string[];
  /**
   * A build's confirmation: evaluate only these segments; the stage, the other memberships and the
   * facts stay as stored (kept by real-time evaluation and the sweep). Ignored with `rebuildFacts`.
   */
  segments?: readonly string[];
  /**
   * The page is part of a pass that is redone if it is lost (a build or a sweep: evaluation is
   * idempotent), so its commit need not wait for the disk: a later durable commit (the next ingest, the
   * segment's `ready` mark) makes it durable, and a crash before that loses it whole, with the mark.
   */
  relaxedDurability?: boolean;
}

/** A profile a build's scan found would change: its id, the segments it enters and those it leaves. */
export type ScannedChange = FoundChange;

/** What a scan thread found in one range of profiles. */
export interface ScannedChunk {
  /** the profiles that would change */
  ids: string[];
  scanned: number;
  /** a build's scan: what would change for each of `ids`, under definitions `version` */
  changes?: ScannedChange[];
  /** SQLite: the rowids of the profiles of `changes`, in their order */
  rowids?: number[];
  version?: number;
}

export interface ScannedMemberships {
  /** the definitions version the scan evaluated */
  version: number;
  /** the time the scan evaluated at */
  now: number;
  changes: readonly ScannedChange[];
  /**
   * SQLite: each changed profile's rowid, in the order of `changes`, which lets the writer store them
   * past the membership triggers (store/sqlite/profile-watch.ts)
   */
  rowids?: readonly number[];
}

export interface ReevaluateResult {
  processed: number;
  next: string | null;
  changed: number;
}

export interface EngagementEventView {
  readonly id: number;
  readonly profileId: string;
  readonly at: number;
  readonly type: 'Stage Entered' | 'Segment Entered' | 'Segment Exited';
  readonly subject: string;
  readonly properties: Record<string, unknown>;
}

export interface StageTransition {
  readonly at: number;
  readonly from: string | null;
  readonly to: string;
  readonly reason: string;
}

export interface Store
  extends
    JourneyStore,
    DeliveryStore,
    ContactStore,
    CouponStore,
    PreferenceStore,
    CatalogStore,
    InAppStore,
    SurveyStore,
    RightsStore,
    AccessStore,
    ReportStore {
  /**
   * Applies pending migrations, each in its own transaction, recording them in a ledger. Safe to run
   * concurrently from several processes and to run again (returns the names it applied; none the
   * second time).
   */
  migrate(): Promise<{ applied: string[] }>;

  /** Creates a workspace with the given (already hashed) keys. ConflictError if the name is taken. */
  createWorkspace(input: { name: string; writeKeyHash: string; adminKeyHash: string }): Promise<Workspace>;
  findWorkspaceByName(name: string): Promise<Workspace | null>;
  countWorkspaces(): Promise<number>;
  /** The workspace, kind, id, name and scope of an API key, by its hash; null when unknown or revoked. */
  findKey(keyHash: string): Promise<FoundKey | null>;

  /**
   * Stores a batch atomically: either every new event of the batch, its identity resolution, profile
   * changes and counters are committed before the promise resolves, or nothing is. Events whose
   * messageId is already stored in the workspace are skipped (idempotent retries). Safe to call
   * concurrently, from one process or (PostgreSQL) several: racing merges converge to one profile.
   */
  ingest(workspaceId: string, events: readonly NormalizedEvent[]): Promise<IngestResult>;

  /** A profile by id; the id of a profile merged away resolves to its survivor. */
  getProfile(workspaceId: string, profileId: string): Promise<ProfileView | null>;
  lookupProfile(workspaceId: string, key: IdentityKey): Promise<ProfileView | null>;
  /** A profile's events newest first (by event timestamp, then storage order), `limit` ≤ 1000. */
  listProfileEvents(
    workspaceId: string,
    profileId: string,
    page: { limit: number; before?: EventCursor },
  ): Promise<EventPage>;
  /** Profiles matching every filter, in id order, `limit` ≤ 1000, `after` = previous page's `next`. */
  searchProfiles(
    workspaceId: string,
    query: { filters: readonly TraitFilter[]; limit: number; after?: string },
  ): Promise<ProfilePage>;
  /** Every top-level trait key a profile of the workspace has been given, sorted. */
  listTraitKeys(workspaceId: string): Promise<string[]>;
  /** Every (type, name) seen in the workspace with its count, most frequent first. */
  listEventNames(workspaceId: string): Promise<EventNameCount[]>;
  getGroup(workspaceId: string, groupId: string): Promise<GroupView | null>;

  // --- Engagement: definitions, stages, segments (docs/segments.md) ---

  /** The workspace's definitions as stored, with defaults filled in; `version` grows with every change. */
  getDefinitions(workspaceId: string): Promise<DefinitionsRecord>;
  /**
   * Applies one definition change atomically and bumps the definitions version, so every writer
   * recompiles before its next transaction. ConflictError when a segment name is taken.
   */
  changeDefinitions(workspaceId: string, change: DefinitionChange, now: number): Promise<void>;
  listSegments(workspaceId: string): Promise<SegmentView[]>;
  getSegment(workspaceId: string, segmentId: string): Promise<SegmentView | null>;
  /** Member profile ids in id order, `limit` ≤ 1000. */
  listSegmentMembers(
    workspaceId: string,
    segmentId: string,
    page: { limit: number; after?: string },
  ): Promise<{ profileIds: string[]; next: string | null }>;
  segmentSizeHistory(
    workspaceId: string,
    segmentId: string,
    since: number,
  ): Promise<{ at: number; size: number }[]>;
  /**
   * Profiles per stage (canonical profiles only). Read from counts the database keeps in the same
   * transaction as every stage transition, merge and erasure (migration 0022), so it costs O(stages).
   */
  stageCounts(workspaceId: string): Promise<Record<string, number>>;
  /**
   * Recounts the kept stage counts from the profiles themselves, in one write transaction, and returns
   * them. Only needed after a fault (rows edited by hand); `kizuna reevaluate` runs it.
   */
  recountStages(workspaceId: string): Promise<Record<string, number>>;
  stageHistory(workspaceId: string, profileId: string): Promise<StageTransition[]>;
  /**
   * The engagement event stream (`Stage Entered`, `Segment Entered`, `Segment Exited`) in id order
   * after `after`, `limit` ≤ 1000, optionally for one profile. On PostgreSQL ids are assigned at insert,
   * not at commit, so a reader following the stream closely can see a higher id before a lower one
   * commits; consumers that must not miss one should re-read a short window behind their cursor.
   */
  listEngagementEvents(
    workspaceId: string,
    page: { after: number; limit: number; profileId?: string },
  ): Promise<EngagementEventView[]>;
  /** The state evaluation works on (traits, facts, engagement) of a canonical profile. */
  getProfileState(workspaceId: string, profileId: string): Promise<ProfileState | null>;
  /** Several at once, keyed by the id asked for (one query on PostgreSQL); unknown ids are absent. */
  getProfileStates(workspaceId: string, profileIds: readonly string[]): Promise<Map<string, ProfileState>>;
  /**
   * Re-evaluates one page of canonical profiles (id order, after `after`) against the current
   * definitions and stores the result, emitting stage and segment events as ingestion does. With
   * `rebuildFacts` their facts are first recomputed from their stored events (needed when a definition
   * adds a filtered event or an aggregate). Each page is one transaction, so readers never see a
   * profile half-updated; concurrent ingestion of the same profiles is serialised with it.
   */
  reevaluateProfiles(workspaceId: string, page: ReevaluatePage): Promise<ReevaluateResult>;
  /**
   * Reads one page of canonical profiles' evaluation state (id order) without locking or writing: a
   * pass evaluates them outside the writer and sends only the profiles that would change to
   * `reevaluateProfiles({ ids })`, which evaluates them again under its lock.
   */
  scanProfileStates(
    workspaceId: string,
    page: ScanPage,
  ): Promise<{ profiles: ProfileState[]; next: string | null }>;
  countProfiles(workspaceId: string): Promise<number>;
  /**
   * Optional (SQLite): a pass's scan on several threads. Evaluates every canonical profile against the
   * definitions as stored when it starts (just the segments `only`, with the stage and other
   * memberships as stored, when given: a build) and hands `each` the ids that would change, a range of
   * profiles at a time, one call at a time. False when it declines (fewer than its threshold of
   * `total` profiles): the caller scans with scanProfileStates.
   */
  scanForChanges?(
    workspaceId: string,
    opts: { only: readonly string[] | null; now: number; total: number },
    each: (chunk: ScannedChunk) => Promise<void>,
  ): Promise<boolean>;
  /**
   * Optional (SQLite): starts noting which profiles of the workspace change from now on, so that a
   * build's scan that starts afterwards can have what it found stored without the long confirmation
   * (applyScannedMemberships). Returns the watch's id; end it with unwatchProfiles.
   */
  watchProfiles?(workspaceId: string): Promise<number>;
  unwatchProfiles?(watch: number): Promise<void>;
  /**
   * A build's scanned membership changes, stored (entered at the scan's time) for the profiles nothing
   * changed since the watch began; returns the ids that must still go through
   * `reevaluateProfiles({ ids, segments })`. Commits without waiting for the disk, like a pass's pages.
   */
  applyScannedMemberships?(
    workspaceId: string,
    watch: number,
    page: ScannedMemberships,
  ): Promise<{ applied: number; rest: string[] }>;
  /** Records where a segment's build stands; `ready` also stamps built_at and a size-history point. */
  setSegmentBuild(
    workspaceId: string,
    segmentId: string,
    build: { status: 'building' | 'ready'; done: number; total: number },
    now: number,
  ): Promise<void>;
  /** Appends a size-history point for every segment (called by the sweep). */
  recordSegmentSizes(workspaceId: string, now: number): Promise<void>;
  listWorkspaces(): Promise<Workspace[]>;

  close(): Promise<void>;
}
