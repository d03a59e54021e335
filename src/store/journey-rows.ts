/**
 * Journey row shapes both adapters read back (column names as in the 0005 migrations) and their
 * conversion. PostgreSQL returns bigint as strings and jsonb parsed; SQLite returns numbers and text.
 */
import type { EntryRow } from '../domain/journeys/route.js';
import type { Signal } from '../domain/journeys/types.js';
import type { MessageStatus } from './delivery-store.js';
import type {
  JourneyStatus,
  JourneyView,
  ClaimedEntry,
  EntryView,
  JourneyMessage,
  TriggerEvent,
} from './journey-store.js';
import { json, num, numOrNull, type Num } from './rows.js';

/** Why a merged-away customer's entry ended: the survivor was already running the same journey. */
export const MERGED_EXIT = 'merged: the customer was already in this journey under another identity';

export interface JourneyRowDb {
  id: string;
  name: string;
  status: JourneyStatus;
  draft: string | object;
  version: Num;
  created_at: Num;
  updated_at: Num;
  published_at: Num | null;
}

export function journeyView(r: JourneyRowDb): JourneyView {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    draft: json<unknown>(r.draft),
    version: num(r.version),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    publishedAt: numOrNull(r.published_at),
  };
}

export interface EntryRowDb {
  workspace_id: string;
  id: string;
  journey_id: string;
  version: Num;
  profile_id: string;
  state: 'active' | 'completed' | 'exited';
  step: string;
  phase: 'enter' | 'waiting';
  steps_taken: Num;
  waiting_for: string | null;
  signal: string | Signal | null;
  step_since: Num;
  due_at: Num | null;
  claimed_by: string | null;
  trigger: string;
  entered_at: Num;
  ended_at: Num | null;
  exit_reason: string | null;
  converted_at: Num | null;
  trigger_message_id?: string | null;
}

export function entryRow(r: EntryRowDb): EntryRow {
  return {
    id: r.id,
    journeyId: r.journey_id,
    version: num(r.version),
    profileId: r.profile_id,
    state: r.state,
    step: r.step,
    phase: r.phase,
    waitingFor: r.waiting_for,
    stepSince: num(r.step_since),
    enteredAt: num(r.entered_at),
    convertedAt: numOrNull(r.converted_at),
  };
}

export function claimedEntry(r: EntryRowDb, claim: string): ClaimedEntry {
  return {
    workspaceId: r.workspace_id,
    id: r.id,
    journeyId: r.journey_id,
    version: num(r.version),
    profileId: r.profile_id,
    position: {
      step: r.step,
      phase: r.phase,
      stepsTaken: num(r.steps_taken),
      signal: r.signal === null ? null : json<Signal>(r.signal),
    },
    enteredAt: num(r.entered_at),
    triggerMessageId: r.trigger_message_id ?? null,
    claim,
  };
}

/** An event row's name and stored payload, read as a trigger (`event.*` in templates). */
export function triggerEvent(r: {
  name: string | null;
  payload: string | object;
  timestamp: Num;
}): TriggerEvent {
  const msg = json<{ properties?: unknown }>(r.payload);
  const p = msg.properties;
  return {
    name: r.name,
    properties:
      typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : {},
    timestamp: num(r.timestamp),
  };
}

export interface MessageRowDb {
  key: string;
  journey_id: string;
  entry_id: string;
  profile_id: string;
  step: string;
  channel: string;
  template: string | null;
  payload: string | object;
  created_at: Num;
  status: string;
  attempts: Num;
  next_attempt_at: Num | null;
  reason: string | null;
  updated_at: Num | null;
}

export function journeyMessage(r: MessageRowDb): JourneyMessage {
  return {
    key: r.key,
    journeyId: r.journey_id,
    entryId: r.entry_id,
    profileId: r.profile_id,
    step: r.step,
    channel: r.channel,
    template: r.template,
    payload: json<unknown>(r.payload),
    createdAt: num(r.created_at),
    status: r.status as MessageStatus,
    attempts: num(r.attempts),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    reason: r.reason,
    updatedAt: numOrNull(r.updated_at) ?? num(r.created_at),
  };
}

/** `'2026-11-30'` for the UTC day of `t`. */
export function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** Messages are listed in time order; a page cursor is `<createdAt>:<key>` of the last one. */
export function messageCursorOf(m: { createdAt: number; key: string }): string {
  return `${m.createdAt}:${m.key}`;
}

export function messageCursor(after: string | undefined): { at: number; key: string } | null {
  if (after === undefined) return null;
  const i = after.indexOf(':');
  const at = Number(after.slice(0, i));
  return i > 0 && Number.isFinite(at) ? { at, key: after.slice(i + 1) } : { at: 0, key: '' };
}

export function entryView(row: EntryRowDb, history: EntryView['history']): EntryView {
  const e = entryRow(row);
  return {
    id: e.id,
    journeyId: e.journeyId,
    version: e.version,
    profileId: e.profileId,
    state: e.state,
    step: e.step,
    phase: e.phase,
    dueAt: numOrNull(row.due_at),
    waitingFor: e.waitingFor,
    trigger: row.trigger,
    enteredAt: e.enteredAt,
    endedAt: numOrNull(row.ended_at),
    exitReason: row.exit_reason,
    convertedAt: e.convertedAt,
    history: history.map((h) => ({ at: Number(h.at), step: h.step, type: h.type, outcome: h.outcome })),
  };
}
