import type { JsonObject, NormalizedEvent } from './event.js';

/**
 * The identifiers that tie events to one customer, in priority order: when one event names several
 * identifiers that point to different profiles, the profile found through the highest-priority one is
 * the event's profile.
 */
export const IDENTITY_KINDS = ['user_id', 'email', 'phone', 'anonymous_id'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export interface IdentityKey {
  readonly kind: IdentityKind;
  readonly value: string;
}

/** A stable string for maps and locks: `kind:value`. */
export function identityKeyString(key: IdentityKey): string {
  return `${key.kind}:${key.value}`;
}

export function normalizeEmail(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const v = raw.trim().toLowerCase();
  // A deliberately loose check: one @ with something on each side. Deliverability is the e-mail
  // channel's business; here we only refuse to treat junk as an identity.
  return /^[^\s@]+@[^\s@]+$/.test(v) && v.length <= 320 ? v : null;
}

export function normalizePhone(raw: unknown): string | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const s = String(raw).trim();
  const plus = s.startsWith('+');
  const digits = s.replace(/[^0-9]/g, '');
  return digits.length >= 5 && digits.length <= 20 ? (plus ? '+' : '') + digits : null;
}

function contactKeys(traits: JsonObject | null | undefined, out: IdentityKey[]): void {
  if (!traits) return;
  const email = normalizeEmail(traits['email']);
  if (email) out.push({ kind: 'email', value: email });
  const phone = normalizePhone(traits['phone']);
  if (phone) out.push({ kind: 'phone', value: phone });
}

/**
 * The identity keys an event carries, highest priority first, without duplicates. Alias is not
 * covered here: its `previousId` may be either a user id or an anonymous id (see `resolve`).
 */
export function identityKeysOf(event: NormalizedEvent): IdentityKey[] {
  const keys: IdentityKey[] = [];
  if (event.userId !== null) keys.push({ kind: 'user_id', value: event.userId });
  contactKeys(event.traits, keys);
  const ctxTraits = event.context['traits'];
  if (ctxTraits && typeof ctxTraits === 'object' && !Array.isArray(ctxTraits)) {
    contactKeys(ctxTraits as JsonObject, keys);
  }
  if (event.anonymousId !== null) keys.push({ kind: 'anonymous_id', value: event.anonymousId });
  const seen = new Set<string>();
  return keys.filter((k) => {
    const s = identityKeyString(k);
    if (seen.has(s)) return false;
    seen.add(s);
    return true;
  });
}

/** Every key the store must look up to resolve `event`, alias's candidates included. */
export function lookupKeysOf(event: NormalizedEvent): IdentityKey[] {
  const keys = identityKeysOf(event);
  if (event.type === 'alias' && event.previousId !== null) {
    keys.push(
      { kind: 'user_id', value: event.previousId },
      { kind: 'anonymous_id', value: event.previousId },
    );
  }
  return keys;
}
