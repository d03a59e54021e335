import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

// The SQLite ingest writes that take shortcuts for known customers (docs/performance.md, ingestion
// run J): profiles read are updated by rowid, and rollup rows are probed before their upsert.
const root = mkdtempSync(join(tmpdir(), 'kizuna-ingest-writes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const day = (month: number, d: number) => Date.UTC(2026, month, d, 10);
const bit = (d: number) => 1 << (d - 1);

describe('sqlite ingest writes for known customers', () => {
  it('updates profiles in place and adds only the days the rollup lacks', async () => {
    const path = join(root, 'writes.db');
    const store = SqliteStore.open({ path, clock: new ManualClock(day(6, 20)) });
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    const db = new Database(path, { readonly: true });
    try {
      const profiles = () =>
        db.prepare('SELECT rowid, user_id, traits, event_count FROM profiles ORDER BY user_id').all() as {
          rowid: number;
          user_id: string;
          traits: string;
          event_count: number;
        }[];
      const named = () =>
        db
          .prepare(
            `SELECT p.user_id, a.name, a.month, a.days FROM event_activity a JOIN profiles p ON p.id = a.profile_id
             ORDER BY p.user_id, a.name, a.month`,
          )
          .all();
      const years = () =>
        db
          .prepare(
            `SELECT p.user_id, a.m6, a.m7 FROM event_activity_years a JOIN profiles p ON p.id = a.profile_id
             ORDER BY p.user_id`,
          )
          .all();

      await store.ingest(ws, [
        testEvent({ userId: 'u1', name: 'A', timestamp: day(5, 3) }),
        testEvent({ type: 'identify', userId: 'u2', traits: { plan: 'pro' }, timestamp: day(5, 3) }),
      ]);
      const first = profiles();
      expect(first.map((p) => [p.user_id, JSON.parse(p.traits) as unknown, p.event_count])).toEqual([
        ['u1', {}, 1],
        ['u2', { plan: 'pro' }, 1],
      ]);

      // u1: a day the rollup holds, then one it lacks; u2: one call across a month's end, new traits.
      await store.ingest(ws, [
        testEvent({ userId: 'u1', name: 'A', timestamp: day(5, 3) }),
        testEvent({ userId: 'u1', name: 'A', timestamp: day(5, 5) }),
        testEvent({ userId: 'u2', name: 'B', timestamp: day(5, 30) }),
        testEvent({ userId: 'u2', name: 'B', timestamp: day(6, 1) }),
        testEvent({ type: 'identify', userId: 'u2', traits: { plan: 'max' }, timestamp: day(6, 1) }),
      ]);
      const second = profiles();
      expect(second.map((p) => [p.rowid, p.user_id, JSON.parse(p.traits) as unknown, p.event_count])).toEqual(
        [
          [first[0]!.rowid, 'u1', {}, 3],
          [first[1]!.rowid, 'u2', { plan: 'max' }, 4],
        ],
      );
      expect(named()).toEqual([
        { user_id: 'u1', name: 'A', month: Date.UTC(2026, 5, 1), days: bit(3) | bit(5) },
        { user_id: 'u2', name: 'B', month: Date.UTC(2026, 5, 1), days: bit(30) },
        { user_id: 'u2', name: 'B', month: Date.UTC(2026, 6, 1), days: bit(1) },
      ]);
      expect(years()).toEqual([
        { user_id: 'u1', m6: bit(3) | bit(5), m7: 0 },
        { user_id: 'u2', m6: bit(30), m7: bit(1) },
      ]);

      // Known days only: nothing in the rollup changes, the profiles still count the events.
      await store.ingest(ws, [
        testEvent({ userId: 'u1', name: 'A', timestamp: day(5, 5) }),
        testEvent({ userId: 'u2', name: 'B', timestamp: day(6, 1) }),
      ]);
      expect(profiles().map((p) => [p.user_id, p.event_count])).toEqual([
        ['u1', 4],
        ['u2', 5],
      ]);
      expect(named()).toHaveLength(3);
      expect(years()).toEqual([
        { user_id: 'u1', m6: bit(3) | bit(5), m7: 0 },
        { user_id: 'u2', m6: bit(30), m7: bit(1) },
      ]);
      const id = db.prepare("SELECT id FROM profiles WHERE user_id = 'u2'").pluck().get() as string;
      expect(await store.getProfile(ws, id)).toMatchObject({
        userId: 'u2',
        traits: { plan: 'max' },
        eventCount: 5,
        lastSeenAt: day(6, 1),
        stage: 'active',
        segments: [],
      });
    } finally {
      db.close();
      await store.close();
    }
  });

  it('finds stored messageIds in one probe, and ids JSON cannot carry one by one', async () => {
    const store = SqliteStore.open({ path: join(root, 'ids.db'), clock: new ManualClock(day(6, 20)) });
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    try {
      const ids = ['m-1', 'm "2" \\ é', 'm-3'];
      const odd = ['lone \ud800 surrogate', 'nul \u0000 inside'];
      const send = (messageIds: string[]) =>
        store.ingest(
          ws,
          messageIds.map((messageId) => testEvent({ userId: 'u1', messageId, timestamp: day(5, 3) })),
        );
      expect(await send([...ids, ...odd])).toMatchObject({ stored: 5, duplicates: 0 });
      expect(await send([...ids, 'm-4'])).toMatchObject({ stored: 1, duplicates: 3 });
      expect(await send(['m-5', ...odd])).toMatchObject({ stored: 1, duplicates: 2 });
      expect(await send(['m-5', 'm-6', 'm-6'])).toMatchObject({ stored: 1, duplicates: 2 });
    } finally {
      await store.close();
    }
  });
});
