/**
 * Aggregates: the values a profile's facts keep per event selector beyond plain counts — sums, minima,
 * maxima, first and last values of a property — each with per-day buckets so windows can be answered
 * without reading events. User-defined computed traits compile to them; built-ins (revenue) too.
 */
import { asNumber, getPath } from '../rules/compare.js';
import { selectorKey } from '../rules/graph.js';
import type { EventSelector } from '../rules/types.js';

/** sum also answers avg (it keeps the count beside the sum); min and max keep per-day extremes. */
export type AggregateFamily = 'sum' | 'min' | 'max' | 'first' | 'last';

/** Where the aggregated value comes from: a property path, or a built-in e-commerce extractor. */
export type ValueSource = { property: string } | { builtin: 'order_revenue' | 'order_products' };

export interface AggregateSpec {
  readonly selector: EventSelector;
  readonly family: AggregateFamily;
  readonly value: ValueSource;
}

export function aggregateKey(spec: AggregateSpec): string {
  const v = 'property' in spec.value ? `p:${spec.value.property}` : `b:${spec.value.builtin}`;
  return `${spec.family}|${v}|${selectorKey(spec.selector)}`;
}

/** Segment e-commerce spec: `revenue` (without shipping and tax), else `total`. */
export function orderRevenue(properties: unknown): number | null {
  return asNumber(getPath(properties, 'revenue')) ?? asNumber(getPath(properties, 'total'));
}

/** The product ids (else SKUs, else names) of an order's `products` array. */
export function orderProducts(properties: unknown): string[] | null {
  const products = getPath(properties, 'products');
  if (!Array.isArray(products)) return null;
  const out: string[] = [];
  for (const p of products.slice(0, 100)) {
    const id = getPath(p, 'product_id') ?? getPath(p, 'sku') ?? getPath(p, 'name');
    if (typeof id === 'string' || typeof id === 'number') out.push(String(id));
  }
  return out;
}

/** The value an event contributes, or undefined when it has none (the event then does not count). */
export function valueOf(source: ValueSource, properties: unknown): unknown {
  if ('property' in source) {
    const v = getPath(properties, source.property);
    return v === null ? undefined : v;
  }
  const v = source.builtin === 'order_revenue' ? orderRevenue(properties) : orderProducts(properties);
  return v ?? undefined;
}
