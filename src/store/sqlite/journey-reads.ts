/** Journey reads on the reader connection (never waiting for the writer). */
import {
  entryView,
  journeyMessage,
  messageCursor,
  journeyView,
  type EntryRowDb,
  type JourneyRowDb,
  type MessageRowDb,
} from '../journey-rows.js';
import type { ArmOutcome, EntryView, JourneyMessage, JourneyStats, JourneyView } from '../journey-store.js';
import { json } from '../rows.js';
import type { Prepare } from './statements.js';

export function getJourney(r: Prepare, ws: string, id: string): JourneyView | null {
  const row = r('SELECT * FROM journeys WHERE workspace_id = ? AND id = ?').get(ws, id) as
    JourneyRowDb | undefined;
  return row ? journeyView(row) : null;
}

export function listJourneys(r: Prepare, ws: string): JourneyView[] {
  return (r('SELECT * FROM journeys WHERE workspace_id = ? ORDER BY name').all(ws) as JourneyRowDb[]).map(
    journeyView,
  );
}

export function getJourneyVersion(r: Prepare, ws: string, id: string, version: number): unknown {
  const def = r(
    'SELECT definition FROM journey_versions WHERE workspace_id = ? AND journey_id = ? AND version = ?',
  )
    .pluck()
    .get(ws, id, version) as string | undefined;
  return def === undefined ? null : json<unknown>(def);
}

const DAY = "strftime('%Y-%m-%d', ? / 1000, 'unixepoch')";

/** A covering scan of the journey's entries in variant order: no table read, no sort. */
export function journeyOutcomes(r: Prepare, ws: string, journeyId: string): ArmOutcome[] {
  return (
    r(
      `SELECT arm, count(*) AS entered, count(converted_at) AS converted,
         total(coalesce(converted_value, 0)) AS s, total(coalesce(converted_value, 0) * coalesce(converted_value, 0)) AS ss
       FROM journey_entries INDEXED BY journey_entries_outcomes
       WHERE workspace_id = ? AND journey_id = ? GROUP BY arm ORDER BY arm`,
    ).all(ws, journeyId) as {
      arm: string | null;
      entered: number;
      converted: number;
      s: number;
      ss: number;
    }[]
  ).map((o) => ({
    arm: o.arm,
    entered: o.entered,
    converted: o.converted,
    valueSum: o.s,
    valueSumSquares: o.ss,
  }));
}

export function getJourneyStats(r: Prepare, ws: string, journeyId: string, since: number): JourneyStats {
  const steps: Record<string, number> = {};
  for (const row of r(
    `SELECT step, count(*) AS n FROM journey_entries WHERE workspace_id = ? AND journey_id = ? AND state = 'active' GROUP BY step`,
  ).all(ws, journeyId) as { step: string; n: number }[])
    steps[row.step] = row.n;
  const t = r(
    `SELECT count(*) AS entered, coalesce(sum(state = 'active'), 0) AS active, coalesce(sum(state = 'completed'), 0) AS completed,
       coalesce(sum(state = 'exited'), 0) AS exited, coalesce(sum(converted_at IS NOT NULL), 0) AS converted
     FROM journey_entries WHERE workspace_id = ? AND journey_id = ?`,
  ).get(ws, journeyId) as {
    entered: number;
    active: number;
    completed: number;
    exited: number;
    converted: number;
  };
  const days = new Map<string, { day: string; entered: number; ended: number; converted: number }>();
  const add = (sql: string, key: 'entered' | 'ended' | 'converted') => {
    for (const row of r(sql).all(ws, journeyId, since) as { day: string; n: number }[]) {
      const d = days.get(row.day) ?? { day: row.day, entered: 0, ended: 0, converted: 0 };
      d[key] = row.n;
      days.set(row.day, d);
    }
  };
  const per = (col: string) =>
    `SELECT ${DAY.replace('?', col)} AS day, count(*) AS n FROM journey_entries INDEXED BY journey_entries_by_journey
     WHERE workspace_id = ? AND journey_id = ? AND ${col} >= ? GROUP BY day`;
  add(per('entered_at'), 'entered');
  add(per('ended_at'), 'ended');
  add(per('converted_at'), 'converted');
  return { steps, ...t, daily: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)) };
}

export function listProfileEntries(r: Prepare, ws: string, profileId: string): EntryView[] {
  const rows = r(
    'SELECT * FROM journey_entries INDEXED BY journey_entries_by_profile WHERE workspace_id = ? AND profile_id = ? ORDER BY entered_at DESC, id DESC LIMIT 200',
  ).all(ws, profileId) as EntryRowDb[];
  const hist = r(
    'SELECT at, step, type, outcome FROM journey_steps WHERE workspace_id = ? AND entry_id = ? ORDER BY id',
  );
  return rows.map((row) => entryView(row, hist.all(ws, row.id) as EntryView['history']));
}

export function listJourneyMessages(
  r: Prepare,
  ws: string,
  q: { journeyId?: string; profileId?: string; limit: number; after?: string },
): JourneyMessage[] {
  const where = ['workspace_id = ?'];
  const args: unknown[] = [ws];
  const cursor = messageCursor(q.after);
  if (cursor) {
    where.push('(created_at > ? OR (created_at = ? AND key > ?))');
    args.push(cursor.at, cursor.at, cursor.key);
  }
  if (q.journeyId !== undefined) {
    where.push('journey_id = ?');
    args.push(q.journeyId);
  }
  if (q.profileId !== undefined) {
    where.push('profile_id = ?');
    args.push(q.profileId);
  }
  args.push(q.limit);
  // Named, because SQLite prefers a WITHOUT ROWID table's primary-key prefix (workspace_id alone) to a
  // secondary index on the columns actually filtered on.
  const index =
    q.profileId !== undefined
      ? 'journey_messages_by_profile'
      : q.journeyId !== undefined
        ? 'journey_messages_by_journey'
        : null;
  return (
    r(
      `SELECT * FROM journey_messages${index ? ` INDEXED BY ${index}` : ''} WHERE ${where.join(' AND ')} ORDER BY created_at, key LIMIT ?`,
    ).all(...args) as MessageRowDb[]
  ).map(journeyMessage);
}

export function listStaticListMembers(
  r: Prepare,
  ws: string,
  list: string,
  page: { limit: number; after?: string },
): string[] {
  return r(
    'SELECT profile_id FROM list_members WHERE workspace_id = ? AND list = ? AND profile_id > ? ORDER BY profile_id LIMIT ?',
  )
    .pluck()
    .all(ws, list, page.after ?? '', page.limit) as string[];
}
