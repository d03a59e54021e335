import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { JourneyRunner } from '../../src/engine/journeys/runner.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { postgresUnavailable, runSql, scratchDatabase, serverUrl } from '../support/postgres.js';

const T0 = Date.UTC(2026, 10, 2, 0);
const HOUR = 3_600_000;
const logger = pino({ level: 'silent' });
const CUSTOMERS = 400;

const JOURNEY = {
  name: 'Onboarding',
  trigger: { event: 'Signed Up' },
  start: 'hello',
  steps: {
    hello: { type: 'send', channel: 'email', template: 'hello', next: 'ab' },
    ab: {
      type: 'split',
      variants: [
        { name: 'A', percent: 45, next: 'later' },
        { name: 'B', percent: 45, next: 'later' },
        { name: 'holdout', percent: 10, control: true, next: 'done' },
      ],
    },
    later: { type: 'delay', duration: '1h', next: 'tips' },
    tips: { type: 'send', channel: 'email', template: 'tips', next: 'tag' },
    tag: { type: 'update_profile', traits: { onboarded: true }, next: 'done' },
    done: { type: 'exit' },
  },
};

/**
 * Several runners over one database, as several worker processes would be: every customer gets each
 * step once, whichever worker runs it, and the control branch gets nothing after the split.
 */
function runnerSuite(name: string, open: (clock: ManualClock) => Store, reset: () => Promise<void>) {
  describe(`journey runners on ${name}`, () => {
    const stores: Store[] = [];
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    it('shares the work between two runners without running any step twice', async () => {
      await reset();
      const clock = new ManualClock(T0);
      const a = open(clock);
      stores.push(a);
      await a.migrate();
      const b = open(clock);
      stores.push(b);
      const ws = (await a.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
      await a.createJourney(ws, { id: 'jr_on', name: JOURNEY.name, draft: JOURNEY }, T0);
      await a.publishJourney(ws, 'jr_on', { definition: JOURNEY, migrate: false, nextRunAt: null }, T0);
      for (let i = 0; i < CUSTOMERS; i += 100) {
        await a.ingest(
          ws,
          Array.from({ length: 100 }, (_, j) =>
            testEvent({ userId: `u${i + j}`, name: 'Signed Up', messageId: `s${i + j}`, timestamp: T0 }),
          ),
        );
      }
      const runners = [a, b].map(
        (s, i) => new JourneyRunner(s, clock, logger, { worker: `w${i}`, batch: 30 }),
      );
      const counts = await Promise.all(runners.map((r) => r.runDue()));
      expect(counts[0]! + counts[1]!).toBe(CUSTOMERS);
      expect(Math.min(...counts)).toBeGreaterThan(0);
      clock.advance(HOUR);
      await Promise.all(runners.map((r) => r.runDue()));

      const messages = await a.listJourneyMessages(ws, { journeyId: 'jr_on', limit: 1000 });
      const hello = messages.filter((m) => m.template === 'hello');
      const tips = messages.filter((m) => m.template === 'tips');
      expect(hello).toHaveLength(CUSTOMERS);
      expect(new Set(messages.map((m) => m.key)).size).toBe(messages.length);
      // The holdout (10 %) gets nothing after the split: within 4 standard deviations of 40 of 400.
      const holdout = CUSTOMERS - tips.length;
      expect(Math.abs(holdout - CUSTOMERS * 0.1)).toBeLessThan(4 * Math.sqrt(CUSTOMERS * 0.1 * 0.9));
      const stats = await a.getJourneyStats(ws, 'jr_on', T0);
      expect(stats).toMatchObject({ entered: CUSTOMERS, completed: CUSTOMERS, active: 0 });
      // Every step of every customer is in their history exactly once.
      for (const userId of ['u0', 'u1', 'u2', 'u199', 'u399']) {
        const p = (await a.lookupProfile(ws, { kind: 'user_id', value: userId }))!;
        const [entry] = await a.listProfileEntries(ws, p.id);
        const steps = entry!.history.map((h) => `${h.step}/${h.type}`);
        expect(new Set(steps).size, userId).toBe(steps.length);
        expect(steps[0]).toBe('hello/entry');
        const treated = steps.includes('tips/send');
        expect(p.traits['onboarded'] === true, userId).toBe(treated);
      }
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'kizuna-runner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let path = '';
runnerSuite(
  'SQLite',
  (clock) => SqliteStore.open({ path, clock }),
  () => {
    path = join(root, `r${++n}.db`);
    return Promise.resolve();
  },
);

const unreachable = await postgresUnavailable('the journey runner suite on PostgreSQL');
const { name: database, url } = scratchDatabase();
describe.skipIf(unreachable !== null)('postgres', () => {
  beforeAll(() => runSql(serverUrl, `CREATE DATABASE ${database}`));
  afterAll(() => runSql(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  runnerSuite(
    'PostgreSQL',
    (clock) => PostgresStore.open({ url, clock }),
    () => runSql(url, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public'),
  );
});
