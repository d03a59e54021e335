/**
 * Coupon codes in templates and events (docs/coupons.md). A template names the pools it draws from as
 * `{{ coupon.<pool> }}`; the customer's events report a code used as the `coupon` property of
 * `Order Completed` or `Coupon Applied` (Segment e-commerce spec).
 */
import type { NormalizedEvent } from './event.js';

export const POOL_NAME = /^[a-z0-9_]{1,50}$/;
const USE = /\bcoupon\s*(?:\.\s*([a-z0-9_]+)|\[\s*["']([a-z0-9_]+)["']\s*\])/g;

/** The pools a piece of Liquid draws codes from, in order of first use. */
export function poolsUsed(sources: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const s of sources) for (const m of s.matchAll(USE)) out.add((m[1] ?? m[2])!);
  return [...out];
}

/**
 * Stand-in codes (`SPRING-PREVIEW`): what previews show, and what a message renders with before its
 * real codes are given (so a template that cannot render takes no code).
 */
export function standInCodes(pools: readonly string[]): Record<string, string> {
  return Object.fromEntries(pools.map((p) => [p, `${p.toUpperCase()}-PREVIEW`]));
}

const REDEEMING = new Set(['Order Completed', 'Coupon Applied']);

/** The coupon code an event says the customer used, if any. */
export function redeemedCoupon(e: NormalizedEvent): string | null {
  if (e.type !== 'track' || e.name === null || !REDEEMING.has(e.name)) return null;
  try {
    const props = (JSON.parse(e.payload) as { properties?: { coupon?: unknown } }).properties;
    const code = props?.coupon;
    return typeof code === 'string' && code.length > 0 && code.length <= 64 ? code.trim() : null;
  } catch {
    return null;
  }
}
