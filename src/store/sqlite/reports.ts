/**
 * The report scans on SQLite (store/report-store.ts), on the reader connection; retention is in
 * retention.ts, funnels' sequences in sequences.ts.
 */
import { inAppCounts, type PerformanceCounts } from '../../domain/reports/performance.js';
import type { Transition } from '../../domain/reports/stage-flow.js';
import type { Touch } from '../../domain/reports/attribution.js';
import type { ReportCursor, ReportEventQuery, ReportEventRow } from '../report-store.js';
import type { Prepare } from './statements.js';
import { segmentsOf } from './engagement-reads.js';

export { retentionCounts } from './retention.js';
export { reportSequences } from './sequences.js';

export function reportEvents(
  r: Prepare,
  ws: string,
  q: ReportEventQuery,
  page: { after: ReportCursor | null; limit: number },
): { rows: ReportEventRow[]; next: ReportCursor | null } {
  const names = q.names === null ? '' : `AND name IN (${q.names.map(() => '?').join(', ')})`;
  const after = page.after ?? { profileId: '', at: -Number.MAX_SAFE_INTEGER, id: 0 };
  // The timeline index is (workspace, profile, timestamp, id): the scan walks it in order, no sort.
  const rows = r(
    `SELECT id, profile_id, name, timestamp${q.properties ? ", json_extract(payload, '$.properties') AS properties" : ''}
     FROM events INDEXED BY events_timeline
     WHERE workspace_id = ? AND (profile_id, timestamp, id) > (?, ?, ?)
       AND timestamp >= ? AND timestamp < ? AND type IN ('track', 'page', 'screen') AND name IS NOT NULL ${names}
     ORDER BY profile_id, timestamp, id LIMIT ?`,
  ).all(ws, after.profileId, after.at, after.id, q.from, q.to, ...(q.names ?? []), page.limit) as {
    id: number;
    profile_id: string;
    name: string;
    timestamp: number;
    properties?: string | null;
  }[];
  const last = rows[rows.length - 1];
  return {
    rows: rows.map((e) => ({
      profileId: e.profile_id,
      name: e.name,
      at: e.timestamp,
      properties: q.properties ? parseObject(e.properties ?? null) : null,
    })),
    next:
      last && rows.length === page.limit
        ? { profileId: last.profile_id, at: last.timestamp, id: last.id }
        : null,
  };
}

function parseObject(s: string | null): Record<string, unknown> {
  if (s === null) return {};
  const v = JSON.parse(s) as unknown;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function profileGroups(
  r: Prepare,
  ws: string,
  ids: readonly string[],
  by: 'stage' | 'segment',
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (ids.length === 0) return out;
  const rows = r(
    `SELECT id, stage, ${segmentsOf('p')} AS segments FROM profiles p
     WHERE workspace_id = ? AND id IN (${ids.map(() => '?').join(', ')})`,
  ).all(ws, ...ids) as { id: string; stage: string | null; segments: string }[];
  for (const p of rows) {
    out.set(
      p.id,
      by === 'stage' ? (p.stage === null ? [] : [p.stage]) : (JSON.parse(p.segments) as string[]),
    );
  }
  return out;
}

export function stageTransitions(r: Prepare, ws: string, before: number): Transition[] {
  return (
    r(
      `SELECT profile_id, at, json_extract(properties, '$.previous_stage') AS f, subject AS t
       FROM engagement_events INDEXED BY engagement_events_stage_flow
       WHERE workspace_id = ? AND type = 'Stage Entered' AND at < ?
       ORDER BY profile_id, at, id`,
    ).all(ws, before) as { profile_id: string; at: number; f: string | null; t: string }[]
  ).map((x) => ({ profileId: x.profile_id, at: x.at, from: x.f, to: x.t }));
}

export function messagePerformance(r: Prepare, ws: string, from: number, to: number): PerformanceCounts[] {
  const journeys = r(
    `WITH m AS (
       SELECT key, journey_id, entry_id, step, channel, status, created_at FROM journey_messages
       WHERE workspace_id = @ws AND created_at >= @from AND created_at < @to),
     ev AS (
       SELECT e.message_key AS key, max(e.status = 'sent') AS sent, max(e.status = 'delivered') AS delivered,
         max(e.status = 'bounced') AS bounced, max(e.status = 'opened') AS opened,
         max(e.status = 'clicked') AS clicked, max(e.status = 'unsubscribed') AS unsubscribed,
         max(e.status = 'complained') AS complained
       FROM message_events e JOIN m ON m.key = e.message_key WHERE e.workspace_id = @ws
       GROUP BY e.message_key)
     SELECT m.journey_id AS campaign, coalesce(j.name, m.journey_id) AS name, m.step, m.channel,
       count(*) AS messages, total(ev.sent) AS sent, total(ev.delivered) AS delivered,
       total(ev.bounced) AS bounced, total(ev.opened) AS opened, total(ev.clicked) AS clicked,
       total(ev.unsubscribed) AS unsubscribed, total(ev.complained) AS complained,
       total(m.status = 'suppressed') AS suppressed, total(m.status = 'failed') AS failed,
       total(ev.sent = 1 AND en.converted_at IS NOT NULL AND en.converted_at >= m.created_at) AS converted
     FROM m LEFT JOIN ev ON ev.key = m.key
       LEFT JOIN journeys j ON j.workspace_id = @ws AND j.id = m.journey_id
       LEFT JOIN journey_entries en ON en.workspace_id = @ws AND en.id = m.entry_id
     GROUP BY m.journey_id, m.step, m.channel ORDER BY name, m.journey_id, m.step, m.channel`,
  ).all({ ws, from, to }) as Omit<PerformanceCounts, 'kind'>[];
  const inApp = r(
    `SELECT i.message_id AS campaign, coalesce(m.name, i.message_id) AS name, count(*) AS messages,
       total(i.impressions) AS sent, total(i.clicks) AS clicked
     FROM inapp_interactions i LEFT JOIN inapp_messages m ON m.workspace_id = i.workspace_id AND m.id = i.message_id
     WHERE i.workspace_id = ? AND i.last_at >= ? AND i.last_at < ?
     GROUP BY i.message_id ORDER BY name, i.message_id`,
  ).all(ws, from, to) as {
    campaign: string;
    name: string;
    messages: number;
    sent: number;
    clicked: number;
  }[];
  return [...journeys.map((j) => ({ kind: 'journey' as const, ...j })), ...inApp.map((i) => inAppCounts(i))];
}

export function messageTouches(
  r: Prepare,
  ws: string,
  from: number,
  to: number,
): (Touch & { profileId: string })[] {
  return (
    r(
      `SELECT m.key, m.profile_id, m.journey_id, m.channel,
         min(CASE WHEN e.status = 'sent' THEN e.at END) AS sent_at,
         min(CASE WHEN e.status = 'opened' THEN e.at END) AS opened_at,
         min(CASE WHEN e.status = 'clicked' THEN e.at END) AS clicked_at
       FROM journey_messages m JOIN message_events e ON e.workspace_id = m.workspace_id AND e.message_key = m.key
       WHERE m.workspace_id = ? AND m.created_at >= ? AND m.created_at < ?
       GROUP BY m.key HAVING sent_at IS NOT NULL ORDER BY m.profile_id, sent_at, m.key`,
    ).all(ws, from, to) as {
      key: string;
      profile_id: string;
      journey_id: string;
      channel: string;
      sent_at: number;
      opened_at: number | null;
      clicked_at: number | null;
    }[]
  ).map((t) => ({
    key: t.key,
    profileId: t.profile_id,
    campaign: t.journey_id,
    channel: t.channel,
    sentAt: t.sent_at,
    openedAt: t.opened_at,
    clickedAt: t.clicked_at,
  }));
}
