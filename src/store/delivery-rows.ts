/** Row shapes of the outbox and channel tables, and their conversion, shared by both adapters. */
import type {
  ChannelRecord,
  ClaimedMessage,
  MessageEvent,
  MessageState,
  Subscription,
  TemplateRecord,
} from './delivery-store.js';
import type { JourneyMessage } from './journey-store.js';
import { json, num, type Num } from './rows.js';

export interface OutboxRowDb {
  workspace_id: string;
  key: string;
  journey_id: string;
  profile_id: string;
  channel: string;
  template: string | null;
  payload: string | object;
  attempts: Num;
  created_at: Num;
}

export function claimedMessage(r: OutboxRowDb, claim: string): ClaimedMessage {
  return {
    workspaceId: r.workspace_id,
    key: r.key,
    journeyId: r.journey_id,
    profileId: r.profile_id,
    channel: r.channel,
    template: r.template,
    payload: json<unknown>(r.payload),
    attempts: num(r.attempts),
    createdAt: num(r.created_at),
    claim,
  };
}

export interface ChannelRowDb {
  channel: string;
  provider: string;
  settings: string | Record<string, unknown>;
  secrets: string;
  updated_at: Num;
}

export function channelRecord(r: ChannelRowDb): ChannelRecord {
  return {
    channel: r.channel,
    provider: r.provider,
    settings: json<Record<string, unknown>>(r.settings),
    secrets: r.secrets,
    updatedAt: num(r.updated_at),
  };
}

export interface TemplateRowDb {
  name: string;
  channel: string;
  definition: string | object;
  version: Num;
  created_at: Num;
  updated_at: Num;
}

export function templateRecord(r: TemplateRowDb): TemplateRecord {
  return {
    name: r.name,
    channel: r.channel,
    definition: json<unknown>(r.definition),
    version: num(r.version),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export interface SubscriptionRowDb {
  channel: string;
  address: string;
  topic: string;
  status: string;
  source: string;
  at: Num;
}

export function subscription(r: SubscriptionRowDb): Subscription {
  return {
    channel: r.channel,
    address: r.address,
    topic: r.topic,
    status: r.status === 'subscribed' || r.status === 'pending' ? r.status : 'unsubscribed',
    source: r.source,
    at: num(r.at),
  };
}

/**
 * A message's first state, from its row (not stored as an event, to keep the outbox's insert to one
 * row): a message the dispatcher has acted on was created queued; one it has not is as it was
 * created (queued, held, suppressed or skipped, with its reason).
 */
export function creation(m: JourneyMessage, actedOn: boolean): MessageEvent {
  return actedOn
    ? { at: m.createdAt, status: 'queued', attempt: 0, detail: null }
    : { at: m.createdAt, status: m.status, attempt: 0, detail: m.reason };
}

export interface StateRowDb {
  at: Num;
  key: string;
  journey_id: string;
  channel: string;
  template: string | null;
  status: string;
  attempt: Num;
  detail: string | null;
}

export function messageState(r: StateRowDb): MessageState {
  return {
    at: num(r.at),
    key: r.key,
    journeyId: r.journey_id,
    channel: r.channel,
    template: r.template,
    status: r.status,
    attempt: num(r.attempt),
    detail: r.detail,
  };
}
