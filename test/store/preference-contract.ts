import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';
import { outboxWorkspace } from './delivery-contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);

/** Declared subscription topics and pending (double opt-in) states (src/store/preference-store.ts), on every adapter. */
export function preferenceContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} preference store contract`, () => {
    let h: StoreHarness;
    let store: Store;
    let ws: string;

    beforeEach(async () => {
      h = harness();
      await h.reset();
      store = await h.open(new ManualClock(T0));
      await store.migrate();
      ws = await outboxWorkspace(store, T0);
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores each workspace’s declared topics, replacing them whole', async () => {
      const other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' }))
        .id;
      expect(await store.getSubscriptionTopics(ws)).toBeNull();
      const first = {
        topics: [
          {
            id: 'newsletter',
            requires_opt_in: true,
            labels: {
              en: { name: 'Newsletter', description: 'Weekly' },
              ja: { name: 'ニュースレター', description: '毎週' },
            },
          },
        ],
      };
      await store.putSubscriptionTopics(ws, first, T0);
      expect(await store.getSubscriptionTopics(ws)).toEqual(first);
      expect(await store.getSubscriptionTopics(other)).toBeNull();
      const second = {
        topics: [{ id: 'sale', requires_opt_in: false, labels: { en: { name: 'Sales', description: '' } } }],
      };
      await store.putSubscriptionTopics(ws, second, T0 + 1);
      expect(await store.getSubscriptionTopics(ws)).toEqual(second);
    });

    it('keeps a pending (double opt-in) state until it is replaced', async () => {
      const base = { channel: 'email', address: 'ann@example.com', topic: 'newsletter' } as const;
      await store.setSubscription(ws, { ...base, status: 'pending', source: 'signup-form', at: T0 });
      expect(await store.listSubscriptions(ws, 'email', ['ann@example.com'])).toEqual([
        { ...base, status: 'pending', source: 'signup-form', at: T0 },
      ]);
      await store.setSubscription(ws, { ...base, status: 'subscribed', source: 'double-opt-in', at: T0 + 5 });
      expect(await store.listSubscriptions(ws, 'email', ['ann@example.com'])).toEqual([
        { ...base, status: 'subscribed', source: 'double-opt-in', at: T0 + 5 },
      ]);
    });
  });
}
