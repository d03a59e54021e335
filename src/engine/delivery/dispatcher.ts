import type { Logger } from 'pino';
import type { SendResult } from '../../channels/channel.js';
import type { Clock } from '../../domain/clock.js';
import { DEFAULT_BACKOFF, retryDelay, type Backoff } from '../../domain/delivery.js';
import type { ClaimedMessage, MessageResult, Subscription } from '../../store/delivery-store.js';
import type { Store } from '../../store/store.js';
import { PollLoop } from '../poll-loop.js';
import { newId } from '../../ids.js';
import { suppressionReason, TRANSACTIONAL, unsubscribedReason } from '../../domain/subscriptions.js';
import { topicsOf } from '../../domain/preferences.js';
import type { ChannelService } from './channels.js';
import { TEST_JOURNEY, type Drivers } from './drivers.js';
import { RateLimits } from './rate-limits.js';

export interface DispatcherOptions {
  /** names this process in claims */
  readonly worker: string;
  readonly drivers: Drivers;
  /** messages claimed per transaction */
  readonly batch?: number;
  /** sends in flight at once */
  readonly concurrency?: number;
  /** how long a claim hides a message; longer than a batch can take to send */
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly backoff?: Backoff;
  /** a uniform number in [0, 1) for retry jitter (tests fix it) */
  readonly draw?: () => number;
}

/**
 * Delivers the outbox (docs/channels.md): claims due messages in batches, sends each through its
 * channel's driver with the workspace's configuration, and stores every result in one transaction.
 * A retryable failure is queued again after an exponential, jittered backoff until the attempts run
 * out (then the message fails for good: the dead letter); a final failure fails at once; a send over
 * the channel's rate limit waits its turn without counting an attempt. A dispatcher that dies holding
 * a batch leaves it due again after the lease: a message may then be sent a second time, which is
 * why every send carries its idempotency key (webhooks: `X-Kizuna-Key`).
 */
export class Dispatcher {
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly backoff: Backoff;
  private readonly draw: () => number;
  private readonly limits: RateLimits;
  private readonly loop: PollLoop;
  private readonly optIn = new Map<string, { at: number; topics: Set<string> }>();
  /** the next batch, claimed while a full batch is sent */
  private ahead: Promise<ClaimedMessage[]> | null = null;
  /** the results of the last full batch, being stored while the next is sent */
  private storing: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly channels: ChannelService,
    private readonly opts: DispatcherOptions,
  ) {
    this.batch = opts.batch ?? 200;
    this.concurrency = opts.concurrency ?? 16;
    this.leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.draw = opts.draw ?? Math.random;
    this.limits = new RateLimits();
    this.loop = new PollLoop(() => this.runOnce(), {
      batch: this.batch,
      pollMs: opts.pollMs ?? 100,
      logger,
      what: 'dispatcher',
    });
  }

  private claim(): Promise<ClaimedMessage[]> {
    return this.store.claimDueMessages(this.opts.worker, this.batch, this.clock.now(), this.leaseMs);
  }

  /**
   * Claims and delivers one batch; resolves with how many messages it claimed. While batches come
   * full, the writer's work overlaps the sending (SQLite: on its own thread): the next batch is
   * claimed as this one starts, and this one's results are stored while the next is sent (one store
   * in flight, in order). A batch that is not full resolves only once every result is stored.
   */
  async runOnce(): Promise<number> {
    const ahead = this.ahead;
    this.ahead = null;
    const claimed = await (ahead ?? this.claim());
    if (claimed.length === 0) {
      await this.flush();
      return 0;
    }
    const full = claimed.length >= this.batch && !this.stopping;
    if (full) {
      this.ahead = this.claim();
      // A failed claim surfaces when its batch is due; the rejection must not go unhandled meanwhile.
      this.ahead.catch(() => undefined);
    }
    const stopped = await this.stopped(claimed);
    const gone: { m: ClaimedMessage; reason: string }[] = [];
    const results: MessageResult[] = new Array<MessageResult>(claimed.length);
    let next = 0;
    const lane = async () => {
      while (next < claimed.length) {
        const i = next++;
        const m = claimed[i]!;
        const reason = stopped.get(m.key);
        results[i] =
          reason === undefined
            ? await this.deliver(m, gone)
            : {
                workspaceId: m.workspaceId,
                key: m.key,
                claim: m.claim,
                status: 'suppressed',
                attempts: m.attempts,
                nextAttemptAt: null,
                reason,
              };
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, claimed.length) }, lane));
    await this.suppressGone(gone);
    // Stored after the last batch's results, whatever became of them (their failure is logged here:
    // its messages come due again after their lease).
    const last = this.storing;
    this.storing = null;
    const stored = (last ?? Promise.resolve())
      .catch((err: unknown) => this.logger.error({ err }, 'dispatcher results could not be stored'))
      .then(async () => {
        await this.store.completeMessages(results, this.clock.now());
      });
    if (!full) {
      await stored;
      return claimed.length;
    }
    stored.catch(() => undefined);
    this.storing = stored;
    return claimed.length;
  }

  /** Waits until the results being stored are stored (their error, if any, is thrown here). */
  private async flush(): Promise<void> {
    const p = this.storing;
    this.storing = null;
    await p;
  }

  /**
   * The batch's messages a respect rule stops, with the reason: checked at the last moment before
   * sending, so a bounce, complaint or opt-out recorded while a message waited (a retry, quiet hours)
   * still stops it. A suppressed contact point receives nothing, transactional messages included; an
   * unsubscribed one receives nothing of the topics it left, and nothing of a topic that requires an
   * opt-in until it subscribed. One read of each per workspace and channel.
   */
  private async stopped(batch: readonly ClaimedMessage[]): Promise<Map<string, string>> {
    const groups = new Map<
      string,
      { ws: string; channel: string; items: { m: ClaimedMessage; to: string; topic: string | null }[] }
    >();
    const out = new Map<string, string>();
    for (const m of batch) {
      const p = (m.payload ?? {}) as { to?: unknown; topic?: unknown };
      const topic = typeof p.topic === 'string' ? p.topic : null;
      if (typeof p.to !== 'string' || p.to === '') {
        // Push goes to devices, not to a contact point that could have subscribed: an opt-in topic
        // cannot have been opted into there, so it is not sent.
        if (topic !== null && topic !== TRANSACTIONAL && (await this.optInTopics(m.workspaceId)).has(topic))
          out.set(
            m.key,
            `"${topic}" requires an opt-in, and the ${m.channel} channel has no contact point to subscribe`,
          );
        continue;
      }
      const k = `${m.workspaceId}/${m.channel}`;
      const g = groups.get(k) ?? { ws: m.workspaceId, channel: m.channel, items: [] };
      g.items.push({ m, to: p.to, topic });
      groups.set(k, g);
    }
    for (const g of groups.values()) {
      const addresses = g.items.map((i) => i.to);
      const suppressed = new Map(
        (await this.store.findSuppressions(g.ws, g.channel, addresses)).map((s) => [s.address, s]),
      );
      const asking = g.items.filter(
        (i) => !suppressed.has(i.to) && i.topic !== null && i.topic !== TRANSACTIONAL,
      );
      const subs = new Map<string, Subscription[]>();
      if (asking.length > 0) {
        for (const x of await this.store.listSubscriptions(
          g.ws,
          g.channel,
          asking.map((i) => i.to),
        ))
          subs.set(x.address, [...(subs.get(x.address) ?? []), x]);
      }
      const optIn = asking.length > 0 ? await this.optInTopics(g.ws) : new Set<string>();
      for (const i of g.items) {
        const s = suppressed.get(i.to);
        const reason = s
          ? suppressionReason(s)
          : i.topic === null
            ? null
            : unsubscribedReason(i.topic, subs.get(i.to) ?? [], optIn.has(i.topic));
        if (reason !== null) out.set(i.m.key, reason);
      }
    }
    return out;
  }

  /** The workspace's declared topics that require an opt-in, re-read at most once a second. */
  private async optInTopics(ws: string): Promise<Set<string>> {
    const now = this.clock.now();
    const hit = this.optIn.get(ws);
    if (hit && now - hit.at < 1000 && now >= hit.at) return hit.topics;
    const topics = topicsOf(await this.store.getSubscriptionTopics(ws));
    const set = new Set(topics.filter((t) => t.requiresOptIn).map((t) => t.id));
    this.optIn.set(ws, { at: now, topics: set });
    return set;
  }

  /** Runs batches until nothing is due at the clock's current time (tests, draining). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n === 0) return total;
    }
  }

  /**
   * Puts recipients a provider called dead (a mailbox that does not exist) on the suppression list,
   * before the batch's results are stored: no later message can reach them.
   */
  private async suppressGone(gone: readonly { m: ClaimedMessage; reason: string }[]): Promise<void> {
    for (const { m, reason } of gone) {
      const to = (m.payload as { to?: unknown } | null)?.to;
      if (typeof to !== 'string' || to === '') continue;
      await this.store.putSuppression(m.workspaceId, {
        channel: m.channel,
        address: to,
        reason: 'hard_bounce',
        detail: reason.slice(0, 1000),
        source: 'send',
        at: this.clock.now(),
      });
    }
  }

  private async deliver(
    m: ClaimedMessage,
    gone: { m: ClaimedMessage; reason: string }[],
  ): Promise<MessageResult> {
    const base = { workspaceId: m.workspaceId, key: m.key, claim: m.claim };
    const failed = (reason: string): MessageResult => ({
      ...base,
      status: 'failed',
      attempts: m.attempts,
      nextAttemptAt: null,
      reason,
    });
    const driver = this.opts.drivers[m.channel];
    if (!driver) return failed(`no provider delivers the ${m.channel} channel yet`);
    let channel;
    try {
      channel = await this.channels.resolve(m.workspaceId, m.channel);
    } catch (err) {
      this.logger.error({ err, channel: m.channel }, 'channel configuration cannot be read');
      return failed(`the ${m.channel} channel configuration cannot be read (was the secret key changed?)`);
    }
    if (!channel) return failed(`the workspace has not configured its ${m.channel} channel`);
    const now = this.clock.now();
    const rate = channel.settings['rate_per_second'];
    const wait = this.limits.take(
      `${m.workspaceId}/${m.channel}`,
      typeof rate === 'number' ? rate : null,
      now,
    );
    if (wait > 0) {
      return {
        ...base,
        status: 'queued',
        attempts: m.attempts,
        nextAttemptAt: now + wait,
        reason: `rate limit of ${String(rate)}/s`,
      };
    }
    let result: SendResult;
    try {
      result = await driver.send(m, channel, now);
    } catch (err) {
      result = { ok: false, retryable: true, reason: (err as Error).message };
    }
    const attempts = m.attempts + 1;
    if (!result.ok && result.gone === true) gone.push({ m, reason: result.reason });
    if (result.ok) return { ...base, status: 'sent', attempts, nextAttemptAt: null, reason: null };
    if (!result.retryable)
      return { ...base, status: 'failed', attempts, nextAttemptAt: null, reason: result.reason };
    const delay = retryDelay(attempts, this.draw(), this.backoff);
    if (delay === null) {
      return {
        ...base,
        status: 'failed',
        attempts,
        nextAttemptAt: null,
        reason: `gave up after ${attempts} attempts: ${result.reason}`,
      };
    }
    return {
      ...base,
      status: 'queued',
      attempts,
      nextAttemptAt: this.clock.now() + delay,
      reason: result.reason,
    };
  }

  /**
   * Sends one message now, outside the outbox, and answers with the provider's result: how an admin
   * checks a channel's configuration (a wrong password or host fails with the provider's message).
   * Push channels send to the devices of `profileId`.
   */
  async testSend(ws: string, channel: string, payload: unknown, profileId = 'test'): Promise<SendResult> {
    const driver = this.opts.drivers[channel];
    if (!driver)
      return { ok: false, retryable: false, reason: `no provider delivers the ${channel} channel yet` };
    const resolved = await this.channels.resolve(ws, channel, { fresh: true });
    if (!resolved)
      return {
        ok: false,
        retryable: false,
        reason: `the workspace has not configured its ${channel} channel`,
      };
    const now = this.clock.now();
    const message: ClaimedMessage = {
      workspaceId: ws,
      key: newId('test', now),
      journeyId: TEST_JOURNEY,
      profileId,
      channel,
      template: null,
      payload,
      attempts: 0,
      createdAt: now,
      claim: '',
    };
    try {
      return await driver.send(message, resolved, now);
    } catch (err) {
      return { ok: false, retryable: true, reason: (err as Error).message };
    }
  }

  start(): void {
    this.loop.start();
  }

  /** Messages were queued: look now instead of at the next poll. */
  nudge(): void {
    this.loop.nudge();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    // A batch claimed ahead is sent rather than left hidden for its lease; every result is stored.
    if (this.ahead) await this.runOnce();
    await this.flush();
    for (const d of Object.values(this.opts.drivers)) await d.close?.();
  }
}
