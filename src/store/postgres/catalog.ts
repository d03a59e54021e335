/**
 * The catalogue and similar-items lists on PostgreSQL. Batches go in as one JSON parameter
 * (json_to_recordset), so an import or a rebuild is a few statements, not one per row; a rebuild's
 * delete and inserts run in one transaction, so a send never sees half a list.
 */
import type { CatalogItem, Interaction, SimilarItem } from '../catalog-store.js';
import {
  catalogItem,
  interactionsByProfile,
  type InteractionRowDb,
  type ItemRowDb,
} from '../catalog-rows.js';
import { liquidItem } from '../../domain/recommendations.js';
import { cmp } from './journeys.js';
import type { Sql } from './pg-driver.js';

/** rows per INSERT of a rebuild: bounded so one parameter stays a few megabytes */
const CHUNK = 5000;

export async function putItems(sql: Sql, ws: string, items: readonly CatalogItem[]): Promise<void> {
  if (items.length === 0) return;
  // One row per id (the last wins), in id order so concurrent imports lock alike.
  const last = new Map(items.map((i) => [i.id, i]));
  const sorted = [...last.values()].sort((a, b) => cmp(a.id, b.id));
  await sql.query(
    `INSERT INTO catalog_items (workspace_id, id, name, url, image_url, price, currency, category, available, extra, updated_at)
     SELECT $1, i.id, i.name, i.url, i.image_url, i.price, i.currency, i.category, i.available, i.extra, i.updated_at
     FROM json_to_recordset($2::json) AS i (id text, name text, url text, image_url text, price numeric,
       currency text, category text, available boolean, extra jsonb, updated_at bigint)
     ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, url = excluded.url,
       image_url = excluded.image_url, price = excluded.price, currency = excluded.currency,
       category = excluded.category, available = excluded.available, extra = excluded.extra,
       updated_at = excluded.updated_at`,
    [ws, JSON.stringify(sorted.map((i) => ({ ...liquidItem(i), updated_at: i.updatedAt })))],
  );
}

export async function getItems(
  sql: Sql,
  ws: string,
  ids: readonly string[],
): Promise<Map<string, CatalogItem>> {
  if (ids.length === 0) return new Map();
  const rows = await sql.query<ItemRowDb>(
    'SELECT * FROM catalog_items WHERE workspace_id = $1 AND id = ANY($2::text[])',
    [ws, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, catalogItem(r)]));
}

export async function listItems(
  sql: Sql,
  ws: string,
  page: { after: string | null; limit: number },
): Promise<CatalogItem[]> {
  const rows = await sql.query<ItemRowDb>(
    'SELECT * FROM catalog_items WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3',
    [ws, page.after ?? '', page.limit],
  );
  return rows.map(catalogItem);
}

export async function countItems(sql: Sql, ws: string): Promise<number> {
  const rows = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM catalog_items WHERE workspace_id = $1',
    [ws],
  );
  return rows[0]?.n ?? 0;
}

export async function deleteItem(sql: Sql, ws: string, id: string): Promise<boolean> {
  await sql.query('DELETE FROM catalog_similar WHERE workspace_id = $1 AND item_id = $2', [ws, id]);
  const rows = await sql.query('DELETE FROM catalog_items WHERE workspace_id = $1 AND id = $2 RETURNING 1', [
    ws,
    id,
  ]);
  return rows.length > 0;
}

export async function replaceSimilar(
  sql: Sql,
  ws: string,
  similar: ReadonlyMap<string, readonly SimilarItem[]>,
): Promise<void> {
  await sql.query('DELETE FROM catalog_similar WHERE workspace_id = $1', [ws]);
  const rows: [string, string, number][] = [];
  for (const [item, list] of similar) for (const s of list) rows.push([item, s.other, s.score]);
  for (let at = 0; at < rows.length; at += CHUNK) {
    await sql.query(
      `INSERT INTO catalog_similar (workspace_id, item_id, other_id, score)
       SELECT $1, r->>0, r->>1, (r->>2)::double precision FROM json_array_elements($2::json) AS r`,
      [ws, JSON.stringify(rows.slice(at, at + CHUNK))],
    );
  }
}

export async function similarTo(
  sql: Sql,
  ws: string,
  items: readonly string[],
  limit: number,
): Promise<Map<string, SimilarItem[]>> {
  if (items.length === 0) return new Map();
  const rows = await sql.query<{ item_id: string; other_id: string; score: number }>(
    `SELECT i.item_id, s.other_id, s.score FROM unnest($2::text[]) AS i (item_id)
     CROSS JOIN LATERAL (SELECT other_id, score FROM catalog_similar
       WHERE workspace_id = $1 AND item_id = i.item_id ORDER BY score DESC, other_id LIMIT $3) s`,
    [ws, [...new Set(items)], limit],
  );
  const out = new Map<string, SimilarItem[]>();
  for (const r of rows) {
    let list = out.get(r.item_id);
    if (!list) out.set(r.item_id, (list = []));
    list.push({ other: r.other_id, score: r.score });
  }
  return out;
}

export async function interactionsOf(
  sql: Sql,
  ws: string,
  profileIds: readonly string[],
  q: { names: readonly string[]; perProfile: number },
): Promise<Map<string, Interaction[]>> {
  if (profileIds.length === 0 || q.names.length === 0) return new Map();
  const rows = await sql.query<InteractionRowDb>(
    `SELECT p.profile_id, e.name, e.timestamp, e.payload->'properties' AS properties
     FROM unnest($2::text[]) AS p (profile_id)
     CROSS JOIN LATERAL (SELECT name, timestamp, payload, id FROM events
       WHERE workspace_id = $1 AND profile_id = p.profile_id AND type = 'track' AND name = ANY($3::text[])
       ORDER BY timestamp DESC, id DESC LIMIT $4) e
     ORDER BY p.profile_id, e.timestamp DESC, e.id DESC`,
    [ws, [...new Set(profileIds)], q.names, q.perProfile],
  );
  return interactionsByProfile(rows);
}

export async function scanInteractions(
  sql: Sql,
  ws: string,
  q: { after: string | null; limit: number; names: readonly string[]; perProfile: number },
): Promise<{ interactions: Map<string, Interaction[]>; profiles: number; next: string | null }> {
  const ids = (
    await sql.query<{ id: string }>(
      'SELECT id FROM profiles WHERE workspace_id = $1 AND id > $2 AND merged_into IS NULL ORDER BY id LIMIT $3',
      [ws, q.after ?? '', q.limit],
    )
  ).map((x) => x.id);
  return {
    interactions: await interactionsOf(sql, ws, ids, q),
    profiles: ids.length,
    next: ids.length === q.limit ? ids[ids.length - 1]! : null,
  };
}
