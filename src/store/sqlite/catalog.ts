/**
 * The catalogue and similar-items lists on SQLite: writes on the writer connection inside its
 * transaction, reads on the reader connection. Interactions are read per profile through the events
 * timeline index, newest first, so a customer with a long history costs only the rows asked for.
 */
import type { CatalogItem, Interaction, SimilarItem } from '../catalog-store.js';
import {
  catalogItem,
  interactionsByProfile,
  type InteractionRowDb,
  type ItemRowDb,
} from '../catalog-rows.js';
import type { Prepare } from './statements.js';

export function putItems(prep: Prepare, ws: string, items: readonly CatalogItem[]): void {
  const put = prep(
    `INSERT INTO catalog_items (workspace_id, id, name, url, image_url, price, currency, category, available, extra, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, url = excluded.url,
       image_url = excluded.image_url, price = excluded.price, currency = excluded.currency,
       category = excluded.category, available = excluded.available, extra = excluded.extra,
       updated_at = excluded.updated_at`,
  );
  for (const i of items) {
    put.run(
      ws,
      i.id,
      i.name,
      i.url,
      i.imageUrl,
      i.price,
      i.currency,
      i.category,
      i.available ? 1 : 0,
      JSON.stringify(i.extra),
      i.updatedAt,
    );
  }
}

export function getItems(r: Prepare, ws: string, ids: readonly string[]): Map<string, CatalogItem> {
  const q = r('SELECT * FROM catalog_items WHERE workspace_id = ? AND id = ?');
  const out = new Map<string, CatalogItem>();
  for (const id of new Set(ids)) {
    const row = q.get(ws, id) as ItemRowDb | undefined;
    if (row) out.set(id, catalogItem(row));
  }
  return out;
}

export function listItems(
  r: Prepare,
  ws: string,
  page: { after: string | null; limit: number },
): CatalogItem[] {
  const rows = r('SELECT * FROM catalog_items WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?').all(
    ws,
    page.after ?? '',
    page.limit,
  ) as ItemRowDb[];
  return rows.map(catalogItem);
}

export function countItems(r: Prepare, ws: string): number {
  return (r('SELECT count(*) AS n FROM catalog_items WHERE workspace_id = ?').get(ws) as { n: number }).n;
}

export function deleteItem(prep: Prepare, ws: string, id: string): boolean {
  prep('DELETE FROM catalog_similar WHERE workspace_id = ? AND item_id = ?').run(ws, id);
  return prep('DELETE FROM catalog_items WHERE workspace_id = ? AND id = ?').run(ws, id).changes > 0;
}

export function replaceSimilar(
  prep: Prepare,
  ws: string,
  similar: ReadonlyMap<string, readonly SimilarItem[]>,
): void {
  prep('DELETE FROM catalog_similar WHERE workspace_id = ?').run(ws);
  const put = prep(
    'INSERT INTO catalog_similar (workspace_id, item_id, other_id, score) VALUES (?, ?, ?, ?)',
  );
  for (const [item, list] of similar) for (const s of list) put.run(ws, item, s.other, s.score);
}

export function similarTo(
  r: Prepare,
  ws: string,
  items: readonly string[],
  limit: number,
): Map<string, SimilarItem[]> {
  const q = r(
    `SELECT other_id, score FROM catalog_similar WHERE workspace_id = ? AND item_id = ?
     ORDER BY score DESC, other_id LIMIT ?`,
  );
  const out = new Map<string, SimilarItem[]>();
  for (const item of new Set(items)) {
    const rows = q.all(ws, item, limit) as { other_id: string; score: number }[];
    if (rows.length > 0)
      out.set(
        item,
        rows.map((x) => ({ other: x.other_id, score: x.score })),
      );
  }
  return out;
}

export function interactionsOf(
  r: Prepare,
  ws: string,
  profileIds: readonly string[],
  q: { names: readonly string[]; perProfile: number },
): Map<string, Interaction[]> {
  if (q.names.length === 0) return new Map();
  const stmt = r(
    `SELECT profile_id, name, timestamp, json_extract(payload, '$.properties') AS properties
     FROM events INDEXED BY events_timeline
     WHERE workspace_id = ? AND profile_id = ? AND type = 'track' AND name IN (${q.names.map(() => '?').join(', ')})
     ORDER BY timestamp DESC, id DESC LIMIT ?`,
  );
  const rows: InteractionRowDb[] = [];
  for (const id of new Set(profileIds)) {
    rows.push(...(stmt.all(ws, id, ...q.names, q.perProfile) as InteractionRowDb[]));
  }
  return interactionsByProfile(rows);
}

export function scanInteractions(
  r: Prepare,
  ws: string,
  q: { after: string | null; limit: number; names: readonly string[]; perProfile: number },
): { interactions: Map<string, Interaction[]>; profiles: number; next: string | null } {
  const ids = (
    r(
      `SELECT id FROM profiles WHERE workspace_id = ? AND id > ? AND merged_into IS NULL ORDER BY id LIMIT ?`,
    ).all(ws, q.after ?? '', q.limit) as { id: string }[]
  ).map((x) => x.id);
  return {
    interactions: interactionsOf(r, ws, ids, q),
    profiles: ids.length,
    next: ids.length === q.limit ? ids[ids.length - 1]! : null,
  };
}
