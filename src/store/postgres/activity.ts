/**
 * The activity rollup on PostgreSQL (domain/reports/activity.ts, migrations 0027 and 0031). Ingest
 * writes it in the ingest statement and merges move it (ingest-statements.ts); this refreshes the days
 * whose events a retention purge removed, inside the caller's transaction.
 */
import {
  activityRows,
  activityYears,
  dayBit,
  dayOf,
  DAY,
  monthOf,
  MONTH_COLUMNS,
  yearMonthOf,
  type ActivityYear,
} from '../../domain/reports/activity.js';
import type { Sql } from './pg-driver.js';

/** A yearly row as the JSON record the statements read (`profile_id`, `year`, `m1` … `m12`). */
export function yearRow(r: ActivityYear): Record<string, string | number> {
  const row: Record<string, string | number> = { profile_id: r.profileId, year: r.year };
  MONTH_COLUMNS.forEach((c, i) => (row[c] = r.months[i]!));
  return row;
}

const RECORD = `(profile_id text, year int, ${MONTH_COLUMNS.map((c) => `${c} int`).join(', ')})`;

/**
 * Recomputes the given (customer, day) pairs from the events that remain: their bits are cleared in
 * every row of the customer's month, set again from what is left of those days, and emptied rows go.
 */
export async function refreshActivity(
  sql: Sql,
  ws: string,
  touched: readonly { readonly profileId: string; readonly at: number }[],
): Promise<void> {
  if (touched.length === 0) return;
  const days = new Map<string, { profileId: string; day: number }>();
  const months = new Map<string, { profileId: string; month: number; bits: number }>();
  for (const t of touched) {
    const day = dayOf(t.at);
    days.set(`${t.profileId}\u0000${day}`, { profileId: t.profileId, day });
    const key = `${t.profileId}\u0000${monthOf(day)}`;
    const m = months.get(key) ?? { profileId: t.profileId, month: monthOf(day), bits: 0 };
    m.bits |= dayBit(day);
    months.set(key, m);
  }
  const years = new Map<string, ActivityYear & { months: number[] }>();
  for (const { profileId, day } of days.values()) {
    const { year, month } = yearMonthOf(day);
    const key = `${profileId}\u0000${year}`;
    const y = years.get(key) ?? { profileId, year, months: Array<number>(12).fill(0) };
    y.months[month]! |= dayBit(day);
    years.set(key, y);
  }
  const ys = [...years.values()].sort((a, b) =>
    a.profileId < b.profileId ? -1 : a.profileId > b.profileId ? 1 : a.year - b.year,
  );
  await sql.query(
    `UPDATE event_activity_years a SET ${MONTH_COLUMNS.map((c) => `${c} = a.${c} & ~u.${c}`).join(', ')}
     FROM json_to_recordset($2::json) AS u ${RECORD}
     WHERE a.workspace_id = $1 AND a.profile_id = u.profile_id AND a.year = u.year`,
    [ws, JSON.stringify(ys.map(yearRow))],
  );
  const ms = [...months.values()].sort((a, b) =>
    a.profileId < b.profileId ? -1 : a.profileId > b.profileId ? 1 : a.month - b.month,
  );
  await sql.query(
    `UPDATE event_activity a SET days = a.days & ~u.bits
     FROM unnest($2::text[], $3::bigint[], $4::int[]) AS u (p, m, bits)
     WHERE a.workspace_id = $1 AND a.profile_id = u.p AND a.month = u.m`,
    [ws, ms.map((m) => m.profileId), ms.map((m) => m.month), ms.map((m) => m.bits)],
  );
  const ds = [...days.values()];
  const left = await sql.query<{ profile_id: string; type: string; name: string | null; timestamp: number }>(
    `SELECT e.profile_id, e.type, e.name, e.timestamp FROM events e
     JOIN unnest($2::text[], $3::bigint[]) AS u (p, d)
       ON e.workspace_id = $1 AND e.profile_id = u.p AND e.timestamp >= u.d AND e.timestamp < u.d + ${DAY}`,
    [ws, ds.map((d) => d.profileId), ds.map((d) => d.day)],
  );
  const remaining = left.map((e) => ({
    profileId: e.profile_id,
    type: e.type,
    name: e.name,
    timestamp: Number(e.timestamp),
  }));
  const rows = activityRows(remaining);
  await sql.query(
    `INSERT INTO event_activity_years AS a (workspace_id, profile_id, year, ${MONTH_COLUMNS.join(', ')})
     SELECT $1, ${['profile_id', 'year', ...MONTH_COLUMNS].map((c) => `t.${c}`).join(', ')}
     FROM json_to_recordset($2::json) AS t ${RECORD}
     ON CONFLICT (workspace_id, profile_id, year) DO UPDATE SET ${MONTH_COLUMNS.map((c) => `${c} = a.${c} | excluded.${c}`).join(', ')}`,
    [ws, JSON.stringify(activityYears(remaining).map(yearRow))],
  );
  await sql.query(
    `DELETE FROM event_activity_years WHERE workspace_id = $1 AND profile_id = ANY($2::text[])
       AND ${MONTH_COLUMNS.map((c) => `${c} = 0`).join(' AND ')}`,
    [ws, [...new Set(ys.map((y) => y.profileId))]],
  );
  await sql.query(
    `INSERT INTO event_activity AS a (workspace_id, name, profile_id, kind, month, days)
     SELECT $1, t.name, t.profile_id, t.kind, t.month, t.days
     FROM json_to_recordset($2::json) AS t (name text, profile_id text, kind smallint, month bigint, days int)
     ON CONFLICT (workspace_id, name, profile_id, kind, month) DO UPDATE SET days = a.days | excluded.days`,
    [
      ws,
      JSON.stringify(
        rows.map((r) => ({
          name: r.name,
          profile_id: r.profileId,
          kind: r.kind,
          month: r.month,
          days: r.days,
        })),
      ),
    ],
  );
  await sql.query(
    'DELETE FROM event_activity WHERE workspace_id = $1 AND profile_id = ANY($2::text[]) AND days = 0',
    [ws, [...new Set(ms.map((m) => m.profileId))]],
  );
}
