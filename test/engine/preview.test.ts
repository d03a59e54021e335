import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SegmentBuilder } from '../../src/engine/builder.js';
import { EngagementService } from '../../src/engine/engagement.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const T0 = Date.UTC(2026, 2, 1, 8);
const logger = pino({ level: 'silent' });

describe('segment preview on a workspace larger than its sample', () => {
  let store: SqliteStore;
  let clock: ManualClock;
  let ws: string;
  let service: EngagementService;
  const buyers = new Set<string>();

  beforeEach(async () => {
    clock = new ManualClock(T0);
    store = SqliteStore.open({ path: ':memory:', clock });
    await store.migrate();
    ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    // 1,200 customers; every third one has ordered.
    const events = Array.from({ length: 1200 }, (_, i) =>
      testEvent({
        userId: `u${i}`,
        messageId: `m${i}`,
        name: i % 3 === 0 ? 'Order Completed' : 'Product Viewed',
        timestamp: T0,
      }),
    );
    for (let i = 0; i < events.length; i += 300) await store.ingest(ws, events.slice(i, i + 300));
    buyers.clear();
    for (let i = 0; i < 1200; i += 3)
      buyers.add((await store.lookupProfile(ws, { kind: 'user_id', value: `u${i}` }))!.id);
    service = new EngagementService(store, clock, new SegmentBuilder(store, clock, logger), 200);
  });
  afterEach(() => store.close());

  const rule = { event: 'Order Completed' };

  it('estimates from a uniform random sample when an exact scan would not fit the budget', async () => {
    const p = await service.preview(ws, rule, { allowUnknown: false, sample: 10, budgetMs: 0 });
    expect(p).toMatchObject({ estimated: true, exact: true, total: 1200 });
    // About 200 of 1,200 profiles (the sample is chosen by the ids' random part, so it varies).
    expect(p.scanned).toBeGreaterThan(100);
    expect(p.scanned).toBeLessThan(350);
    // A third of them are buyers: the estimate lands near 400, far from what a biased sample would say.
    expect(p.count).toBeGreaterThan(250);
    expect(p.count).toBeLessThan(550);
    expect(p.sample).toHaveLength(10);
    for (const id of p.sample) expect(buyers.has(id)).toBe(true);
  });

  it('counts exactly when the scan fits the budget', async () => {
    const p = await service.preview(ws, rule, { allowUnknown: false, sample: 5, budgetMs: 60_000 });
    expect(p).toMatchObject({ count: 400, estimated: false, exact: true, scanned: 1200, total: 1200 });
    for (const id of p.sample) expect(buyers.has(id)).toBe(true);
  });
});
