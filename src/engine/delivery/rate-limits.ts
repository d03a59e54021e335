/**
 * Per-channel send rates: a token bucket per key (workspace and channel) holding up to one second of
 * sends. `take` spends a token and answers 0, or, when none is left, answers how many milliseconds
 * the message should wait: the time until the next token plus one slot for each message already
 * told to wait since the last send, so a burst over the rate is spread out instead of coming back all
 * at once. Per process: with several dispatchers the rate is per dispatcher.
 */
export class RateLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number; waiting: number }>();

  take(key: string, perSecond: number | null, now: number): number {
    if (perSecond === null) return 0;
    const b = this.buckets.get(key) ?? { tokens: perSecond, at: now, waiting: 0 };
    b.tokens = Math.min(perSecond, b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond);
    b.at = Math.max(b.at, now);
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.waiting = 0;
      return 0;
    }
    const wait = ((1 - b.tokens + b.waiting) / perSecond) * 1000;
    b.waiting++;
    return Math.ceil(wait);
  }
}
