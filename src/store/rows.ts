import type { EventType, JsonObject, StoredEvent } from '../domain/event.js';
import type { IdentityKey, IdentityKind } from '../domain/identity.js';
import type { ProfileState } from '../domain/resolution.js';
import type { EngagementEventView, ProfileView, SegmentView, StageTransition } from './store.js';
import { emptyFacts, readFacts, type ProfileFacts } from '../domain/facts/facts.js';

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
  facts?: string | ProfileFacts | null;
  stage?: string | null;
  previous_stage?: string | null;
  stage_since?: number | string | null;
  /**
   * The segment ids the profile is in, JSON: not a column of `profiles` (migration 0030) but read with
   * the row from `segment_members` (each adapter's `segmentsOf`). Absent when a query forgot it.
   */
  segments?: string | string[];
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

/** A bigint column: a number from SQLite, a string from PostgreSQL. */
export type Num = number | string;

export function json<T>(v: string | T): T {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v;
}

export function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

export function numOrNull(v: number | string | null): number | null {
  return v === null ? null : num(v);
}

/**
 * The row's segments. A row read without them is a bug, not a profile in no segment: evaluating it
 * would enter every segment again, so it fails loudly.
 */
export function segmentsOfRow(row: ProfileRow): string[] {
  if (row.segments === undefined || row.segments === null)
    throw new Error(`profile ${row.id} was read without its segments`);
  return json<string[]>(row.segments);
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
    facts: row.facts == null ? emptyFacts() : readFacts(json<ProfileFacts>(row.facts)),
    engagement: {
      stage: row.stage ?? null,
      previousStage: row.previous_stage ?? null,
      stageSince: numOrNull(row.stage_since ?? null),
      segments: segmentsOfRow(row),
    },
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
    stage: row.stage ?? null,
    stageSince: numOrNull(row.stage_since ?? null),
    segments: segmentsOfRow(row),
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

export interface SegmentRow {
  id: string;
  name: string;
  description: string;
  /** JSON text (SQLite) or parsed JSON (PostgreSQL) */
  rule: unknown;
  version: number | string;
  status: 'building' | 'ready';
  /** 0/1 on SQLite */
  requires_profiling: boolean | number;
  build_done: number | string;
  build_total: number | string;
  built_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
  size: number | string;
}

export function segmentView(r: SegmentRow): SegmentView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    rule: typeof r.rule === 'string' ? (JSON.parse(r.rule) as unknown) : r.rule,
    version: num(r.version),
    status: r.status,
    requiresProfiling: r.requires_profiling === true || r.requires_profiling === 1,
    build: { done: num(r.build_done), total: num(r.build_total) },
    builtAt: numOrNull(r.built_at),
    size: num(r.size),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** A `Stage Entered` engagement event as a transition. */
export function stageTransition(
  at: number | string,
  properties: string | Record<string, unknown>,
): StageTransition {
  const p = json<{ stage: string; previous_stage: string | null; reason: string }>(
    properties as string | { stage: string; previous_stage: string | null; reason: string },
  );
  return { at: num(at), from: p.previous_stage, to: p.stage, reason: p.reason };
}

/**
 * A profile state whose traits are parsed only if something reads them: re-evaluating a page of
 * profiles mostly looks at facts, and parsing every profile's traits was a fifth of its time.
 */
export function lazyProfileState(row: ProfileRow): ProfileState {
  const state = profileState({ ...row, traits: '{}', trait_times: '{}' });
  let traits: JsonObject | undefined;
  let times: Record<string, number> | undefined;
  Object.defineProperty(state, 'traits', {
    enumerable: true,
    get: () => (traits ??= json<JsonObject>(row.traits)),
    set: (v: JsonObject) => (traits = v),
  });
  Object.defineProperty(state, 'traitTimes', {
    enumerable: true,
    get: () => (times ??= json<Record<string, number>>(row.trait_times)),
    set: (v: Record<string, number>) => (times = v),
  });
  return state;
}

export interface EngagementEventRow {
  id: number | string;
  profile_id: string;
  at: number | string;
  type: EngagementEventView['type'];
  subject: string;
  properties: string | Record<string, unknown>;
}

export function engagementEventView(r: EngagementEventRow): EngagementEventView {
  return {
    id: num(r.id),
    profileId: r.profile_id,
    at: num(r.at),
    type: r.type,
    subject: r.subject,
    properties: json<Record<string, unknown>>(r.properties),
  };
}
