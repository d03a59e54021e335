/**
 * The activity rollup on SQLite (domain/reports/activity.ts, migrations 0027 and 0031): written with
 * the events in the ingest transaction, moved to the survivor on a merge, and refreshed for the days
 * whose events a retention purge removed. Named keys are monthly rows of `event_activity`; the `any`
 * key is a yearly row of `event_activity_years`. Every write runs inside the caller's transaction.
 */
import {
  activityRows,
  activityYears,
  dayOf,
  DAY,
  dayBit,
  monthOf,
  MONTH_COLUMNS,
  yearMonthOf,
} from '../../domain/reports/activity.js';
import type { Prepare } from './statements.js';

type ActivityEvent = Parameters<typeof activityRows>[0] extends Iterable<infer E> ? E : never;

const COLUMNS = MONTH_COLUMNS.join(', ');

/**
 * Adds the events' days; a day already recorded writes nothing. Each row is probed first and only a
 * row that gains a day is offered to the upsert: a probe costs about two thirds of an upsert that
 * finds nothing to add, and most events fall on a day their customer's rows already hold
 * (docs/performance.md, ingestion run J). Rows of the customers in `fresh` (created by this
 * transaction, so without rows yet) go straight to the upsert, which is right for any row.
 */
export function addActivity(
  prep: Prepare,
  ws: string,
  events: Iterable<ActivityEvent>,
  fresh: ReadonlySet<string> = new Set(),
): void {
  const list = [...events];
  const probe = prep(
    'SELECT days FROM event_activity WHERE workspace_id = ? AND name = ? AND profile_id = ? AND kind = ? AND month = ?',
  ).pluck();
  const up = prep(
    `INSERT INTO event_activity (workspace_id, name, profile_id, kind, month, days) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, name, profile_id, kind, month) DO UPDATE SET days = event_activity.days | excluded.days
     WHERE (event_activity.days & excluded.days) <> excluded.days`,
  );
  for (const r of activityRows(list)) {
    if (fresh.has(r.profileId)) {
      up.run(ws, r.name, r.profileId, r.kind, r.month, r.days);
      continue;
    }
    const days = probe.get(ws, r.name, r.profileId, r.kind, r.month) as number | undefined;
    if (days === undefined || (days & r.days) !== r.days)
      up.run(ws, r.name, r.profileId, r.kind, r.month, r.days);
  }
  // A customer's events of one call mostly fall in one month: its column alone is probed.
  const probeMonth = MONTH_COLUMNS.map((m) =>
    prep(
      `SELECT ${m} FROM event_activity_years WHERE workspace_id = ? AND profile_id = ? AND year = ?`,
    ).pluck(),
  );
  const year = prep(
    `INSERT INTO event_activity_years (workspace_id, profile_id, year, ${COLUMNS})
     VALUES (?, ?, ?, ${MONTH_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (workspace_id, profile_id, year) DO UPDATE SET
       ${MONTH_COLUMNS.map((m) => `${m} = ${m} | excluded.${m}`).join(', ')}
     WHERE ${MONTH_COLUMNS.map((m) => `(${m} & excluded.${m}) <> excluded.${m}`).join(' OR ')}`,
  );
  for (const r of activityYears(list)) {
    const month = r.months.findIndex((m) => m !== 0);
    if (!fresh.has(r.profileId) && month === r.months.findLastIndex((m) => m !== 0)) {
      const held = probeMonth[month]!.get(ws, r.profileId, r.year) as number | undefined;
      if (held !== undefined && (held & r.months[month]!) === r.months[month]) continue;
    }
    year.run(ws, r.profileId, r.year, ...r.months);
  }
}

/** A merged customer's days become the survivor's (after the events moved). */
export function mergeActivity(prep: Prepare, ws: string, from: string, into: string): void {
  prep(
    `INSERT INTO event_activity (workspace_id, name, profile_id, kind, month, days)
     SELECT workspace_id, name, ?, kind, month, days FROM event_activity INDEXED BY event_activity_by_profile
     WHERE workspace_id = ? AND profile_id = ? AND true
     ON CONFLICT (workspace_id, name, profile_id, kind, month) DO UPDATE SET days = event_activity.days | excluded.days`,
  ).run(into, ws, from);
  prep(
    'DELETE FROM event_activity INDEXED BY event_activity_by_profile WHERE workspace_id = ? AND profile_id = ?',
  ).run(ws, from);
  // `AND true` keeps SQLite's upsert parser from reading ON CONFLICT as a join constraint.
  prep(
    `INSERT INTO event_activity_years (workspace_id, profile_id, year, ${COLUMNS})
     SELECT workspace_id, ?, year, ${COLUMNS} FROM event_activity_years
     WHERE workspace_id = ? AND profile_id = ? AND true
     ON CONFLICT (workspace_id, profile_id, year) DO UPDATE SET
       ${MONTH_COLUMNS.map((m) => `${m} = event_activity_years.${m} | excluded.${m}`).join(', ')}`,
  ).run(into, ws, from);
  prep('DELETE FROM event_activity_years WHERE workspace_id = ? AND profile_id = ?').run(ws, from);
}

/**
 * Recomputes the given (customer, day) pairs from the events that remain: their bits are cleared
 * in every row of the customer's month (and year), set again from what is left of that day, and
 * emptied rows go.
 */
export function refreshActivity(
  prep: Prepare,
  ws: string,
  touched: Iterable<{ readonly profileId: string; readonly at: number }>,
): void {
  const pairs = new Map<string, { profileId: string; day: number }>();
  for (const t of touched) {
    const day = dayOf(t.at);
    pairs.set(`${t.profileId}\u0000${day}`, { profileId: t.profileId, day });
  }
  const clear = prep(
    `UPDATE event_activity INDEXED BY event_activity_by_profile SET days = days & ~?
     WHERE workspace_id = ? AND profile_id = ? AND month = ?`,
  );
  // One statement per month column: the column a day clears is part of the statement.
  const clearYear = MONTH_COLUMNS.map((m) =>
    prep(
      `UPDATE event_activity_years SET ${m} = ${m} & ~? WHERE workspace_id = ? AND profile_id = ? AND year = ?`,
    ),
  );
  const left = prep(
    `SELECT profile_id AS profileId, type, name, timestamp FROM events INDEXED BY events_timeline
     WHERE workspace_id = ? AND profile_id = ? AND timestamp >= ? AND timestamp < ?`,
  );
  const drop = prep(
    'DELETE FROM event_activity INDEXED BY event_activity_by_profile WHERE workspace_id = ? AND profile_id = ? AND days = 0',
  );
  const dropYear = prep(
    `DELETE FROM event_activity_years WHERE workspace_id = ? AND profile_id = ?
       AND ${MONTH_COLUMNS.map((m) => `${m} = 0`).join(' AND ')}`,
  );
  for (const { profileId, day } of pairs.values()) {
    clear.run(dayBit(day), ws, profileId, monthOf(day));
    const { year, month } = yearMonthOf(day);
    clearYear[month]!.run(dayBit(day), ws, profileId, year);
    addActivity(prep, ws, left.all(ws, profileId, day, day + DAY) as ActivityEvent[]);
    drop.run(ws, profileId);
    dropYear.run(ws, profileId);
  }
}
