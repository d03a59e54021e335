/** Row shapes of the catalogue tables and events read as interactions, shared by both adapters. */
import type { JsonObject } from '../domain/event.js';
import type { CatalogItem, Interaction } from './catalog-store.js';
import { json, num, numOrNull, type Num } from './rows.js';

export interface ItemRowDb {
  id: string;
  name: string;
  url: string | null;
  image_url: string | null;
  price: Num | null;
  currency: string | null;
  category: string | null;
  available: number | boolean;
  extra: string | JsonObject;
  updated_at: Num;
}

export function catalogItem(r: ItemRowDb): CatalogItem {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    imageUrl: r.image_url,
    price: numOrNull(r.price),
    currency: r.currency,
    category: r.category,
    available: r.available === true || r.available === 1,
    extra: json<JsonObject>(r.extra),
    updatedAt: num(r.updated_at),
  };
}

export interface InteractionRowDb {
  profile_id: string;
  name: string;
  timestamp: Num;
  /** the event's `properties` only (extracted by the database: the rest of the payload is not parsed) */
  properties: string | JsonObject | null;
}

/** Interactions by profile, in the order the rows came (newest first per profile). */
export function interactionsByProfile(rows: readonly InteractionRowDb[]): Map<string, Interaction[]> {
  const out = new Map<string, Interaction[]>();
  for (const r of rows) {
    const p = parsed(r.properties);
    const properties = typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as JsonObject) : {};
    let list = out.get(r.profile_id);
    if (!list) out.set(r.profile_id, (list = []));
    list.push({ name: r.name, timestamp: num(r.timestamp), properties });
  }
  return out;
}

/** `properties` as the database gave it: parsed JSON, JSON text, or null (ingestion keeps it an object). */
function parsed(v: string | JsonObject | null): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return null;
  }
}
