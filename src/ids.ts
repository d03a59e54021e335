import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Time-ordered ids: 9 base-36 characters of milliseconds, then 12 random ones. Ordered ids keep
 * B-tree inserts at the right edge of an index; the random part keeps them unguessable and unique
 * across processes.
 */
export function newId(prefix: string, now = Date.now()): string {
  const bytes = randomBytes(12);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${prefix}_${now.toString(36).padStart(9, '0')}${rand}`;
}

/** A secret API key: prefix plus 32 characters of base62-ish randomness (190+ bits). */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
