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
  // Numbers are handed out to parallel branches, so one may land before a lower one: the ledger is
  // checked per version, and only a repeated number is an error.
  migrations.forEach((m, i) => {
    if (i > 0 && m.version <= migrations[i - 1]!.version)
      throw new Error(`migrations in ${dir} must have distinct numbers (${m.name})`);
  });
  return migrations;
}
