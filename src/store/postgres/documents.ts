/**
 * Documents kept whole, one per workspace (`workspace_id`, the jsonb document, `updated_at`): the
 * delivery settings, the declared subscription topics and the SDK settings, each validated by the
 * engine.
 */
import type { Sql } from './pg-driver.js';

type Document =
  | { table: 'delivery_settings'; column: 'settings' }
  | { table: 'subscription_topics'; column: 'topics' }
  | { table: 'sdk_settings'; column: 'settings' }
  | { table: 'privacy_settings'; column: 'settings' };

export const SETTINGS: Document = { table: 'delivery_settings', column: 'settings' };
export const TOPICS: Document = { table: 'subscription_topics', column: 'topics' };
export const SDK: Document = { table: 'sdk_settings', column: 'settings' };
export const PRIVACY: Document = { table: 'privacy_settings', column: 'settings' };

export async function getDocument(sql: Sql, d: Document, ws: string): Promise<unknown> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT ${d.column} AS value FROM ${d.table} WHERE workspace_id = $1`,
    [ws],
  );
  return rows[0]?.['value'] ?? null;
}

export async function putDocument(
  sql: Sql,
  d: Document,
  ws: string,
  value: unknown,
  now: number,
): Promise<void> {
  await sql.query(
    `INSERT INTO ${d.table} (workspace_id, ${d.column}, updated_at) VALUES ($1, $2::jsonb, $3)
     ON CONFLICT (workspace_id) DO UPDATE SET ${d.column} = excluded.${d.column}, updated_at = excluded.updated_at`,
    [ws, JSON.stringify(value), now],
  );
}
