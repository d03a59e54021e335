import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Finding the test PostgreSQL server, once per test file. Without a reachable server a suite is skipped
 * with a warning naming the reason, unless KIZUNA_REQUIRE_POSTGRES=1 (CI), where that is a failure.
 */
export const serverUrl =
  process.env['KIZUNA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const required = process.env['KIZUNA_REQUIRE_POSTGRES'] === '1';

export function withoutPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** null when the server answers; otherwise why not. Throws when the server is required. */
export async function postgresUnavailable(suite: string): Promise<string | null> {
  let reason: string | null = null;
  try {
    await runSql(serverUrl, 'SELECT 1');
  } catch (err) {
    reason = err instanceof Error ? err.message || err.name : String(err);
  }
  if (reason === null) return null;
  const where = `PostgreSQL at ${withoutPassword(serverUrl)} is unreachable (${reason})`;
  if (required) throw new Error(`KIZUNA_REQUIRE_POSTGRES=1 but ${where}`);
  console.warn(
    `Skipping ${suite}: ${where}. Set KIZUNA_TEST_POSTGRES_URL to a server, or KIZUNA_REQUIRE_POSTGRES=1 to make this a failure.`,
  );
  return reason;
}

/** A fresh database name on the test server and its URL; create and drop it with runSql. */
export function scratchDatabase(): { name: string; url: string } {
  const name = `kizuna_test_${randomBytes(6).toString('hex')}`;
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

/** The rows a statement returns, on a connection of its own. */
export async function querySql(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
