import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { ClaimedMessage, OutboxMessage } from '../../src/store/delivery-store.js';
import type { ClaimedEntry } from '../../src/store/journey-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const LEASE = 60_000;

const WELCOME = {
  name: 'Welcome',
  trigger: { event: 'Signed Up' },
  entry: { limit: 'every_time' },
  start: 'hello',
  steps: {
    hello: { type: 'send', channel: 'email', template: 'hello', next: 'done' },
    done: { type: 'exit' },
  },
};

/** A workspace with the Welcome journey published, and helpers that put messages in its outbox. */
export async function outboxWorkspace(store: Store, at: number): Promise<string> {
  const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  await store.createJourney(ws, { id: 'jr_w', name: 'Welcome', draft: WELCOME }, at);
  await store.publishJourney(ws, 'jr_w', { definition: WELCOME, migrate: false, nextRunAt: null }, at);
  return ws;
}

export function outbox(ctx: () => { store: Store; clock: ManualClock; ws: string }) {
  /** Enters `n` customers and completes their first step with the messages `make` gives each. */
  const enqueue = async (n: number, make: (e: ClaimedEntry, i: number) => OutboxMessage[]) => {
    await ctx().store.ingest(
      ctx().ws,
      Array.from({ length: n }, (_, i) =>
        testEvent({ userId: `u${i}`, name: 'Signed Up', messageId: `s${i}`, timestamp: ctx().clock.now() }),
      ),
    );
    const claimed = await ctx().store.claimDueEntries('runner', 1000, ctx().clock.now(), LEASE);
    expect(claimed).toHaveLength(n);
    const applied = await ctx().store.completeEntries(
      claimed.map((e, i) => ({
        workspaceId: e.workspaceId,
        entryId: e.id,
        claim: e.claim,
        profileId: e.profileId,
        journeyId: e.journeyId,
        state: 'completed',
        position: { step: 'done', phase: 'enter', stepsTaken: 2, signal: null },
        dueAt: null,
        waitingFor: null,
        exitReason: null,
        log: [],
        actions: [],
        messages: make(e, i),
      })),
      ctx().clock.now(),
    );
    expect(applied).toBe(n);
    return claimed;
  };
  const queued = (e: ClaimedEntry, over: Partial<OutboxMessage> = {}): OutboxMessage => ({
    key: `${e.id}:hello:0`,
    step: 'hello',
    channel: 'webhook',
    template: null,
    payload: { url: 'https://example.com/hook', body: { hi: '日本' } },
    topic: null,
    status: 'queued',
    nextAttemptAt: ctx().clock.now(),
    reason: null,
    ...over,
  });

  /** Stores a claimed message's result: sent on its first attempt. */
  const sent = (m: ClaimedMessage) =>
    ctx().store.completeMessages(
      [
        {
          workspaceId: ctx().ws,
          key: m.key,
          claim: m.claim,
          status: 'sent',
          attempts: 1,
          nextAttemptAt: null,
          reason: null,
        },
      ],
      ctx().clock.now(),
    );

  return { enqueue, queued, sent };
}

/**
 * The outbox half of the store contract (src/store/delivery-store.ts), on every adapter: messages a
 * step stored are claimed exclusively, results apply only under a held claim, retries wait for their
 * time, final states are never claimed again, and every state is in the message's history.
 */
export function deliveryContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} delivery store contract`, () => {
    let h: StoreHarness;
    let clock: ManualClock;
    let store: Store;
    let ws: string;
    const opened: Store[] = [];
    const open = async () => {
      const s = await h.open(clock);
      opened.push(s);
      return s;
    };

    const { enqueue, queued, sent } = outbox(() => ({ store, clock, ws }));

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0);
      store = await open();
      await store.migrate();
      ws = await outboxWorkspace(store, T0);
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('claims due messages once, hides them for the lease, and stores a sent result with its history', async () => {
      await enqueue(5, (e) => [queued(e)]);
      const a = await store.claimDueMessages('d1', 3, clock.now(), LEASE);
      const b = await store.claimDueMessages('d2', 10, clock.now(), LEASE);
      expect(a).toHaveLength(3);
      expect(b).toHaveLength(2);
      expect(new Set([...a, ...b].map((m) => m.key)).size).toBe(5);
      expect(a[0]).toMatchObject({
        workspaceId: ws,
        journeyId: 'jr_w',
        channel: 'webhook',
        payload: { url: 'https://example.com/hook', body: { hi: '日本' } },
        attempts: 0,
      });
      expect(await store.claimDueMessages('d3', 10, clock.now(), LEASE)).toEqual([]);

      clock.advance(1000);
      const done = await store.completeMessages(
        [...a, ...b].map((m) => ({
          workspaceId: m.workspaceId,
          key: m.key,
          claim: m.claim,
          status: 'sent',
          attempts: 1,
          nextAttemptAt: null,
          reason: null,
        })),
        clock.now(),
      );
      expect(done).toBe(5);
      clock.advance(10 * LEASE);
      expect(await store.claimDueMessages('d3', 10, clock.now(), LEASE)).toEqual([]);
      const listed = await store.listJourneyMessages(ws, { journeyId: 'jr_w', limit: 10 });
      expect(listed.map((m) => [m.status, m.attempts, m.nextAttemptAt])).toEqual(
        Array.from({ length: 5 }, () => ['sent', 1, null]),
      );
      expect(await store.getMessage(ws, a[0]!.key)).toMatchObject({ status: 'sent', updatedAt: T0 + 1000 });
      expect(await store.getMessage(ws, 'nope')).toBeNull();
      expect(await store.listMessageEvents(ws, a[0]!.key)).toEqual([
        { at: T0, status: 'queued', attempt: 0, detail: null },
        { at: T0 + 1000, status: 'sent', attempt: 1, detail: null },
      ]);
    });

    it('waits for a retry time, fails for good, and never claims suppressed or skipped messages', async () => {
      const entries = await enqueue(3, (e, i) =>
        i === 0
          ? [queued(e)]
          : [
              queued(e, {
                status: i === 1 ? 'suppressed' : 'skipped',
                nextAttemptAt: null,
                reason: i === 1 ? 'frequency cap' : 'missing first_name',
              }),
            ],
      );
      const [m] = await store.claimDueMessages('d1', 10, clock.now(), LEASE);
      expect(m?.key).toBe(`${entries[0]!.id}:hello:0`);
      const retry = clock.now() + 30_000;
      await store.completeMessages(
        [
          {
            workspaceId: ws,
            key: m!.key,
            claim: m!.claim,
            status: 'queued',
            attempts: 1,
            nextAttemptAt: retry,
            reason: 'the endpoint answered 503',
          },
        ],
        clock.now(),
      );
      clock.advance(29_999);
      expect(await store.claimDueMessages('d1', 10, clock.now(), LEASE)).toEqual([]);
      clock.advance(1);
      const [again] = await store.claimDueMessages('d1', 10, clock.now(), LEASE);
      expect(again).toMatchObject({ key: m!.key, attempts: 1 });
      await store.completeMessages(
        [
          {
            workspaceId: ws,
            key: again!.key,
            claim: again!.claim,
            status: 'failed',
            attempts: 2,
            nextAttemptAt: retry,
            reason: 'the endpoint answered 410',
          },
        ],
        clock.now(),
      );
      clock.advance(365 * 86_400_000);
      expect(await store.claimDueMessages('d1', 10, clock.now(), LEASE)).toEqual([]);
      const all = await store.listJourneyMessages(ws, { limit: 10 });
      const byStatus = Object.fromEntries(all.map((x) => [x.status, x.reason]));
      expect(byStatus).toEqual({
        failed: 'the endpoint answered 410',
        suppressed: 'frequency cap',
        skipped: 'missing first_name',
      });
      expect((await store.listMessageEvents(ws, m!.key)).map((e) => [e.status, e.attempt, e.detail])).toEqual(
        [
          ['queued', 0, null],
          ['queued', 1, 'the endpoint answered 503'],
          ['failed', 2, 'the endpoint answered 410'],
        ],
      );
    });

    it('drops the result of a claim that lapsed and was taken by another dispatcher', async () => {
      await enqueue(1, (e) => [queued(e)]);
      const [first] = await store.claimDueMessages('d1', 10, clock.now(), LEASE);
      clock.advance(LEASE);
      const [second] = await store.claimDueMessages('d2', 10, clock.now(), LEASE);
      expect(second?.key).toBe(first!.key);
      const result = (c: typeof first, reason: string) => ({
        workspaceId: ws,
        key: c!.key,
        claim: c!.claim,
        status: 'failed' as const,
        attempts: 1,
        nextAttemptAt: null,
        reason,
      });
      expect(await store.completeMessages([result(first, 'late')], clock.now())).toBe(0);
      expect(await store.completeMessages([result(second, 'current')], clock.now())).toBe(1);
      const [msg] = await store.listJourneyMessages(ws, { limit: 1 });
      expect(msg).toMatchObject({ status: 'failed', reason: 'current' });
    });

    it('keeps a message as it is when its step runs again after a crash (same key)', async () => {
      const [e] = await enqueue(1, (x) => [queued(x)]);
      const [m] = await store.claimDueMessages('d1', 10, clock.now(), LEASE);
      await sent(m!);
      // A second customer's run stores the same key again, as a step re-run after a crash would.
      await store.ingest(ws, [
        testEvent({ userId: 'u0', name: 'Signed Up', messageId: 'again', timestamp: clock.now() }),
      ]);
      const [e2] = await store.claimDueEntries('runner', 10, clock.now(), LEASE);
      await store.completeEntries(
        [
          {
            workspaceId: ws,
            entryId: e2!.id,
            claim: e2!.claim,
            profileId: e2!.profileId,
            journeyId: 'jr_w',
            state: 'completed',
            position: { step: 'done', phase: 'enter', stepsTaken: 2, signal: null },
            dueAt: null,
            waitingFor: null,
            exitReason: null,
            log: [],
            actions: [],
            messages: [queued(e!)],
          },
        ],
        clock.now(),
      );
      const msgs = await store.listJourneyMessages(ws, { limit: 10 });
      expect(msgs).toHaveLength(1);
      expect(msgs[0]).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await store.claimDueMessages('d1', 10, clock.now(), LEASE)).toEqual([]);
      expect(await store.listMessageEvents(ws, m!.key)).toHaveLength(2);
    });

    it('stores channel configurations per workspace, replaced whole and deleted', async () => {
      const other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' }))
        .id;
      const email = {
        channel: 'email',
        provider: 'smtp',
        settings: { host: 'localhost', port: 2525, from: 'Shop <shop@example.com>' },
        secrets: 'v1:abc',
        updatedAt: T0,
      };
      await store.putChannel(ws, email);
      await store.putChannel(ws, {
        channel: 'webhook',
        provider: 'webhook',
        settings: {},
        secrets: 'v1:x',
        updatedAt: T0,
      });
      expect(await store.getChannel(ws, 'email')).toEqual(email);
      expect(await store.getChannel(other, 'email')).toBeNull();
      await store.putChannel(ws, { ...email, settings: { host: 'mail' }, updatedAt: T0 + 1 });
      expect(await store.getChannel(ws, 'email')).toMatchObject({
        settings: { host: 'mail' },
        updatedAt: T0 + 1,
      });
      expect((await store.listChannels(ws)).map((c) => c.channel)).toEqual(['email', 'webhook']);
      expect(await store.deleteChannel(ws, 'email')).toBe(true);
      expect(await store.deleteChannel(ws, 'email')).toBe(false);
      expect((await store.listChannels(ws)).map((c) => c.channel)).toEqual(['webhook']);
    });

    it('stores templates with growing versions, refusing a second create and a replace of nothing', async () => {
      const def = {
        name: 'hello',
        channel: 'email',
        variants: { en: { subject: 'Hi', text: 'こんにちは' } },
      };
      const created = await store.putTemplate(
        ws,
        { name: 'hello', channel: 'email', definition: def },
        'create',
        T0,
      );
      expect(created).toEqual({
        name: 'hello',
        channel: 'email',
        definition: def,
        version: 1,
        createdAt: T0,
        updatedAt: T0,
      });
      await expect(
        store.putTemplate(ws, { name: 'hello', channel: 'email', definition: def }, 'create', T0),
      ).rejects.toMatchObject({ name: 'ConflictError' });
      await expect(
        store.putTemplate(ws, { name: 'nope', channel: 'email', definition: def }, 'replace', T0),
      ).rejects.toMatchObject({ name: 'NotFoundError' });
      const changed = { ...def, channel: 'sms', variants: { en: { body: 'Hi' } } };
      const v2 = await store.putTemplate(
        ws,
        { name: 'hello', channel: 'sms', definition: changed },
        'replace',
        T0 + 5,
      );
      expect(v2).toMatchObject({ version: 2, channel: 'sms', createdAt: T0, updatedAt: T0 + 5 });
      expect(await store.getTemplate(ws, 'hello')).toEqual(v2);
      await store.putTemplate(ws, { name: 'after', channel: 'sms', definition: changed }, 'create', T0);
      expect((await store.listTemplates(ws)).map((t) => t.name)).toEqual(['after', 'hello']);
      const other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' }))
        .id;
      expect(await store.getTemplate(other, 'hello')).toBeNull();
      expect(await store.deleteTemplate(ws, 'hello')).toBe(true);
      expect(await store.deleteTemplate(ws, 'hello')).toBe(false);
      expect(await store.getTemplate(ws, 'hello')).toBeNull();
    });

    it('keeps one subscription state per contact point and topic, latest wins', async () => {
      const sub = (topic: string, status: 'subscribed' | 'unsubscribed', at: number) => ({
        channel: 'email',
        address: 'ann@example.com',
        topic,
        status,
        source: 'one-click',
        at,
      });
      await store.setSubscription(ws, sub('marketing', 'unsubscribed', T0));
      await store.setSubscription(ws, sub('news', 'unsubscribed', T0));
      await store.setSubscription(ws, sub('marketing', 'subscribed', T0 + 1));
      await store.setSubscription(ws, { ...sub('*', 'unsubscribed', T0), address: 'bo@example.com' });
      const found = await store.listSubscriptions(ws, 'email', [
        'ann@example.com',
        'bo@example.com',
        'ann@example.com',
      ]);
      expect(found.map((x) => [x.address, x.topic, x.status, x.at]).sort()).toEqual([
        ['ann@example.com', 'marketing', 'subscribed', T0 + 1],
        ['ann@example.com', 'news', 'unsubscribed', T0],
        ['bo@example.com', '*', 'unsubscribed', T0],
      ]);
      expect(await store.listSubscriptions(ws, 'sms', ['ann@example.com'])).toEqual([]);
      expect(await store.listSubscriptions(ws, 'email', [])).toEqual([]);
      // A list is stored at once (a preference form saving every topic).
      await store.setSubscription(ws, [
        sub('news', 'subscribed', T0 + 2),
        sub('sales', 'unsubscribed', T0 + 2),
      ]);
      await store.setSubscription(ws, []);
      const ann = await store.listSubscriptions(ws, 'email', ['ann@example.com']);
      expect(ann.map((x) => [x.topic, x.status]).sort()).toEqual([
        ['marketing', 'subscribed'],
        ['news', 'subscribed'],
        ['sales', 'unsubscribed'],
      ]);
    });

    it('counts recent queued and sent messages per customer for frequency caps, and keeps delivery settings', async () => {
      const entries = await enqueue(3, (e, i) => [
        queued(e, { key: `${e.id}:a`, channel: 'email', topic: 'marketing' }),
        queued(e, { key: `${e.id}:b`, channel: 'push', topic: i === 0 ? 'transactional' : 'marketing' }),
        queued(e, {
          key: `${e.id}:c`,
          channel: 'sms',
          topic: 'marketing',
          status: 'suppressed',
          nextAttemptAt: null,
        }),
        queued(e, { key: `${e.id}:d`, channel: 'webhook', topic: null }),
      ]);
      const ids = entries.map((e) => e.profileId);
      const recent = await store.recentMessages(ws, [...ids, 'p_nobody'], T0 - 1);
      const channels = (id: string) => (recent.get(id) ?? []).map((m) => m.channel).sort();
      expect(channels(ids[0]!)).toEqual(['email']);
      expect(channels(ids[1]!)).toEqual(['email', 'push']);
      expect(recent.get(ids[1]!)?.[0]?.at).toBe(T0);
      expect(recent.has('p_nobody')).toBe(false);
      expect((await store.recentMessages(ws, ids, T0)).size).toBe(0);

      expect(await store.getDeliverySettings(ws)).toBeNull();
      const settings = { quiet_hours: null, frequency_caps: [{ max: 3, window: '7d' }] };
      await store.putDeliverySettings(ws, settings, T0);
      await store.putDeliverySettings(ws, { ...settings, frequency_caps: [] }, T0 + 1);
      expect(await store.getDeliverySettings(ws)).toEqual({ quiet_hours: null, frequency_caps: [] });
    });

    it("lists every state of a customer's messages, newest first, creation included", async () => {
      const [e] = await enqueue(1, (x) => [
        queued(x),
        queued(x, { key: `${x.id}:b`, status: 'skipped', nextAttemptAt: null, reason: 'no address' }),
      ]);
      clock.advance(1000);
      const [m] = await store.claimDueMessages('d1', 10, clock.now(), LEASE);
      await sent(m!);
      const states = await store.listProfileMessageStates(ws, e!.profileId, { before: null, limit: 10 });
      expect(states.map((x) => [x.at - T0, x.status, x.attempt, x.detail])).toEqual([
        [1000, 'sent', 1, null],
        [0, 'queued', 0, null],
        [0, 'skipped', 0, 'no address'],
      ]);
      expect(states[0]).toMatchObject({ journeyId: 'jr_w', channel: 'webhook', key: m!.key });
      const older = await store.listProfileMessageStates(ws, e!.profileId, { before: T0 + 1000, limit: 10 });
      expect(older).toHaveLength(2);
      expect(await store.listProfileMessageStates(ws, e!.profileId, { before: null, limit: 1 })).toHaveLength(
        1,
      );
    });
  });
}
