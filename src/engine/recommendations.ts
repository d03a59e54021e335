/**
 * Recommendations as a service (docs/catalog.md): the rebuild that turns every customer's recent
 * views and purchases into similar-items lists, and the batch read that gives templates each
 * customer's recommended items and what they bought — a few store reads for a whole batch of sends,
 * whatever its size, and none for templates that do not ask.
 */
import type { Clock } from '../domain/clock.js';
import {
  boughtItems,
  CoOccurrence,
  customerItems,
  INTERACTION_EVENTS,
  ORDER_COMPLETED,
  RECOMMENDATION_LIMITS as L,
  recommend,
  type RecommendedItem,
} from '../domain/recommendations.js';
import type { Store } from '../store/store.js';

export interface RebuildResult {
  /** canonical profiles read */
  readonly customers: number;
  /** of those, customers with at least one available catalogue item viewed or bought */
  readonly customersWithItems: number;
  /** available catalogue items */
  readonly catalogItems: number;
  /** items that got a similar-items list */
  readonly itemsWithSimilar: number;
  /** distinct item pairs seen together */
  readonly pairs: number;
  readonly durationMs: number;
}

/** What a template needs of the catalogue (docs/catalog.md#in-templates). */
export interface CatalogNeeds {
  readonly recommendations: boolean;
  readonly bought: boolean;
}

/** A customer's catalogue inputs to a render. */
export interface CatalogInput {
  readonly recommendations: readonly RecommendedItem[];
  readonly bought: readonly string[];
}

const PAGE = 500;

export class RecommendationService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Recomputes every similar-items list of the workspace from its customers' recent interactions,
   * a page of customers at a time, and replaces the stored lists at once. `onProgress` hears the
   * customers read so far (of `total`, the workspace's profile count).
   */
  async rebuild(
    ws: string,
    onProgress?: (p: { done: number; total: number }) => void,
  ): Promise<RebuildResult> {
    const started = this.clock.now();
    const available = new Set<string>();
    for (let after: string | null = null; ;) {
      const page = await this.store.listItems(ws, { after, limit: 1000 });
      for (const i of page) if (i.available) available.add(i.id);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.id;
    }
    const total = onProgress ? await this.store.countProfiles(ws) : 0;
    const co = new CoOccurrence();
    let customers = 0;
    for (let after: string | null = null; ;) {
      const page = await this.store.scanInteractions(ws, {
        after,
        limit: PAGE,
        names: INTERACTION_EVENTS,
        perProfile: L.eventsPerCustomer,
      });
      for (const xs of page.interactions.values()) {
        co.add(customerItems(xs, { max: L.itemsPerCustomer, known: (id) => available.has(id) }));
      }
      customers += page.profiles;
      onProgress?.({ done: customers, total });
      if (page.next === null) break;
      after = page.next;
    }
    const similar = co.similar(L.similarPerItem);
    await this.store.replaceSimilar(ws, similar);
    return {
      customers,
      customersWithItems: co.customers,
      catalogItems: available.size,
      itemsWithSimilar: similar.size,
      pairs: co.pairs,
      durationMs: this.clock.now() - started,
    };
  }

  /**
   * Each profile's recommendations (best first, at most `limit`) and bought item ids, for what the
   * template needs: two reads of interactions, one of similar-items lists and one of items for the
   * whole batch. Profiles asked for are all present in the answer.
   */
  async forProfiles(
    ws: string,
    profileIds: readonly string[],
    needs: CatalogNeeds,
    limit: number = L.perCustomer,
  ): Promise<Map<string, CatalogInput>> {
    const out = new Map<string, CatalogInput>();
    const ids = [...new Set(profileIds)];
    if (ids.length === 0 || (!needs.recommendations && !needs.bought)) return out;
    const purchases = await this.store.interactionsOf(ws, ids, {
      names: [ORDER_COMPLETED],
      perProfile: L.purchasesPerCustomer,
    });
    const bought = new Map(ids.map((id) => [id, boughtItems(purchases.get(id) ?? [])]));
    if (!needs.recommendations) {
      for (const id of ids) out.set(id, { recommendations: [], bought: [...bought.get(id)!] });
      return out;
    }
    const recentXs = await this.store.interactionsOf(ws, ids, {
      names: INTERACTION_EVENTS,
      perProfile: L.eventsPerCustomer,
    });
    const recent = new Map(
      ids.map((id) => [id, customerItems(recentXs.get(id) ?? [], { max: L.itemsPerCustomer })]),
    );
    const similar = await this.store.similarTo(
      ws,
      [...new Set([...recent.values()].flatMap((r) => [...r.keys()]))],
      L.similarPerItem,
    );
    const candidates = new Set([...similar.values()].flatMap((l) => l.map((s) => s.other)));
    const items = await this.store.getItems(ws, [...candidates]);
    for (const id of ids) {
      const b = bought.get(id)!;
      out.set(id, {
        recommendations: recommend({ recent: recent.get(id)!, similar, bought: b, items, limit }),
        bought: [...b],
      });
    }
    return out;
  }
}
