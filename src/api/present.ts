import type { StoredEvent } from '../domain/event.js';
import type { IdentityKind } from '../domain/identity.js';
import type { EventCursor, GroupView, ProfileView } from '../store/store.js';
import { ValidationError } from '../errors.js';

/** Domain values → the admin API's JSON: ISO 8601 times, camelCase identity kinds, opaque cursors. */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const KIND_NAMES: Record<IdentityKind, string> = {
  user_id: 'userId',
  email: 'email',
  phone: 'phone',
  anonymous_id: 'anonymousId',
};

export function profileJson(p: ProfileView) {
  return {
    id: p.id,
    userId: p.userId,
    identities: p.identities.map((i) => ({ type: KIND_NAMES[i.kind], value: i.value })),
    traits: p.traits,
    firstSeenAt: iso(p.firstSeenAt),
    lastSeenAt: iso(p.lastSeenAt),
    eventCount: p.eventCount,
    groups: p.groups,
    stage: p.stage,
    stageSince: iso(p.stageSince),
    segments: p.segments,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function eventJson(e: StoredEvent) {
  return {
    id: e.id,
    messageId: e.messageId,
    type: e.type,
    name: e.name,
    userId: e.userId,
    anonymousId: e.anonymousId,
    timestamp: iso(e.timestamp),
    receivedAt: iso(e.receivedAt),
    message: e.payload,
  };
}

export function groupJson(g: GroupView) {
  return {
    id: g.id,
    traits: g.traits,
    memberCount: g.memberCount,
    createdAt: iso(g.createdAt),
    updatedAt: iso(g.updatedAt),
  };
}

export function encodeCursor(c: EventCursor): string {
  return Buffer.from(`${c.timestamp}.${c.id}`).toString('base64url');
}

export function decodeCursor(s: string, field: string): EventCursor {
  const m = /^(-?\d+)\.(\d+)$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
  if (!m)
    throw new ValidationError([{ field, rule: 'must be a cursor returned as `next` by a previous page' }]);
  return { timestamp: Number(m[1]), id: m[2]! };
}

/** A cursor over a key of a string or number and a string (a time and an id, a profile and a question). */
export function encodePairCursor(first: string | number, second: string): string {
  return Buffer.from(JSON.stringify([first, second])).toString('base64url');
}

export function decodePairCursor<T extends 'string' | 'number'>(
  s: string,
  field: string,
  firstType: T,
): [T extends 'string' ? string : number, string] {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === firstType && typeof v[1] === 'string')
      return v as [T extends 'string' ? string : number, string];
  } catch {
    // reported below
  }
  throw new ValidationError([{ field, rule: 'must be a cursor returned as `next` by a previous page' }]);
}
