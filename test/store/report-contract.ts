import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { ReportCursor, ReportEventRow } from '../../src/store/report-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';
import { outbox, outboxWorkspace } from './delivery-contract.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1); // a Monday
const LEASE = 60_000;

/**
 * The report scans (src/store/report-store.ts) on every adapter: the same events in the same order
 * across pages, cohort counts over boundaries, stage transitions, and message states per campaign.
 */
export function reportContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} report store contract`, () => {
    let h: StoreHarness;
    let clock: ManualClock;
    let store: Store;
    let ws: string;
    const { enqueue, queued } = outbox(() => ({ store, clock, ws }));

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0);
      store = await h.open(clock);
      await store.migrate();
      ws = await outboxWorkspace(store, T0);
    });
    afterEach(() => store.close());

    const track = (userId: string, name: string, day: number, properties?: Record<string, unknown>, n = 0) =>
      testEvent({
        userId,
        name,
        messageId: `${userId}-${name}-${day}-${n}`,
        timestamp: T0 + day * DAY + n * 1000,
        ...(properties && { properties }),
      });

    const scanAll = async (q: Parameters<Store['reportEvents']>[1], limit: number) => {
      const rows: ReportEventRow[] = [];
      let after: ReportCursor | null = null;
      let pages = 0;
      do {
        const page = await store.reportEvents(ws, q, { after, limit });
        rows.push(...page.rows);
        after = page.next;
        pages++;
      } while (after !== null);
      return { rows, pages };
    };

    it('scans events by customer and time, filtered by name and range, across pages', async () => {
      await store.ingest(ws, [
        // stored out of order on purpose
        track('b', 'Order Completed', 3, { total: 40 }),
        track('a', 'Product Viewed', 2, { sku: 'x' }),
        track('a', 'Product Viewed', 1, { sku: 'y' }),
        track('b', 'Product Viewed', 1),
        track('a', 'Order Completed', 9),
        track('c', 'Signed Up', 1),
        testEvent({
          type: 'identify',
          userId: 'c',
          messageId: 'id-c',
          timestamp: T0 + DAY,
          traits: { a: 1 },
        }),
      ]);
      const a = (await store.lookupProfile(ws, { kind: 'user_id', value: 'a' }))!.id;
      const b = (await store.lookupProfile(ws, { kind: 'user_id', value: 'b' }))!.id;
      const q = {
        names: ['Product Viewed', 'Order Completed'],
        from: T0,
        to: T0 + 5 * DAY,
        properties: true,
      };
      const { rows, pages } = await scanAll(q, 2);
      expect(pages).toBe(3);
      const expected = [
        ...[
          { profileId: a, name: 'Product Viewed', at: T0 + DAY, properties: { sku: 'y' } },
          { profileId: a, name: 'Product Viewed', at: T0 + 2 * DAY, properties: { sku: 'x' } },
        ],
        ...[
          { profileId: b, name: 'Product Viewed', at: T0 + DAY, properties: {} },
          { profileId: b, name: 'Order Completed', at: T0 + 3 * DAY, properties: { total: 40 } },
        ],
      ].sort((x, y) => (x.profileId < y.profileId ? -1 : x.profileId > y.profileId ? 1 : x.at - y.at));
      expect(rows).toEqual(expected);
      // Every track event, no properties: the identify is left out, the signup in.
      const all = await scanAll({ names: null, from: T0, to: T0 + 30 * DAY, properties: false }, 1000);
      expect(all.rows.map((r) => r.name).sort()).toEqual([
        'Order Completed',
        'Order Completed',
        'Product Viewed',
        'Product Viewed',
        'Product Viewed',
        'Signed Up',
      ]);
      expect(all.rows.every((r) => r.properties === null)).toBe(true);
      const groups = await store.profileGroups(ws, [a, b, 'p_nobody'], 'stage');
      expect([...groups.keys()].sort()).toEqual([a, b].sort());
      const segs = await store.profileGroups(ws, [a], 'segment');
      expect(segs.get(a)).toEqual([]);
    });

    it('counts retention cohorts by first seen and by first purchase over period boundaries', async () => {
      const W = 7 * DAY;
      await store.ingest(ws, [
        // week 0 cohort: x and y; x comes back in weeks 1 and 2, y in week 2 (twice)
        track('x', 'Signed Up', 0),
        track('x', 'Product Viewed', 8),
        track('x', 'Product Viewed', 15),
        track('y', 'Signed Up', 1),
        track('y', 'Order Completed', 16),
        track('y', 'Order Completed', 17),
        // week 1 cohort: z buys in week 1 and week 2
        track('z', 'Order Completed', 9),
        track('z', 'Order Completed', 14),
      ]);
      const bounds = [T0, T0 + W, T0 + 2 * W, T0 + 3 * W];
      const bySeen = await store.retentionCounts(ws, {
        anchor: { kind: 'first_seen' },
        activity: null,
        bounds,
        cohorts: 2,
      });
      expect(bySeen.sizes).toEqual([2, 1]);
      const cells = (c: typeof bySeen) =>
        [...c.active]
          .sort((p, q) => p.cohort - q.cohort || p.period - q.period)
          .map((a) => [a.cohort, a.period, a.customers]);
      expect(cells(bySeen)).toEqual([
        [0, 0, 2],
        [0, 1, 1],
        [0, 2, 2],
        [1, 1, 1],
        [1, 2, 1],
      ]);
      const byPurchase = await store.retentionCounts(ws, {
        anchor: { kind: 'first_event', name: 'Order Completed' },
        activity: 'Order Completed',
        bounds,
        cohorts: 2,
      });
      // y's first purchase is in week 2, outside the two cohorts; z's in week 1.
      expect(byPurchase.sizes).toEqual([0, 1]);
      expect(cells(byPurchase)).toEqual([
        [1, 1, 1],
        [1, 2, 1],
      ]);
    });

    it('lists stage transitions by customer in time order, before a time', async () => {
      await store.ingest(ws, [track('s1', 'Signed Up', 0), track('s2', 'Signed Up', 1)]);
      const t = await store.stageTransitions(ws, T0 + 30 * DAY);
      const p1 = await store.lookupProfile(ws, { kind: 'user_id', value: 's1' });
      const mine = t.filter((x) => x.profileId === p1!.id);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine[mine.length - 1]!.to).toBe(p1!.stage);
      expect(mine[0]!.from).toBeNull();
      expect(t.map((x) => x.profileId)).toEqual([...t.map((x) => x.profileId)].sort());
      expect(await store.stageTransitions(ws, 0)).toEqual([]);
    });

    it('counts each message state once per campaign step and channel, and lists touches with first times', async () => {
      const entries = await enqueue(4, (e, i) => [
        queued(e, i === 3 ? { status: 'suppressed', nextAttemptAt: null, reason: 'quiet' } : {}),
      ]);
      const claimed = await store.claimDueMessages('d', 10, clock.now(), LEASE);
      expect(claimed).toHaveLength(3);
      clock.advance(1000);
      await store.completeMessages(
        claimed.map((m) => ({
          workspaceId: ws,
          key: m.key,
          claim: m.claim,
          status: 'sent' as const,
          attempts: 1,
          nextAttemptAt: null,
          reason: null,
        })),
        clock.now(),
      );
      const [k0, k1] = [`${entries[0]!.id}:hello:0`, `${entries[1]!.id}:hello:0`];
      clock.advance(1000);
      const opened = clock.now();
      await store.recordAfterSend(
        [
          { workspaceId: ws, key: k0, status: 'delivered', at: opened, detail: null },
          { workspaceId: ws, key: k0, status: 'opened', at: opened, detail: null },
          { workspaceId: ws, key: k0, status: 'clicked', at: opened + 5, detail: 'https://a.example' },
          { workspaceId: ws, key: k0, status: 'clicked', at: opened + 9, detail: 'https://b.example' },
          { workspaceId: ws, key: k1, status: 'bounced', at: opened, detail: '550' },
        ],
        clock.now(),
      );
      const perf = await store.messagePerformance(ws, T0, T0 + DAY);
      expect(perf).toEqual([
        {
          kind: 'journey',
          campaign: 'jr_w',
          name: 'Welcome',
          step: 'hello',
          channel: 'webhook',
          messages: 4,
          sent: 3,
          delivered: 1,
          bounced: 1,
          opened: 1,
          clicked: 1,
          converted: 0,
          unsubscribed: 0,
          complained: 0,
          suppressed: 1,
          failed: 0,
        },
      ]);
      expect(await store.messagePerformance(ws, T0 + DAY, T0 + 2 * DAY)).toEqual([]);
      const touches = await store.messageTouches(ws, T0, T0 + DAY);
      expect(touches).toHaveLength(3);
      expect(touches.find((t) => t.key === k0)).toEqual({
        key: k0,
        profileId: entries[0]!.profileId,
        campaign: 'jr_w',
        channel: 'webhook',
        sentAt: T0 + 1000,
        openedAt: opened,
        clickedAt: opened + 5,
      });
      expect(touches.map((t) => t.profileId)).toEqual([...touches.map((t) => t.profileId)].sort());
    });
  });
}
