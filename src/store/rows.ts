import type { EventType, JsonObject, StoredEvent } from '../domain/event.js';
import type { IdentityKey, IdentityKind } from '../domain/identity.js';
import type { ProfileState } from '../domain/resolution.js';
import type { ProfileView } from './store.js';

/**
 * Row shapes both adapters read back (column names as in the migrations) and their conversion to
 * domain values. PostgreSQL returns jsonb as objects and bigint as strings; SQLite returns JSON as
 * text and integers as numbers — these helpers accept both.
 */
export interface ProfileRow {
  id: string;
  user_id: string | null;
  merged_into?: string | null;
  traits: string | JsonObject;
  trait_times: string | Record<string, number>;
  first_seen_at: number | string | null;
  last_seen_at: number | string | null;
  event_count: number | string;
  created_at: number | string;
  updated_at: number | string;
}

export interface EventRow {
  id: number | string;
  profile_id: string;
  message_id: string;
  type: string;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  timestamp: number | string;
  received_at: number | string;
  payload: string | JsonObject;
}

export function json<T>(v: string | T): T {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v;
}

export function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

export function numOrNull(v: number | string | null): number | null {
  return v === null ? null : num(v);
}

export function profileState(row: ProfileRow): ProfileState {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: num(row.created_at),
    traits: json<JsonObject>(row.traits),
    traitTimes: json<Record<string, number>>(row.trait_times),
    firstSeenAt: numOrNull(row.first_seen_at),
    lastSeenAt: numOrNull(row.last_seen_at),
    eventCount: num(row.event_count),
  };
}

export function profileView(
  row: ProfileRow,
  identities: { kind: string; value: string }[],
  groups: string[],
): ProfileView {
  const order: IdentityKind[] = ['user_id', 'email', 'phone', 'anonymous_id'];
  const ids: IdentityKey[] = identities
    .map((i) => ({ kind: i.kind as IdentityKind, value: i.value }))
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.value.localeCompare(b.value));
  return {
    id: row.id,
    userId: row.user_id,
    identities: ids,
    traits: json<JsonObject>(row.traits),
    firstSeenAt: numOrNull(row.first_seen_at),
    lastSeenAt: numOrNull(row.last_seen_at),
    eventCount: num(row.event_count),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    groups: [...groups].sort(),
  };
}

export function storedEvent(row: EventRow): StoredEvent {
  return {
    id: String(row.id),
    profileId: row.profile_id,
    messageId: row.message_id,
    type: row.type as EventType,
    name: row.name,
    userId: row.user_id,
    anonymousId: row.anonymous_id,
    timestamp: num(row.timestamp),
    receivedAt: num(row.received_at),
    payload: json<JsonObject>(row.payload),
  };
}
