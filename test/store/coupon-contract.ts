import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);

/** Coupon pools (src/store/coupon-store.ts), on every adapter. */
export function couponContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} coupon store contract`, () => {
    let store: Store;
    let ws: string;

    beforeEach(async () => {
      const h = harness();
      await h.reset();
      store = await h.open(new ManualClock(T0));
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(async () => {
      await store.close();
    });

    it('keeps pools with their counts; adds codes once; refuses codes for a pool that does not exist', async () => {
      expect(await store.putCouponPool(ws, { name: 'spring', description: '10% off' }, T0)).toBe(true);
      expect(await store.putCouponPool(ws, { name: 'spring', description: '15% off' }, T0 + 1)).toBe(false);
      await store.putCouponPool(ws, { name: 'autumn', description: null }, T0);
      expect(await store.addCouponCodes(ws, 'spring', ['A1', 'A2', 'A3'], T0)).toBe(3);
      expect(await store.addCouponCodes(ws, 'spring', ['A3', 'A4', 'ＡＢ'], T0 + 5)).toBe(2);
      await expect(store.addCouponCodes(ws, 'nope', ['X'], T0)).rejects.toThrow(
        /no coupon pool named "nope"/,
      );
      expect(await store.getCouponPool(ws, 'spring')).toEqual({
        name: 'spring',
        description: '15% off',
        createdAt: T0,
        updatedAt: T0 + 1,
        total: 5,
        assigned: 0,
        redeemed: 0,
      });
      expect((await store.listCouponPools(ws)).map((p) => [p.name, p.total])).toEqual([
        ['autumn', 0],
        ['spring', 5],
      ]);
      expect(await store.deleteCouponPool(ws, 'spring')).toBe(true);
      expect(await store.deleteCouponPool(ws, 'spring')).toBe(false);
      expect(await store.getCouponCode(ws, 'spring', 'A1')).toBeNull();
    });

    it('gives each message the oldest free code once, the same code again, and null when the pool runs out', async () => {
      await store.putCouponPool(ws, { name: 'spring', description: null }, T0);
      await store.addCouponCodes(ws, 'spring', ['B2', 'B1'], T0);
      await store.addCouponCodes(ws, 'spring', ['A9'], T0 + 1);
      const got = await store.assignCoupons(
        ws,
        [
          { pool: 'spring', messageKey: 'm1', profileId: 'p1' },
          { pool: 'spring', messageKey: 'm2', profileId: 'p2' },
          { pool: 'spring', messageKey: 'm1', profileId: 'p1' },
        ],
        T0 + 10,
      );
      expect(Object.fromEntries(got)).toEqual({ 'spring/m1': 'B1', 'spring/m2': 'B2' });
      const again = await store.assignCoupons(
        ws,
        [
          { pool: 'spring', messageKey: 'm2', profileId: 'p2' },
          { pool: 'spring', messageKey: 'm3', profileId: 'p3' },
          { pool: 'spring', messageKey: 'm4', profileId: 'p4' },
        ],
        T0 + 20,
      );
      expect(Object.fromEntries(again)).toEqual({ 'spring/m2': 'B2', 'spring/m3': 'A9', 'spring/m4': null });
      expect(await store.getCouponCode(ws, 'spring', 'B1')).toEqual({
        pool: 'spring',
        code: 'B1',
        addedAt: T0,
        messageKey: 'm1',
        profileId: 'p1',
        assignedAt: T0 + 10,
        redeemedAt: null,
      });
      expect((await store.getCouponPool(ws, 'spring'))?.assigned).toBe(3);
    });

    it('never gives one code to two messages when assignments race', async () => {
      await store.putCouponPool(ws, { name: 'race', description: null }, T0);
      await store.addCouponCodes(
        ws,
        'race',
        Array.from({ length: 60 }, (_, i) => `R${String(i).padStart(3, '0')}`),
        T0,
      );
      const batches = Array.from({ length: 4 }, (_, b) =>
        Array.from({ length: 20 }, (_, i) => ({
          pool: 'race',
          messageKey: `m${b}-${i}`,
          profileId: `p${i}`,
        })),
      );
      const results = await Promise.all(batches.map((q) => store.assignCoupons(ws, q, T0)));
      const codes = results.flatMap((r) => [...r.values()]);
      const given = codes.filter((c): c is string => c !== null);
      expect(given).toHaveLength(60);
      expect(new Set(given).size).toBe(60);
      expect(codes.filter((c) => c === null)).toHaveLength(20);
    });

    it('marks a code redeemed when an order or coupon event reports it', async () => {
      await store.putCouponPool(ws, { name: 'spring', description: null }, T0);
      await store.addCouponCodes(ws, 'spring', ['SPRING-1', 'SPRING-2'], T0);
      await store.assignCoupons(ws, [{ pool: 'spring', messageKey: 'm1', profileId: 'p1' }], T0);
      await store.ingest(ws, [
        testEvent({
          userId: 'u1',
          name: 'Order Completed',
          messageId: 'o1',
          timestamp: T0 + 100,
          properties: { coupon: 'SPRING-1', revenue: 10 },
        }),
        testEvent({
          userId: 'u1',
          name: 'Product Viewed',
          messageId: 'v1',
          properties: { coupon: 'SPRING-2' },
        }),
      ]);
      await store.ingest(ws, [
        testEvent({
          userId: 'u2',
          name: 'Coupon Applied',
          messageId: 'c1',
          timestamp: T0 + 200,
          properties: { coupon: 'SPRING-1' },
        }),
      ]);
      expect((await store.getCouponCode(ws, 'spring', 'SPRING-1'))?.redeemedAt).toBe(T0 + 100);
      expect((await store.getCouponCode(ws, 'spring', 'SPRING-2'))?.redeemedAt).toBeNull();
      expect((await store.getCouponPool(ws, 'spring'))?.redeemed).toBe(1);
    });
  });
}
