import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { TemplateService } from '../../src/engine/delivery/templates.js';
import { JourneyRunner } from '../../src/engine/journeys/runner.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

// The writer thread runs compiled JavaScript, so the store comes from dist/ (`npm test` builds first).
const built = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
const { SqliteStore: BuiltStore } = (await import(built)) as { SqliteStore: typeof SqliteStore };

const dir = mkdtempSync(join(tmpdir(), 'kizuna-composer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 11, 1, 3);

/**
 * The runner stores a batch while it composes the next (writer thread), so a frequency cap must count
 * the messages of a batch still being stored: with one entry per batch, a customer entering five
 * journeys at once under a cap of two gets two messages, whichever batches they fall in.
 */
it('counts messages of a batch still being stored against the caps of the next', async () => {
  const clock = new ManualClock(T0);
  const store = BuiltStore.open({ path: join(dir, 'k.db'), clock, writer: 'thread' });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  const templates = new TemplateService(store, clock);
  await templates.create(ws, {
    name: 'promo',
    channel: 'email',
    variants: { en: { subject: 'Hi', text: 'Hi' } },
  });
  await store.putDeliverySettings(ws, { quiet_hours: null, frequency_caps: [{ max: 2, window: '1d' }] }, T0);
  for (let i = 0; i < 5; i++) {
    const def = {
      name: `J${i}`,
      trigger: { event: 'Signed Up' },
      start: 'mail',
      steps: {
        mail: { type: 'send', channel: 'email', template: 'promo', next: 'done' },
        done: { type: 'exit' },
      },
    };
    await store.createJourney(ws, { id: `jr_${i}`, name: def.name, draft: def }, T0);
    await store.publishJourney(ws, `jr_${i}`, { definition: def, migrate: false, nextRunAt: null }, T0);
  }
  await store.ingest(ws, [
    testEvent({
      type: 'identify',
      userId: 'u1',
      messageId: 'i1',
      timestamp: T0,
      traits: { email: 'u1@example.com' },
    }),
    testEvent({ userId: 'u1', name: 'Signed Up', messageId: 's1', timestamp: T0 }),
  ]);
  // A store whose writes of results land late (a slow disk): the next batch is composed before the
  // last one is stored, every time.
  const slow = new Proxy(store, {
    get(target, key) {
      if (key === 'completeEntries') {
        return async (...args: Parameters<typeof store.completeEntries>) => {
          await new Promise((r) => setTimeout(r, 30));
          return target.completeEntries(...args);
        };
      }
      if (key === 'completeAndClaim') {
        return async (...args: Parameters<typeof store.completeAndClaim>) => {
          await new Promise((r) => setTimeout(r, 30));
          return target.completeAndClaim(...args);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const runner = new JourneyRunner(slow, clock, pino({ level: 'silent' }), {
    worker: 'w',
    batch: 1,
    templates,
  });
  expect(await runner.runDue()).toBe(5);
  const msgs = await store.listJourneyMessages(ws, { limit: 10 });
  expect(msgs.map((m) => m.status).sort()).toEqual([
    'queued',
    'queued',
    'suppressed',
    'suppressed',
    'suppressed',
  ]);
  expect(new Set(msgs.filter((m) => m.status === 'suppressed').map((m) => m.reason))).toEqual(
    new Set(['frequency cap: at most 2 marketing messages in 1d']),
  );
  await runner.stop();
  await store.close();
});
