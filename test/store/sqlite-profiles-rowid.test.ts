import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { BEFORE_0034, FROM_0034, migrationSql, withDb } from './sqlite-file.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

// Migration 0032: profiles move from a WITHOUT ROWID table to a rowid table with the same columns,
// indexes and stage count triggers (docs/performance.md, engagement run 8).
const root = mkdtempSync(join(tmpdir(), 'kizuna-profiles-rowid-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MIGRATION = migrationSql('0032_profiles_rowid.sql');
/** The later migrations that build on the profiles table (see BEFORE_0034). */
const AFTER_0032 = FROM_0034;
/** The same rebuild into the layout before 0032 (WITHOUT ROWID), to stand for a store migrated before it. */
const BACK_TO_WITHOUT_ROWID = MIGRATION.replace(
  'PRIMARY KEY (workspace_id, id)\n);',
  'PRIMARY KEY (workspace_id, id)\n) WITHOUT ROWID;',
);

const tableSql = (db: Database.Database) =>
  db
    .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'profiles'")
    .pluck()
    .get() as string;
const schemaOf = (db: Database.Database) =>
  db
    .prepare("SELECT type, name FROM sqlite_schema WHERE tbl_name = 'profiles' ORDER BY type, name")
    .all() as { type: string; name: string }[];
const rows = (db: Database.Database) =>
  db.prepare('SELECT * FROM profiles ORDER BY workspace_id, id').all() as Record<string, unknown>[];
const kept = (db: Database.Database) =>
  db.prepare('SELECT stage, profiles FROM stage_counts WHERE profiles <> 0 ORDER BY stage').all();
const recounted = (db: Database.Database) =>
  db
    .prepare(
      `SELECT stage, count(*) AS profiles FROM profiles WHERE merged_into IS NULL AND stage IS NOT NULL
       GROUP BY stage ORDER BY stage`,
    )
    .all();

describe('sqlite migration 0032 (profiles as a rowid table)', () => {
  it('keeps every profile, index and stage count trigger of a store migrated before it', async () => {
    const path = join(root, 'old.db');
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    let store = SqliteStore.open({ path, clock });
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    await store.ingest(ws, [
      ...Array.from({ length: 40 }, (_, i) =>
        testEvent({
          userId: `u${i}`,
          name: i % 3 === 0 ? 'Order Completed' : 'Product Viewed',
          traits: { email: `u${i}@example.com`, note: 'x'.repeat(i * 60) },
          properties: { total: i },
          messageId: `a${i}`,
          timestamp: Date.UTC(2026, 4, 1 + (i % 28)),
        }),
      ),
      testEvent({ anonymousId: 'anon-1', name: 'Product Viewed', messageId: 'anon-1' }),
    ]);
    // Merged away before the migration: u1 absorbs the anonymous profile.
    await store.ingest(ws, [
      testEvent({ type: 'identify', userId: 'u1', anonymousId: 'anon-1', messageId: 'merge-1' }),
    ]);
    await store.close();

    const before = withDb(path, (db) => {
      db.exec(BEFORE_0034);
      db.exec(BACK_TO_WITHOUT_ROWID);
      expect(tableSql(db)).toContain('WITHOUT ROWID');
      return { rows: rows(db), schema: schemaOf(db), counts: kept(db) };
    });
    expect(before.rows.length).toBe(41);
    expect(before.rows.filter((r) => r.merged_into !== null)).toHaveLength(1);
    expect(before.counts.length).toBeGreaterThan(0);

    withDb(path, (db) => {
      db.transaction(() => db.exec(MIGRATION))();
      expect(tableSql(db)).not.toContain('WITHOUT ROWID');
      expect(rows(db)).toEqual(before.rows);
      // the same indexes and triggers, and the key's index a rowid table has
      expect(schemaOf(db)).toEqual(
        [...before.schema, { type: 'index', name: 'sqlite_autoindex_profiles_1' }].sort((a, b) =>
          a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type),
        ),
      );
      expect(kept(db)).toEqual(before.counts);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.exec(AFTER_0032);
    });

    // The migrated table keeps its key and its triggers: known customers update their row, new ones
    // and a merge move the kept stage counts as a recount would.
    store = SqliteStore.open({ path, clock });
    await store.migrate();
    await store.ingest(ws, [
      ...Array.from({ length: 10 }, (_, i) =>
        testEvent({ userId: `u${i}`, name: 'Order Completed', messageId: `b${i}` }),
      ),
      testEvent({ userId: 'new-1', name: 'Order Completed', messageId: 'new-1' }),
      testEvent({ anonymousId: 'anon-2', name: 'Product Viewed', messageId: 'anon-2' }),
    ]);
    await store.ingest(ws, [
      testEvent({ type: 'identify', userId: 'u2', anonymousId: 'anon-2', messageId: 'merge-2' }),
    ]);
    const u3 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u3' }))!;
    expect(u3.eventCount).toBe(2);
    // A pass's scan pages through the new table in id order, whole rows and projected alike, and
    // reads each canonical profile once with its stored facts.
    const canonical = withDb(path, (db) =>
      db.prepare('SELECT id, facts FROM profiles WHERE merged_into IS NULL ORDER BY id').all(),
    ) as { id: string; facts: string }[];
    expect(canonical).toHaveLength(41);
    const key = 'track:Order Completed';
    for (const facts of [undefined, { events: [key], traits: false }]) {
      const seen: { id: string; orders: unknown }[] = [];
      let after: string | null = null;
      do {
        const page = await store.scanProfileStates(ws, { after, limit: 7, ...(facts && { facts }) });
        for (const p of page.profiles) seen.push({ id: p.id, orders: p.facts.e[key] ?? null });
        after = page.next;
      } while (after !== null);
      expect(seen).toEqual(
        canonical.map((c) => ({
          id: c.id,
          orders: (JSON.parse(c.facts) as { e: Record<string, unknown> }).e[key] ?? null,
        })),
      );
    }
    await store.close();
    withDb(path, (db) => {
      expect(db.prepare('SELECT count(*) FROM profiles').pluck().get()).toBe(43);
      expect(db.prepare('SELECT count(*) FROM profiles WHERE merged_into IS NOT NULL').pluck().get()).toBe(2);
      expect(kept(db)).toEqual(recounted(db));
      expect(() =>
        db
          .prepare(
            `INSERT INTO profiles (workspace_id, id, created_at, updated_at) SELECT workspace_id, id, 0, 0
             FROM profiles LIMIT 1`,
          )
          .run(),
      ).toThrow(/UNIQUE/);
    });
  });

  it('creates the same table on an empty store, and running it again changes nothing', async () => {
    const path = join(root, 'empty.db');
    const store = SqliteStore.open({ path, clock: new ManualClock(Date.UTC(2026, 5, 1)) });
    await store.migrate();
    await store.close();
    withDb(path, (db) => {
      expect(tableSql(db)).not.toContain('WITHOUT ROWID');
      expect(rows(db)).toEqual([]);
      const schema = schemaOf(db);
      expect(schema.map((s) => s.name)).toEqual([
        'profiles_by_stage',
        'profiles_merged',
        'sqlite_autoindex_profiles_1',
        'profiles',
        'profile_segments_profile_gone',
        'stage_counts_delete',
        'stage_counts_insert',
        'stage_counts_update',
      ]);
      db.exec(BEFORE_0034);
      db.transaction(() => db.exec(MIGRATION))();
      db.exec(AFTER_0032);
      expect(schemaOf(db)).toEqual(schema);
    });
  });
});
