import type { Clock } from '../domain/clock.js';
import { RateLimitedError } from '../errors.js';

export interface KeyRateLimit {
  /** sustained requests per second per key */
  readonly perSecond: number;
  /** how many requests a quiet key may send at once */
  readonly burst: number;
}

const MAX_KEYS = 10_000;

/**
 * Per-key token buckets, in this process (docs/access.md): each key holds up to `burst` tokens,
 * refilled at `perSecond`; a request takes one, and without one it is refused with 429 and the
 * seconds until the next token. Several processes each allow the rate: the limit protects a process,
 * it is not a billing quota. Time comes from the injected clock.
 */
export class KeyRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: KeyRateLimit,
    private readonly clock: Clock,
  ) {}

  /** Takes a token for `keyId`, or throws RateLimitedError. */
  take(keyId: string): void {
    const now = this.clock.now();
    let b = this.buckets.get(keyId);
    if (!b) {
      if (this.buckets.size >= MAX_KEYS) this.buckets.clear();
      b = { tokens: this.limit.burst, at: now };
      this.buckets.set(keyId, b);
    }
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const wait = Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
    throw new RateLimitedError(
      `this key sent more than ${this.limit.perSecond} requests a second (burst ${this.limit.burst}): retry in ${wait} s`,
      wait,
    );
  }
}
