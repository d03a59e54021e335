import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Opens a connection with Kizuna's settings: WAL, fsync at every commit, wait up to 10 s for a lock,
 * and a page cache of `cacheMb` (SQLite's default is 2 MB; 24 MB for the writer), so the index pages that identity lookups and
 * timeline inserts touch stay in memory: +10% ingest throughput over the default in bench/ingest.mjs,
 * and the same throughput as 64 MB (run D) and 32 MB (run E) with less peak memory (docs/performance.md).
 * In its own module (writer.ts re-exports it) so a scan thread opens a connection without loading the
 * writer and all it imports: about 80 ms per thread.
 */
export function openConnection(path: string, cacheMb = 24): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = -${cacheMb * 1024}`);
  return db;
}
