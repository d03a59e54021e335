/**
 * The report scans on PostgreSQL (store/report-store.ts). Same results as the SQLite adapter; the
 * bucketing uses width_bucket over the boundary array, and counters come back as numbers (int8 is
 * parsed to a JS number by the pool).
 */
import { inAppCounts, type PerformanceCounts } from '../../domain/reports/performance.js';
import type { RetentionCounts } from '../../domain/reports/retention.js';
import type { Transition } from '../../domain/reports/stage-flow.js';
import type { Touch } from '../../domain/reports/attribution.js';
import {
  entersFunnel,
  type CustomerSequence,
  type ReportCursor,
  type ReportEventQuery,
  type ReportEventRow,
  type RetentionQuery,
  type SequenceQuery,
} from '../report-store.js';
import { named, type Sql } from './pg-driver.js';
import { SEGMENTS_OF_P } from './ingest-statements.js';
import {
  ACTIVITY_KIND,
  DAY,
  MONTH_COLUMNS,
  monthOf,
  monthSlices,
  yearMonthOf,
} from '../../domain/reports/activity.js';

export async function reportEvents(
  sql: Sql,
  ws: string,
  q: ReportEventQuery,
  page: { after: ReportCursor | null; limit: number },
): Promise<{ rows: ReportEventRow[]; next: ReportCursor | null }> {
  const after = page.after ?? { profileId: '', at: -Number.MAX_SAFE_INTEGER, id: 0 };
  const rows = await sql.query<{
    id: number;
    profile_id: string;
    name: string;
    timestamp: number;
    properties?: unknown;
  }>(
    `SELECT id, profile_id, name, timestamp${q.properties ? ", payload->'properties' AS properties" : ''}
     FROM events
     WHERE workspace_id = $1 AND (profile_id, timestamp, id) > ($2, $3, $4)
       AND timestamp >= $5 AND timestamp < $6 AND type IN ('track', 'page', 'screen') AND name IS NOT NULL
       AND ($7::text[] IS NULL OR name = ANY($7::text[]))
     ORDER BY profile_id, timestamp, id LIMIT $8`,
    [ws, after.profileId, after.at, after.id, q.from, q.to, q.names, page.limit],
  );
  const last = rows[rows.length - 1];
  return {
    rows: rows.map((e) => ({
      profileId: e.profile_id,
      name: e.name,
      at: e.timestamp,
      properties: q.properties ? asObject(e.properties) : null,
    })),
    next:
      last && rows.length === page.limit
        ? { profileId: last.profile_id, at: last.timestamp, id: last.id }
        : null,
  };
}

export async function reportSequences(
  sql: Sql,
  ws: string,
  q: SequenceQuery,
  page: { after: string | null; limit: number },
): Promise<{ rows: CustomerSequence[]; next: string | null }> {
  // Timestamps travel as float8 (exact below 2^53) so the arrays arrive as JS numbers.
  const select = `SELECT profile_id,
       array_agg(array_position($2::text[], name) - 1 ORDER BY timestamp, id) AS names,
       array_agg(timestamp::float8 ORDER BY timestamp, id) AS times
     FROM events
     WHERE workspace_id = $1 AND timestamp >= $3 AND timestamp < $4
       AND type IN ('track', 'page', 'screen') AND name = ANY($2::text[])`;
  // Every customer's events of the range, walked in customer order. The activity rollup is not asked
  // who can enter here: measured on 440,000 events, its entry scan and a range read per page cost
  // PostgreSQL more than the walk when most customers enter (SQLite does use it, sqlite/reports.ts).
  const rows = await sql.query<{ profile_id: string; names: number[]; times: number[] }>(
    `${select} AND profile_id > $5 GROUP BY profile_id ORDER BY profile_id LIMIT $6`,
    [ws, q.names, q.from, q.to, page.after ?? '', page.limit],
  );
  const next = rows.length === page.limit ? rows[rows.length - 1]!.profile_id : null;
  const out = rows.map((r) => ({ profileId: r.profile_id, names: r.names, times: r.times }));
  return { rows: q.entering ? out.filter((c) => entersFunnel(c, q)) : out, next };
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export async function profileGroups(
  sql: Sql,
  ws: string,
  ids: readonly string[],
  by: 'stage' | 'segment',
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (ids.length === 0) return out;
  const rows = await sql.query<{ id: string; stage: string | null; segments: string[] }>(
    `SELECT p.id, p.stage, ${SEGMENTS_OF_P} FROM profiles p WHERE p.workspace_id = $1 AND p.id = ANY($2::text[])`,
    [ws, ids],
  );
  for (const p of rows) out.set(p.id, by === 'stage' ? (p.stage === null ? [] : [p.stage]) : p.segments);
  return out;
}

export async function retentionCounts(sql: Sql, ws: string, q: RetentionQuery): Promise<RetentionCounts> {
  const b = q.bounds;
  // width_bucket(t, bounds) is the count of bounds ≤ t: 1 for the first period, so subtract one.
  // The first purchase is the earliest rollup row of the anchor event: its month plus its first day
  // (the lowest bit of the day mask, found in the mask's bit string).
  const anchor =
    q.anchor.kind === 'first_seen'
      ? `SELECT id AS p, first_seen_at AS t FROM profiles
         WHERE workspace_id = :ws AND merged_into IS NULL AND first_seen_at >= :start AND first_seen_at < :cohort_end`
      : `SELECT p, t FROM (
           SELECT DISTINCT ON (profile_id) profile_id AS p,
             month + (position('1' in reverse(days::bit(32)::text)) - 1) * ${DAY}::bigint AS t
           FROM event_activity WHERE workspace_id = :ws AND name = :anchor_name AND kind = ${ACTIVITY_KIND.track}
           ORDER BY profile_id, month) f
         WHERE t >= :start AND t < :cohort_end`;
  const cohorts = `cohort AS (SELECT p, width_bucket(t, :bounds::bigint[]) - 1 AS c FROM (${anchor}) a)`;
  const slices = monthSlices(b);
  const args = {
    ws,
    bounds: b,
    start: b[0],
    cohort_end: b[q.cohorts],
    first_month: monthOf(b[0]!),
    end: b[b.length - 1],
    anchor_name: q.anchor.kind === 'first_event' ? q.anchor.name : null,
    name: q.activity ?? '',
    kind: ACTIVITY_KIND.track,
    first_year: yearMonthOf(b[0]!).year,
    last_year: yearMonthOf(b[b.length - 1]! - 1).year,
    slice_months: slices.map((s) => s.month),
    slice_years: slices.map((s) => yearMonthOf(s.month).year),
    slice_month_numbers: slices.map((s) => yearMonthOf(s.month).month + 1),
    slice_periods: slices.map((s) => s.k),
    slice_masks: slices.map((s) => s.mask),
  };
  const sizes = Array<number>(q.cohorts).fill(0);
  const sized = await sql.once<{ c: number; n: number }>(
    named('retention_sizes', `WITH ${cohorts} SELECT c, count(*)::int AS n FROM cohort GROUP BY c`),
    args,
  );
  for (const row of sized) sizes[row.c] = row.n;
  if (q.activity === null && b.length - 1 <= MASK_PERIODS)
    return { sizes, active: await yearlyActive(sql, q, cohorts, args) };
  // The activity rollup's rows against each period's days in their month: a period counts when the
  // month's mask shares a day with it. A named event's rows are monthly; any event's are yearly (one
  // per customer and year, migration 0031), each unfolded into its twelve months here.
  const act =
    q.activity === null
      ? `act AS (SELECT DISTINCT a.profile_id AS p, w.k FROM event_activity_years a
           CROSS JOIN LATERAL (VALUES ${MONTH_COLUMNS.map((m, i) => `(${i + 1}, a.${m})`).join(', ')}) AS u (m, days)
           JOIN w ON w.year = a.year AND w.m = u.m AND (u.days & w.mask) <> 0
           WHERE a.workspace_id = :ws AND a.year >= :first_year AND a.year <= :last_year)`
      : `act AS (SELECT DISTINCT a.profile_id AS p, w.k FROM event_activity a JOIN w ON w.month = a.month AND (a.days & w.mask) <> 0
           WHERE a.workspace_id = :ws AND a.name = :name AND a.kind = :kind
             AND a.month >= :first_month AND a.month < :end)`;
  const active = await sql.once<{ cohort: number; period: number; customers: number }>(
    named(
      q.activity === null ? 'retention_active_any' : 'retention_active',
      `WITH ${cohorts},
       w AS (SELECT * FROM unnest(:slice_months::bigint[], :slice_years::int[], :slice_month_numbers::int[],
                                  :slice_periods::int[], :slice_masks::int[]) AS w (month, year, m, k, mask)),
       ${act}
       SELECT c AS cohort, k AS period, count(*)::int AS customers FROM cohort JOIN act USING (p)
       WHERE k >= c GROUP BY c, k`,
    ),
    args,
  );
  return { sizes, active };
}

/** Periods a bigint mask holds (bit 63 is the sign). */
const MASK_PERIODS = 62;

/**
 * Any event's activity from the yearly rows (migration 0031): each row's periods as a bigint mask (a
 * test of the month columns each period covers, written into the SQL), OR-ed per customer, then
 * customers counted per cohort and set of periods; the cells are read off those sets here.
 */
async function yearlyActive(
  sql: Sql,
  q: RetentionQuery,
  cohorts: string,
  args: Readonly<Record<string, unknown>>,
): Promise<RetentionCounts['active']> {
  const byYear = new Map<number, string[]>();
  for (const s of monthSlices(q.bounds)) {
    const { year, month } = yearMonthOf(s.month);
    const col = `a.${MONTH_COLUMNS[month]!}`;
    const test = s.whole ? `${col} <> 0` : `(${col} & ${s.mask}) <> 0`;
    byYear.set(year, [
      ...(byYear.get(year) ?? []),
      `CASE WHEN ${test} THEN ${2n ** BigInt(s.k)}::bigint ELSE 0 END`,
    ]);
  }
  const mask = `CASE a.year ${[...byYear].map(([y, terms]) => `WHEN ${y} THEN ${terms.join(' | ')}`).join(' ')} ELSE 0 END`;
  const rows = await sql.once<{ c: number; m: string; n: number }>(
    named(
      'retention_active_years',
      `WITH ${cohorts},
       act AS (SELECT a.profile_id AS p, bit_or(${mask}) AS m FROM event_activity_years a
               WHERE a.workspace_id = :ws AND a.year >= :first_year AND a.year <= :last_year GROUP BY a.profile_id)
       SELECT c, m::text AS m, count(*)::int AS n FROM cohort JOIN act USING (p) GROUP BY c, m`,
    ),
    args,
  );
  const cells = new Map<number, { cohort: number; period: number; customers: number }>();
  for (const { c, m, n } of rows) {
    const bits = BigInt(m);
    for (let k = c; k < q.bounds.length - 1; k++) {
      if (((bits >> BigInt(k)) & 1n) === 0n) continue;
      const cell = cells.get(c * 1024 + k);
      if (cell) cell.customers += n;
      else cells.set(c * 1024 + k, { cohort: c, period: k, customers: n });
    }
  }
  return [...cells.values()];
}

export async function stageTransitions(sql: Sql, ws: string, before: number): Promise<Transition[]> {
  const rows = await sql.query<{ profile_id: string; at: number; f: string | null; t: string }>(
    `SELECT profile_id, at, properties->>'previous_stage' AS f, subject AS t
     FROM engagement_events WHERE workspace_id = $1 AND type = 'Stage Entered' AND at < $2
     ORDER BY profile_id, at, id`,
    [ws, before],
  );
  return rows.map((x) => ({ profileId: x.profile_id, at: x.at, from: x.f, to: x.t }));
}

export async function messagePerformance(
  sql: Sql,
  ws: string,
  from: number,
  to: number,
): Promise<PerformanceCounts[]> {
  const journeys = await sql.query<Omit<PerformanceCounts, 'kind'>>(
    `WITH m AS (
       SELECT key, journey_id, entry_id, step, channel, status, created_at FROM journey_messages
       WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3),
     ev AS (
       SELECT e.message_key AS key, bool_or(e.status = 'sent') AS sent, bool_or(e.status = 'delivered') AS delivered,
         bool_or(e.status = 'bounced') AS bounced, bool_or(e.status = 'opened') AS opened,
         bool_or(e.status = 'clicked') AS clicked, bool_or(e.status = 'unsubscribed') AS unsubscribed,
         bool_or(e.status = 'complained') AS complained
       FROM message_events e JOIN m ON m.key = e.message_key WHERE e.workspace_id = $1
       GROUP BY e.message_key)
     SELECT m.journey_id AS campaign, coalesce(j.name, m.journey_id) AS name, m.step, m.channel,
       count(*)::int AS messages, count(*) FILTER (WHERE ev.sent)::int AS sent,
       count(*) FILTER (WHERE ev.delivered)::int AS delivered, count(*) FILTER (WHERE ev.bounced)::int AS bounced,
       count(*) FILTER (WHERE ev.opened)::int AS opened, count(*) FILTER (WHERE ev.clicked)::int AS clicked,
       count(*) FILTER (WHERE ev.unsubscribed)::int AS unsubscribed,
       count(*) FILTER (WHERE ev.complained)::int AS complained,
       count(*) FILTER (WHERE m.status = 'suppressed')::int AS suppressed,
       count(*) FILTER (WHERE m.status = 'failed')::int AS failed,
       count(*) FILTER (WHERE ev.sent AND en.converted_at >= m.created_at)::int AS converted
     FROM m LEFT JOIN ev ON ev.key = m.key
       LEFT JOIN journeys j ON j.workspace_id = $1 AND j.id = m.journey_id
       LEFT JOIN journey_entries en ON en.workspace_id = $1 AND en.id = m.entry_id
     GROUP BY m.journey_id, j.name, m.step, m.channel
     ORDER BY 2, m.journey_id, m.step, m.channel`,
    [ws, from, to],
  );
  const inApp = await sql.query<{
    campaign: string;
    name: string;
    messages: number;
    sent: number;
    clicked: number;
  }>(
    `SELECT i.message_id AS campaign, coalesce(m.name, i.message_id) AS name, count(*)::int AS messages,
       sum(i.impressions)::int AS sent, sum(i.clicks)::int AS clicked
     FROM inapp_interactions i LEFT JOIN inapp_messages m ON m.workspace_id = i.workspace_id AND m.id = i.message_id
     WHERE i.workspace_id = $1 AND i.last_at >= $2 AND i.last_at < $3
     GROUP BY i.message_id, m.name ORDER BY 2, i.message_id`,
    [ws, from, to],
  );
  return [...journeys.map((j) => ({ kind: 'journey' as const, ...j })), ...inApp.map(inAppCounts)];
}

export async function messageTouches(
  sql: Sql,
  ws: string,
  from: number,
  to: number,
): Promise<(Touch & { profileId: string })[]> {
  const rows = await sql.query<{
    key: string;
    profile_id: string;
    journey_id: string;
    channel: string;
    sent_at: number;
    opened_at: number | null;
    clicked_at: number | null;
  }>(
    `SELECT * FROM (
       SELECT m.key, m.profile_id, m.journey_id, m.channel,
         min(e.at) FILTER (WHERE e.status = 'sent') AS sent_at,
         min(e.at) FILTER (WHERE e.status = 'opened') AS opened_at,
         min(e.at) FILTER (WHERE e.status = 'clicked') AS clicked_at
       FROM journey_messages m JOIN message_events e ON e.workspace_id = m.workspace_id AND e.message_key = m.key
       WHERE m.workspace_id = $1 AND m.created_at >= $2 AND m.created_at < $3
       GROUP BY m.key, m.profile_id, m.journey_id, m.channel) t
     WHERE sent_at IS NOT NULL ORDER BY profile_id, sent_at, key`,
    [ws, from, to],
  );
  return rows.map((t) => ({
    key: t.key,
    profileId: t.profile_id,
    campaign: t.journey_id,
    channel: t.channel,
    sentAt: t.sent_at,
    openedAt: t.opened_at,
    clickedAt: t.clicked_at,
  }));
}
