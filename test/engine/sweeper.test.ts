import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SegmentBuilder } from '../../src/engine/builder.js';
import { Sweeper } from '../../src/engine/sweeper.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1, 8);
const logger = pino({ level: 'silent' });

describe('time-based re-evaluation and segment builds', () => {
  let store: SqliteStore;
  let clock: ManualClock;
  let ws: string;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    store = SqliteStore.open({ path: ':memory:', clock });
    await store.migrate();
    ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    await store.ingest(ws, [
      testEvent({ userId: 'u1', messageId: 'm1', name: 'Order Completed', timestamp: T0 }),
    ]);
  });
  afterEach(() => store.close());

  it('sweeps each workspace once per interval as the clock moves, with no event', async () => {
    const sweeper = new Sweeper(store, clock, logger, HOUR);
    const stage = async () => (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))?.stage;
    expect(await stage()).toBe('new');
    await sweeper.tick();
    clock.advance(31 * DAY);
    // The first tick swept at T0; the next one is due (more than an hour later) and moves the customer.
    await sweeper.tick();
    expect(await stage()).toBe('at_risk');
    const history = await store.stageHistory(
      ws,
      (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id,
    );
    expect(history.map((h) => [h.to, h.at])).toEqual([
      ['new', T0],
      ['at_risk', T0 + 31 * DAY],
    ]);
    // Just before the dormant threshold: a sweep runs and changes nothing.
    clock.set(T0 + 61 * DAY - 10 * 60_000);
    await sweeper.tick();
    expect(await stage()).toBe('at_risk');
    // Twenty minutes later the customer is due to become dormant, but the last sweep is within the interval.
    clock.advance(20 * 60_000);
    await sweeper.tick();
    expect(await stage()).toBe('at_risk');
    clock.advance(HOUR);
    await sweeper.tick();
    expect(await stage()).toBe('dormant');
    expect((await store.listEngagementEvents(ws, { after: 0, limit: 10 })).map((e) => e.subject)).toEqual([
      'new',
      'at_risk',
      'dormant',
    ]);
    await sweeper.stop();
  });

  it('builds segments saved in a burst in one pass and marks them ready', async () => {
    const builder = new SegmentBuilder(store, clock, logger, 50);
    for (const id of ['seg_a', 'seg_b', 'seg_c'])
      await store.changeDefinitions(
        ws,
        {
          kind: 'put_segment',
          segment: { id, name: id, description: '', rule: { event: 'Order Completed' }, status: 'building' },
        },
        clock.now(),
      );
    const passes: Promise<void>[] = ['seg_a', 'seg_b', 'seg_c'].map(() =>
      builder.build(ws, { rebuildFacts: false }),
    );
    await Promise.all(passes);
    await builder.idle();
    const segs = await store.listSegments(ws);
    expect(segs.map((s) => [s.id, s.status, s.size, s.build])).toEqual([
      ['seg_a', 'ready', 1, { done: 1, total: 1 }],
      ['seg_b', 'ready', 1, { done: 1, total: 1 }],
      ['seg_c', 'ready', 1, { done: 1, total: 1 }],
    ]);
    // Members from history emit no Segment Entered events.
    expect((await store.listEngagementEvents(ws, { after: 0, limit: 10 })).map((e) => e.type)).toEqual([
      'Stage Entered',
    ]);
  });
});
