import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { Device } from '../../src/store/contact-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';
import { outbox, outboxWorkspace } from './delivery-contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const APNS_TOKEN = 'ab'.repeat(32);

/**
 * Suppressions, devices and after-send states (src/store/contact-store.ts), on every adapter.
 */
export function contactContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} contact store contract`, () => {
    let h: StoreHarness;
    let clock: ManualClock;
    let store: Store;
    let ws: string;
    const { enqueue, queued, sent } = outbox(() => ({ store, clock, ws }));

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0);
      store = await h.open(clock);
      await store.migrate();
      ws = await outboxWorkspace(store, T0);
    });
    afterEach(async () => {
      await store.close();
    });

    it('suppresses addresses per channel, replaces, pages and lifts suppressions', async () => {
      const base = { channel: 'email', detail: null, source: 'api', at: T0 } as const;
      await store.putSuppression(ws, { ...base, address: 'b@x.jp', reason: 'manual' });
      await store.putSuppression(ws, { ...base, address: 'a@x.jp', reason: 'hard_bounce', detail: '5.1.1' });
      await store.putSuppression(ws, { ...base, address: 'a@x.jp', reason: 'complaint', source: 'arf' });
      await store.putSuppression(ws, { ...base, channel: 'sms', address: '+819012345678', reason: 'manual' });
      const found = await store.findSuppressions(ws, 'email', ['a@x.jp', 'c@x.jp', 'a@x.jp']);
      expect(found).toEqual([{ ...base, address: 'a@x.jp', reason: 'complaint', source: 'arf' }]);
      expect(await store.findSuppressions(ws, 'sms', ['a@x.jp'])).toEqual([]);

      const page1 = await store.listSuppressions(ws, { channel: null, after: null, limit: 2 });
      expect(page1.map((s) => [s.channel, s.address])).toEqual([
        ['email', 'a@x.jp'],
        ['email', 'b@x.jp'],
      ]);
      const page2 = await store.listSuppressions(ws, {
        channel: null,
        after: { channel: 'email', address: 'b@x.jp' },
        limit: 2,
      });
      expect(page2.map((s) => s.address)).toEqual(['+819012345678']);
      expect(await store.listSuppressions(ws, { channel: 'sms', after: null, limit: 10 })).toHaveLength(1);

      expect(await store.deleteSuppression(ws, 'email', 'a@x.jp')).toBe(true);
      expect(await store.deleteSuppression(ws, 'email', 'a@x.jp')).toBe(false);
      expect(await store.findSuppressions(ws, 'email', ['a@x.jp'])).toEqual([]);
    });

    it('records devices from context.device.token, keeps the latest owner and moves them on merges', async () => {
      await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'u1',
          messageId: 'i1',
          timestamp: T0,
          context: { device: { token: APNS_TOKEN, type: 'ios' } },
        }),
        testEvent({
          anonymousId: 'anon',
          messageId: 't1',
          timestamp: T0 + 10,
          context: { device: { token: 'fcm-token-123456' }, os: { name: 'Android' } },
        }),
        // Not tokens: ignored.
        testEvent({ userId: 'u1', messageId: 't2', timestamp: T0, context: { device: { token: 12 } } }),
        testEvent({ userId: 'u1', messageId: 't3', timestamp: T0, context: { device: { token: 'a b' } } }),
      ]);
      const u1 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      const anon = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' }))!.id;
      const before = await store.listDevices(ws, [u1, anon, 'p_nobody']);
      expect(before.get(u1)?.map((d) => [d.token, d.kind])).toEqual([[APNS_TOKEN, 'ios']]);
      expect(before.get(anon)?.map((d) => [d.token, d.kind])).toEqual([['fcm-token-123456', 'android']]);
      expect(before.has('p_nobody')).toBe(false);

      // An older report from another profile does not take the token back; a newer one does.
      await store.ingest(ws, [
        testEvent({
          userId: 'u2',
          messageId: 'o1',
          timestamp: T0 - 1000,
          context: { device: { token: APNS_TOKEN, type: 'ios' } },
        }),
      ]);
      const u2 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u2' }))!.id;
      expect((await store.listDevices(ws, [u2])).has(u2)).toBe(false);

      // The anonymous visitor signs in as u1: the merge moves the android token to the survivor.
      await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'u1',
          anonymousId: 'anon',
          messageId: 'm1',
          timestamp: T0 + 20,
        }),
      ]);
      const survivor = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' }))!.id;
      const after = await store.listDevices(ws, [survivor]);
      expect(
        after
          .get(survivor)
          ?.map((d) => d.token)
          .sort(),
      ).toEqual([APNS_TOKEN, 'fcm-token-123456'].sort());

      const web: Device = {
        token: 'https://push.example.com/send/abc',
        profileId: u2,
        kind: 'web',
        subscription: { endpoint: 'https://push.example.com/send/abc', keys: { p256dh: 'k', auth: 'a' } },
        createdAt: T0 + 30,
        updatedAt: T0 + 30,
      };
      await store.putDevices(ws, [web]);
      expect((await store.listDevices(ws, [u2])).get(u2)).toEqual([web]);
      expect(await store.deleteDevice(ws, web.token)).toBe(true);
      expect(await store.deleteDevice(ws, web.token)).toBe(false);
      expect((await store.listDevices(ws, [u2])).has(u2)).toBe(false);
    });

    it('records after-send states once each, moving a message forward only', async () => {
      await enqueue(2, (e) => [queued(e)]);
      const [a, b] = await store.claimDueMessages('d1', 10, clock.now(), 60_000);
      await sent(a!);
      await sent(b!);
      const state = (
        key: string,
        status: 'opened' | 'clicked' | 'bounced' | 'complained' | 'delivered',
        detail: string | null = null,
      ) => ({
        workspaceId: ws,
        key,
        status,
        at: clock.now(),
        detail,
      });
      clock.advance(1000);
      expect(
        await store.recordAfterSend(
          [
            state(a!.key, 'opened'),
            state(a!.key, 'opened'),
            state(a!.key, 'clicked', 'https://shop.example/a'),
            state(a!.key, 'clicked', 'https://shop.example/a'),
            state(a!.key, 'clicked', 'https://shop.example/b'),
            state('no-such-message', 'opened'),
          ],
          clock.now(),
        ),
      ).toBe(3);
      // A late open after the click leaves the status at clicked; a bounce after an open is recorded only.
      expect(
        await store.recordAfterSend(
          [state(a!.key, 'delivered'), state(a!.key, 'bounced', '5.1.1')],
          clock.now(),
        ),
      ).toBe(2);
      expect((await store.getMessage(ws, a!.key))?.status).toBe('clicked');
      expect((await store.listMessageEvents(ws, a!.key)).map((e) => [e.status, e.detail])).toEqual([
        ['queued', null],
        ['sent', null],
        ['opened', null],
        ['clicked', 'https://shop.example/a'],
        ['clicked', 'https://shop.example/b'],
        ['delivered', null],
        ['bounced', '5.1.1'],
      ]);

      expect(await store.recordAfterSend([state(b!.key, 'bounced', '5.1.1 user unknown')], clock.now())).toBe(
        1,
      );
      expect(await store.recordAfterSend([state(b!.key, 'complained', 'abuse')], clock.now())).toBe(1);
      expect((await store.getMessage(ws, b!.key))?.status).toBe('bounced');
    });

    it('ignores after-send states of messages that never went out', async () => {
      await enqueue(1, (e) => [queued(e)]);
      const [m] = await store.claimDueMessages('d1', 10, clock.now(), 60_000);
      expect(
        await store.recordAfterSend(
          [{ workspaceId: ws, key: m!.key, status: 'opened', at: clock.now(), detail: null }],
          clock.now(),
        ),
      ).toBe(0);
      expect((await store.getMessage(ws, m!.key))?.status).toBe('queued');
    });
  });
}
