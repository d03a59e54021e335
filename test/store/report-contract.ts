import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { EventMatch } from '../../src/domain/reports/events.js';
import { ReportService } from '../../src/engine/reports.js';
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

    it('hands over each customer’s named events in time order, storage order on ties, a page of customers at a time', async () => {
      const at = (h: number) => T0 + h * 3_600_000;
      await store.ingest(ws, [
        // stored out of order on purpose; two events of q at the same time, B stored first
        testEvent({ userId: 'q', name: 'C', messageId: 'q1', timestamp: at(5) }),
        testEvent({ userId: 'q', name: 'B', messageId: 'q2', timestamp: at(2) }),
        testEvent({ userId: 'q', name: 'A', messageId: 'q3', timestamp: at(2) }),
        testEvent({ userId: 'q', name: 'A', messageId: 'q4', timestamp: at(1) }),
        testEvent({ userId: 'q', name: 'Other', messageId: 'q5', timestamp: at(3) }),
        testEvent({ userId: 'q', name: 'A', messageId: 'q6', timestamp: at(200) }),
        testEvent({ type: 'page', userId: 'r', name: 'B', messageId: 'r1', timestamp: at(4) }),
        testEvent({ type: 'identify', userId: 'r', messageId: 'r2', timestamp: at(4), traits: { a: 1 } }),
        testEvent({ userId: 's', name: 'Other', messageId: 's1', timestamp: at(4) }),
      ]);
      const id = async (u: string) => (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id;
      const [q, r] = [await id('q'), await id('r')];
      const query = { names: ['A', 'B', 'C'], from: T0, to: at(100) };
      const pages: Awaited<ReturnType<Store['reportSequences']>>['rows'][] = [];
      let after: string | null = null;
      do {
        const page = await store.reportSequences(ws, query, { after, limit: 1 });
        pages.push(page.rows);
        after = page.next;
      } while (after !== null);
      const expected = [
        { profileId: q, names: [0, 1, 0, 2], times: [at(1), at(2), at(2), at(5)] },
        { profileId: r, names: [1], times: [at(4)] },
      ].sort((x, y) => (x.profileId < y.profileId ? -1 : 1));
      expect(pages.flat()).toEqual(expected);
      expect(pages.length).toBeGreaterThanOrEqual(2);
      expect(pages.every((p) => p.length <= 1)).toBe(true);
      const all = await store.reportSequences(ws, query, { after: null, limit: 10 });
      expect(all).toEqual({ rows: expected, next: null });
      expect(
        await store.reportSequences(ws, { ...query, names: ['Nobody'] }, { after: null, limit: 10 }),
      ).toEqual({ rows: [], next: null });
    });

    it('counts funnels the same from named sequences and from filtered events: order, repeats, window edge, ties, merges', async () => {
      const H = 3_600_000;
      const at = (d: number, h = 0) => T0 + d * DAY + h * H;
      const ev = (user: string | null, name: string, t: number, id: string, anon?: string) =>
        testEvent({
          ...(user !== null && { userId: user }),
          ...(anon && { anonymousId: anon }),
          name,
          messageId: id,
          timestamp: t,
        });
      await store.ingest(ws, [
        // o: steps arrive out of order; C and B before A do not count, the later B and C do
        ev('o', 'C', at(1), 'o1'),
        ev('o', 'B', at(1, 1), 'o2'),
        ev('o', 'A', at(1, 2), 'o3'),
        ev('o', 'C', at(1, 4), 'o5'), // stored before the B it follows
        ev('o', 'B', at(1, 3), 'o4'),
        // w: the last step exactly at the window's end (2 days) counts; w2's is 1 ms late
        ev('w', 'A', at(2), 'w1'),
        ev('w', 'B', at(3), 'w2'),
        ev('w', 'C', at(4), 'w3'),
        ev('w2', 'A', at(2), 'x1'),
        ev('w2', 'B', at(3), 'x2'),
        ev('w2', 'C', at(4) + 1, 'x3'),
        // e: A and B at the same time, A stored first: B follows it; f: B stored first: it does not
        ev('e', 'A', at(3), 'e1'),
        ev('e', 'B', at(3), 'e2'),
        ev('f', 'B', at(3), 'f1'),
        ev('f', 'A', at(3), 'f2'),
        // d: an A outside the range does not start; a later one in range goes deepest
        ev('d', 'A', T0 - DAY, 'd0'),
        ev('d', 'B', T0 - DAY + H, 'd1'),
        ev('d', 'A', at(5), 'd2'),
        ev('d', 'A', at(6), 'd3'),
        ev('d', 'B', at(6, 1), 'd4'),
        // m: an anonymous visitor's A, then the known customer's B; merged on identify into one path
        ev(null, 'A', at(7), 'm1', 'anon-m'),
        ev('m', 'B', at(7, 1), 'm2'),
      ]);
      await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'm',
          anonymousId: 'anon-m',
          messageId: 'm3',
          timestamp: at(7, 2),
        }),
      ]);
      const reports = new ReportService(store, clock);
      const step = (name: string, where: EventMatch['where'] = []): EventMatch => ({ name, where });
      // a filter every event passes, so the same funnel goes through the event-by-event path
      const always = [{ path: 'no.such.property', cmp: { op: 'not_exists' as const } }];
      const funnel = async (steps: EventMatch[]) => {
        const q = { windowMs: 2 * DAY, from: T0, to: T0 + 10 * DAY, breakdown: 'stage' as const };
        const byName = await reports.funnel(ws, { ...q, steps });
        const byEvent = await reports.funnel(ws, {
          ...q,
          steps: steps.map((s) => step(s.name, always)),
        });
        expect(byName).toEqual(byEvent);
        return byName.steps.map((s) => s.customers);
      };
      // entered: o w w2 e f d m (7); B: o w w2 e d m (6); C: o w (2)
      expect(await funnel([step('A'), step('B'), step('C')])).toEqual([7, 6, 2]);
      // a repeated step needs a second event: A, A again, then B: d (two As in range, then B), m? no
      expect(await funnel([step('A'), step('A'), step('B')])).toEqual([7, 1, 1]);
      // the same event name in the last step as in the first: A → B → A
      expect(await funnel([step('A'), step('B'), step('A')])).toEqual([7, 6, 0]);
    });

    it('counts funnels the same from named sequences and from filtered events on random customers', async () => {
      // Many customers (ids across several scan-thread ranges where a store reads on threads), each
      // with events of the step names and another, on hour and range edges, several at the same time.
      let seed = 11;
      const rand = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const H = 3_600_000;
      const names = ['A', 'B', 'C', 'Other'];
      const events = [];
      for (let c = 0; c < 60; c++) {
        // every fourth customer only ever does A before the range, so cannot enter
        const early = c % 4 === 3;
        let t = T0 - 2 * DAY + Math.floor(rand() * 4) * DAY;
        for (let i = 0; i < 3 + Math.floor(rand() * 12); i++) {
          if (rand() > 0.3) t += Math.floor(rand() * 30) * H;
          const name = early ? (rand() < 0.5 ? 'A' : 'B') : names[Math.floor(rand() * names.length)]!;
          const at = early ? T0 - DAY - i * H : t;
          events.push(
            testEvent({
              userId: `c${String(c).padStart(2, '0')}`,
              name,
              type: name === 'Other' ? 'page' : 'track',
              messageId: `r${c}-${i}`,
              timestamp: at,
            }),
          );
        }
      }
      await store.ingest(ws, events);
      const reports = new ReportService(store, clock);
      const step = (name: string, where: EventMatch['where'] = []): EventMatch => ({ name, where });
      const always = [{ path: 'no.such.property', cmp: { op: 'not_exists' as const } }];
      const cases = [
        { steps: ['A', 'B', 'C'], windowMs: 2 * DAY, days: 10, breakdown: null },
        { steps: ['A', 'B', 'C'], windowMs: 30 * H, days: 10, breakdown: 'stage' as const },
        { steps: ['B', 'A', 'B', 'C'], windowMs: 3 * DAY, days: 6, breakdown: 'segment' as const },
        { steps: ['A', 'A'], windowMs: DAY, days: 3, breakdown: null },
      ];
      let entered = 0;
      for (const c of cases) {
        const q = { windowMs: c.windowMs, from: T0, to: T0 + c.days * DAY, breakdown: c.breakdown };
        const byName = await reports.funnel(ws, { ...q, steps: c.steps.map((n) => step(n)) });
        const byEvent = await reports.funnel(ws, { ...q, steps: c.steps.map((n) => step(n, always)) });
        expect(byName).toEqual(byEvent);
        entered += byName.steps[0]!.customers;
        expect(byName.steps[c.steps.length - 1]!.customers).toBeGreaterThan(0);
      }
      expect(entered).toBeGreaterThan(60);
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
