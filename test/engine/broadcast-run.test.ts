import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { TemplateService } from '../../src/engine/delivery/templates.js';
import { JourneyRunner } from '../../src/engine/journeys/runner.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { postgresUnavailable, runSql, scratchDatabase, serverUrl } from '../support/postgres.js';

const T0 = Date.UTC(2026, 11, 1, 9);
const LEASE = 60_000;
const logger = pino({ level: 'silent' });
const CUSTOMERS = 7;
const BROADCAST = {
  name: 'Weekly picks',
  trigger: { schedule: { segment: 'seg_mail', at: new Date(T0).toISOString() } },
  entry: { limit: 'every_time' },
  start: 'send',
  steps: {
    send: { type: 'send', channel: 'email', template: 'weekly', next: 'done' },
    done: { type: 'exit' },
  },
};

/** The store, counting the runner's writes of entries, and failing the n-th enterAndRun when asked. */
function watched(store: Store, failAt: number | null) {
  const calls = { enterJourney: 0, completed: 0, enterAndRun: 0, composed: 0 };
  const proxy = new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      const f = (...args: unknown[]) => (v as (...a: unknown[]) => unknown).apply(target, args);
      if (key === 'enterJourney') calls.enterJourney++;
      if (key === 'completeEntries' || key === 'completeAndClaim') {
        return (...args: unknown[]) => {
          calls.completed += (args[0] as unknown[]).length;
          return f(...args);
        };
      }
      if (key === 'enterAndRun') {
        return (...args: unknown[]) => {
          calls.enterAndRun++;
          calls.composed += (args[2] as unknown[]).length;
          if (calls.enterAndRun === failAt) return Promise.reject(new Error('disk gone'));
          return f(...args);
        };
      }
      return f;
    },
  });
  return { proxy, calls };
}

function broadcastSuite(name: string, open: (clock: ManualClock) => Store, reset: () => Promise<void>) {
  describe(`a broadcast's scheduled run on ${name}`, () => {
    const stores: Store[] = [];
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    const setup = async () => {
      await reset();
      const clock = new ManualClock(T0 - 1000);
      const store = open(clock);
      stores.push(store);
      await store.migrate();
      const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
      await store.changeDefinitions(
        ws,
        {
          kind: 'put_segment',
          segment: {
            id: 'seg_mail',
            name: 'Mail',
            description: '',
            rule: { trait: 'email', op: 'exists' },
            status: 'ready',
          },
        },
        clock.now(),
      );
      await store.ingest(
        ws,
        Array.from({ length: CUSTOMERS }, (_, i) =>
          testEvent({
            type: 'identify',
            userId: `u${i}`,
            messageId: `i${i}`,
            timestamp: clock.now(),
            traits: { email: `u${i}@example.com`, first_name: `C${i}` },
          }),
        ),
      );
      await new TemplateService(store, clock).create(ws, {
        name: 'weekly',
        channel: 'email',
        variants: { en: { subject: 'Hi {{ profile.first_name }}', html: '<p>Picks</p>', text: 'Picks' } },
      });
      await store.createJourney(ws, { id: 'jr_b', name: BROADCAST.name, draft: BROADCAST }, clock.now());
      await store.publishJourney(
        ws,
        'jr_b',
        { definition: BROADCAST, migrate: false, nextRunAt: T0 },
        clock.now(),
      );
      clock.set(T0);
      return { clock, store, ws };
    };
    const runner = (store: Store, clock: ManualClock) =>
      new JourneyRunner(store, clock, logger, { worker: 'w', batch: 3, leaseMs: LEASE });
    const ids = async (store: Store, ws: string) =>
      Promise.all(
        Array.from(
          { length: CUSTOMERS },
          async (_, i) => (await store.lookupProfile(ws, { kind: 'user_id', value: `u${i}` }))!.id,
        ),
      );

    it('writes each customer once, completed with its message, with no claim and the same history', async () => {
      const { clock, store, ws } = await setup();
      const { proxy, calls } = watched(store, null);
      await runner(proxy, clock).runDue();
      const messages = await store.listJourneyMessages(ws, { journeyId: 'jr_b', limit: 100 });
      expect(messages).toHaveLength(CUSTOMERS);
      expect(new Set(messages.map((m) => m.profileId)).size).toBe(CUSTOMERS);
      expect(messages.every((m) => m.status === 'queued')).toBe(true);
      // Three pages of three, each entered and run in one store; nothing entered active, claimed or
      // completed afterwards.
      expect(calls).toEqual({ enterJourney: 0, completed: 0, enterAndRun: 3, composed: CUSTOMERS });
      expect(await store.getJourneyStats(ws, 'jr_b', T0)).toMatchObject({
        entered: CUSTOMERS,
        completed: CUSTOMERS,
        active: 0,
      });
      const [entry] = await store.listProfileEntries(ws, (await ids(store, ws))[4]!);
      expect(entry).toMatchObject({
        journeyId: 'jr_b',
        state: 'completed',
        step: 'done',
        enteredAt: T0,
        endedAt: T0,
        dueAt: null,
        trigger: `scheduled run ${new Date(T0).toISOString()} of segment seg_mail`,
      });
      // What the entry, claim and complete path recorded: entered, sent, completed.
      expect(entry!.history).toEqual([
        { at: T0, step: 'send', type: 'entry', outcome: `entered: ${entry!.trigger}` },
        { at: T0, step: 'send', type: 'send', outcome: 'email weekly queued' },
        { at: T0, step: 'done', type: 'exit', outcome: 'completed' },
      ]);
      // The run is finished: a one-off never runs again.
      clock.advance(30 * 86_400_000);
      expect(await runner(proxy, clock).runDue()).toBe(0);
      expect(calls.enterAndRun).toBe(3);
    });

    it('neither loses nor duplicates a message when a page fails to store, and renders nobody twice', async () => {
      const { clock, store, ws } = await setup();
      const failing = watched(store, 2);
      await expect(runner(failing.proxy, clock).runDue()).rejects.toThrow('disk gone');
      // The first page is stored, the second is not; the run is still claimed, so nothing runs it
      // until its claim lapses.
      expect(await store.listJourneyMessages(ws, { journeyId: 'jr_b', limit: 100 })).toHaveLength(3);
      const again = watched(store, null);
      clock.advance(LEASE - 1);
      expect(await runner(again.proxy, clock).runDue()).toBe(0);
      clock.advance(2);
      await runner(again.proxy, clock).runDue();
      const messages = await store.listJourneyMessages(ws, { journeyId: 'jr_b', limit: 100 });
      expect(messages).toHaveLength(CUSTOMERS);
      expect(new Set(messages.map((m) => m.key)).size).toBe(CUSTOMERS);
      expect(new Set(messages.map((m) => m.profileId)).size).toBe(CUSTOMERS);
      // Enumerated again from the start, the first page's customers were skipped before rendering.
      expect(again.calls.composed).toBe(CUSTOMERS - 3);
      for (const id of await ids(store, ws)) expect(await store.listProfileEntries(ws, id)).toHaveLength(1);
    });

    it('stops a run paused meanwhile, and enters the rest once on resume', async () => {
      const { clock, store, ws } = await setup();
      const r = runner(store, clock);
      // One page, then the journey is paused: the next page's store is refused and the run left due.
      expect(await r.runOnce()).toBe(3);
      await r.flush();
      await store.setJourneyStatus(ws, 'jr_b', 'paused', clock.now());
      await r.runDue();
      expect(await store.listJourneyMessages(ws, { journeyId: 'jr_b', limit: 100 })).toHaveLength(3);
      await store.setJourneyStatus(ws, 'jr_b', 'published', clock.now());
      clock.advance(LEASE + 1);
      await runner(store, clock).runDue();
      const messages = await store.listJourneyMessages(ws, { journeyId: 'jr_b', limit: 100 });
      expect(messages).toHaveLength(CUSTOMERS);
      expect(new Set(messages.map((m) => m.profileId)).size).toBe(CUSTOMERS);
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'kizuna-broadcast-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let path = '';
broadcastSuite(
  'SQLite',
  (clock) => SqliteStore.open({ path, clock }),
  () => {
    path = join(root, `b${++n}.db`);
    return Promise.resolve();
  },
);

const unreachable = await postgresUnavailable('the broadcast run suite on PostgreSQL');
const { name: database, url } = scratchDatabase();
describe.skipIf(unreachable !== null)('postgres', () => {
  beforeAll(() => runSql(serverUrl, `CREATE DATABASE ${database}`));
  afterAll(() => runSql(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  broadcastSuite(
    'PostgreSQL',
    (clock) => PostgresStore.open({ url, clock }),
    () => runSql(url, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public'),
  );
});
