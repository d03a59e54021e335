/**
 * The event pipe: a queue of Segment-shaped messages sent in batches to POST /v1/batch, retried with
 * exponential backoff, kept in a bounded retry buffer in storage so a closed tab or a down server loses
 * nothing that fits, and handed to `sendBeacon` when the page is hidden.
 *
 * Delivery is at least once: a message stays in the buffer until the server answered 2xx for it, and
 * the server stores each messageId once, so a batch sent twice (a beacon racing a fetch, two tabs
 * adopting one orphaned buffer) is harmless.
 *
 * This file touches no DOM: storage, the HTTP call, the beacon, the clock and the timers are injected,
 * so tests run it in Node against a real HTTP server and move time by hand.
 */
import type { Timers } from './clock.js';
import type { KV } from './kv.js';

export interface Message {
  messageId: string;
  type: string;
  [key: string]: unknown;
}

/** POSTs `body` (JSON text) to `url`; resolves to the HTTP status, rejects on a network failure. */
export type Send = (url: string, body: string) => Promise<number>;
/** `navigator.sendBeacon`: true when the browser took the request. */
export type Beacon = (url: string, body: string) => boolean;

export interface TransportOptions {
  /** the batch endpoint, e.g. https://kizuna.example.com/v1/batch */
  url: string;
  writeKey: string;
  send: Send;
  beacon?: Beacon | null;
  timers: Timers;
  /** where the retry buffer lives; swapped with `setStore` when consent changes */
  store: KV;
  /** false until sending is allowed (consent); messages are held until then */
  enabled: boolean;
  /** send as soon as this many messages are queued (default 20) */
  flushAt?: number;
  /** otherwise send this many ms after the first queued message (default 10 s) */
  flushInterval?: number;
  /** the retry buffer's bound in messages (default 500); past it the oldest are dropped */
  maxBuffer?: number;
  /** 0 ≤ r < 1, for the backoff's jitter (default Math.random) */
  random?: () => number;
  /** this page's buffer name in storage (default random) */
  id?: string;
  warn: (kind: string, message: string) => void;
}

/** The retry buffer holds at most this many messages (documented in docs/sdk.md). */
export const MAX_BUFFER = 500;
/** The server's limits (src/ingest/limits.ts), with room for the envelope. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
const MAX_BATCH_BYTES = 450 * 1024;
const MAX_BATCH_MESSAGES = 100;
/** Browsers allow 64 KB of keep-alive (beacon) bodies in flight per page. */
const MAX_BEACON_BYTES = 60 * 1024;
/** Backoff: 1 s, 2 s, 4 s … capped at 60 s, each times a jitter in [0.5, 1). */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;
/** A buffer not written for this long belongs to a closed page and is adopted. */
const STALE_MS = 5 * 60_000;
/** Retry buffers are stored under this prefix and the page's buffer id. */
export const BUFFER_PREFIX = 'kz_q:';
const PREFIX = BUFFER_PREFIX;

const encoder = new TextEncoder();
const bytes = (s: string): number => encoder.encode(s).length;

interface Saved {
  t: number;
  q: Message[];
}

export class Transport {
  private queue: Message[] = [];
  private store: KV;
  private enabled: boolean;
  private readonly key: string;
  private running: Promise<void> | null = null;
  private timer: unknown = null;
  private timerDue = 0;
  private attempts = 0;
  private retryAt = 0;
  private batchLimit = MAX_BATCH_MESSAGES;
  private readonly flushAt: number;
  private readonly flushInterval: number;
  private readonly maxBuffer: number;
  private readonly random: () => number;
  /** messages dropped because the buffer was full, since the last successful send */
  dropped = 0;

  constructor(private readonly o: TransportOptions) {
    this.store = o.store;
    this.enabled = o.enabled;
    this.flushAt = Math.max(1, o.flushAt ?? 20);
    this.flushInterval = Math.max(0, o.flushInterval ?? 10_000);
    this.maxBuffer = Math.max(1, o.maxBuffer ?? MAX_BUFFER);
    this.random = o.random ?? Math.random;
    this.key = PREFIX + (o.id ?? Math.random().toString(36).slice(2));
    if (this.enabled) this.adopt();
  }

  /** How many messages wait to be sent. */
  size(): number {
    return this.queue.length;
  }

  /** Queues a message (held in memory only while sending is not enabled). */
  enqueue(m: Message): void {
    const size = bytes(JSON.stringify(m));
    if (size > MAX_MESSAGE_BYTES) {
      this.o.warn('too_large', `a ${m.type} message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}: dropped`);
      return;
    }
    this.queue.push(m);
    if (this.queue.length > this.maxBuffer) {
      const n = this.queue.length - this.maxBuffer;
      this.queue.splice(0, n);
      this.dropped += n;
      this.o.warn(
        'buffer_full',
        `the retry buffer holds ${this.maxBuffer} messages: dropped the oldest (${this.dropped} so far)`,
      );
    }
    this.save();
    if (!this.enabled) return;
    if (this.queue.length >= this.flushAt) void this.flush();
    else this.schedule(this.flushInterval);
  }

  /**
   * Sends what is queued now, batch after batch, unless a backoff is running (then the send waits
   * for it). Resolves when nothing is in flight; never rejects.
   */
  flush(): Promise<void> {
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
    return this.running;
  }

  /** Resolves once no request is in flight (tests await it after moving time). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * The page is going away (or hidden): hand everything queued to `sendBeacon`, which survives the
   * page. What the browser took leaves the buffer; what it refused stays for the next page.
   */
  beacon(): void {
    if (!this.enabled || !this.o.beacon || this.queue.length === 0) return;
    const now = this.o.timers.now();
    let chunk: Message[] = [];
    let size = 0;
    const taken = new Set<string>();
    const post = (): boolean => {
      if (chunk.length === 0) return true;
      const ok = this.o.beacon!(this.o.url, this.body(chunk, now));
      if (ok) for (const m of chunk) taken.add(m.messageId);
      chunk = [];
      size = 0;
      return ok;
    };
    for (const m of this.queue) {
      const s = bytes(JSON.stringify(m)) + 1;
      if (size + s > MAX_BEACON_BYTES - 200 && !post()) break;
      chunk.push(m);
      size += s;
    }
    post();
    if (taken.size > 0) {
      this.queue = this.queue.filter((m) => !taken.has(m.messageId));
      this.save();
    }
  }

  /** The page is back (from the back/forward cache): this buffer is ours again. */
  touch(): void {
    this.save();
  }

  /** The page is being unloaded: mark this buffer as left behind, so the next page adopts it at once. */
  orphan(): void {
    if (this.queue.length > 0 && this.enabled) this.write(0);
  }

  /**
   * Allows or stops sending. Enabling moves the held messages into `store` (persistent storage) and
   * adopts buffers closed pages left there; disabling with `drop` forgets every queued message.
   */
  setEnabled(enabled: boolean, store: KV, drop = false): void {
    if (!enabled || drop) this.clearStored();
    this.store = store;
    this.enabled = enabled;
    if (drop) this.queue = [];
    if (!enabled) {
      this.cancelTimer();
      return;
    }
    this.adopt();
    this.save();
    if (this.queue.length > 0) void this.flush();
  }

  private async drain(): Promise<void> {
    while (this.enabled && this.queue.length > 0) {
      const now = this.o.timers.now();
      if (now < this.retryAt) {
        this.schedule(this.retryAt - now);
        return;
      }
      this.cancelTimer();
      const batch = this.take();
      let status = 0;
      try {
        status = await this.o.send(this.o.url, this.body(batch, now));
      } catch {
        status = 0;
      }
      if (!this.settle(batch, status)) return;
    }
  }

  /** Applies a send's outcome; false when sending should pause (a backoff is scheduled). */
  private settle(batch: Message[], status: number): boolean {
    const sent = new Set(batch.map((m) => m.messageId));
    const remove = () => (this.queue = this.queue.filter((m) => !sent.has(m.messageId)));
    if (status >= 200 && status < 300) {
      remove();
      this.attempts = 0;
      this.retryAt = 0;
      this.dropped = 0;
      this.batchLimit = MAX_BATCH_MESSAGES;
      this.save();
      return true;
    }
    // The server refuses a whole batch for one bad message: halve until the bad one is alone, drop it.
    if (status === 400 || status === 413 || status === 422) {
      if (batch.length > 1) {
        this.batchLimit = Math.ceil(batch.length / 2);
      } else {
        remove();
        this.save();
        this.o.warn('rejected', `the server refused a ${batch[0]?.type} message (HTTP ${status}): dropped`);
      }
      return true;
    }
    // Down, overloaded, a network failure, or a key the server does not know (yet): keep and retry.
    if (status === 401 || status === 403)
      this.o.warn('auth', `the server answered ${status}: check the write key`);
    this.attempts++;
    const delay = this.backoff(this.attempts);
    this.retryAt = this.o.timers.now() + delay;
    this.save();
    this.schedule(delay);
    return false;
  }

  /** The wait before retry number `n` (1-based). */
  backoff(n: number): number {
    const full = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 30));
    return Math.round(full * (0.5 + this.random() / 2));
  }

  private take(): Message[] {
    const out: Message[] = [];
    let size = 0;
    for (const m of this.queue) {
      if (out.length >= this.batchLimit) break;
      const s = bytes(JSON.stringify(m)) + 1;
      if (out.length > 0 && size + s > MAX_BATCH_BYTES) break;
      out.push(m);
      size += s;
    }
    return out;
  }

  private body(batch: Message[], now: number): string {
    return JSON.stringify({ batch, sentAt: new Date(now).toISOString(), writeKey: this.o.writeKey });
  }

  private schedule(ms: number): void {
    const due = this.o.timers.now() + ms;
    if (this.timer !== null && this.timerDue <= due) return;
    this.cancelTimer();
    this.timerDue = due;
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.o.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private save(): void {
    this.write(this.o.timers.now());
  }

  private write(t: number): void {
    if (!this.enabled) return;
    if (this.queue.length === 0) this.store.remove(this.key);
    else this.store.set(this.key, JSON.stringify({ t, q: this.queue } satisfies Saved));
  }

  private clearStored(): void {
    for (const k of this.store.keys()) if (k.startsWith(PREFIX)) this.store.remove(k);
  }

  /** Takes over the buffers of pages that are gone (not written for five minutes, or left behind). */
  private adopt(): void {
    const now = this.o.timers.now();
    const have = new Set(this.queue.map((m) => m.messageId));
    const found: Message[] = [];
    for (const k of this.store.keys()) {
      if (!k.startsWith(PREFIX) || k === this.key) continue;
      let saved: Saved | null = null;
      try {
        saved = JSON.parse(this.store.get(k) ?? 'null') as Saved | null;
      } catch {
        saved = null;
      }
      if (saved && typeof saved.t === 'number' && now - saved.t < STALE_MS && saved.t !== 0) continue;
      this.store.remove(k);
      if (!saved || !Array.isArray(saved.q)) continue;
      for (const m of saved.q)
        if (m && typeof m.messageId === 'string' && !have.has(m.messageId)) {
          have.add(m.messageId);
          found.push(m);
        }
    }
    if (found.length === 0) return;
    this.queue = [...found, ...this.queue];
    if (this.queue.length > this.maxBuffer) {
      const n = this.queue.length - this.maxBuffer;
      this.queue.splice(0, n);
      this.dropped += n;
      this.o.warn('buffer_full', `the retry buffer holds ${this.maxBuffer} messages: dropped the oldest`);
    }
  }
}
