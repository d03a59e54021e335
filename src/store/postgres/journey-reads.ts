/** Journey reads on the pool: each one statement, so each sees one committed state. */
import {
  entryView,
  journeyMessage,
  journeyView,
  messageCursor,
  utcDay,
  type EntryRowDb,
  type JourneyRowDb,
  type MessageRowDb,
} from '../journey-rows.js';
import type { ArmOutcome, EntryView, JourneyMessage, JourneyStats, JourneyView } from '../journey-store.js';
import { num } from '../rows.js';
import type { Sql } from './pg-driver.js';

export async function getJourney(sql: Sql, ws: string, id: string): Promise<JourneyView | null> {
  const [row] = await sql.query<JourneyRowDb>('SELECT * FROM journeys WHERE workspace_id = $1 AND id = $2', [
    ws,
    id,
  ]);
  return row ? journeyView(row) : null;
}

export async function listJourneys(sql: Sql, ws: string): Promise<JourneyView[]> {
  const rows = await sql.query<JourneyRowDb>('SELECT * FROM journeys WHERE workspace_id = $1 ORDER BY name', [
    ws,
  ]);
  return rows.map(journeyView);
}

export async function getJourneyVersion(sql: Sql, ws: string, id: string, version: number): Promise<unknown> {
  const [row] = await sql.query<{ definition: unknown }>(
    'SELECT definition FROM journey_versions WHERE workspace_id = $1 AND journey_id = $2 AND version = $3',
    [ws, id, version],
  );
  return row === undefined ? null : row.definition;
}

const DAY_MS = 86_400_000;

/**
 * Totals over every entry; the daily series from `since`, grouped by UTC day number (epoch days),
 * named as `YYYY-MM-DD` here.
 */
export async function journeyOutcomes(sql: Sql, ws: string, journeyId: string): Promise<ArmOutcome[]> {
  const rows = await sql.query<{
    arm: string | null;
    entered: string;
    converted: string;
    s: number;
    ss: number;
  }>(
    `SELECT arm, count(*) AS entered, count(converted_at) AS converted,
       coalesce(sum(coalesce(converted_value, 0)), 0)::float8 AS s,
       coalesce(sum(coalesce(converted_value, 0) ^ 2), 0)::float8 AS ss
     FROM journey_entries WHERE workspace_id = $1 AND journey_id = $2 GROUP BY arm ORDER BY arm COLLATE "C"`,
    [ws, journeyId],
  );
  return rows.map((o) => ({
    arm: o.arm,
    entered: Number(o.entered),
    converted: Number(o.converted),
    valueSum: Number(o.s),
    valueSumSquares: Number(o.ss),
  }));
}

export async function getJourneyStats(
  sql: Sql,
  ws: string,
  journeyId: string,
  since: number,
): Promise<JourneyStats> {
  const [row] = await sql.query<{
    steps: Record<string, number>;
    entered: number;
    active: number;
    completed: number;
    exited: number;
    converted: number;
    daily: { d: number; entered: number; ended: number; converted: number }[];
  }>(
    `WITH e AS (SELECT * FROM journey_entries WHERE workspace_id = $1 AND journey_id = $2)
     SELECT
       coalesce((SELECT json_object_agg(step, n) FROM (SELECT step, count(*) AS n FROM e WHERE state = 'active' GROUP BY step) s),
                '{}') AS steps,
       (SELECT count(*) FROM e) AS entered,
       (SELECT count(*) FROM e WHERE state = 'active') AS active,
       (SELECT count(*) FROM e WHERE state = 'completed') AS completed,
       (SELECT count(*) FROM e WHERE state = 'exited') AS exited,
       (SELECT count(*) FROM e WHERE converted_at IS NOT NULL) AS converted,
       coalesce((SELECT json_agg(json_build_object('d', d, 'entered', entered, 'ended', ended, 'converted', converted)
                                 ORDER BY d)
                 FROM (SELECT u.at / ${DAY_MS} AS d, count(*) FILTER (WHERE u.kind = 'entered') AS entered,
                         count(*) FILTER (WHERE u.kind = 'ended') AS ended,
                         count(*) FILTER (WHERE u.kind = 'converted') AS converted
                       FROM (SELECT 'entered' AS kind, entered_at AS at FROM e WHERE entered_at >= $3
                             UNION ALL SELECT 'ended', ended_at FROM e WHERE ended_at >= $3
                             UNION ALL SELECT 'converted', converted_at FROM e WHERE converted_at >= $3) u
                       GROUP BY 1) g), '[]') AS daily`,
    [ws, journeyId, since],
  );
  if (!row) throw new Error('the journey stats query returned no row');
  return {
    steps: row.steps,
    entered: num(row.entered),
    active: num(row.active),
    completed: num(row.completed),
    exited: num(row.exited),
    converted: num(row.converted),
    daily: row.daily.map((d) => ({
      day: utcDay(d.d * DAY_MS),
      entered: d.entered,
      ended: d.ended,
      converted: d.converted,
    })),
  };
}

/** The entries of `profileId`'s canonical profile (none when there is no such profile). */
export async function listProfileEntries(sql: Sql, ws: string, profileId: string): Promise<EntryView[]> {
  const rows = await sql.query<EntryRowDb & { history: EntryView['history'] }>(
    `SELECT e.*, coalesce((SELECT json_agg(json_build_object('at', s.at, 'step', s.step, 'type', s.type,
                                                             'outcome', s.outcome) ORDER BY s.id)
                           FROM journey_steps s WHERE s.workspace_id = e.workspace_id AND s.entry_id = e.id), '[]') AS history
     FROM journey_entries e
     WHERE e.workspace_id = $1
       AND e.profile_id = (SELECT coalesce(merged_into, id) FROM profiles WHERE workspace_id = $1 AND id = $2)
     ORDER BY e.entered_at DESC, e.id DESC LIMIT 200`,
    [ws, profileId],
  );
  return rows.map((row) => entryView(row, row.history));
}

/** In time order, then key; `after` is a `messageCursorOf` cursor (journey-rows.ts). */
export async function listJourneyMessages(
  sql: Sql,
  ws: string,
  q: { journeyId?: string; profileId?: string; limit: number; after?: string },
): Promise<JourneyMessage[]> {
  const args: unknown[] = [ws];
  const where = ['workspace_id = $1'];
  const cursor = messageCursor(q.after);
  if (cursor) {
    const at = `$${args.push(cursor.at)}::bigint`;
    where.push(`(created_at, key) > (${at}, $${args.push(cursor.key)}::text)`);
  }
  if (q.journeyId !== undefined) where.push(`journey_id = $${args.push(q.journeyId)}`);
  if (q.profileId !== undefined) where.push(`profile_id = $${args.push(q.profileId)}`);
  const limit = `$${args.push(q.limit)}`;
  const rows = await sql.query<MessageRowDb>(
    `SELECT * FROM journey_messages WHERE ${where.join(' AND ')} ORDER BY created_at, key LIMIT ${limit}`,
    args,
  );
  return rows.map(journeyMessage);
}

export async function listStaticListMembers(
  sql: Sql,
  ws: string,
  list: string,
  page: { limit: number; after?: string },
): Promise<string[]> {
  const rows = await sql.query<{ profile_id: string }>(
    `SELECT profile_id FROM list_members WHERE workspace_id = $1 AND list = $2 AND profile_id > $3
     ORDER BY profile_id LIMIT $4`,
    [ws, list, page.after ?? '', page.limit],
  );
  return rows.map((r) => r.profile_id);
}
