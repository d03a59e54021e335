/**
 * Documents kept whole, one per workspace (`workspace_id`, the JSON document, `updated_at`): the
 * delivery settings, the declared subscription topics and the SDK settings, each validated by the
 * engine.
 */
import type { Prepare } from './statements.js';

type Document =
  | { table: 'delivery_settings'; column: 'settings' }
  | { table: 'subscription_topics'; column: 'topics' }
  | { table: 'sdk_settings'; column: 'settings' }
  | { table: 'privacy_settings'; column: 'settings' };

export const SETTINGS: Document = { table: 'delivery_settings', column: 'settings' };
export const TOPICS: Document = { table: 'subscription_topics', column: 'topics' };
export const SDK: Document = { table: 'sdk_settings', column: 'settings' };
export const PRIVACY: Document = { table: 'privacy_settings', column: 'settings' };

export function getDocument(r: Prepare, d: Document, ws: string): unknown {
  const v = r(`SELECT ${d.column} FROM ${d.table} WHERE workspace_id = ?`).pluck().get(ws) as
    string | undefined;
  return v === undefined ? null : (JSON.parse(v) as unknown);
}

export function putDocument(prep: Prepare, d: Document, ws: string, value: unknown, now: number): void {
  prep(
    `INSERT INTO ${d.table} (workspace_id, ${d.column}, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (workspace_id) DO UPDATE SET ${d.column} = excluded.${d.column}, updated_at = excluded.updated_at`,
  ).run(ws, JSON.stringify(value), now);
}
