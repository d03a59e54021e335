import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { compileDefinitions, type Definitions } from '../../domain/engagement/definitions.js';
import { evaluateDraft } from '../../domain/engagement/evaluate.js';
import { TemplateService } from '../delivery/templates.js';
import { Composer, type PendingAction } from '../delivery/composer.js';
import type { NormalizedEvent } from '../../domain/event.js';
import { compileJourney } from '../../domain/journeys/compile.js';
import { advance, type StepContext } from '../../domain/journeys/machine.js';
import type { Journey } from '../../domain/journeys/types.js';
import { nextRun } from '../../domain/journeys/time.js';
import type { ProfileState } from '../../domain/resolution.js';
import type { ClaimedEntry, EntryResult, EntrySpec, ScheduledRun } from '../../store/journey-store.js';
import type { Store } from '../../store/store.js';
import { PollLoop } from '../poll-loop.js';
import { profileEvent } from '../../ingest/profile-event.js';

export interface RunnerOptions {
  /** names this process in claims (host:pid by default) */
  readonly worker: string;
  /** entries claimed per transaction */
  readonly batch?: number;
  /** how long a claim hides an entry; a worker that dies holding it is replaced after this */
  readonly leaseMs?: number;
  /** how often an idle runner looks for due entries (ingestion also nudges it) */
  readonly pollMs?: number;
  /** called after a batch stored messages in the outbox (the dispatcher looks at once) */
  readonly onQueued?: () => void;
  /** the workspace templates sends render (one is made over the store when not given) */
  readonly templates?: TemplateService;
}

/** A claimed scheduled run the runner enters and runs itself (runPage). */
interface RunInHand {
  readonly run: ScheduledRun;
  readonly journey: Journey;
  readonly spec: EntrySpec;
  /** the last page's cursor */
  after: string | undefined;
  entered: number;
  /** a page's store found the claim lost or the journey no longer published */
  stopped: boolean;
}

/**
 * The durable journey runner: claims due entries in batches, advances each with the pure state machine
 * (domain/journeys/machine.ts) and stores every result of the batch in one transaction. Crash safety
 * comes from that shape: nothing of a step is visible until its batch commits, a claim held by a dead
 * worker comes due again when its lease ends, and the step then runs again with the same idempotency
 * keys (profile updates are ingested with the key as messageId, sends are unique by key), so nothing
 * is recorded twice. Several runners (processes, on PostgreSQL) share the work through the claims.
 */
export class JourneyRunner {
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly journeys = new Map<string, Journey | null>();
  private readonly definitions = new Map<string, { at: number; defs: Definitions }>();
  private readonly loop: PollLoop;
  private readonly composer: Composer;
  /**
   * Batches claimed ahead, oldest first: while one batch is advanced and rendered, the next is already
   * claimed, and the store of a batch claims the one after next in the same transaction.
   */
  private readonly ahead: Promise<ClaimedEntry[]>[] = [];
  /** the last batch's results, being stored */
  private inflight: Promise<void> | null = null;
  private draining = false;
  private schedulesAt = -Infinity;
  private entriesAt = -Infinity;
  /** Claimed scheduled runs being entered and run directly, a page per runOnce (first one first). */
  private readonly runs: RunInHand[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: RunnerOptions,
  ) {
    this.batch = opts.batch ?? 1000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.composer = new Composer(store, clock, opts.templates ?? new TemplateService(store, clock));
    this.loop = new PollLoop(() => this.runOnce(), {
      batch: this.batch,
      pollMs: opts.pollMs ?? 100,
      logger,
      what: 'journey runner',
    });
  }

  /**
   * Claims and runs one batch; resolves with how many entries it claimed (and customers it scheduled
   * in). Batches overlap: while full batches come, one batch is always claimed ahead, and a batch's
   * results are stored, together with the claim of the batch after next, while this thread advances and
   * renders the next one (SQLite: on its writer thread). So this thread waits for the store only when
   * the store is the slower of the two. `flush()` waits for the store in flight.
   *
   * While a scheduled run is being entered directly (see runPage), each call runs one page of it, and
   * due entries at least once a second besides.
   */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    // Schedules are minute-grained: during a run of full batches they are looked at once a second, not
    // per batch (the look waits behind the batch being stored, which would undo the overlap).
    const streaming = this.ahead.length > 0 || this.runs.length > 0;
    const lookAtSchedules = !streaming || now - this.schedulesAt >= 1000 || now < this.schedulesAt;
    if (lookAtSchedules) this.schedulesAt = now;
    // New runs are claimed once those in hand are done: a claimed run waiting its turn here must not
    // come due again for this very runner.
    let scheduled = lookAtSchedules && this.runs.length === 0 ? await this.runSchedules(now) : 0;
    if (this.runs.length > 0 && !this.draining) {
      scheduled += await this.runPage(now);
      if (this.runs.length > 0 && this.ahead.length === 0) {
        // Due entries of other journeys, once a second: claimed behind the page being stored and run
        // on the next call, so this thread does not sit waiting for that store.
        if (!(now - this.entriesAt < 1000 && now >= this.entriesAt)) {
          this.entriesAt = now;
          this.claimAhead(this.store.claimDueEntries(this.opts.worker, this.batch, now, this.leaseMs));
        }
        return scheduled;
      }
    }
    this.entriesAt = now;
    const claimed = await (this.ahead.shift() ??
      this.store.claimDueEntries(this.opts.worker, this.batch, now, this.leaseMs));
    if (claimed.length === 0) {
      if (this.runs.length === 0) await this.flush();
      return scheduled;
    }
    const full = claimed.length >= this.batch && !this.draining;
    // Starting a run of full batches: claim the next one now, so it is ready when this one is done.
    if (full && this.ahead.length === 0)
      this.claimAhead(this.store.claimDueEntries(this.opts.worker, this.batch, now, this.leaseMs));
    const { results, keys } = await this.advanceAll(claimed, now);
    // One store in flight at a time (the composer's counts of the last batch settle in order).
    await this.flush();
    if (full && !this.draining) {
      const next = {
        worker: this.opts.worker,
        limit: this.batch,
        now: this.clock.now(),
        leaseMs: this.leaseMs,
      };
      const both = this.store.completeAndClaim(results, now, next);
      this.claimAhead(both.then((r) => r.claimed));
      this.storing(both, keys);
    } else {
      this.storing(this.store.completeEntries(results, now), keys);
    }
    return scheduled + claimed.length;
  }

  /**
   * Advances the entries with their profiles (one read per workspace), composes their sends together
   * (the respect rules count across the batch, in priority order) and ingests their profile updates.
   */
  private async advanceAll(
    claimed: readonly ClaimedEntry[],
    now: number,
  ): Promise<{ results: EntryResult[]; keys: string[] }> {
    const ran: (EntryResult & { pending: PendingAction[] })[] = [];
    const updates = new Map<string, NormalizedEvent[]>();
    // The batch's profiles in one read per workspace (one query on PostgreSQL, not one per entry).
    const profiles = new Map<string, Map<string, ProfileState>>();
    for (const ws of new Set(claimed.map((e) => e.workspaceId))) {
      const ids = claimed.filter((e) => e.workspaceId === ws).map((e) => e.profileId);
      profiles.set(ws, await this.store.getProfileStates(ws, ids));
    }
    for (const entry of claimed) {
      const profile = profiles.get(entry.workspaceId)?.get(entry.profileId) ?? null;
      ran.push(await this.run(entry, profile, now, updates));
    }
    const pending = ran.flatMap((r) => r.pending);
    const composed = await this.composer.compose(pending, now);
    let k = 0;
    const results: EntryResult[] = ran.map(({ pending: mine, ...r }) => {
      const messages = composed.slice(k, k + mine.length).filter((m) => m !== null);
      k += mine.length;
      return { ...r, messages };
    });
    // Profile updates first: if the process dies before the results commit, the re-run ingests them
    // again under the same messageIds, which the store drops as duplicates.
    for (const [ws, events] of updates) await this.store.ingest(ws, events);
    return { results, keys: results.flatMap((r) => r.messages.map((m) => m.key)) };
  }

  /** The store of a batch's results, now in flight: its messages settle (and wake the dispatcher) after. */
  private storing(stored: Promise<unknown>, keys: readonly string[]): void {
    this.inflight = stored.then(
      () => {
        this.composer.settle(keys);
        if (keys.length > 0) this.opts.onQueued?.();
      },
      (err: unknown) => {
        this.composer.settle(keys);
        throw err;
      },
    );
    this.inflight.catch(() => undefined);
  }

  /**
   * One page of the first run in hand, entered and run at once: the page's members the entry limit
   * lets in (and not entered by an earlier enumeration of this run) are advanced from the start as if
   * just entered, and each is stored once in its state after that first advance, with its history and
   * messages (Store.enterAndRun): no entry written active, claimed and written again. The store of a
   * page overlaps the rendering of the next. Resolves with the members looked at.
   */
  private async runPage(now: number): Promise<number> {
    const c = this.runs[0]!;
    // Paused, archived, taken over or failed to store a page: the run is left due (its claim lapses),
    // to start over; the entry ids and enterableCustomers make those already entered stay entered once.
    if (c.stopped) {
      this.runs.shift();
      return 0;
    }
    const { run, journey } = c;
    const ws = run.workspaceId;
    const segment = journey.trigger.kind === 'schedule' ? journey.trigger.segment : '';
    const page = await this.store.listSegmentMembers(ws, segment, { limit: this.batch, after: c.after });
    const customers = page.profileIds.map((profileId) => ({
      id: entryIdOf(run, profileId),
      profileId,
      dueAt: now,
    }));
    const open = await this.store.enterableCustomers(ws, run.journeyId, c.spec.limit, customers, now);
    const claimed: ClaimedEntry[] = open.map((e) => ({
      workspaceId: ws,
      id: e.id,
      journeyId: run.journeyId,
      version: run.version,
      profileId: e.profileId,
      position: { step: journey.start, phase: 'enter', stepsTaken: 0, signal: null },
      enteredAt: now,
      triggerMessageId: null,
      claim: run.claim,
    }));
    const { results, keys } =
      claimed.length === 0 ? { results: [], keys: [] } : await this.advanceAll(claimed, now);
    try {
      await this.flush();
    } catch (err) {
      this.composer.settle(keys);
      throw err;
    }
    if (c.stopped) {
      this.composer.settle(keys);
      this.runs.shift();
      return 0;
    }
    this.storing(
      this.store.enterAndRun(run, c.spec, results, now, this.leaseMs).then(
        (n) => {
          if (n === null) c.stopped = true;
          else c.entered += n;
        },
        (err: unknown) => {
          c.stopped = true;
          throw err;
        },
      ),
      keys,
    );
    c.after = page.next ?? undefined;
    if (page.next === null) {
      await this.flush();
      this.runs.shift();
      if (!c.stopped) await this.finishRun(run, journey, c.entered, now);
    }
    return page.profileIds.length;
  }

  private claimAhead(claim: Promise<ClaimedEntry[]>): void {
    // A failed claim surfaces when its batch is run; the rejection must not go unhandled meanwhile.
    claim.catch(() => undefined);
    this.ahead.push(claim);
  }

  /** Waits until the batch being stored is stored (its error, if any, is thrown here). */
  async flush(): Promise<void> {
    const p = this.inflight;
    this.inflight = null;
    await p;
  }

  /**
   * Scheduled runs that are due: the segment's members enter, a page at a time, each with an entry id
   * made of the run and the customer (a run re-enumerated after a crash enters nobody twice) and a due
   * time spread by the journey's throttle. Then the next run is set, or none. A run with no throttle
   * and no profile update is taken in hand instead, and entered and run by runPage.
   */
  private async runSchedules(now: number): Promise<number> {
    const runs = await this.store.claimDueSchedules(this.opts.worker, now, this.leaseMs);
    let entered = 0;
    for (const run of runs) {
      const journey = await this.journey(run.workspaceId, run.journeyId, run.version);
      if (!journey || journey.trigger.kind !== 'schedule') {
        await this.store.finishScheduledRun(run.workspaceId, run.journeyId, run.claim, null);
        continue;
      }
      const t = journey.trigger;
      const trigger = `scheduled run ${new Date(run.runAt).toISOString()} of segment ${t.segment}`;
      const spec = { version: run.version, step: journey.start, trigger, limit: journey.entry.limit };
      if (enteredDirectly(journey)) {
        this.runs.push({ run, journey, spec, after: undefined, entered: 0, stopped: false });
        continue;
      }
      const gapMs = journey.throttlePerMinute === null ? 0 : 60_000 / journey.throttlePerMinute;
      let after: string | undefined;
      let k = 0;
      let n = 0;
      let stopped = false;
      for (;;) {
        const page = await this.store.listSegmentMembers(run.workspaceId, t.segment, { limit: 1000, after });
        const customers = page.profileIds.map((profileId, i) => ({
          id: entryIdOf(run, profileId),
          profileId,
          dueAt: Math.max(run.runAt, now) + Math.floor((k + i) * gapMs),
        }));
        k += customers.length;
        const made = await this.store.enterJourney(run.workspaceId, run.journeyId, spec, customers, now);
        // Paused or archived meanwhile: the run stays due (its claim lapses) and starts over on resume;
        // the entry ids make those already entered stay entered once.
        if (made === null) {
          stopped = true;
          break;
        }
        n += made;
        if (page.next === null) break;
        after = page.next;
      }
      if (stopped) continue;
      entered += n;
      await this.finishRun(run, journey, n, now);
    }
    return entered;
  }

  /** Sets the run's next run time (or none) and releases its claim. */
  private async finishRun(run: ScheduledRun, journey: Journey, entered: number, now: number): Promise<void> {
    const t = journey.trigger;
    if (t.kind !== 'schedule') return;
    const next = t.everyDays === null ? null : nextRun(t.at, t.everyDays, Math.max(run.runAt, now) + 1);
    await this.store.finishScheduledRun(run.workspaceId, run.journeyId, run.claim, next);
    this.logger.info(
      { journey: run.journeyId, runAt: new Date(run.runAt).toISOString(), entered },
      'scheduled journey run',
    );
  }

  /** Runs batches until nothing is due at the clock's current time (tests, and draining on shutdown). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n === 0) {
        await this.flush();
        return total;
      }
    }
  }

  private async journey(ws: string, id: string, version: number): Promise<Journey | null> {
    const key = `${ws}/${id}@${version}`;
    if (!this.journeys.has(key)) {
      const def = await this.store.getJourneyVersion(ws, id, version);
      // Versions never change, so a compiled one is kept for the life of the process.
      this.journeys.set(key, def === null ? null : compileJourney(def));
    }
    return this.journeys.get(key) ?? null;
  }

  private async defs(ws: string, now: number): Promise<Definitions> {
    const hit = this.definitions.get(ws);
    // Definitions change rarely; a second-old copy is as good as ingestion's view of them.
    if (hit && now - hit.at < 1000 && now >= hit.at) return hit.defs;
    const defs = compileDefinitions(await this.store.getDefinitions(ws));
    this.definitions.set(ws, { at: now, defs });
    return defs;
  }

  private async run(
    entry: ClaimedEntry,
    profile: ProfileState | null,
    now: number,
    updates: Map<string, NormalizedEvent[]>,
  ): Promise<EntryResult & { pending: PendingAction[] }> {
    const ws = entry.workspaceId;
    const journey = await this.journey(ws, entry.journeyId, entry.version);
    const base = {
      workspaceId: ws,
      entryId: entry.id,
      claim: entry.claim,
      profileId: entry.profileId,
      journeyId: entry.journeyId,
    };
    if (!journey) {
      return {
        ...base,
        state: 'exited',
        position: entry.position,
        dueAt: null,
        waitingFor: null,
        exitReason: `version ${entry.version} cannot be read`,
        log: [],
        actions: [],
        messages: [],
        pending: [],
      };
    }
    const defs = profile ? await this.defs(ws, now) : null;
    const ctx: StepContext = {
      now,
      entryId: entry.id,
      exists: () => profile !== null,
      evaluate: (rule) => profile !== null && defs !== null && evaluateDraft(profile, defs, rule, now),
      inSegment: (id) => profile?.engagement.segments.includes(id) ?? false,
      timezone: () => timezoneOf(profile),
    };
    const out = advance(journey, entry.position, ctx);
    for (const a of out.actions) {
      if (a.kind !== 'update_profile') continue;
      const view = await this.store.getProfile(ws, entry.profileId);
      const event = view
        ? profileEvent(
            view,
            { type: 'identify', traits: a.traits },
            { messageId: `journey:${a.key}`, library: 'kizuna-journeys', now },
          )
        : null;
      if (event) {
        const list = updates.get(ws) ?? [];
        list.push(event);
        updates.set(ws, list);
      }
    }
    return {
      ...base,
      state: out.state,
      position: out.position,
      dueAt: out.dueAt,
      waitingFor: out.waitingFor,
      exitReason: out.exitReason,
      log: out.log,
      actions: out.actions.filter((a) => a.kind === 'list'),
      arm: out.arm,
      messages: [],
      pending: out.actions
        .filter((a) => a.kind === 'send' || a.kind === 'webhook')
        .map((action) => ({
          workspaceId: ws,
          journeyId: entry.journeyId,
          entryId: entry.id,
          triggerMessageId: entry.triggerMessageId,
          action,
          profile,
          defs,
        })),
    };
  }

  /** Runs in the background until stop(): a batch at a time, sleeping between polls when idle. */
  start(): void {
    this.loop.start();
  }

  /** Ingestion made or woke entries: look now instead of at the next poll. */
  nudge(): void {
    this.loop.nudge();
  }

  /** Stops after the batch in progress, runs the batches already claimed ahead, and waits for their stores. */
  async stop(): Promise<void> {
    this.draining = true;
    await this.loop.stop();
    while (this.ahead.length > 0) await this.runOnce();
    await this.flush();
    this.draining = false;
  }
}

/** A run's entry id for a customer: the same on every enumeration of the run. */
function entryIdOf(run: ScheduledRun, profileId: string): string {
  return `je_${run.runAt.toString(36)}_${run.journeyId}_${profileId}`;
}

/**
 * Whether a scheduled run's customers can be entered and run in one store (runPage): all due at once
 * (no throttle spreading them), and no profile update, which is ingested before the store and so must
 * not run for a customer the store might still keep out.
 */
function enteredDirectly(journey: Journey): boolean {
  return (
    journey.throttlePerMinute === null &&
    ![...journey.steps.values()].some((s) => s.type === 'update_profile')
  );
}

function timezoneOf(p: ProfileState | null): string | null {
  const tz = p?.traits['timezone'];
  return typeof tz === 'string' ? tz : null;
}
