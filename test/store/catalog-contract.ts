import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { CatalogItem } from '../../src/store/catalog-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const NAMES = ['Product Viewed', 'Order Completed'];

export function item(id: string, over: Partial<CatalogItem> = {}): CatalogItem {
  return {
    id,
    name: `Item ${id}`,
    url: `https://shop.example/${id}`,
    imageUrl: null,
    price: 1200.5,
    currency: 'JPY',
    category: 'tea',
    available: true,
    extra: {},
    updatedAt: T0,
    ...over,
  };
}

/**
 * The catalogue, similar-items lists and interaction reads (src/store/catalog-store.ts), on every
 * adapter.
 */
export function catalogContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} catalog store contract`, () => {
    let h: StoreHarness;
    let store: Store;
    let ws: string;

    beforeEach(async () => {
      h = harness();
      await h.reset();
      store = await h.open(new ManualClock(T0));
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(async () => {
      await store.close();
    });

    it('upserts, reads, pages, counts and deletes items per workspace', async () => {
      const other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' }))
        .id;
      await store.putItems(ws, [
        item('b'),
        item('a', { price: null, currency: null, extra: { colour: 'green', tags: ['x'] } }),
      ]);
      await store.putItems(ws, [item('b', { name: 'Renamed', available: false, updatedAt: T0 + 5 })]);
      await store.putItems(other, [item('z')]);

      const got = await store.getItems(ws, ['a', 'b', 'nope', 'z']);
      expect([...got.keys()].sort()).toEqual(['a', 'b']);
      expect(got.get('a')).toEqual(
        item('a', { price: null, currency: null, extra: { colour: 'green', tags: ['x'] } }),
      );
      expect(got.get('b')).toEqual(item('b', { name: 'Renamed', available: false, updatedAt: T0 + 5 }));
      expect(await store.countItems(ws)).toBe(2);

      expect((await store.listItems(ws, { after: null, limit: 1 })).map((i) => i.id)).toEqual(['a']);
      expect((await store.listItems(ws, { after: 'a', limit: 10 })).map((i) => i.id)).toEqual(['b']);

      expect(await store.deleteItem(ws, 'a')).toBe(true);
      expect(await store.deleteItem(ws, 'a')).toBe(false);
      expect(await store.countItems(ws)).toBe(1);
      expect(await store.countItems(other)).toBe(1);
    });

    it('replaces similar-items lists whole and reads them best first', async () => {
      await store.replaceSimilar(
        ws,
        new Map([
          ['a', [{ other: 'old', score: 0.9 }]],
          ['x', [{ other: 'y', score: 0.1 }]],
        ]),
      );
      await store.replaceSimilar(
        ws,
        new Map([
          [
            'a',
            [
              { other: 'c', score: 0.25 },
              { other: 'b', score: 0.75 },
              { other: 'd', score: 0.25 },
            ],
          ],
          ['b', [{ other: 'a', score: 0.75 }]],
        ]),
      );
      const s = await store.similarTo(ws, ['a', 'b', 'x', 'a'], 2);
      expect(s.get('a')).toEqual([
        { other: 'b', score: 0.75 },
        { other: 'c', score: 0.25 },
      ]);
      expect(s.get('b')).toEqual([{ other: 'a', score: 0.75 }]);
      expect(s.has('x')).toBe(false);

      await store.putItems(ws, [item('a')]);
      await store.deleteItem(ws, 'a');
      expect((await store.similarTo(ws, ['a', 'b'], 5)).has('a')).toBe(false);
    });

    it('reads the most recent interactions of canonical profiles, newest first, a page at a time', async () => {
      const ev = (userId: string, name: string, at: number, properties: Record<string, unknown>) =>
        testEvent({ userId, name, timestamp: T0 + at, messageId: `${userId}-${at}`, properties });
      await store.ingest(ws, [
        ev('u1', 'Product Viewed', 1, { product_id: 'a' }),
        ev('u1', 'Signed Up', 2, {}),
        ev('u1', 'Order Completed', 3, { products: [{ product_id: 'b' }] }),
        ev('u1', 'Product Viewed', 4, { product_id: 'c' }),
        ev('u2', 'Product Viewed', 1, { product_id: 'a' }),
        ev('u3', 'Signed Up', 1, {}),
      ]);
      const id = async (u: string) => (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id;
      const [u1, u2, u3] = [await id('u1'), await id('u2'), await id('u3')];

      const recent = await store.interactionsOf(ws, [u1, u2, u3], { names: NAMES, perProfile: 2 });
      expect(recent.get(u1)).toEqual([
        { name: 'Product Viewed', timestamp: T0 + 4, properties: { product_id: 'c' } },
        { name: 'Order Completed', timestamp: T0 + 3, properties: { products: [{ product_id: 'b' }] } },
      ]);
      expect(recent.get(u2)?.map((i) => i.properties)).toEqual([{ product_id: 'a' }]);
      expect(recent.has(u3)).toBe(false);
      const bought = await store.interactionsOf(ws, [u1], { names: ['Order Completed'], perProfile: 10 });
      expect(bought.get(u1)).toHaveLength(1);

      const seen: string[] = [];
      let after: string | null = null;
      let profiles = 0;
      for (let pages = 0; pages < 5; pages++) {
        const page = await store.scanInteractions(ws, { after, limit: 2, names: NAMES, perProfile: 10 });
        profiles += page.profiles;
        seen.push(...page.interactions.keys());
        after = page.next;
        if (after === null) break;
      }
      expect(profiles).toBe(3);
      expect(seen.sort()).toEqual([u1, u2].sort());
      expect(after).toBeNull();
    });
  });
}
