/**
 * The outbox and channel configuration on SQLite. Claims and results run on the writer connection
 * inside the writer's IMMEDIATE transaction; the reads run on the reader connection.
 */
import type {
  ChannelRecord,
  ClaimedMessage,
  MessageEvent,
  MessageResult,
  MessageState,
  Subscription,
  TemplateRecord,
} from '../delivery-store.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import {
  claimedMessage,
  channelRecord,
  subscription,
  templateRecord,
  type ChannelRowDb,
  type SubscriptionRowDb,
  type OutboxRowDb,
  type TemplateRowDb,
} from '../delivery-rows.js';
import type { Prepare } from './statements.js';
import { getDocument, putDocument, SETTINGS } from './documents.js';
import type { JourneyMessage } from '../journey-store.js';
import { journeyMessage, type MessageRowDb } from '../journey-rows.js';
import { creation, messageState, type StateRowDb } from '../delivery-rows.js';

export function claimDueMessages(
  prep: Prepare,
  claim: string,
  limit: number,
  now: number,
  leaseMs: number,
): ClaimedMessage[] {
  const rows = prep(
    `SELECT workspace_id, key, journey_id, profile_id, channel, template, payload, attempts, created_at
     FROM journey_messages INDEXED BY journey_messages_due
     WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
  ).all(now, limit) as OutboxRowDb[];
  const take = prep(
    'UPDATE journey_messages SET claimed_by = ?, next_attempt_at = ? WHERE workspace_id = ? AND key = ?',
  );
  for (const r of rows) take.run(claim, now + leaseMs, r.workspace_id, r.key);
  return rows.map((r) => claimedMessage(r, claim));
}

export function completeMessages(prep: Prepare, results: readonly MessageResult[], now: number): number {
  const save = prep(
    `UPDATE journey_messages SET status = ?, attempts = ?, next_attempt_at = ?, reason = ?, claimed_by = NULL,
       updated_at = ?
     WHERE workspace_id = ? AND key = ? AND claimed_by = ?`,
  );
  const log = prep(
    'INSERT INTO message_events (workspace_id, message_key, at, status, attempt, detail) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let applied = 0;
  for (const r of results) {
    const next = r.status === 'queued' ? r.nextAttemptAt : null;
    if (save.run(r.status, r.attempts, next, r.reason, now, r.workspaceId, r.key, r.claim).changes === 0)
      continue;
    applied++;
    log.run(r.workspaceId, r.key, now, r.status, r.attempts, r.reason);
  }
  return applied;
}

export function getMessage(r: Prepare, ws: string, key: string): JourneyMessage | null {
  const row = r('SELECT * FROM journey_messages WHERE workspace_id = ? AND key = ?').get(ws, key) as
    MessageRowDb | undefined;
  return row ? journeyMessage(row) : null;
}

export function listMessageEvents(r: Prepare, ws: string, key: string): MessageEvent[] {
  const m = getMessage(r, ws, key);
  if (!m) return [];
  const later = (
    r(
      'SELECT at, status, attempt, detail FROM message_events WHERE workspace_id = ? AND message_key = ? ORDER BY at, rowid',
    ).all(ws, key) as { at: number; status: string; attempt: number; detail: string | null }[]
  ).map((e) => ({ at: e.at, status: e.status, attempt: e.attempt, detail: e.detail }));
  return [creation(m, later.length > 0), ...later];
}

export function getChannel(r: Prepare, ws: string, channel: string): ChannelRecord | null {
  const row = r('SELECT * FROM channels WHERE workspace_id = ? AND channel = ?').get(ws, channel) as
    ChannelRowDb | undefined;
  return row ? channelRecord(row) : null;
}

export function listChannels(r: Prepare, ws: string): ChannelRecord[] {
  return (r('SELECT * FROM channels WHERE workspace_id = ? ORDER BY channel').all(ws) as ChannelRowDb[]).map(
    channelRecord,
  );
}

export function putChannel(prep: Prepare, ws: string, c: ChannelRecord): void {
  prep(
    `INSERT INTO channels (workspace_id, channel, provider, settings, secrets, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, channel) DO UPDATE SET provider = excluded.provider, settings = excluded.settings,
       secrets = excluded.secrets, updated_at = excluded.updated_at`,
  ).run(ws, c.channel, c.provider, JSON.stringify(c.settings), c.secrets, c.updatedAt);
}

export function deleteChannel(prep: Prepare, ws: string, channel: string): boolean {
  return prep('DELETE FROM channels WHERE workspace_id = ? AND channel = ?').run(ws, channel).changes > 0;
}

export function putTemplate(
  prep: Prepare,
  ws: string,
  t: { name: string; channel: string; definition: unknown },
  mode: 'create' | 'replace',
  now: number,
): TemplateRecord {
  const current = getTemplate(prep, ws, t.name);
  if (mode === 'create' && current) throw new ConflictError(`a template named "${t.name}" already exists`);
  if (mode === 'replace' && !current) throw new NotFoundError(`no template named "${t.name}"`);
  const record: TemplateRecord = {
    name: t.name,
    channel: t.channel,
    definition: t.definition,
    version: (current?.version ?? 0) + 1,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
  prep(
    `INSERT INTO templates (workspace_id, name, channel, definition, version, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, name) DO UPDATE SET channel = excluded.channel, definition = excluded.definition,
       version = excluded.version, updated_at = excluded.updated_at`,
  ).run(ws, t.name, t.channel, JSON.stringify(t.definition), record.version, record.createdAt, now);
  return record;
}

export function getTemplate(r: Prepare, ws: string, name: string): TemplateRecord | null {
  const row = r('SELECT * FROM templates WHERE workspace_id = ? AND name = ?').get(ws, name) as
    TemplateRowDb | undefined;
  return row ? templateRecord(row) : null;
}

export function listTemplates(r: Prepare, ws: string): TemplateRecord[] {
  return (r('SELECT * FROM templates WHERE workspace_id = ? ORDER BY name').all(ws) as TemplateRowDb[]).map(
    templateRecord,
  );
}

export function deleteTemplate(prep: Prepare, ws: string, name: string): boolean {
  return prep('DELETE FROM templates WHERE workspace_id = ? AND name = ?').run(ws, name).changes > 0;
}

/**
 * Runs inside the writer's transaction: a list is stored all or none. The writer records the
 * consent-ledger entries of the same changes in that transaction (rights.subscriptionLedger).
 */
export function setSubscription(prep: Prepare, ws: string, list: readonly Subscription[]): void {
  const put = prep(
    `INSERT INTO subscriptions (workspace_id, channel, address, topic, status, source, at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, channel, address, topic) DO UPDATE SET status = excluded.status,
       source = excluded.source, at = excluded.at`,
  );
  for (const s of list) put.run(ws, s.channel, s.address, s.topic, s.status, s.source, s.at);
}

export function listSubscriptions(
  r: Prepare,
  ws: string,
  channel: string,
  addresses: readonly string[],
): Subscription[] {
  const out: Subscription[] = [];
  const q = r('SELECT * FROM subscriptions WHERE workspace_id = ? AND channel = ? AND address = ?');
  for (const a of new Set(addresses))
    out.push(...(q.all(ws, channel, a) as SubscriptionRowDb[]).map(subscription));
  return out;
}

export function getDeliverySettings(r: Prepare, ws: string): unknown {
  return getDocument(r, SETTINGS, ws);
}

export function putDeliverySettings(prep: Prepare, ws: string, settings: unknown, now: number): void {
  putDocument(prep, SETTINGS, ws, settings, now);
}

export function recentMessages(
  r: Prepare,
  ws: string,
  profileIds: readonly string[],
  since: number,
): Map<string, { key: string; channel: string; topic: string | null; at: number }[]> {
  const q = r(
    `SELECT key, channel, topic, created_at FROM journey_messages INDEXED BY journey_messages_by_profile
     WHERE workspace_id = ? AND profile_id = ? AND created_at > ? AND status IN ('queued', 'sent', 'delivered', 'opened', 'clicked') AND channel <> 'webhook' AND (topic IS NULL OR topic <> 'transactional')`,
  );
  const out = new Map<string, { key: string; channel: string; topic: string | null; at: number }[]>();
  for (const id of new Set(profileIds)) {
    const rows = q.all(ws, id, since) as {
      key: string;
      channel: string;
      topic: string | null;
      created_at: number;
    }[];
    if (rows.length > 0)
      out.set(
        id,
        rows.map((x) => ({ key: x.key, channel: x.channel, topic: x.topic, at: x.created_at })),
      );
  }
  return out;
}

export function listProfileMessageStates(
  r: Prepare,
  ws: string,
  profileId: string,
  q: { before: number | null; limit: number },
): MessageState[] {
  const before = q.before ?? Number.MAX_SAFE_INTEGER;
  const rows = r(
    `SELECT * FROM (
       SELECT m.created_at AS at, m.key, m.journey_id, m.channel, m.template,
         CASE WHEN EXISTS (SELECT 1 FROM message_events e INDEXED BY message_events_by_message
                           WHERE e.workspace_id = m.workspace_id AND e.message_key = m.key)
              THEN 'queued' ELSE m.status END AS status,
         0 AS attempt,
         CASE WHEN EXISTS (SELECT 1 FROM message_events e INDEXED BY message_events_by_message
                           WHERE e.workspace_id = m.workspace_id AND e.message_key = m.key)
              THEN NULL ELSE m.reason END AS detail
       FROM journey_messages m INDEXED BY journey_messages_by_profile
       WHERE m.workspace_id = ? AND m.profile_id = ? AND m.created_at < ?
       UNION ALL
       SELECT e.at, m.key, m.journey_id, m.channel, m.template, e.status, e.attempt, e.detail
       FROM journey_messages m INDEXED BY journey_messages_by_profile
       JOIN message_events e ON e.workspace_id = m.workspace_id AND e.message_key = m.key
       WHERE m.workspace_id = ? AND m.profile_id = ? AND e.at < ?)
     ORDER BY at DESC, key DESC, attempt DESC LIMIT ?`,
  ).all(ws, profileId, before, ws, profileId, before, q.limit) as StateRowDb[];
  return rows.map(messageState);
}
