/**
 * The product catalogue and its item-to-item recommendations (docs/catalog.md): items imported by the
 * admin API, the similar-items lists a rebuild computes from customers' views and purchases, and the
 * reads the rebuild and the renderer need of those events (a customer's most recent interactions,
 * newest first, a page of customers at a time).
 */
import type { JsonObject } from '../domain/event.js';

export interface CatalogItem {
  readonly id: string;
  readonly name: string;
  readonly url: string | null;
  readonly imageUrl: string | null;
  readonly price: number | null;
  /** ISO 4217 code, upper case; null when the item has no price or uses the customer's currency */
  readonly currency: string | null;
  readonly category: string | null;
  /** false keeps the item out of every recommendation */
  readonly available: boolean;
  /** any further attributes given at import, shown to templates as `p.extra.<key>` */
  readonly extra: JsonObject;
  readonly updatedAt: number;
}

export interface SimilarItem {
  readonly other: string;
  readonly score: number;
}

/** A track event that says something about an item: its name, time and properties. */
export interface Interaction {
  readonly name: string;
  readonly timestamp: number;
  readonly properties: JsonObject;
}

export interface CatalogStore {
  /** Inserts or replaces items by id, all or none. */
  putItems(ws: string, items: readonly CatalogItem[]): Promise<void>;
  /** The items of these ids that exist, by id. */
  getItems(ws: string, ids: readonly string[]): Promise<Map<string, CatalogItem>>;
  /** A page of items in id order after `after`, `limit` ≤ 1000. */
  listItems(ws: string, page: { after: string | null; limit: number }): Promise<CatalogItem[]>;
  /** Removes an item and its similar-items list; false when there was none. */
  deleteItem(ws: string, id: string): Promise<boolean>;
  countItems(ws: string): Promise<number>;
  /** Replaces every similar-items list of the workspace at once (a rebuild), atomically. */
  replaceSimilar(ws: string, similar: ReadonlyMap<string, readonly SimilarItem[]>): Promise<void>;
  /** The similar-items lists of these items, best first, at most `limit` each; items with none are absent. */
  similarTo(ws: string, items: readonly string[], limit: number): Promise<Map<string, SimilarItem[]>>;
  /**
   * The most recent track events named `names` of these (canonical) profiles, newest first, at most
   * `perProfile` each, by profile id; profiles with none are absent.
   */
  interactionsOf(
    ws: string,
    profileIds: readonly string[],
    q: { names: readonly string[]; perProfile: number },
  ): Promise<Map<string, Interaction[]>>;
  /**
   * A page of canonical profiles in id order after `after` (`limit` ≤ 1000) with their interactions as
   * `interactionsOf` reads them; `next` is the page's last profile id, null after the last page.
   */
  scanInteractions(
    ws: string,
    q: { after: string | null; limit: number; names: readonly string[]; perProfile: number },
  ): Promise<{ interactions: Map<string, Interaction[]>; profiles: number; next: string | null }>;
}
