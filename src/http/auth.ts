import { createHash } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { AuthenticationError } from '../errors.js';
import type { FoundKey, KeyKind, Store } from '../store/store.js';

/** Keys are stored and looked up by their SHA-256; the plain key exists only on the client. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * How long a process trusts a key it has seen: the bound on a revocation reaching other processes.
 * 5 s costs one primary-key read per key per process every 5 s (a hot ingestion key: 0.2 reads a
 * second), small next to the requests it serves.
 */
export const KEY_CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
/** `last used at` is written at most this often per key, so a hot key costs no write per request. */
const TOUCH_MS = 60_000;

/**
 * Resolves API keys. Known keys are cached for KEY_CACHE_MS (5 s), so a hot ingestion path does not
 * read the key table on every request. Revoking through this process drops the key from its cache at
 * once (`forget`); other processes sharing the database stop accepting it within 5 s. Unknown keys
 * are not cached, so random guesses cannot fill memory.
 */
export class KeyAuth {
  private readonly cache = new Map<string, FoundKey & { until: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** told of a failed `last used at` write (the request itself is not failed for it) */
    private readonly onTouchError: (err: unknown) => void = () => {},
  ) {}

  /** The workspace a key of `kind` belongs to; AuthenticationError for a missing, unknown or wrong-kind key. */
  async workspaceOf(key: string | null, kind: KeyKind): Promise<string> {
    const expected = kind === 'write' ? 'a write key' : 'an admin key';
    if (!key) {
      throw new AuthenticationError(
        kind === 'write'
          ? 'missing write key: send it as the HTTP Basic user name (or `writeKey` in the body)'
          : 'missing admin key: send `Authorization: Bearer <adminKey>`',
      );
    }
    const hit = await this.lookup(key, `unknown key: this endpoint needs ${expected}`);
    if (hit.kind !== kind)
      throw new AuthenticationError(
        `wrong kind of key: this endpoint needs ${expected}, not ${hit.kind === 'write' ? 'a write key' : 'an admin key'}`,
      );
    return hit.workspaceId;
  }

  /** Any live key, with its scope (the admin API checks the scope's permissions). */
  keyOf(key: string): Promise<FoundKey> {
    return this.lookup(key, 'unknown or revoked API key');
  }

  /** Drops a key from this process's cache, so its revocation takes effect here at once. */
  forget(keyId: string): void {
    for (const [plain, hit] of this.cache) if (hit.id === keyId) this.cache.delete(plain);
  }

  private async lookup(key: string, unknown: string): Promise<FoundKey> {
    const now = this.clock.now();
    // Keyed by the key itself, so a cache hit costs no hashing; the store only ever sees the hash.
    let hit = this.cache.get(key);
    if (!hit || hit.until < now) {
      const found = await this.store.findKey(hashKey(key));
      if (!found) {
        this.cache.delete(key);
        throw new AuthenticationError(unknown);
      }
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      hit = { ...found, until: now + KEY_CACHE_MS };
      this.cache.set(key, hit);
    }
    this.touch(hit, now);
    return hit;
  }

  private touch(k: FoundKey, now: number): void {
    const last = this.touched.get(k.id);
    if (last !== undefined && now - last < TOUCH_MS) return;
    if (this.touched.size >= CACHE_MAX) this.touched.clear();
    this.touched.set(k.id, now);
    this.store.touchApiKey(k.workspaceId, k.id, now).catch(this.onTouchError);
  }
}
