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

/** Migration 0033's count triggers on `segment_members`, as it wrote them (0035 rewrote them). */
function countTriggersOf0033(): string {
  const sql = migrationSql('0033_segment_counts.sql');
  return sql.slice(
    sql.indexOf('CREATE TRIGGER segment_counts_insert'),
    sql.indexOf('CREATE TRIGGER segment_counts_drop'),
  );
}

/**
 * Takes a migrated store back to before migration 0034 (memberships by profile in `profile_segments`)
 * and 0035 (the bulk path past its triggers, numbers never reused, purges), for tests that stand
 * for an older store: its triggers name `profiles`, which older migrations rebuild. FROM_0034 brings it forward again.
 */
export const BEFORE_0034 = `DROP TRIGGER profile_segments_insert; DROP TRIGGER profile_segments_delete;
  DROP TRIGGER profile_segments_profile_gone; DROP TRIGGER segments_number; DROP TABLE profile_segments;
  DROP INDEX segments_by_num; ALTER TABLE segments DROP COLUMN num;
  CREATE INDEX segment_members_by_profile ON segment_members (workspace_id, profile_id);
  DROP TRIGGER segment_counts_insert; DROP TRIGGER segment_counts_delete; DROP TABLE membership_bulk;
  DROP TABLE segment_numbers; DROP TABLE segment_purges;
  ${countTriggersOf0033()}`;

/** Migrations 0034 and 0035, to run after BEFORE_0034 (and whatever stands for an older store). */
export const FROM_0034 = migrationSql('0034_profile_segments.sql') + migrationSql('0035_membership_bulk.sql');
