import type { Action, StepRecord } from '../domain/journeys/machine.js';
import type { EntryLimit, EntryState, Position } from '../domain/journeys/types.js';
import type { MessageStatus, OutboxMessage } from './delivery-store.js';

/**
 * The journey half of the store port (docs/journeys.md). Definitions are versioned: a journey has one
 * editable draft and frozen published versions; each customer's entry remembers its version.
 * Routing (entering, waking, exiting, converting) happens inside ingestion's and re-evaluation's own
 * transactions; the runner claims due entries, advances them and completes them here.
 */
export type JourneyStatus = 'draft' | 'published' | 'paused' | 'archived';

export interface JourneyView {
  readonly id: string;
  readonly name: string;
  readonly status: JourneyStatus;
  readonly draft: unknown;
  /** the latest published version; 0 when never published */
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly publishedAt: number | null;
}

/** A journey's triggering event as its templates see it (`event.name`, `event.properties`). */
export interface TriggerEvent {
  readonly name: string | null;
  readonly properties: Record<string, unknown>;
  readonly timestamp: number;
}

export interface ClaimedEntry {
  readonly workspaceId: string;
  readonly id: string;
  readonly journeyId: string;
  readonly version: number;
  readonly profileId: string;
  readonly position: Position;
  readonly enteredAt: number;
  /** the messageId of the event that let the customer in, when an event did */
  readonly triggerMessageId: string | null;
  /** the claim this worker holds; completion is refused when the entry was claimed again since */
  readonly claim: string;
}

/** How customers enter a journey outside ingestion (a scheduled run): version, first step, why, limit. */
export interface EntrySpec {
  readonly version: number;
  readonly step: string;
  readonly trigger: string;
  readonly limit: EntryLimit;
}

/** One customer to enter, with the entry id (deterministic per run) and when its first step is due. */
export interface EnterCustomer {
  readonly id: string;
  readonly profileId: string;
  readonly dueAt: number;
}

export interface ScheduledRun {
  readonly workspaceId: string;
  readonly journeyId: string;
  readonly version: number;
  /** the scheduled instant of this run (part of every entry id it makes) */
  readonly runAt: number;
  readonly claim: string;
}

export interface EntryResult {
  readonly workspaceId: string;
  readonly entryId: string;
  readonly claim: string;
  readonly state: EntryState;
  readonly position: Position;
  readonly dueAt: number | null;
  readonly waitingFor: string | null;
  readonly exitReason: string | null;
  readonly profileId: string;
  readonly journeyId: string;
  readonly log: readonly StepRecord[];
  /** list changes (sends and webhooks are `messages`; profile updates were already ingested) */
  readonly actions: readonly Action[];
  /** the messages the steps produced, for the outbox */
  readonly messages: readonly OutboxMessage[];
  /** the split variant this run drew; an entry keeps the first it ever drew (results reports) */
  readonly arm?: string | null;
}

export interface EntryView {
  readonly id: string;
  readonly journeyId: string;
  readonly version: number;
  readonly profileId: string;
  readonly state: EntryState;
  readonly step: string;
  readonly phase: 'enter' | 'waiting';
  readonly dueAt: number | null;
  readonly waitingFor: string | null;
  readonly trigger: string;
  readonly enteredAt: number;
  readonly endedAt: number | null;
  readonly exitReason: string | null;
  readonly convertedAt: number | null;
  readonly history: readonly { at: number; step: string; type: string; outcome: string }[];
}

export interface JourneyMessage {
  readonly key: string;
  readonly journeyId: string;
  readonly entryId: string;
  readonly profileId: string;
  readonly step: string;
  readonly channel: string;
  readonly template: string | null;
  readonly payload: unknown;
  readonly createdAt: number;
  readonly status: MessageStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  /** why it was suppressed, skipped or failed, or the last retryable failure */
  readonly reason: string | null;
  readonly updatedAt: number;
}

/** One split variant's entries of a journey (arm null: entries that drew no variant), for results reports. */
export interface ArmOutcome {
  readonly arm: string | null;
  readonly entered: number;
  readonly converted: number;
  /** Σ and Σ² of each entry's conversion value (0 for an entry that did not convert) */
  readonly valueSum: number;
  readonly valueSumSquares: number;
}

export interface JourneyStats {
  /** active entries per current step */
  readonly steps: Record<string, number>;
  readonly entered: number;
  readonly active: number;
  readonly completed: number;
  readonly exited: number;
  readonly converted: number;
  /** per UTC day: entries entered, ended (completed + exited) and converted */
  readonly daily: readonly { day: string; entered: number; ended: number; converted: number }[];
}

export interface JourneyStore {
  /** The events with these messageIds, as templates see them (unknown ids are absent). */
  getTriggerEvents(ws: string, messageIds: readonly string[]): Promise<Map<string, TriggerEvent>>;
  /** ConflictError when the name is taken in the workspace. */
  createJourney(
    ws: string,
    j: { id: string; name: string; draft: unknown },
    now: number,
  ): Promise<JourneyView>;
  getJourney(ws: string, id: string): Promise<JourneyView | null>;
  listJourneys(ws: string): Promise<JourneyView[]>;
  /** Replaces the draft (the published versions never change). ConflictError when the name is taken. */
  updateJourneyDraft(ws: string, id: string, j: { name: string; draft: unknown }, now: number): Promise<void>;
  /**
   * Freezes `definition` (the validated draft) as the next version and makes it the one new entries
   * take. With `migrate`, active entries of older versions move to it when their current step id exists
   * in it (they keep their phase and due time); the rest finish on their own version. With
   * `ifVersion`, a compare-and-set: it publishes only while the current version is still that one,
   * else ConflictError and nothing changes, so of several processes deciding on the same read
   * (an A/B winner) exactly one publishes.
   */
  publishJourney(
    ws: string,
    id: string,
    input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
    now: number,
  ): Promise<{ version: number; migrated: number }>;
  /** 'paused' stops entries and steps; 'published' resumes; 'archived' ends every active entry. */
  setJourneyStatus(
    ws: string,
    id: string,
    status: 'published' | 'paused' | 'archived',
    now: number,
  ): Promise<void>;
  getJourneyVersion(ws: string, id: string, version: number): Promise<unknown>;

  /**
   * Claims up to `limit` due entries of published journeys (every workspace) for `worker`: each is
   * hidden from other claims for `leaseMs`, after which a crashed worker's claims come due again.
   * PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same entry.
   */
  claimDueEntries(worker: string, limit: number, now: number, leaseMs: number): Promise<ClaimedEntry[]>;
  /**
   * Stores the results in one transaction: positions, step history, messages into the outbox (unique
   * by idempotency key, so a step run again after a crash never queues a second send) and list changes. A result whose
   * claim is no longer held (re-claimed after the lease, woken by its event, exited) is dropped whole.
   * Returns how many were applied.
   */
  completeEntries(results: readonly EntryResult[], now: number): Promise<number>;
  /**
   * completeEntries, then claimDueEntries with `next`, in ONE transaction: a runner that keeps a batch
   * claimed ahead stores a batch and claims the one after next in a single commit (one fsync and one
   * round trip instead of two). Entries the completion made due at `next.now` can be in the claim.
   * Same guarantees as the two calls made one after the other.
   */
  completeAndClaim(
    results: readonly EntryResult[],
    now: number,
    next: { worker: string; limit: number; now: number; leaseMs: number },
  ): Promise<{ applied: number; claimed: ClaimedEntry[] }>;

  /**
   * Claims the scheduled runs that are due (published journeys whose next run time has come) for
   * `worker`, hiding each from other claims for `leaseMs`. A run whose worker died is claimed again when
   * the lease ends and enumerated again from the start (entry ids are deterministic per run, so nobody
   * enters twice).
   */
  claimDueSchedules(worker: string, now: number, leaseMs: number): Promise<ScheduledRun[]>;
  /**
   * Enters customers into a journey in one transaction, each with its own entry id and due time,
   * skipping those the entry limit keeps out (an active entry in the journey; `once`: any entry;
   * `once_per_days`: one entered within the days) and ids already stored. Returns how many entered, or
   * null when the journey is no longer published (paused or archived since the run was claimed): the
   * caller then leaves the run unfinished, so it runs on resume.
   */
  enterJourney(
    ws: string,
    journeyId: string,
    entry: EntrySpec,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<number | null>;
  /**
   * The customers enterJourney would enter now (read only, nothing locked): those not kept out by the
   * entry limit and whose entry id is not stored yet, in the given order. The runner asks before it
   * runs a scheduled run's page itself (enterAndRun), so it renders nobody the store would refuse, and
   * a run enumerated again after a crash skips those it entered.
   */
  enterableCustomers(
    ws: string,
    journeyId: string,
    limit: EntryLimit,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<EnterCustomer[]>;
  /**
   * A page of a scheduled run entered and run at once, in ONE transaction: each result is a customer's
   * first advance from the journey's start, made by the runner as if just entered (`entryId` the
   * run's deterministic entry id, `claim` ignored). A customer kept out by the entry limit, or whose
   * entry id is stored already, is skipped whole (no entry, history or message). Each one entered is
   * written once, already in its state after the advance (a send-and-exit: completed, with its
   * message), with an `entry` history row, the advance's history, its messages (unique by key) and
   * list changes — no claim and no second write of the entry. The run's claim is renewed for
   * `leaseMs`. Returns how many entered, or null, storing nothing, when the run's claim is no longer
   * `run.claim` or the journey is no longer published (the caller stops enumerating; the run stays
   * due, as with enterJourney).
   */
  enterAndRun(
    run: ScheduledRun,
    entry: EntrySpec,
    results: readonly EntryResult[],
    now: number,
    leaseMs: number,
  ): Promise<number | null>;
  /** Ends a claimed run: the next run time (null: no more runs). False when the claim was lost. */
  finishScheduledRun(
    ws: string,
    journeyId: string,
    claim: string,
    nextRunAt: number | null,
  ): Promise<boolean>;

  /**
   * Makes the journey's active entries that wait at `step` (a delay or a wait) due at `now`, so the
   * runner moves them on at its next look (an A/B broadcast's held audience once its winner is
   * chosen). Entries claimed by a runner right now are left alone. Returns how many were released.
   */
  releaseWaiting(ws: string, journeyId: string, step: string, now: number): Promise<number>;
  getJourneyStats(ws: string, journeyId: string, since: number): Promise<JourneyStats>;
  /** Every entry of the journey (all versions) grouped by the split variant it drew; one pass. */
  journeyOutcomes(ws: string, journeyId: string): Promise<ArmOutcome[]>;
  /** A customer's entries (every journey), newest first, with their step history. */
  listProfileEntries(ws: string, profileId: string): Promise<EntryView[]>;
  /**
   * Recorded sends in time order (then key), optionally for one journey or customer, `limit` ≤ 1000;
   * `after` is the previous page's last `<createdAt>:<key>` (journey-rows.ts messageCursorOf).
   */
  listJourneyMessages(
    ws: string,
    q: { journeyId?: string; profileId?: string; limit: number; after?: string },
  ): Promise<JourneyMessage[]>;
  listStaticListMembers(ws: string, list: string, page: { limit: number; after?: string }): Promise<string[]>;
}
