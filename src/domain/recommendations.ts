/**
 * Item-to-item recommendations (docs/catalog.md), pure. A rebuild reads each customer's most recent
 * interactions — `Product Viewed` (`properties.product_id`) and `Order Completed`
 * (`properties.products[].product_id`), the Segment e-commerce spec — keeps their most recent distinct
 * catalogue items with a weight (a purchase counts 3, a view 1), and adds every pair of those items
 * to a co-occurrence matrix. Two items are similar by the cosine of their weighted customer vectors:
 * `Σ w(a)·w(b) / √(Σ w(a)² · Σ w(b)²)` over customers, so an item everybody buys is not similar to
 * everything (its norm grows with its popularity). A customer's recommendations are then the items
 * similar to what they recently viewed or bought, scored by the sum of similarity × their weight,
 * minus everything they bought and everything unavailable.
 */
import type { JsonObject } from './event.js';
import type { CatalogItem, Interaction, SimilarItem } from '../store/catalog-store.js';

export const PRODUCT_VIEWED = 'Product Viewed';
export const ORDER_COMPLETED = 'Order Completed';
/** the track events a rebuild and a send read */
export const INTERACTION_EVENTS = [PRODUCT_VIEWED, ORDER_COMPLETED] as const;

export const WEIGHTS = { view: 1, purchase: 3 } as const;

/** Bounds of the work (docs/catalog.md#limits). */
export const RECOMMENDATION_LIMITS = {
  /** distinct items per customer a rebuild pairs, the most recent ones */
  itemsPerCustomer: 50,
  /** interaction events read per customer (an order can name several items) */
  eventsPerCustomer: 100,
  /** purchases read per customer to exclude what they bought */
  purchasesPerCustomer: 1000,
  /** similar items kept per item */
  similarPerItem: 20,
  /** recommendations a template sees */
  perCustomer: 20,
} as const;

/** An item recommended to a customer, with its score (higher is better). */
export interface RecommendedItem extends CatalogItem {
  readonly score: number;
}

function productId(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** The items an interaction is about, and whether it was a purchase. */
export function itemsOf(i: Interaction): { id: string; purchase: boolean }[] {
  if (i.name === PRODUCT_VIEWED) {
    const id = productId(i.properties['product_id']);
    return id === null ? [] : [{ id, purchase: false }];
  }
  if (i.name === ORDER_COMPLETED) {
    const products = i.properties['products'];
    if (!Array.isArray(products)) return [];
    const out: { id: string; purchase: boolean }[] = [];
    for (const p of products) {
      if (typeof p !== 'object' || p === null || Array.isArray(p)) continue;
      const id = productId((p as JsonObject)['product_id']);
      if (id !== null) out.push({ id, purchase: true });
    }
    return out;
  }
  return [];
}

/**
 * A customer's items from their interactions (newest first): the `max` most recent distinct items
 * that `known` accepts, each weighted by the strongest thing the customer did with it.
 */
export function customerItems(
  interactions: readonly Interaction[],
  opts: { max: number; known?: (id: string) => boolean },
): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of interactions) {
    for (const { id, purchase } of itemsOf(i)) {
      const w = purchase ? WEIGHTS.purchase : WEIGHTS.view;
      const had = out.get(id);
      if (had !== undefined) {
        if (w > had) out.set(id, w);
      } else if (out.size < opts.max && (opts.known?.(id) ?? true)) out.set(id, w);
    }
  }
  return out;
}

/** Every item the interactions show bought. */
export function boughtItems(interactions: readonly Interaction[]): Set<string> {
  const out = new Set<string>();
  for (const i of interactions) for (const x of itemsOf(i)) if (x.purchase) out.add(x.id);
  return out;
}

const byScore = (a: { score: number; id: string }, b: { score: number; id: string }) =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The co-occurrence of items over customers, added one customer at a time. */
export class CoOccurrence {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];
  /** Σ w² per item */
  private readonly norms: number[] = [];
  /** for i < j: Σ w(i)·w(j) */
  private readonly dots = new Map<number, Map<number, number>>();
  customers = 0;
  pairs = 0;

  private at(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.index.set(id, i);
      this.ids.push(id);
      this.norms.push(0);
    }
    return i;
  }

  /** One customer's weighted items. */
  add(items: ReadonlyMap<string, number>): void {
    if (items.size === 0) return;
    this.customers++;
    const xs = [...items].map(([id, w]) => [this.at(id), w] as const).sort((a, b) => a[0] - b[0]);
    for (let a = 0; a < xs.length; a++) {
      const [i, wi] = xs[a]!;
      this.norms[i]! += wi * wi;
      let row = this.dots.get(i);
      for (let b = a + 1; b < xs.length; b++) {
        const [j, wj] = xs[b]!;
        if (!row) this.dots.set(i, (row = new Map<number, number>()));
        const had = row.get(j);
        if (had === undefined) this.pairs++;
        row.set(j, (had ?? 0) + wi * wj);
      }
    }
  }

  /** The `top` most similar items of each item, best first (ties by id). */
  similar(top: number): Map<string, SimilarItem[]> {
    const lists = new Map<number, { id: string; score: number }[]>();
    const push = (i: number, other: number, score: number) => {
      let l = lists.get(i);
      if (!l) lists.set(i, (l = []));
      l.push({ id: this.ids[other]!, score });
    };
    for (const [i, row] of this.dots) {
      for (const [j, dot] of row) {
        const score = dot / Math.sqrt(this.norms[i]! * this.norms[j]!);
        push(i, j, score);
        push(j, i, score);
      }
    }
    const out = new Map<string, SimilarItem[]>();
    for (const [i, l] of lists) {
      l.sort(byScore);
      out.set(
        this.ids[i]!,
        l.slice(0, top).map((x) => ({ other: x.id, score: x.score })),
      );
    }
    return out;
  }
}

/**
 * A customer's recommendations: items similar to their recent ones, scored by Σ similarity × the
 * weight of the recent item, best first (ties by id), leaving out what they bought, what the
 * catalogue does not have and what is unavailable.
 */
export function recommend(input: {
  recent: ReadonlyMap<string, number>;
  similar: ReadonlyMap<string, readonly SimilarItem[]>;
  bought: ReadonlySet<string>;
  items: ReadonlyMap<string, CatalogItem>;
  limit: number;
}): RecommendedItem[] {
  const scores = new Map<string, number>();
  for (const [id, w] of input.recent) {
    for (const s of input.similar.get(id) ?? []) {
      if (input.bought.has(s.other)) continue;
      scores.set(s.other, (scores.get(s.other) ?? 0) + w * s.score);
    }
  }
  const ranked: { id: string; score: number }[] = [];
  for (const [id, score] of scores) if (input.items.get(id)?.available) ranked.push({ id, score });
  ranked.sort(byScore);
  return ranked.slice(0, input.limit).map((r) => ({ ...input.items.get(r.id)!, score: r.score }));
}

/** An item as templates see it (docs/catalog.md#in-templates). */
export function liquidItem(i: CatalogItem & { score?: number }): Record<string, unknown> {
  return {
    id: i.id,
    name: i.name,
    url: i.url,
    image_url: i.imageUrl,
    price: i.price,
    currency: i.currency,
    category: i.category,
    available: i.available,
    extra: i.extra,
    ...(i.score !== undefined && { score: i.score }),
  };
}
