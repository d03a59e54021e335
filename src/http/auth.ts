import { createHash } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { AuthenticationError } from '../errors.js';
import type { KeyKind, Store } from '../store/store.js';

/** Keys are stored and looked up by their SHA-256; the plain key exists only on the client. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const CACHE_MS = 30_000;
const CACHE_MAX = 10_000;

/**
 * Resolves API keys to workspaces. Known keys are cached for 30 s, so a hot ingestion path does not
 * read the key table on every request; a revoked key therefore stops working within 30 s. Unknown
 * keys are not cached, so random guesses cannot fill memory.
 */
export class KeyAuth {
  private readonly cache = new Map<string, { workspaceId: string; kind: KeyKind; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
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
    const now = this.clock.now();
    // Keyed by the key itself, so a cache hit costs no hashing; the store only ever sees the hash.
    let hit = this.cache.get(key);
    if (!hit || hit.until < now) {
      const found = await this.store.findKey(hashKey(key));
      if (!found) {
        this.cache.delete(key);
        throw new AuthenticationError(`unknown key: this endpoint needs ${expected}`);
      }
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      hit = { ...found, until: now + CACHE_MS };
      this.cache.set(key, hit);
    }
    if (hit.kind !== kind)
      throw new AuthenticationError(
        `wrong kind of key: this endpoint needs ${expected}, not ${hit.kind === 'write' ? 'a write key' : 'an admin key'}`,
      );
    return hit.workspaceId;
  }
}
