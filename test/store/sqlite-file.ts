import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/** Opens a SQLite file on its own connection for `use`, and closes it: to look under a store. */
export const withDb = <T>(path: string, use: (db: Database.Database) => T): T => {
  const db = new Database(path);
  try {
    return use(db);
  } finally {
    db.close();
  }
};

/** A SQLite migration's text, by file name. */
export const migrationSql = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../src/store/sqlite/migrations/${name}`, import.meta.url)), 'utf8');

/**
 * Takes a migrated store back to before migration 0034 (memberships by profile in `profile_segments`),
 * for tests that stand for an older store: its triggers name `profiles`, which older migrations rebuild.
 */
export const BEFORE_0034 = `DROP TRIGGER profile_segments_insert; DROP TRIGGER profile_segments_delete;
  DROP TRIGGER profile_segments_profile_gone; DROP TRIGGER segments_number; DROP TABLE profile_segments;
  DROP INDEX segments_by_num; ALTER TABLE segments DROP COLUMN num;
  CREATE INDEX segment_members_by_profile ON segment_members (workspace_id, profile_id);`;
