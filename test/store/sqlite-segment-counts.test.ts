import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { withDb } from './sqlite-file.js';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { builtSegments, liveChanges } from './segment-story.js';

// Migration 0033: segment sizes kept in segment_counts by triggers on segment_members, so listing
// segments reads one row a segment instead of counting its members.
const root = mkdtempSync(join(tmpdir(), 'kizuna-segment-counts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MIGRATION = readFileSync(
  fileURLToPath(new URL('../../src/store/sqlite/migrations/0033_segment_counts.sql', import.meta.url)),
  'utf8',
);

const kept = (db: Database.Database) =>
  db.prepare('SELECT segment_id, members FROM segment_counts WHERE members <> 0 ORDER BY segment_id').all();
const recounted = (db: Database.Database) =>
  db
    .prepare(
      'SELECT segment_id, count(*) AS members FROM segment_members GROUP BY segment_id ORDER BY segment_id',
    )
    .all();

it('keeps every segment size through builds, ingest, merges, erasures, sweeps and deletions, and backfills a store from before', async () => {
  const path = join(root, 'counts.db');
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const story = await builtSegments(path, clock);
  const { store, ws } = story;
  const sizes = async () =>
    Object.fromEntries((await store.listSegments(ws)).map((s) => [s.id, s.size] as const));
  expect(await sizes()).toEqual({ seg_recent: 20, seg_lapsed: 10, seg_gone: 30 });

  await liveChanges(story, clock);
  const after = await sizes();
  await store.close();

  withDb(path, (db) => {
    expect(kept(db)).toEqual(recounted(db));
    // the deleted segment's count went with it
    expect(
      db.prepare("SELECT count(*) FROM segment_counts WHERE segment_id = 'seg_gone'").pluck().get(),
    ).toBe(0);
  });
  // u2 and (through the merge) u5 moved from lapsed to recent, u7 (recent) was erased, and 15 days on
  // the customers who bought 20 days ago have lapsed too: 29 customers, 12 recent.
  expect(after).toEqual({ seg_recent: 12, seg_lapsed: 17 });

  // A store from before 0033: the migration counts what is there.
  withDb(path, (db) => {
    db.exec(
      `DROP TRIGGER segment_counts_insert; DROP TRIGGER segment_counts_delete; DROP TRIGGER segment_counts_drop;
       DROP TABLE segment_counts;`,
    );
    db.exec(MIGRATION);
    expect(kept(db)).toEqual(recounted(db));
    expect(kept(db)).toEqual([
      { segment_id: 'seg_lapsed', members: 17 },
      { segment_id: 'seg_recent', members: 12 },
    ]);
  });
});
