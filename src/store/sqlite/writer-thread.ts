import type { IdentityKey } from '../../domain/identity.js';
import type { EnterCustomer, EntrySpec } from '../journey-store.js';
import type {
  ChannelRecord,
  ClaimedMessage,
  MessageResult,
  Subscription,
  TemplateRecord,
} from '../delivery-store.js';
import type { AfterSendState, Device, Suppression } from '../contact-store.js';
import type { CouponRequest } from '../coupon-store.js';
import type { CatalogItem, SimilarItem } from '../catalog-store.js';
import type { CardRecord, CardStateChange, InteractionInput, MessageRecord } from '../inapp-store.js';
import type { Feedback, FeedbackTags, SurveyPut, SurveyRecord, SurveyResponse } from '../survey-store.js';
import type { ConsentEntry } from '../../domain/consent.js';
import type { ErasureOutcome } from '../rights-store.js';
import { Worker } from 'node:worker_threads';
import type { NormalizedEvent } from '../../domain/event.js';
import { ConflictError, NotFoundError, StoreUnavailableError } from '../../errors.js';
import type { IngestResult, Workspace } from '../store.js';
import type { SqliteWrites, WriterMethod } from './writer.js';
import type { AccessArgs, AccessResult, AccessWriteName } from './access.js';
import type { DefinitionChange, ReevaluatePage, ReevaluateResult, ScannedMemberships } from '../store.js';
import type { ClaimedEntry, EntryResult, JourneyView, ScheduledRun } from '../journey-store.js';

/** A call of one SqliteWrites method with its arguments, or the closing handshake. */
export type WriterRequest = { id: number } & (
  { op: 'call'; method: WriterMethod; args: unknown[] } | { op: 'close' }
);

export type WriterOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: { name: string; message: string; code: unknown; kizuna: boolean } };
export type WriterReply = { id: number } & WriterOutcome;

type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Calls whose caller goes on computing without yielding to the event loop: the journey runner stores
 * one page or batch and claims the next, then renders the next page; the dispatcher claims its next
 * batch and stores the last one's results, then composes the next sends. Held for the turn's end like
 * the others, such a store would reach the writer only once that page was rendered, and the two
 * threads would take turns instead of overlapping. They go at once, with whatever the turn had
 * queued before them (so calls still reach the writer in the order they were made).
 */
const AT_ONCE: ReadonlySet<WriterMethod> = new Set<WriterMethod>([
  'enterAndRun',
  'completeEntries',
  'completeAndClaim',
  'claimDueEntries',
  'claimDueMessages',
  'completeMessages',
]);

/**
 * The SQLite writer on its own thread (writer-worker.ts). The HTTP thread parses and validates while
 * this thread runs SQL and waits for fsync, so a 2-core machine uses both cores, and a commit's fsync
 * collects the requests that arrived meanwhile into the next group commit.
 */
export class ThreadWriter implements SqliteWrites {
  private worker: Worker;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private outbox: WriterRequest[] = [];
  private closed = false;
  /** consecutive restarts without a successful reply in between (sets the back-off) */
  private restarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * `restartDelayMs(n)`: how long to wait before the n-th consecutive restart of a writer thread that
   * died (default 100 ms doubling to 30 s), so a thread that dies at once on start does not spin.
   */
  constructor(
    private readonly path: string,
    private readonly restartDelayMs: (attempt: number) => number = (n) =>
      Math.min(30_000, 100 * 2 ** (n - 1)),
  ) {
    this.worker = this.spawn();
  }

  /**
   * Starts a writer thread. If it dies (an uncaught error, an exit), the requests it held fail with
   * StoreUnavailableError — each was committed whole or not at all, and callers see 503 and retry —
   * and a new thread takes over after a back-off: a crash costs the requests in flight, not the
   * server. Calls made while it is down fail the same way.
   */
  private spawn(): Worker {
    const worker = new Worker(new URL('./writer-worker.js', import.meta.url), {
      workerData: { path: this.path },
    });
    worker.on('message', (replies: WriterReply[]) => {
      this.restarts = 0;
      for (const r of replies) {
        const w = this.waiting.get(r.id);
        if (!w) continue;
        this.waiting.delete(r.id);
        if (r.ok) w.resolve(r.result);
        else w.reject(revive(r.error));
      }
    });
    let down = false;
    const fail = (err: Error) => {
      if (down || worker !== this.worker) return;
      down = true;
      const restarting = !this.closed;
      this.failure = new StoreUnavailableError(
        `the SQLite writer stopped: ${err.message}${restarting ? ' (restarting)' : ''}`,
        { cause: err },
      );
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
      this.outbox = [];
      if (!restarting) return;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.closed) return;
        this.worker = this.spawn();
        this.failure = null;
      }, this.restartDelayMs(++this.restarts));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`writer thread exited with code ${code}`)));
    return worker;
  }

  private call<T>(req: Request): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.outbox.push({ id, ...req });
      if (req.op === 'call' && AT_ONCE.has(req.method)) this.send();
      else if (this.outbox.length === 1) setImmediate(() => this.send());
    });
  }

  /**
   * Requests made in the same turn travel in one message (and replies come back the same way): one
   * structured-clone round trip per turn instead of per request, and the writer sees the whole burst
   * at once for its group commit.
   */
  private send(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    try {
      this.worker.postMessage(batch);
    } catch {
      // Some request could not be copied to the thread; send them one by one so only it fails.
      for (const req of batch) {
        try {
          this.worker.postMessage([req]);
        } catch (err) {
          // Nothing of this request was sent, so nothing of it is stored.
          this.waiting.get(req.id)?.reject(err instanceof Error ? err : new Error(String(err)));
          this.waiting.delete(req.id);
        }
      }
    }
  }

  private invoke<T>(method: WriterMethod, ...args: unknown[]): Promise<T> {
    return this.call({ op: 'call', method, args });
  }

  migrate(now: number): Promise<string[]> {
    return this.invoke('migrate', now);
  }

  access<K extends AccessWriteName>(name: K, ...args: AccessArgs<K>): Promise<AccessResult<K>> {
    return this.invoke('access', name, ...args);
  }

  createWorkspace(ws: Workspace, keys: { writeKeyHash: string; adminKeyHash: string }): Promise<void> {
    return this.invoke('createWorkspace', ws, keys);
  }

  ingest(workspaceId: string, events: readonly NormalizedEvent[], now: number): Promise<IngestResult> {
    return this.invoke('ingest', workspaceId, events, now);
  }

  changeDefinitions(workspaceId: string, change: DefinitionChange, now: number): Promise<void> {
    return this.invoke('changeDefinitions', workspaceId, change, now);
  }

  reevaluateProfiles(workspaceId: string, page: ReevaluatePage): Promise<ReevaluateResult> {
    return this.invoke('reevaluateProfiles', workspaceId, page);
  }

  watchProfiles(workspaceId: string): Promise<number> {
    return this.invoke('watchProfiles', workspaceId);
  }

  unwatchProfiles(watch: number): Promise<void> {
    return this.invoke('unwatchProfiles', watch);
  }

  applyScannedMemberships(
    workspaceId: string,
    watch: number,
    page: ScannedMemberships,
  ): Promise<{ applied: number; rest: string[] }> {
    return this.invoke('applyScannedMemberships', workspaceId, watch, page);
  }

  setSegmentBuild(
    workspaceId: string,
    segmentId: string,
    build: { status: 'building' | 'ready'; done: number; total: number },
    now: number,
  ): Promise<void> {
    return this.invoke('setSegmentBuild', workspaceId, segmentId, build, now);
  }

  recordSegmentSizes(workspaceId: string, now: number): Promise<void> {
    return this.invoke('recordSegmentSizes', workspaceId, now);
  }

  recountStages(workspaceId: string): Promise<void> {
    return this.invoke('recountStages', workspaceId);
  }

  purgeDeletedSegments(limit: number): Promise<boolean> {
    return this.invoke('purgeDeletedSegments', limit);
  }

  createJourney(
    ws: string,
    j: { id: string; name: string; draft: unknown },
    now: number,
  ): Promise<JourneyView> {
    return this.invoke('createJourney', ws, j, now);
  }

  updateJourneyDraft(
    ws: string,
    id: string,
    j: { name: string; draft: unknown },
    now: number,
  ): Promise<void> {
    return this.invoke('updateJourneyDraft', ws, id, j, now);
  }

  publishJourney(
    ws: string,
    id: string,
    input: { definition: unknown; migrate: boolean; nextRunAt: number | null; ifVersion?: number },
    now: number,
  ): Promise<{ version: number; migrated: number }> {
    return this.invoke('publishJourney', ws, id, input, now);
  }

  claimDueSchedules(claim: string, now: number, leaseMs: number): Promise<ScheduledRun[]> {
    return this.invoke('claimDueSchedules', claim, now, leaseMs);
  }

  enterJourney(
    ws: string,
    journeyId: string,
    entry: EntrySpec,
    customers: readonly EnterCustomer[],
    now: number,
  ): Promise<number | null> {
    return this.invoke('enterJourney', ws, journeyId, entry, customers, now);
  }

  enterAndRun(
    run: ScheduledRun,
    entry: EntrySpec,
    results: readonly EntryResult[],
    now: number,
    leaseMs: number,
  ): Promise<number | null> {
    return this.invoke('enterAndRun', run, entry, results, now, leaseMs);
  }

  finishScheduledRun(
    ws: string,
    journeyId: string,
    claim: string,
    nextRunAt: number | null,
  ): Promise<boolean> {
    return this.invoke('finishScheduledRun', ws, journeyId, claim, nextRunAt);
  }

  setJourneyStatus(
    ws: string,
    id: string,
    status: 'published' | 'paused' | 'archived',
    now: number,
  ): Promise<void> {
    return this.invoke('setJourneyStatus', ws, id, status, now);
  }

  releaseWaiting(ws: string, journeyId: string, step: string, now: number): Promise<number> {
    return this.invoke('releaseWaiting', ws, journeyId, step, now);
  }

  claimDueEntries(claim: string, limit: number, now: number, leaseMs: number): Promise<ClaimedEntry[]> {
    return this.invoke('claimDueEntries', claim, limit, now, leaseMs);
  }

  completeEntries(results: readonly EntryResult[], now: number): Promise<number> {
    return this.invoke('completeEntries', results, now);
  }

  completeAndClaim(
    results: readonly EntryResult[],
    now: number,
    next: { claim: string; limit: number; now: number; leaseMs: number },
  ): Promise<{ applied: number; claimed: ClaimedEntry[] }> {
    return this.invoke('completeAndClaim', results, now, next);
  }

  claimDueMessages(claim: string, limit: number, now: number, leaseMs: number): Promise<ClaimedMessage[]> {
    return this.invoke('claimDueMessages', claim, limit, now, leaseMs);
  }

  completeMessages(results: readonly MessageResult[], now: number): Promise<number> {
    return this.invoke('completeMessages', results, now);
  }

  putChannel(ws: string, record: ChannelRecord): Promise<void> {
    return this.invoke('putChannel', ws, record);
  }

  deleteChannel(ws: string, channel: string): Promise<boolean> {
    return this.invoke('deleteChannel', ws, channel);
  }

  putTemplate(
    ws: string,
    t: { name: string; channel: string; definition: unknown },
    mode: 'create' | 'replace',
    now: number,
  ): Promise<TemplateRecord> {
    return this.invoke('putTemplate', ws, t, mode, now);
  }

  deleteTemplate(ws: string, name: string): Promise<boolean> {
    return this.invoke('deleteTemplate', ws, name);
  }

  setSubscription(ws: string, s: Subscription | readonly Subscription[]): Promise<void> {
    return this.invoke('setSubscription', ws, s);
  }

  putDeliverySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.invoke('putDeliverySettings', ws, settings, now);
  }

  putSuppression(ws: string, s: Suppression): Promise<void> {
    return this.invoke('putSuppression', ws, s);
  }

  deleteSuppression(ws: string, channel: string, address: string): Promise<boolean> {
    return this.invoke('deleteSuppression', ws, channel, address);
  }

  putDevices(ws: string, devices: readonly Device[]): Promise<void> {
    return this.invoke('putDevices', ws, devices);
  }

  deleteDevice(ws: string, token: string): Promise<boolean> {
    return this.invoke('deleteDevice', ws, token);
  }

  recordAfterSend(states: readonly AfterSendState[], now: number): Promise<number> {
    return this.invoke('recordAfterSend', states, now);
  }

  putCouponPool(ws: string, p: { name: string; description: string | null }, now: number): Promise<boolean> {
    return this.invoke('putCouponPool', ws, p, now);
  }

  deleteCouponPool(ws: string, name: string): Promise<boolean> {
    return this.invoke('deleteCouponPool', ws, name);
  }

  addCouponCodes(ws: string, pool: string, codes: readonly string[], now: number): Promise<number> {
    return this.invoke('addCouponCodes', ws, pool, codes, now);
  }

  assignCoupons(
    ws: string,
    requests: readonly CouponRequest[],
    now: number,
  ): Promise<Map<string, string | null>> {
    return this.invoke('assignCoupons', ws, requests, now);
  }

  putSubscriptionTopics(ws: string, topics: unknown, now: number): Promise<void> {
    return this.invoke('putSubscriptionTopics', ws, topics, now);
  }

  putItems(ws: string, items: readonly CatalogItem[]): Promise<void> {
    return this.invoke('putItems', ws, items);
  }

  deleteItem(ws: string, id: string): Promise<boolean> {
    return this.invoke('deleteItem', ws, id);
  }

  replaceSimilar(ws: string, similar: ReadonlyMap<string, readonly SimilarItem[]>): Promise<void> {
    return this.invoke('replaceSimilar', ws, similar);
  }

  putInAppMessage(ws: string, m: MessageRecord): Promise<void> {
    return this.invoke('putInAppMessage', ws, m);
  }

  putContentCard(ws: string, c: CardRecord): Promise<void> {
    return this.invoke('putContentCard', ws, c);
  }

  recordMessageInteraction(ws: string, i: InteractionInput): Promise<void> {
    return this.invoke('recordMessageInteraction', ws, i);
  }

  setCardState(ws: string, s: CardStateChange): Promise<void> {
    return this.invoke('setCardState', ws, s);
  }

  putSdkSettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.invoke('putSdkSettings', ws, settings, now);
  }

  putSurvey(ws: string, s: SurveyPut, mode: 'create' | 'replace', now: number): Promise<SurveyRecord> {
    return this.invoke('putSurvey', ws, s, mode, now);
  }

  recordSurveyResponses(
    ws: string,
    responses: readonly SurveyResponse[],
    feedback: readonly Feedback[],
  ): Promise<void> {
    return this.invoke('recordSurveyResponses', ws, responses, feedback);
  }

  addFeedback(ws: string, f: Feedback): Promise<void> {
    return this.invoke('addFeedback', ws, f);
  }

  tagFeedback(ws: string, id: string, tags: FeedbackTags, now: number): Promise<Feedback | null> {
    return this.invoke('tagFeedback', ws, id, tags, now);
  }

  recordConsents(ws: string, entries: readonly ConsentEntry[]): Promise<void> {
    return this.invoke('recordConsents', ws, entries);
  }

  putPrivacySettings(ws: string, settings: unknown, now: number): Promise<void> {
    return this.invoke('putPrivacySettings', ws, settings, now);
  }

  eraseProfile(
    ws: string,
    profileId: string,
    opts: { id: string; requestedBy: string; now: number },
  ): Promise<ErasureOutcome> {
    return this.invoke('eraseProfile', ws, profileId, opts);
  }

  deleteEventsBefore(ws: string, before: number, limit: number): Promise<number> {
    return this.invoke('deleteEventsBefore', ws, before, limit);
  }

  liftTombstones(ws: string, identities: readonly IdentityKey[]): Promise<IdentityKey[]> {
    return this.invoke('liftTombstones', ws, identities);
  }

  /** Commits what is pending, closes the connection, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (!this.failure) await this.call({ op: 'close' });
    this.failure = new StoreUnavailableError('the store is closed');
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** Errors cross the thread boundary as plain data; give the ones callers act on their class back. */
function revive(e: { name: string; message: string; code: unknown; kizuna: boolean }): Error {
  if (e.name === 'ConflictError') return new ConflictError(e.message);
  if (e.name === 'NotFoundError') return new NotFoundError(e.message);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) (err as Error & { code: unknown }).code = e.code;
  return err;
}
