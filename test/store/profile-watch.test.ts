import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ScannedChange } from '../../src/store/store.js';
import { reevaluateAll } from '../../src/engine/reevaluation.js';

// A build's scanned memberships stored without a second evaluation (src/store/sqlite/profile-watch.ts),
// on the writer thread as the server runs it: compiled code, from dist/ (`npm test` builds it first).
const built = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
const { SqliteStore: BuiltStore } = (await import(built)) as { SqliteStore: typeof SqliteStore };

const DAY = 86_400_000;
const root = mkdtempSync(join(tmpdir(), 'kizuna-profile-watch-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

let store: SqliteStore;
let path: string;
let ws: string;
const clock = new ManualClock(Date.UTC(2026, 3, 1));
/** u0…u5 bought 40 days ago: all of them are "lapsed" (no order in 30 days) */
const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
const ids = new Map<string, string>();

const order = (user: string, at: number, key: string) =>
  testEvent({ userId: user, name: 'Order Completed', messageId: `${user}-${key}`, timestamp: at });
const putSegment = (id: string, rule: unknown) =>
  store.changeDefinitions(
    ws,
    { kind: 'put_segment', segment: { id, name: id, description: '', rule, status: 'building' } },
    clock.now(),
  );
const members = async (segment: string) =>
  (await store.listSegmentMembers(ws, segment, { limit: 1000 })).profileIds
    .map((id) => [...ids].find(([, p]) => p === id)?.[0])
    .sort();
const version = async () => (await store.getDefinitions(ws)).version;
const entering = (segment: string, ...who: string[]): ScannedChange[] =>
  who.map((u) => [ids.get(u)!, [segment], []] as const);

beforeEach(async () => {
  path = join(root, `w${++n}.db`);
  store = BuiltStore.open({ path, clock, writer: 'thread' });
  await store.migrate();
  ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  await store.ingest(
    ws,
    users.map((u) => order(u, clock.now() - 40 * DAY, 'old')),
  );
  for (const u of users) ids.set(u, (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id);
  await putSegment('seg_lapsed', { event: 'Order Completed', performed: false, within: { days: 30 } });
});
afterEach(async () => {
  await store.close();
});

it('stores what the scan found for profiles nothing wrote since the watch began, and hands back the others', async () => {
  const watch = await store.watchProfiles(ws);
  // After the watch began: u1 orders, u2 gets a trait (a rule may read it), u3 is erased.
  await store.ingest(ws, [order('u1', clock.now(), 'new')]);
  await store.ingest(ws, [
    testEvent({ type: 'identify', userId: 'u2', traits: { plan: 'gold' }, messageId: 'id' }),
  ]);
  await store.eraseProfile(ws, ids.get('u3')!, { id: 'er_1', requestedBy: 'test', now: clock.now() });
  const r = await store.applyScannedMemberships(ws, watch, {
    version: await version(),
    now: clock.now(),
    changes: entering('seg_lapsed', 'u0', 'u1', 'u2', 'u3', 'u4'),
  });
  expect(r.applied).toBe(2);
  expect(r.rest.map((id) => [...ids].find(([, p]) => p === id)?.[0]).sort()).toEqual(['u1', 'u2', 'u3']);
  // The untouched ones were stored; of the others, only what ingest's own evaluation of the building
  // segment wrote is there (u2's identify found it lapsed, u1's order did not): the rest wait for the
  // long way.
  expect(await members('seg_lapsed')).toEqual(['u0', 'u2', 'u4']);
  await store.unwatchProfiles(watch);
});

it("stores a page by its profiles' rowids past the membership triggers, keeping sizes and memberships by profile in step", async () => {
  const look = <T>(sql: string, ...args: unknown[]): T[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db
        .prepare(sql)
        .raw(true)
        .all(...args) as T[];
    } finally {
      db.close();
    }
  };
  const rowid = (u: string) => look<[number]>('SELECT rowid FROM profiles WHERE id = ?', ids.get(u))[0]![0];
  /** the size kept, the rows by segment, the rows by profile (in ids), and a left-over bulk mark */
  const kept = () => ({
    size: look<[number]>("SELECT members FROM segment_counts WHERE segment_id = 'seg_lapsed'")[0]?.[0],
    members: look<[string]>("SELECT profile_id FROM segment_members WHERE segment_id = 'seg_lapsed'")
      .map(([id]) => id)
      .sort(),
    byProfile: look<[string]>(
      `SELECT p.id FROM profile_segments ps JOIN profiles p ON p.rowid = ps.profile_rowid
       JOIN segments s ON s.num = ps.segment_num WHERE s.id = 'seg_lapsed'`,
    )
      .map(([id]) => id)
      .sort(),
    marks: look<[number]>('SELECT count(*) FROM membership_bulk')[0]![0],
  });
  const watch = await store.watchProfiles(ws);
  const v = await version();
  const withVersion = (changes: ScannedChange[], scanned = v) =>
    store.applyScannedMemberships(ws, watch, {
      version: scanned,
      now: clock.now(),
      changes,
      rowids: changes.map(([id]) => rowid([...ids].find(([, p]) => p === id)![0])),
    });
  // not the scanned definitions: handed back whole, nothing written
  expect((await withVersion(entering('seg_lapsed', 'u0'), v - 1)).applied).toBe(0);
  expect(kept()).toEqual({ size: undefined, members: [], byProfile: [], marks: 0 });
  expect((await withVersion(entering('seg_lapsed', 'u0', 'u1', 'u2', 'u3'))).applied).toBe(4);
  // the same page again counts nobody twice (and the bulk writes were the watch's own: u0 and u1
  // do not count as touched since)
  expect((await withVersion(entering('seg_lapsed', 'u0', 'u1'))).applied).toBe(2);
  // u1 leaves, u4 enters
  expect(
    (await withVersion([[ids.get('u1')!, [], ['seg_lapsed']], ...entering('seg_lapsed', 'u4')])).applied,
  ).toBe(2);
  const expected = ['u0', 'u2', 'u3', 'u4'].map((u) => ids.get(u)!).sort();
  expect(kept()).toEqual({ size: 4, members: expected, byProfile: expected, marks: 0 });
  await store.unwatchProfiles(watch);
  // The triggers keep doing their part for every other writer: u0 orders and leaves the segment.
  await store.ingest(ws, [order('u0', clock.now(), 'new')]);
  const after = ['u2', 'u3', 'u4'].map((u) => ids.get(u)!).sort();
  expect(kept()).toEqual({ size: 3, members: after, byProfile: after, marks: 0 });
});

it('hands back everything when another connection committed, the definitions changed, or a segment is ready', async () => {
  // another connection's commit (a CLI beside the server): the watch cannot vouch for anything
  let watch = await store.watchProfiles(ws);
  const other = new Database(path);
  other.exec('CREATE TABLE another_writer (x)');
  other.close();
  let r = await store.applyScannedMemberships(ws, watch, {
    version: await version(),
    now: clock.now(),
    changes: entering('seg_lapsed', 'u0'),
  });
  expect(r).toEqual({ applied: 0, rest: [ids.get('u0')] });
  await store.unwatchProfiles(watch);

  // definitions saved since the scan read them
  watch = await store.watchProfiles(ws);
  const scannedVersion = await version();
  await putSegment('seg_other', { event: 'Order Completed' });
  r = await store.applyScannedMemberships(ws, watch, {
    version: scannedVersion,
    now: clock.now(),
    changes: entering('seg_lapsed', 'u0'),
  });
  expect(r.applied).toBe(0);

  // a segment that is no longer being built: its changes emit events, which only the long way writes
  await store.setSegmentBuild(ws, 'seg_other', { status: 'ready', done: 6, total: 6 }, clock.now());
  r = await store.applyScannedMemberships(ws, watch, {
    version: await version(),
    now: clock.now(),
    changes: entering('seg_other', 'u0'),
  });
  expect(r.applied).toBe(0);
  // a watch that ended vouches for nothing either
  await store.unwatchProfiles(watch);
  r = await store.applyScannedMemberships(ws, watch, {
    version: await version(),
    now: clock.now(),
    changes: entering('seg_lapsed', 'u0'),
  });
  expect(r.applied).toBe(0);
  expect(await members('seg_lapsed')).toEqual([]);
});

it('builds a segment right when a customer changes between the scan and the write', async () => {
  // The pass scans, then (before its first page is stored) u3 orders and stops being lapsed: the
  // stored page must not make u3 a member on the strength of the scan.
  const racing = Object.create(store) as SqliteStore;
  let raced = false;
  racing.applyScannedMemberships = async (...args) => {
    if (!raced) {
      raced = true;
      await store.ingest(ws, [order('u3', clock.now(), 'race')]);
    }
    return store.applyScannedMemberships(...args);
  };
  const r = await reevaluateAll(racing, clock, ws, { rebuildFacts: false, segments: ['seg_lapsed'] });
  expect(raced).toBe(true);
  expect(r).toEqual({ processed: 6, changed: 5 });
  expect(await members('seg_lapsed')).toEqual(['u0', 'u1', 'u2', 'u4', 'u5']);
  // The build is quiet: no Segment Entered for a population that came from history.
  const stream = await store.listEngagementEvents(ws, { after: 0, limit: 100 });
  expect(stream.filter((e) => e.type !== 'Stage Entered')).toEqual([]);
});
