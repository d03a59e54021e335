import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { NormalizedEvent } from '../../src/domain/event.js';
import { testEvent } from '../../src/domain/testing.js';
import type { EventMatch } from '../../src/domain/reports/events.js';
import { bucketOf, type Period } from '../../src/domain/reports/periods.js';
import { retentionFrame } from '../../src/domain/reports/retention.js';
import { MONTH_COLUMNS } from '../../src/domain/reports/activity.js';
import { ReportService } from '../../src/engine/reports.js';
import type { RetentionAnchor } from '../../src/store/report-store.js';
import type { Store } from '../../src/store/store.js';
import { readFileSync } from 'node:fs';
import type { StoreHarness } from './contract.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);

/** mulberry32: the same data on every run and adapter */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent {
  readonly who: string;
  readonly type: 'track' | 'page';
  readonly name: string;
  readonly at: number;
  readonly id: string;
}

/**
 * The activity rollup (migration 0027) behind retention and the funnels' entry scan, on every
 * adapter: reports read from it equal what the raw events say, on random data with events stored
 * out of order, sent twice, from anonymous visitors merged later, across month and day edges, and
 * after a retention purge that cuts a day in two.
 */
export interface ActivityHarness extends StoreHarness {
  /** runs SQL on the store's database directly and returns its rows */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** the dialect's migrations that build the rollup from the events (0027, then 0031) */
  migrations: readonly string[];
}

export function activityContract(name: string, harness: () => ActivityHarness): void {
  describe(`${name} activity rollup contract`, () => {
    let h: ActivityHarness;
    let clock: ManualClock;
    let store: Store;
    let ws: string;

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0 + 120 * DAY);
      store = await h.open(clock);
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(() => store.close());

    for (const seed of [1, 2]) {
      it(`retention and funnels equal the raw events' answers (seed ${seed})`, async () => {
        const rnd = random(seed);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
        const users = Array.from({ length: 24 }, (_, i) => `u${i}`);
        // anonymous visitors: the first eight are later identified as users, the rest stay anonymous
        const anons = Array.from({ length: 10 }, (_, i) => `a${i}`);
        const edges = [
          Date.UTC(2026, 6, 1),
          Date.UTC(2026, 7, 1),
          T0 + 21 * DAY,
          T0 + 3 * DAY + 5 * 3_600_000,
        ];
        const sent: Sent[] = [];
        for (let i = 0; i < 420; i++) {
          const who = rnd() < 0.2 ? pick(anons) : pick(users);
          const at =
            rnd() < 0.15
              ? pick(edges) + Math.floor(rnd() * 3) - 1
              : T0 - 20 * DAY + Math.floor(rnd() * 110 * DAY);
          const page = rnd() < 0.2;
          const nm = page ? pick(['Home', 'A']) : pick(['A', 'A', 'B', 'C', 'Order Completed']);
          sent.push({ who, type: page ? 'page' : 'track', name: nm, at, id: `m${i}` });
        }
        const toEvent = (s: Sent): NormalizedEvent =>
          testEvent({
            type: s.type,
            ...(s.who.startsWith('u') ? { userId: s.who } : { anonymousId: s.who }),
            name: s.name,
            messageId: s.id,
            timestamp: s.at,
          });
        const merges = anons.slice(0, 8).map((a, i) =>
          testEvent({
            type: 'identify',
            userId: users[i * 2]!,
            anonymousId: a,
            messageId: `id-${a}`,
            timestamp: T0 + 60 * DAY,
          }),
        );
        // in random batches, shuffled; the merges among them; a fifth of the events sent twice
        const queue = [...sent.map(toEvent), ...merges, ...sent.filter(() => rnd() < 0.2).map(toEvent)];
        for (let i = queue.length - 1; i > 0; i--) {
          const j = Math.floor(rnd() * (i + 1));
          [queue[i], queue[j]] = [queue[j]!, queue[i]!];
        }
        while (queue.length > 0) await store.ingest(ws, queue.splice(0, 1 + Math.floor(rnd() * 30)));
        // a purge whose cut falls inside a day, a few events at a time
        const cut = edges[3]!;
        while ((await store.deleteEventsBefore(ws, cut, 7)) > 0);

        // The reference: each canonical customer's surviving events, from what was sent.
        const owner = (who: string) => {
          const i = anons.indexOf(who);
          return i >= 0 && i < 8 ? users[i * 2]! : who;
        };
        const events = new Map<string, Sent[]>();
        for (const s of sent) {
          if (s.at < cut) continue;
          const o = owner(s.who);
          events.set(o, [...(events.get(o) ?? []), s]);
        }
        const profiles = new Map<string, { id: string; firstSeenAt: number | null }>();
        for (const who of [...users, ...anons.slice(8)]) {
          const p = await store.lookupProfile(ws, {
            kind: who.startsWith('u') ? 'user_id' : 'anonymous_id',
            value: who,
          });
          if (p) profiles.set(who, { id: p.id, firstSeenAt: p.firstSeenAt });
        }

        const reference = (
          anchor: RetentionAnchor,
          activity: string | null,
          bounds: number[],
          cohorts: number,
        ) => {
          const sizes = Array<number>(cohorts).fill(0);
          const cells = new Map<string, number>();
          for (const [who, p] of profiles) {
            const mine = events.get(who) ?? [];
            const t =
              anchor.kind === 'first_seen'
                ? p.firstSeenAt
                : Math.min(
                    ...mine.filter((e) => e.type === 'track' && e.name === anchor.name).map((e) => e.at),
                  );
            if (t === null || !(t >= bounds[0]! && t < bounds[cohorts]!)) continue;
            const c = bucketOf(t, bounds);
            sizes[c]!++;
            const ks = new Set(
              mine
                .filter((e) => activity === null || (e.type === 'track' && e.name === activity))
                .map((e) => bucketOf(e.at, bounds))
                .filter((k) => k >= c && k < bounds.length - 1),
            );
            for (const k of ks) cells.set(`${c}/${k}`, (cells.get(`${c}/${k}`) ?? 0) + 1);
          }
          return { sizes, cells: [...cells].sort() };
        };

        const cases: [RetentionAnchor, string | null, Period, number?][] = [
          [{ kind: 'first_seen' }, null, 'week'],
          [{ kind: 'first_seen' }, null, 'month'],
          // 60 daily cohorts and 10 periods: more periods than an integer mask holds
          [{ kind: 'first_seen' }, null, 'day', T0 + 39 * DAY],
          [{ kind: 'first_seen' }, 'A', 'week'],
          [{ kind: 'first_event', name: 'Order Completed' }, null, 'week'],
          [{ kind: 'first_event', name: 'Order Completed' }, 'Order Completed', 'month'],
          [{ kind: 'first_event', name: 'B' }, 'A', 'day'],
        ];
        for (const [anchor, activity, unit, to = T0 + 95 * DAY] of cases) {
          const frame = retentionFrame(T0 - 21 * DAY, to, unit, 10, 60);
          const got = await store.retentionCounts(ws, {
            anchor,
            activity,
            bounds: frame.bounds,
            cohorts: frame.cohorts,
          });
          const want = reference(anchor, activity, [...frame.bounds], frame.cohorts);
          expect(
            {
              sizes: got.sizes,
              cells: got.active.map((a) => [`${a.cohort}/${a.period}`, a.customers]).sort(),
            },
            `${unit} ${anchor.kind} ${activity}`,
          ).toEqual(want);
          expect(want.cells.length).toBeGreaterThan(0);
        }

        // Funnels: the rollup's entry scan and named sequences against every event, one at a time.
        const reports = new ReportService(store, clock);
        const always = [{ path: 'no.such.property', cmp: { op: 'not_exists' as const } }];
        const step = (n: string, where: EventMatch['where'] = []): EventMatch => ({ name: n, where });
        for (let i = 0; i < 8; i++) {
          const names = Array.from({ length: 2 + Math.floor(rnd() * 3) }, () =>
            pick(['A', 'B', 'C', 'Order Completed', 'Home']),
          );
          const from = T0 - 10 * DAY + Math.floor(rnd() * 40 * DAY);
          const q = {
            windowMs: Math.floor(rnd() * 10 * DAY) + 1,
            from,
            to: from + Math.floor(rnd() * 50 * DAY) + 1,
            breakdown: null,
          };
          const fast = await reports.funnel(ws, { ...q, steps: names.map((n) => step(n)) });
          const raw = await reports.funnel(ws, { ...q, steps: names.map((n) => step(n, always)) });
          expect(fast, names.join(' → ')).toEqual(raw);
        }

        // What ingest, merges and the purge kept equals what the migration's backfill builds from
        // the surviving events.
        const rollup = async () => ({
          months: (
            await h.query(
              'SELECT name, profile_id, kind, month, days FROM event_activity ORDER BY name, profile_id, kind, month',
            )
          ).map((r) => [r.name, r.profile_id, Number(r.kind), Number(r.month), Number(r.days)]),
          years: (
            await h.query(
              `SELECT profile_id, year, ${MONTH_COLUMNS.join(', ')} FROM event_activity_years ORDER BY profile_id, year`,
            )
          ).map((r) => [r.profile_id, Number(r.year), ...MONTH_COLUMNS.map((c) => Number(r[c]))]),
        });
        const kept = await rollup();
        expect(kept.months.length).toBeGreaterThan(100);
        expect(kept.years.length).toBeGreaterThan(20);
        expect(kept.months.some(([, , kind]) => kind === 0)).toBe(false);
        await h.query('DELETE FROM event_activity');
        await h.query('DELETE FROM event_activity_years');
        for (const file of h.migrations) {
          const sql = readFileSync(file, 'utf8');
          for (const statement of sql.slice(sql.indexOf('INSERT INTO')).split(/;\s*\n/))
            if (statement.trim() !== '') await h.query(statement);
        }
        expect(await rollup()).toEqual(kept);
      });
    }

    it('keeps the yearly rows exact at year edges, for late events, ties, merges, purges and erasure', async () => {
      const NEW_YEAR = Date.UTC(2026, 0, 1);
      const id = async (kind: 'user_id' | 'anonymous_id', value: string) =>
        (await store.lookupProfile(ws, { kind, value }))?.id;
      const years = async () =>
        (
          await h.query(
            `SELECT profile_id, year, ${MONTH_COLUMNS.join(', ')} FROM event_activity_years ORDER BY profile_id, year`,
          )
        ).map((r): [unknown, number, Record<string, number>] => [
          r.profile_id,
          Number(r.year),
          Object.fromEntries(
            MONTH_COLUMNS.map((c): [string, number] => [c, Number(r[c])]).filter(([, v]) => v !== 0),
          ),
        ]);
      // the last millisecond of 2025 and the first of 2026, two events at the same millisecond
      await store.ingest(ws, [
        testEvent({ userId: 'u', name: 'A', messageId: 'e1', timestamp: NEW_YEAR - 1 }),
        testEvent({ userId: 'u', name: 'A', messageId: 'e2', timestamp: NEW_YEAR }),
        testEvent({ type: 'page', userId: 'u', name: 'Home', messageId: 'e3', timestamp: NEW_YEAR }),
        testEvent({ type: 'screen', userId: 'u', name: 'Cart', messageId: 'e10', timestamp: NEW_YEAR + 1 }),
        testEvent({ userId: 'u', name: 'A', messageId: 'e4', timestamp: NEW_YEAR + 40 * DAY }),
      ]);
      // later, an event older than everything stored, and a visitor merged into u afterwards
      await store.ingest(ws, [
        testEvent({ userId: 'u', name: 'B', messageId: 'e5', timestamp: Date.UTC(2025, 10, 3, 12) }),
        testEvent({ anonymousId: 'v', name: 'B', messageId: 'e6', timestamp: NEW_YEAR + 5 * DAY }),
        testEvent({ anonymousId: 'v', name: 'B', messageId: 'e7', timestamp: Date.UTC(2027, 2, 31, 23) }),
        testEvent({ type: 'identify', userId: 'w', messageId: 'e8', timestamp: NEW_YEAR }),
      ]);
      const v = (await id('anonymous_id', 'v'))!;
      expect(await years()).toContainEqual([v, 2027, { m3: 2 ** 30 }]);
      await store.ingest(ws, [
        testEvent({ type: 'identify', userId: 'u', anonymousId: 'v', messageId: 'e9', timestamp: NEW_YEAR }),
      ]);
      const u = (await id('user_id', 'u'))!;
      // no row for w (identify only), none left for the merged visitor
      expect(await years()).toEqual([
        [u, 2025, { m11: 1 << 2, m12: 2 ** 30 }],
        [u, 2026, { m1: 1 | (1 << 5), m2: 1 << 9 }],
        [u, 2027, { m3: 2 ** 30 }],
      ]);
      // retention by month over the year edge: u first seen in November 2025, active in Nov, Dec, Jan, Feb
      const frame = retentionFrame(Date.UTC(2025, 10, 1), Date.UTC(2026, 1, 1), 'month', 4, 60);
      const counts = await store.retentionCounts(ws, {
        anchor: { kind: 'first_seen' },
        activity: null,
        bounds: frame.bounds,
        cohorts: frame.cohorts,
      });
      // w is January's cohort: first seen then, but with no track, page or screen event, never active
      expect(counts.sizes).toEqual([1, 0, 1]);
      expect(counts.active.map((a) => [a.cohort, a.period, a.customers]).sort()).toEqual(
        [
          [0, 0, 1],
          [0, 1, 1],
          [0, 2, 1],
          [0, 3, 1],
        ].sort(),
      );
      // by week: the week of 29 December 2025 spans both yearly rows, and both have a day in it
      const weeks = retentionFrame(Date.UTC(2025, 10, 3), Date.UTC(2025, 10, 10), 'week', 10, 60);
      const weekly = await store.retentionCounts(ws, {
        anchor: { kind: 'first_seen' },
        activity: null,
        bounds: weeks.bounds,
        cohorts: weeks.cohorts,
      });
      expect(weekly.sizes).toEqual([1]);
      // 3 November, 29 December – 4 January (31 December and 1 January), 5 January (the visitor's 6th)
      expect(weekly.active.map((a) => [a.cohort, a.period, a.customers]).sort()).toEqual([
        [0, 0, 1],
        [0, 8, 1],
        [0, 9, 1],
      ]);
      // a purge to 1 ms into 2026 (the tie goes too): the 2025 row goes, 1 January stays (one event left)
      while ((await store.deleteEventsBefore(ws, NEW_YEAR + 1, 2)) > 0);
      expect(await years()).toEqual([
        [u, 2026, { m1: 1 | (1 << 5), m2: 1 << 9 }],
        [u, 2027, { m3: 2 ** 30 }],
      ]);
      // then past 1 January: its bit goes, 6 January (the merged visitor's) stays
      while ((await store.deleteEventsBefore(ws, NEW_YEAR + DAY, 2)) > 0);
      expect(await years()).toEqual([
        [u, 2026, { m1: 1 << 5, m2: 1 << 9 }],
        [u, 2027, { m3: 2 ** 30 }],
      ]);
      await store.eraseProfile(ws, u, { id: 'er1', requestedBy: 'api', now: T0 });
      expect(await years()).toEqual([]);
    });

    it('hands over only the customers who can enter, in short pages that still go on', async () => {
      const at = (d: number) => T0 + d * DAY;
      await store.ingest(ws, [
        testEvent({ userId: 'p', name: 'A', messageId: 'p1', timestamp: at(1) }),
        testEvent({ userId: 'p', name: 'B', messageId: 'p2', timestamp: at(2) }),
        // q's A is in the month but before the range: the rollup offers q, the exact rule drops it
        testEvent({ userId: 'q', name: 'A', messageId: 'q1', timestamp: at(0) }),
        testEvent({ userId: 'q', name: 'B', messageId: 'q2', timestamp: at(2) }),
        testEvent({ type: 'page', userId: 'r', name: 'A', messageId: 'r1', timestamp: at(3) }),
        testEvent({ userId: 's', name: 'B', messageId: 's1', timestamp: at(3) }),
      ]);
      const id = async (u: string) => (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id;
      const query = { names: ['A', 'B'], from: at(1), to: at(10), entering: { name: 'A', before: at(5) } };
      const seen: string[] = [];
      let pages = 0;
      let after: string | null = null;
      do {
        const page = await store.reportSequences(ws, query, { after, limit: 1 });
        seen.push(...page.rows.map((r) => r.profileId));
        after = page.next;
        pages++;
      } while (after !== null);
      expect(seen).toEqual([await id('p'), await id('r')].sort());
      expect(pages).toBeGreaterThanOrEqual(3);
    });
  });
}
