import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { TemplateService } from '../../src/engine/delivery/templates.js';
import { JourneyRunner } from '../../src/engine/journeys/runner.js';
import { RecommendationService } from '../../src/engine/recommendations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { item } from '../store/catalog-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'kizuna-catalog-send-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 11, 1, 3);
const CATALOG_READS = ['interactionsOf', 'similarTo', 'getItems'];

/**
 * A batch of sends reads the catalogue a few times for the whole batch when its template shows
 * recommendations, and not at all when it does not.
 */
it('loads recommendations once per batch for templates that read them, and never for others', async () => {
  const clock = new ManualClock(T0);
  const store = SqliteStore.open({ path: join(dir, 'k.db'), clock });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  const calls: string[] = [];
  const counted = new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (CATALOG_READS.includes(String(key))) calls.push(String(key));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store;
  const templates = new TemplateService(counted, clock);
  await templates.create(ws, {
    name: 'plain',
    channel: 'sms',
    variants: { en: { body: 'Hello {{ profile.phone }}' } },
  });
  await templates.create(ws, {
    name: 'picks',
    channel: 'sms',
    variants: { en: { body: '{% for p in recommendations limit: 2 %}{{ p.id }} {% endfor %}' } },
  });
  for (const [id, template, event] of [
    ['jr_plain', 'plain', 'Signed Up'],
    ['jr_picks', 'picks', 'Wants Picks'],
  ] as const) {
    const def = {
      name: id,
      trigger: { event },
      start: 'send',
      steps: { send: { type: 'send', channel: 'sms', template, next: 'done' }, done: { type: 'exit' } },
    };
    await store.createJourney(ws, { id, name: id, draft: def }, T0);
    await store.publishJourney(ws, id, { definition: def, migrate: false, nextRunAt: null }, T0);
  }
  await store.putItems(
    ws,
    ['a', 'b', 'c', 'd'].map((id) => item(id)),
  );
  const events = [];
  for (let n = 0; n < 6; n++) {
    const userId = `u${n}`;
    events.push(
      testEvent({
        type: 'identify',
        userId,
        messageId: `i${n}`,
        timestamp: T0,
        traits: { phone: `+8190000000${n}` },
      }),
      testEvent({
        userId,
        name: 'Order Completed',
        messageId: `o${n}`,
        timestamp: T0,
        properties: { products: [{ product_id: 'a' }, { product_id: n % 2 ? 'b' : 'c' }] },
      }),
      testEvent({
        userId,
        name: 'Product Viewed',
        messageId: `v${n}`,
        timestamp: T0,
        properties: { product_id: 'd' },
      }),
      testEvent({ userId, name: 'Signed Up', messageId: `s${n}`, timestamp: T0 }),
    );
  }
  await store.ingest(ws, events);
  await new RecommendationService(store, clock).rebuild(ws);

  const runner = new JourneyRunner(counted, clock, pino({ level: 'silent' }), { worker: 'w', templates });
  expect(await runner.runDue()).toBe(6);
  expect(calls).toEqual([]);

  await store.ingest(
    ws,
    [0, 1, 2, 3, 4, 5].map((n) =>
      testEvent({ userId: `u${n}`, name: 'Wants Picks', messageId: `w${n}`, timestamp: T0 }),
    ),
  );
  expect(await runner.runDue()).toBe(6);
  // one batch: purchases, recent interactions, similar-items lists, items
  expect(calls.sort()).toEqual(['getItems', 'interactionsOf', 'interactionsOf', 'similarTo']);
  const picks = await store.listJourneyMessages(ws, { journeyId: 'jr_picks', limit: 10 });
  // u1 bought a and b → c, d are left (d first: viewed by all six, c by three of them)
  const u1 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
  const mine = picks.find((m) => m.profileId === u1)!;
  expect(mine.payload).toMatchObject({ content: { body: 'd c ' } });
  expect(picks.every((m) => m.status === 'queued')).toBe(true);
  await runner.stop();
  await store.close();
});
