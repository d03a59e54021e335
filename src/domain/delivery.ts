/**
 * Retry timing for outbound deliveries: exponential backoff with "full jitter" (a uniform draw up to the
 * exponential bound), so a provider outage does not see every queued message retry at the same instant.
 * `draw` is injected (a uniform number in [0, 1)) so tests get exact values.
 */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  /** attempts after which a message is given up (dead-lettered) */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 6 * 3_600_000, maxAttempts: 10 };

/** The wait before attempt `attempt + 1` (attempt counts from 1); null when no attempt is left. */
export function retryDelay(attempt: number, draw: number, b: Backoff = DEFAULT_BACKOFF): number | null {
  if (attempt >= b.maxAttempts) return null;
  const bound = Math.min(b.maxMs, b.baseMs * 2 ** (attempt - 1));
  return Math.max(1000, Math.floor(bound * draw));
}

/** How far along a sent message is: later states replace earlier ones, never the reverse. */
const AFTER_SEND_RANK: Readonly<Record<string, number>> = { sent: 1, delivered: 2, opened: 3, clicked: 4 };

/**
 * The status a message takes when `event` is reported for it, or null when its status stays: opens and
 * clicks only move it forward, a bounce only ends a message that had not been opened (an open proves
 * it arrived), a complaint is recorded beside the status.
 */
export function statusAfter(current: string, event: string): string | null {
  const now = AFTER_SEND_RANK[current];
  if (now === undefined) return null;
  if (event === 'bounced') return now <= 2 ? 'bounced' : null;
  const next = AFTER_SEND_RANK[event];
  return next !== undefined && next > now ? event : null;
}
