/**
 * The activity rollup on SQLite (domain/reports/activity.ts, migration 0027): written with the events
 * in the ingest transaction, moved to the survivor on a merge, and refreshed for the days whose
 * events a retention purge removed. Every write runs inside the caller's transaction.
 */
import { activityRows, dayOf, DAY, dayBit, monthOf } from '../../domain/reports/activity.js';
import type { Prepare } from './statements.js';

type ActivityEvent = Parameters<typeof activityRows>[0] extends Iterable<infer E> ? E : never;

/** Adds the events' days; a day already recorded writes nothing. */
export function addActivity(prep: Prepare, ws: string, events: Iterable<ActivityEvent>): void {
  const up = prep(
    `INSERT INTO event_activity (workspace_id, name, profile_id, kind, month, days) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, name, profile_id, kind, month) DO UPDATE SET days = event_activity.days | excluded.days
     WHERE (event_activity.days & excluded.days) <> excluded.days`,
  );
  for (const r of activityRows(events)) up.run(ws, r.name, r.profileId, r.kind, r.month, r.days);
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
}

/**
 * Recomputes the given (customer, day) pairs from the events that remain: their bits are cleared
 * in every row of the customer's month, set again from what is left of that day, and emptied rows go.
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
  const left = prep(
    `SELECT profile_id AS profileId, type, name, timestamp FROM events INDEXED BY events_timeline
     WHERE workspace_id = ? AND profile_id = ? AND timestamp >= ? AND timestamp < ?`,
  );
  const drop = prep(
    'DELETE FROM event_activity INDEXED BY event_activity_by_profile WHERE workspace_id = ? AND profile_id = ? AND days = 0',
  );
  for (const { profileId, day } of pairs.values()) {
    clear.run(dayBit(day), ws, profileId, monthOf(day));
    addActivity(prep, ws, left.all(ws, profileId, day, day + DAY) as ActivityEvent[]);
    drop.run(ws, profileId);
  }
}
