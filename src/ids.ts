import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Time-ordered ids: 9 base-36 characters of milliseconds, then 12 random ones. Ordered ids keep
 * B-tree inserts at the right edge of an index; the random part keeps them unguessable and unique
 * across processes.
 */
export function newId(prefix: string, now = Date.now()): string {
  let rand = '';
  for (let i = 0; i < 12; i++) rand += ALPHABET[randomByte() % 36];
  return `${prefix}_${now.toString(36).padStart(9, '0')}${rand}`;
}

/**
 * For sampling: ids whose random part starts below this two-character bound are a uniform random
 * subset of about `fraction` of all ids (1/1296 steps). Null when the fraction takes everyone.
 */
export function idSampleBound(fraction: number): string | null {
  const k = Math.max(1, Math.round(fraction * 36 * 36));
  if (k >= 36 * 36) return null;
  return `${ALPHABET[Math.floor(k / 36)]}${ALPHABET[k % 36]}`;
}

/** The random part of ids `newId` makes: its last 12 characters. */
export const ID_RANDOM_CHARS = 12;

// Random bytes drawn from a pooled buffer: one randomFillSync call per 4 KB instead of one per id,
// which was a visible share of ingest time when a batch creates many profiles.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function randomByte(): number {
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

/** A secret API key: prefix plus 32 characters of base62-ish randomness (190+ bits). */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
