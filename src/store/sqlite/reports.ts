/**
 * The report scans on SQLite (store/report-store.ts), on the reader connection; retention is in
 * retention.ts.
 */
import { inAppCounts, type PerformanceCounts } from '../../domain/reports/performance.js';
import type { Transition } from '../../domain/reports/stage-flow.js';
import type { Touch } from '../../domain/reports/attribution.js';
import {
  entersFunnel,
  type CustomerSequence,
  type ReportCursor,
  type ReportEventQuery,
  type ReportEventRow,
  type SequenceQuery,
} from '../report-store.js';
import type { Prepare } from './statements.js';
import { segmentsOf } from './engagement-reads.js';
import { monthOf } from '../../domain/reports/activity.js';
import type { SequenceScratch } from '../../domain/reports/sequence-path.js';

export { retentionCounts } from './retention.js';

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

/** Plans checked (per SQL text): the events are visited in timeline-index order, with no sort. */
const streamed = new Map<string, boolean>();

function inIndexOrder(r: Prepare, sql: string, args: readonly unknown[]): boolean {
  let ok = streamed.get(sql);
  if (ok === undefined) {
    const plan = r(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[];
    ok =
      plan.every((p) => !p.detail.includes('TEMP B-TREE')) &&
      plan.some((p) => p.detail.includes('COVERING INDEX events_timeline'));
    streamed.set(sql, ok);
  }
  return ok;
}

/** A customer's sequence in time order: as read, unless a plan change ever broke that (then sorted, stably). */
function inTimeOrder(c: CustomerSequence): CustomerSequence {
  for (let i = 1; i < c.times.length; i++) {
    if (c.times[i]! < c.times[i - 1]!) {
      const order = c.times.map((_, j) => j).sort((a, b) => c.times[a]! - c.times[b]! || a - b);
      return {
        profileId: c.profileId,
        names: order.map((j) => c.names[j]!),
        times: order.map((j) => c.times[j]!),
      };
    }
  }
  return c;
}

/** Timestamps this far from 1970 still encode exactly as `(timestamp - from) * 16 + name index`. */
const SEQUENCE_LIMIT = 2 ** 48;

export function reportSequences(
  r: Prepare,
  ws: string,
  q: SequenceQuery,
  page: { after: string | null; limit: number },
): { rows: CustomerSequence[]; next: string | null } {
  const { rows, next, base } = sequenceRows(r, ws, q, page);
  const out = rows.map(([profileId, seq]) => inTimeOrder(decodeSequence(profileId, seq, base)));
  return { rows: q.entering ? out.filter((c) => entersFunnel(c, q)) : out, next };
}

/**
 * `reportSequences`' rows as read, each customer's events in one text (`decodeInto`), not yet
 * filtered to those who enter; and the same for a scan thread's range of customers: with `until`,
 * only customers with ids up to it (inclusive); `limit` -1 for every customer of the range (`next` is
 * then null).
 */
export function sequenceRows(
  r: Prepare,
  ws: string,
  q: SequenceQuery,
  page: { after: string | null; limit: number; until?: string | null },
): { rows: [string, string][]; next: string | null; base: number } {
  if (q.names.length === 0 || q.names.length > 10) throw new Error('1 to 10 sequence names');
  if (Math.abs(q.from) > SEQUENCE_LIMIT || Math.abs(q.to) > SEQUENCE_LIMIT) throw new Error('range too wide');
  const index = q.names.map((_, i) => `WHEN ? THEN ${i}`).join(' ');
  // Times travel relative to the first whole millisecond of the range, bound as an integer (a JS
  // number binds as a real, and the text would end in ".0"): 11–12 digits instead of 14.
  const base = Math.ceil(q.from);
  // The covering timeline index hands each customer's events over in (timestamp, id) order, and
  // GROUP BY profile_id follows it without a sort. Each event travels as one number, its time from
  // `base` × 16 + the name's index, in one string per customer: a JS value per customer rather than
  // per event. When the plan is checked to visit the index in order with no sort anywhere,
  // group_concat needs no ORDER BY of its own (which sorts every customer's events again: a third of
  // the scan's time). Events of other names make NULL, which group_concat skips, and customers with
  // none of the names are dropped by HAVING: cheaper than a `name IN (...)` test on every row.
  const sql = (ordered: boolean, where: string, tail: string) =>
    `SELECT profile_id, group_concat((timestamp - ?) * 16 + CASE name ${index} END, ','${ordered ? ' ORDER BY timestamp, id' : ''}) AS seq
     FROM events INDEXED BY events_timeline
     WHERE workspace_id = ? AND ${where} AND timestamp >= ? AND timestamp < ?
       AND type IN ('track', 'page', 'screen')
     GROUP BY profile_id HAVING seq IS NOT NULL ORDER BY profile_id${tail}`;
  const run = (where: string, tail: string, args: unknown[]) => {
    const all = [BigInt(base), ...q.names, ws, ...args];
    const plain = sql(false, where, tail);
    const text = inIndexOrder(r, plain, all) ? plain : sql(true, where, tail);
    return r(text)
      .raw()
      .all(...all) as [string, string][];
  };
  const until = page.until ?? null;
  let rows: [string, string][];
  let next: string | null;
  if (q.entering) {
    // The customers who can enter, from the rollup; then a seek per customer to the range of their
    // timeline, instead of a walk through every customer's whole timeline.
    const ids = r(
      `SELECT profile_id FROM event_activity WHERE workspace_id = ? AND name = ? AND profile_id > ?
         ${until === null ? '' : 'AND profile_id <= ?'} AND kind > 0 AND month >= ? AND month < ?
       GROUP BY profile_id ORDER BY profile_id LIMIT ?`,
    )
      .pluck()
      .all(
        ws,
        q.entering.name,
        page.after ?? '',
        ...(until === null ? [] : [until]),
        monthOf(q.from),
        q.entering.before,
        page.limit,
      ) as string[];
    next = ids.length === page.limit ? ids[ids.length - 1]! : null;
    const last = ids[ids.length - 1];
    if (last === undefined) rows = [];
    else {
      // A seek per customer costs about as much as walking thirty index entries, so where most
      // customers of the page's id span can enter, the span is walked instead (the others are then
      // dropped with everyone who does not enter); where few can, only theirs are read.
      const span = activeCustomers(r, ws, page.after ?? '', last);
      rows =
        ids.length * 2 >= span
          ? run('profile_id > ? AND profile_id <= ?', '', [page.after ?? '', last, q.from, q.to])
          : run('profile_id IN (SELECT value FROM json_each(?))', '', [JSON.stringify(ids), q.from, q.to]);
    }
  } else {
    rows = run(`profile_id > ?${until === null ? '' : ' AND profile_id <= ?'}`, ' LIMIT ?', [
      page.after ?? '',
      ...(until === null ? [] : [until]),
      q.from,
      q.to,
      page.limit,
    ]);
    next = rows.length === page.limit ? rows[rows.length - 1]![0] : null;
  }
  return { rows, next, base };
}

/**
 * About how many customers have ids in (after, until] (null: no upper bound): their yearly rollup rows
 * (a narrow row per customer and year with any track, page or screen event; customers with none have
 * no events to walk either), rather than the profiles' own wide rows.
 */
export function activeCustomers(r: Prepare, ws: string, after: string, until: string | null): number {
  return Number(
    r(
      `SELECT count(*) FROM event_activity_years WHERE workspace_id = ? AND profile_id > ?${until === null ? '' : ' AND profile_id <= ?'}`,
    )
      .pluck()
      .get(ws, after, ...(until === null ? [] : [until])),
  );
}

/**
 * One customer's `group_concat` text: comma-separated non-negative integers, each (time - base) × 16
 * + name index. Read digit by digit (no substring or Number per event); exact below 2^53, which the
 * range limit keeps them. Into `s` (a scan thread's reusable buffers), in time order; returns the count.
 */
export function decodeInto(s: SequenceScratch, seq: string, base: number): number {
  let n = 0;
  let v = 0;
  let ordered = true;
  for (let i = 0; i <= seq.length; i++) {
    const c = i < seq.length ? seq.charCodeAt(i) : 44;
    if (c === 44) {
      if (n === s.names.length) s.reserve(n + 1, n);
      const k = v % 16;
      s.names[n] = k;
      s.times[n] = base + (v - k) / 16;
      if (n > 0 && s.times[n]! < s.times[n - 1]!) ordered = false;
      n++;
      v = 0;
    } else v = v * 10 + (c - 48);
  }
  if (!ordered) {
    // Only if a plan change ever broke the index order: sorted, stably.
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => s.times[a]! - s.times[b]! || a - b);
    const names = order.map((j) => s.names[j]!);
    const times = order.map((j) => s.times[j]!);
    s.names.set(names);
    s.times.set(times);
  }
  return n;
}

function decodeSequence(profileId: string, seq: string, base: number): CustomerSequence {
  const names: number[] = [];
  const times: number[] = [];
  let v = 0;
  for (let i = 0; i <= seq.length; i++) {
    const c = i < seq.length ? seq.charCodeAt(i) : 44;
    if (c === 44) {
      const k = v % 16;
      names.push(k);
      times.push(base + (v - k) / 16);
      v = 0;
    } else v = v * 10 + (c - 48);
  }
  return { profileId, names, times };
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
