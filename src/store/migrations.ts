import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Numbered, append-only SQL migrations, one folder per dialect (`NNNN_name.sql`). Each adapter applies
 * them in order, each in its own transaction, recording every applied file in `schema_migrations`.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const migrations = files.map((file) => ({
    version: Number(file.slice(0, 4)),
    name: file.slice(0, -4),
    sql: readFileSync(join(dir, file), 'utf8'),
  }));
  // Numbers only grow; a gap is allowed, because branches developed side by side are each given
  // their own number and land in any order (the ledger records versions, not a high-water mark).
  migrations.forEach((m, i) => {
    if (m.version < 1 || (i > 0 && m.version <= migrations[i - 1]!.version))
      throw new Error(`migrations in ${dir} must be numbered 0001, 0002, ... each number once`);
  });
  return migrations;
}
