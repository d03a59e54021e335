import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { BEFORE_0034, FROM_0034, withDb } from './sqlite-file.js';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { reevaluateAll } from '../../src/engine/reevaluation.js';
import { builtSegments, liveChanges } from './segment-story.js';

// Migration 0034: a profile's memberships kept by number in profile_segments (the profile's rowid, the
// segment's number), in step with segment_members through triggers, instead of an index by profile.
const root = mkdtempSync(join(tmpdir(), 'kizuna-profile-segments-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The memberships as profile_segments holds them, in ids; rows naming no profile or segment show as null. */
const byProfile = (db: Database.Database) =>
  db
    .prepare(
      `SELECT p.id AS profile, s.id AS segment FROM profile_segments ps
       LEFT JOIN profiles p ON p.rowid = ps.profile_rowid LEFT JOIN segments s ON s.num = ps.segment_num
       ORDER BY 1, 2`,
    )
    .all();
const recorded = (db: Database.Database) =>
  db.prepare('SELECT profile_id AS profile, segment_id AS segment FROM segment_members ORDER BY 1, 2').all();

it('keeps memberships by profile in step through builds, ingest, merges, erasures, sweeps, deletions and VACUUM, and backfills a store from before', async () => {
  const path = join(root, 'members.db');
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const story = await builtSegments(path, clock);
  const { ws, order, put } = story;
  let store = story.store;
  const other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' })).id;
  await store.ingest(other, [order('u1', 'a')]);
  await put(other, 'seg_other', { event: 'Order Completed' });
  await reevaluateAll(store, clock, other, { rebuildFacts: false, segments: ['seg_other'] });
  const segmentsOf = async (w: string, user: string) =>
    (await store.getProfile(w, (await store.lookupProfile(w, { kind: 'user_id', value: user }))!.id))!
      .segments;
  expect(await segmentsOf(ws, 'u0')).toEqual(['seg_gone', 'seg_recent']);
  expect(await segmentsOf(ws, 'u2')).toEqual(['seg_gone', 'seg_lapsed']);
  expect(await segmentsOf(other, 'u1')).toEqual(['seg_other']);

  const { anon, erased } = await liveChanges(story, clock);
  expect(await segmentsOf(ws, 'u2')).toEqual(['seg_recent']);
  expect(await segmentsOf(ws, 'u0')).toEqual(['seg_recent']);
  expect(await segmentsOf(ws, 'u1')).toEqual(['seg_lapsed']); // bought 35 days ago now
  // A segment made after the newest one was deleted does not take its number (migration 0035), nor any
  // of its members.
  await put(ws, 'seg_tmp', { event: 'Order Completed' });
  await reevaluateAll(store, clock, ws, { rebuildFacts: false, segments: ['seg_tmp'] });
  expect(await segmentsOf(ws, 'u1')).toEqual(['seg_lapsed', 'seg_tmp']);
  const numOf = (id: string) =>
    withDb(path, (db) => db.prepare('SELECT num FROM segments WHERE id = ?').pluck().get(id));
  const tmpNum = numOf('seg_tmp');
  await store.changeDefinitions(ws, { kind: 'delete_segment', id: 'seg_tmp' }, clock.now());
  await put(ws, 'seg_new', { has: 'email' });
  await reevaluateAll(store, clock, ws, { rebuildFacts: false, segments: ['seg_new'] });
  expect(numOf('seg_new')).toBeGreaterThan(tmpNum as number);
  expect(await segmentsOf(ws, 'u1')).toEqual(['seg_lapsed']);
  await store.close();

  withDb(path, (db) => {
    expect(byProfile(db)).toEqual(recorded(db));
    expect(recorded(db).length).toBe(30); // 29 customers in one of two segments, u1 in the other workspace
    // the merged-away and the erased profiles hold none
    expect(
      db.prepare('SELECT count(*) FROM segment_members WHERE profile_id IN (?, ?)').pluck().get(anon, erased),
    ).toBe(0);
    // VACUUM keeps profiles' rowids (they have gaps here: u7 was erased): the memberships still read.
    db.exec('VACUUM');
    expect(byProfile(db)).toEqual(recorded(db));
  });

  // A store from before 0034: the migration numbers the segments and copies the memberships over.
  withDb(path, (db) => {
    db.exec(BEFORE_0034);
    db.exec(FROM_0034);
    expect(byProfile(db)).toEqual(recorded(db));
    expect(db.prepare('SELECT count(DISTINCT num) FROM segments').pluck().get()).toBe(4); // seg_recent, seg_lapsed, seg_new, seg_other
  });
  store = SqliteStore.open({ path, clock });
  expect(await segmentsOf(ws, 'u2')).toEqual(['seg_recent']);
  expect(await segmentsOf(other, 'u1')).toEqual(['seg_other']);
  await store.close();
});
