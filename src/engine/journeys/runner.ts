import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { compileDefinitions, type Definitions } from '../../domain/engagement/definitions.js';
import { computedTraitsOf, evaluateDraft } from '../../domain/engagement/evaluate.js';
import { renderTemplate } from '../../domain/templates/render.js';
import { TemplateService } from '../delivery/templates.js';
import { isEmailAddress } from '../../channels/email/smtp.js';
import type { NormalizedEvent } from '../../domain/event.js';
import { compileJourney } from '../../domain/journeys/compile.js';
import { advance, type Action, type StepContext } from '../../domain/journeys/machine.js';
import type { OutboxMessage } from '../../store/delivery-store.js';
import type { Journey } from '../../domain/journeys/types.js';
import { nextRun } from '../../domain/journeys/time.js';
import type { ProfileState } from '../../domain/resolution.js';
import type { ClaimedEntry, EntryResult } from '../../store/journey-store.js';
import type { ProfileView, Store } from '../../store/store.js';
import { PollLoop } from '../poll-loop.js';

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
  private readonly templates: TemplateService;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: RunnerOptions,
  ) {
    this.batch = opts.batch ?? 1000;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.templates = opts.templates ?? new TemplateService(store, clock);
    this.loop = new PollLoop(() => this.runOnce(), {
      batch: this.batch,
      pollMs: opts.pollMs ?? 100,
      logger,
      what: 'journey runner',
    });
  }

  /** Claims and runs one batch; resolves with how many entries it claimed (and customers it scheduled in). */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const scheduled = await this.runSchedules(now);
    const claimed = await this.store.claimDueEntries(this.opts.worker, this.batch, now, this.leaseMs);
    if (claimed.length === 0) return scheduled;
    const results: EntryResult[] = [];
    const updates = new Map<string, NormalizedEvent[]>();
    // The batch's profiles in one read per workspace (one query on PostgreSQL, not one per entry).
    const profiles = new Map<string, Map<string, ProfileState>>();
    for (const ws of new Set(claimed.map((e) => e.workspaceId))) {
      const ids = claimed.filter((e) => e.workspaceId === ws).map((e) => e.profileId);
      profiles.set(ws, await this.store.getProfileStates(ws, ids));
    }
    for (const entry of claimed) {
      const profile = profiles.get(entry.workspaceId)?.get(entry.profileId) ?? null;
      results.push(await this.run(entry, profile, now, updates));
    }
    // Profile updates first: if the process dies before the results commit, the re-run ingests them
    // again under the same messageIds, which the store drops as duplicates.
    for (const [ws, events] of updates) await this.store.ingest(ws, events);
    await this.store.completeEntries(results, now);
    if (results.some((r) => r.messages.length > 0)) this.opts.onQueued?.();
    return scheduled + claimed.length;
  }

  /**
   * Scheduled runs that are due: the segment's members enter, a page at a time, each with an entry id
   * made of the run and the customer (a run re-enumerated after a crash enters nobody twice) and a due
   * time spread by the journey's throttle. Then the next run is set, or none.
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
      const gapMs = journey.throttlePerMinute === null ? 0 : 60_000 / journey.throttlePerMinute;
      const trigger = `scheduled run ${new Date(run.runAt).toISOString()} of segment ${t.segment}`;
      let after: string | undefined;
      let k = 0;
      let stopped = false;
      for (;;) {
        const page = await this.store.listSegmentMembers(run.workspaceId, t.segment, { limit: 1000, after });
        const customers = page.profileIds.map((profileId, i) => ({
          id: `je_${run.runAt.toString(36)}_${run.journeyId}_${profileId}`,
          profileId,
          dueAt: Math.max(run.runAt, now) + Math.floor((k + i) * gapMs),
        }));
        k += customers.length;
        const n = await this.store.enterJourney(
          run.workspaceId,
          run.journeyId,
          { version: run.version, step: journey.start, trigger, limit: journey.entry.limit },
          customers,
          now,
        );
        // Paused or archived meanwhile: the run stays due (its claim lapses) and starts over on resume;
        // the entry ids make those already entered stay entered once.
        if (n === null) {
          stopped = true;
          break;
        }
        entered += n;
        if (page.next === null) break;
        after = page.next;
      }
      if (stopped) continue;
      const next = t.everyDays === null ? null : nextRun(t.at, t.everyDays, Math.max(run.runAt, now) + 1);
      await this.store.finishScheduledRun(run.workspaceId, run.journeyId, run.claim, next);
      this.logger.info(
        { journey: run.journeyId, runAt: new Date(run.runAt).toISOString(), entered },
        'scheduled journey run',
      );
    }
    return entered;
  }

  /** Runs batches until nothing is due at the clock's current time (tests, and draining on shutdown). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n === 0) return total;
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
  ): Promise<EntryResult> {
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
      const event = view ? identifyFor(view, a.traits, `journey:${a.key}`, now) : null;
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
      messages: await this.compose(entry, out.actions, profile, defs, now),
    };
  }

  /**
   * The outbox messages of a step's actions: a webhook as it is; a send rendered with its template for
   * this customer now (so what is queued is what will be sent), or skipped with the reason it cannot
   * be rendered.
   */
  private async compose(
    entry: ClaimedEntry,
    actions: readonly Action[],
    profile: ProfileState | null,
    defs: Definitions | null,
    now: number,
  ): Promise<OutboxMessage[]> {
    const out: OutboxMessage[] = [];
    for (const a of actions) {
      if (a.kind === 'webhook') {
        out.push({
          key: a.key,
          step: a.step,
          channel: 'webhook',
          template: null,
          payload: { url: a.url, body: a.body },
          status: 'queued',
          nextAttemptAt: now,
          reason: null,
        });
        continue;
      }
      if (a.kind !== 'send') continue;
      const base = { key: a.key, step: a.step, channel: a.channel, template: a.template };
      const skip = (reason: string): OutboxMessage => ({
        ...base,
        payload: {},
        status: 'skipped',
        nextAttemptAt: null,
        reason,
      });
      const template = await this.templates.forSend(entry.workspaceId, a.template);
      if (!profile || !defs) {
        out.push(skip('the customer no longer exists'));
      } else if (!template) {
        out.push(skip(`no template named "${a.template}"`));
      } else if (template.definition.channel !== a.channel) {
        out.push(skip(`"${a.template}" is a ${template.definition.channel} template, not ${a.channel}`));
      } else {
        const computed = computedTraitsOf(profile, defs, now);
        const r = renderTemplate(template, {
          profile: { id: profile.id, userId: profile.userId, traits: profile.traits },
          computed: (name) => computed.get(name),
          stage: profile.engagement.stage,
          segments: profile.engagement.segments,
          journey: { id: entry.journeyId, step: a.step, entryId: entry.id },
          message: { key: a.key },
          event: null,
          now,
        });
        const to = recipient(a.channel, profile);
        if (!r.ok) out.push(skip(`template ${a.template} v${template.version}: ${r.reason}`));
        else if (typeof to !== 'string') out.push(skip(to.reason));
        else {
          out.push({
            ...base,
            payload: {
              ...(to !== '' && { to }),
              topic: template.definition.topic,
              template_version: template.version,
              locale: r.locale,
              content: r.content,
            },
            status: 'queued',
            nextAttemptAt: now,
            reason: null,
          });
        }
      }
    }
    return out;
  }

  /** Runs in the background until stop(): a batch at a time, sleeping between polls when idle. */
  start(): void {
    this.loop.start();
  }

  /** Ingestion made or woke entries: look now instead of at the next poll. */
  nudge(): void {
    this.loop.nudge();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}

/**
 * Where a channel's message goes, from the profile: the e-mail address for e-mail (lower-cased, so an
 * opt-out matches however the address was written); '' for channels whose address the provider
 * finds itself; or why there is none.
 */
function recipient(channel: string, p: ProfileState): string | { reason: string } {
  if (channel !== 'email') return '';
  const email = p.traits['email'];
  if (email === undefined || email === null || email === '')
    return { reason: 'the customer has no e-mail address' };
  const v = typeof email === 'string' ? email.trim().toLowerCase() : email;
  return isEmailAddress(v) ? v : { reason: `${JSON.stringify(email)} is not an e-mail address` };
}

function timezoneOf(p: ProfileState | null): string | null {
  const tz = p?.traits['timezone'];
  return typeof tz === 'string' ? tz : null;
}

/** An identify call that resolves to the profile: by its user id, else an anonymous id, e-mail or phone. */
function identifyFor(
  view: ProfileView,
  traits: Record<string, unknown>,
  messageId: string,
  now: number,
): NormalizedEvent | null {
  const find = (kind: string) => view.identities.find((i) => i.kind === kind)?.value ?? null;
  const userId = view.userId;
  const anonymousId = userId === null ? find('anonymous_id') : null;
  const extra: Record<string, unknown> = {};
  if (userId === null && anonymousId === null) {
    const email = find('email');
    const phone = find('phone');
    if (email !== null) extra['email'] = email;
    else if (phone !== null) extra['phone'] = phone;
    else return null;
  }
  const allTraits = { ...traits, ...extra };
  const message = {
    type: 'identify',
    messageId,
    userId,
    anonymousId,
    traits: allTraits,
    context: { library: { name: 'kizuna-journeys' } },
    timestamp: new Date(now).toISOString(),
  };
  return {
    messageId,
    type: 'identify',
    name: null,
    userId,
    anonymousId,
    previousId: null,
    groupId: null,
    traits: allTraits,
    context: message.context,
    timestamp: now,
    receivedAt: now,
    payload: JSON.stringify(message),
  };
}
