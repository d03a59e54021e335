import type { Clock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { reevaluateAll } from '../../src/engine/reevaluation.js';

const DAY = 86_400_000;

/**
 * The story the SQLite membership triggers are tested with (segment_counts, profile_segments): 30
 * customers who ordered today, 20 or 40 days ago, and three segments built over them — seg_recent (20),
 * seg_lapsed (10), seg_gone (30).
 */
export async function builtSegments(path: string, clock: Clock) {
  const store = SqliteStore.open({ path, clock });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  const order = (user: string, key: string, at = clock.now()) =>
    testEvent({ userId: user, name: 'Order Completed', messageId: `${user}-${key}`, timestamp: at });
  await store.ingest(
    ws,
    Array.from({ length: 30 }, (_, i) => order(`u${i}`, 'a', clock.now() - (i % 3) * 20 * DAY)),
  );
  const put = (w: string, id: string, rule: unknown) =>
    store.changeDefinitions(
      w,
      { kind: 'put_segment', segment: { id, name: id, description: '', rule, status: 'building' } },
      clock.now(),
    );
  await put(ws, 'seg_recent', { event: 'Order Completed', within: { days: 30 } });
  await put(ws, 'seg_lapsed', { event: 'Order Completed', performed: false, within: { days: 30 } });
  await put(ws, 'seg_gone', { event: 'Order Completed' });
  await reevaluateAll(store, clock, ws, {
    rebuildFacts: false,
    segments: ['seg_recent', 'seg_lapsed', 'seg_gone'],
  });
  return { store, ws, order, put };
}

/**
 * Then real time: a lapsed customer (u2) orders, an anonymous visitor's order merges into u5, u7 is
 * erased, seg_gone is deleted, and 15 days pass (a sweep). Returns the merged-away and erased ids.
 */
export async function liveChanges(
  { store, ws, order }: Awaited<ReturnType<typeof builtSegments>>,
  clock: Clock & { advance(ms: number): void },
): Promise<{ anon: string; erased: string }> {
  await store.ingest(ws, [order('u2', 'b')]);
  await store.ingest(ws, [
    testEvent({ anonymousId: 'anon', name: 'Order Completed', messageId: 'anon-1', timestamp: clock.now() }),
  ]);
  const anon = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' }))!.id;
  await store.ingest(ws, [
    testEvent({ type: 'identify', anonymousId: 'anon', userId: 'u5', messageId: 'id-1' }),
  ]);
  const erased = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u7' }))!.id;
  await store.eraseProfile(ws, erased, { id: 'er1', requestedBy: 'test', now: clock.now() });
  await store.changeDefinitions(ws, { kind: 'delete_segment', id: 'seg_gone' }, clock.now());
  clock.advance(15 * DAY);
  await reevaluateAll(store, clock, ws, { rebuildFacts: false });
  return { anon, erased };
}
