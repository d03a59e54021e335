import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { reevaluateAll } from '../../src/engine/reevaluation.js';
import { withDb } from './sqlite-file.js';

// Deleting a segment on SQLite: the definition at once, its memberships afterwards a bounded step at a
// time (src/store/sqlite/segment-purge.ts, migration 0035).
const root = mkdtempSync(join(tmpdir(), 'kizuna-segment-purge-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Eight customers with an e-mail, five of whom ordered: seg_mail (8) and seg_buyers (5), built. */
async function story(opts: { purgeStep: number }) {
  const path = join(root, `p${++n}.db`);
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const store = SqliteStore.open({ path, clock, ...opts });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  for (let i = 0; i < 8; i++) {
    await store.ingest(ws, [
      testEvent({
        type: 'identify',
        userId: `u${i}`,
        traits: { email: `u${i}@example.com` },
        messageId: `i${i}`,
      }),
      ...(i < 5 ? [testEvent({ userId: `u${i}`, name: 'Order Completed', messageId: `o${i}` })] : []),
    ]);
  }
  const put = (s: SqliteStore, id: string, rule: unknown) =>
    s.changeDefinitions(
      ws,
      { kind: 'put_segment', segment: { id, name: id, description: '', rule, status: 'building' } },
      clock.now(),
    );
  await put(store, 'seg_mail', { has: 'email' });
  await put(store, 'seg_buyers', { event: 'Order Completed' });
  await reevaluateAll(store, clock, ws, { rebuildFacts: false, segments: ['seg_mail', 'seg_buyers'] });
  const profileOf = async (s: SqliteStore, user: string) =>
    (await s.lookupProfile(ws, { kind: 'user_id', value: user }))!.id;
  const look = <T>(sql: string, ...args: unknown[]) =>
    withDb(
      path,
      (db) =>
        db
          .prepare(sql)
          .raw(true)
          .all(...args) as T[],
    );
  /** what the file holds of the buyers' segment, by id and by number, and what is left to purge */
  const left = (num: number) => ({
    rows: look<[number]>("SELECT count(*) FROM segment_members WHERE segment_id = 'seg_buyers'")[0]![0],
    byProfile: look<[number]>('SELECT count(*) FROM profile_segments WHERE segment_num = ?', num)[0]![0],
    purges: look<[string]>('SELECT segment_id FROM segment_purges').map(([id]) => id),
  });
  const buyersNum = look<[number]>("SELECT num FROM segments WHERE id = 'seg_buyers'")[0]![0];
  return { path, clock, store, ws, put, profileOf, look, left, buyersNum };
}

it('deletes a segment at once and its memberships afterwards in steps, which a restart finishes', async () => {
  const s = await story({ purgeStep: 2 });
  expect(s.left(s.buyersNum)).toEqual({ rows: 5, byProfile: 5, purges: [] });
  await s.store.changeDefinitions(s.ws, { kind: 'delete_segment', id: 'seg_buyers' }, s.clock.now());
  // Stopped right away: the step under way finishes (2 rows), the rest waits for the next start.
  await s.store.close();
  expect(s.left(s.buyersNum)).toEqual({ rows: 3, byProfile: 3, purges: ['seg_buyers'] });

  // Meanwhile the rows left are nobody's memberships, and the size of what exists is right.
  const store = SqliteStore.open({ path: s.path, clock: s.clock, purgeStep: 2 });
  // a buyer whose row is still there (the purge goes in profile id order)
  const left = s.look<[string]>(
    "SELECT profile_id FROM segment_members WHERE segment_id = 'seg_buyers' LIMIT 1",
  )[0]![0];
  expect((await store.getProfile(s.ws, left))!.segments).toEqual(['seg_mail']);
  expect((await store.listSegments(s.ws)).map((g) => [g.id, g.size])).toEqual([['seg_mail', 8]]);
  expect(await store.getSegment(s.ws, 'seg_buyers')).toBeNull();
  // A new segment never takes a deleted one's number: its rows would become the new one's.
  await s.put(store, 'seg_new', { event: 'Order Completed' });
  const newNum = s.look<[number]>("SELECT num FROM segments WHERE id = 'seg_new'")[0]![0];
  expect(newNum).toBeGreaterThan(s.buyersNum);
  // An erasure takes the customer's rows left under the deleted segment along.
  await store.eraseProfile(s.ws, left, { id: 'er1', requestedBy: 'test', now: s.clock.now() });
  expect(s.look('SELECT segment_id FROM segment_members WHERE profile_id = ?', left)).toEqual([]);
  expect(s.left(s.buyersNum)).toEqual({ rows: 2, byProfile: 2, purges: ['seg_buyers'] });

  // The next start goes on with the purge; the memberships that exist are untouched.
  await store.migrate();
  await store.purgesSettled();
  expect(s.left(s.buyersNum)).toEqual({ rows: 0, byProfile: 0, purges: [] });
  expect(s.look('SELECT count(*) FROM profile_segments')).toEqual([[7]]); // seg_mail without the erased
  expect((await store.listSegments(s.ws)).map((g) => [g.id, g.size])).toEqual([
    ['seg_mail', 7],
    ['seg_new', 0],
  ]);
  await store.close();
});

it('purges a deleted segment whole, while the server runs, one writer transaction a step', async () => {
  const s = await story({ purgeStep: 2 });
  await s.store.changeDefinitions(s.ws, { kind: 'delete_segment', id: 'seg_buyers' }, s.clock.now());
  // Ingest goes on between the steps (each step is queued behind the writes before it).
  await s.store.ingest(s.ws, [testEvent({ userId: 'u9', name: 'Order Completed', messageId: 'o9' })]);
  await s.store.purgesSettled();
  expect(s.left(s.buyersNum)).toEqual({ rows: 0, byProfile: 0, purges: [] });
  expect((await s.store.listSegments(s.ws)).map((g) => [g.id, g.size])).toEqual([['seg_mail', 8]]);
  await s.store.close();
});

it("starts a segment created under a deleted one's id without the rows still to purge", async () => {
  const s = await story({ purgeStep: 2 });
  await s.store.changeDefinitions(s.ws, { kind: 'delete_segment', id: 'seg_buyers' }, s.clock.now());
  await s.store.close();
  expect(s.left(s.buyersNum).rows).toBe(3);
  const store = SqliteStore.open({ path: s.path, clock: s.clock, purgeStep: 2 });
  // Same id, another rule: none of the old members.
  await s.put(store, 'seg_buyers', { trait: 'email', op: 'contains', value: 'u1@' });
  expect(s.left(s.buyersNum)).toEqual({ rows: 0, byProfile: 0, purges: [] });
  expect((await store.listSegmentMembers(s.ws, 'seg_buyers', { limit: 10 })).profileIds).toEqual([]);
  await reevaluateAll(store, s.clock, s.ws, { rebuildFacts: false, segments: ['seg_buyers'] });
  expect((await store.listSegmentMembers(s.ws, 'seg_buyers', { limit: 10 })).profileIds).toEqual([
    await s.profileOf(store, 'u1'),
  ]);
  await store.close();
});
