import type { ProfileState } from '../../domain/resolution.js';
import type { FactsProjection } from '../../domain/engagement/needs.js';
import { pickSeries } from '../../domain/facts/pick.js';
import { emptyFacts, readFacts } from '../../domain/facts/facts.js';
import type { JsonObject } from '../../domain/event.js';
import {
  engagementEventView,
  json,
  lazyProfileState,
  segmentView,
  stageTransition,
  type EngagementEventRow,
  type ProfileRow,
  type SegmentRow,
} from '../rows.js';
import { ID_RANDOM_CHARS, idSampleBound } from '../../ids.js';
import type { EngagementEventView, ScanPage, SegmentView, StageTransition } from '../store.js';
import type { Prepare } from './statements.js';

/** Engagement reads on the reader connection (SqliteStore delegates here to stay small). */

/**
 * A profile's segment ids as a JSON array, for a select list (`AS segments`): memberships are kept in
 * `segment_members` alone (migration 0030), read here through `segment_members_by_profile`, in segment
 * id order (the index's; named, because without statistics SQLite may prefer the primary key's
 * workspace prefix). `p` is the alias of `profiles` in the query. In a write transaction this is the
 * current membership: SQLite has one writer.
 */
export function segmentsOf(p: string): string {
  return `(SELECT json_group_array(m.segment_id) FROM segment_members m INDEXED BY segment_members_by_profile
    WHERE m.workspace_id = ${p}.workspace_id AND m.profile_id = ${p}.id)`;
}

/** `p.*` and the profile's segments: what `ProfileRow` holds. */
export const PROFILE_ROW = `p.*, ${segmentsOf('p')} AS segments`;
/** Size: of the snapshot while a changed segment is rebuilt (readers never see it half-updated). */
const SEGMENT_SELECT = `SELECT s.*, CASE WHEN s.snapshot
    THEN (SELECT count(*) FROM segment_snapshots m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id)
    ELSE (SELECT count(*) FROM segment_members m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id)
  END AS size FROM segments s`;

export function listSegments(r: Prepare, ws: string): SegmentView[] {
  return (r(`${SEGMENT_SELECT} WHERE s.workspace_id = ? ORDER BY s.name`).all(ws) as SegmentRow[]).map(
    segmentView,
  );
}

export function getSegment(r: Prepare, ws: string, id: string): SegmentView | null {
  const row = r(`${SEGMENT_SELECT} WHERE s.workspace_id = ? AND s.id = ?`).get(ws, id) as
    SegmentRow | undefined;
  return row ? segmentView(row) : null;
}

export function listSegmentMembers(
  r: Prepare,
  ws: string,
  segmentId: string,
  page: { limit: number; after?: string },
): { profileIds: string[]; next: string | null } {
  const limit = Math.min(Math.max(page.limit, 1), 1000);
  const snapshot = r('SELECT snapshot FROM segments WHERE workspace_id = ? AND id = ?')
    .pluck()
    .get(ws, segmentId);
  const table = snapshot ? 'segment_snapshots' : 'segment_members';
  const ids = r(
    `SELECT profile_id FROM ${table} WHERE workspace_id = ? AND segment_id = ? AND profile_id > ?
     ORDER BY profile_id LIMIT ?`,
  )
    .pluck()
    .all(ws, segmentId, page.after ?? '', limit + 1) as string[];
  const profileIds = ids.slice(0, limit);
  return { profileIds, next: ids.length > limit ? (profileIds.at(-1) ?? null) : null };
}

export function segmentSizeHistory(
  r: Prepare,
  ws: string,
  segmentId: string,
  since: number,
): { at: number; size: number }[] {
  return r(
    'SELECT at, size FROM segment_sizes WHERE workspace_id = ? AND segment_id = ? AND at >= ? ORDER BY at',
  ).all(ws, segmentId, since) as { at: number; size: number }[];
}

export function stageCounts(r: Prepare, ws: string): Record<string, number> {
  const rows = r(
    'SELECT stage, profiles AS n FROM stage_counts WHERE workspace_id = ? AND profiles <> 0',
  ).all(ws) as { stage: string; n: number }[];
  const out: Record<string, number> = {};
  for (const row of rows) out[row.stage] = row.n;
  return out;
}

export function stageHistory(r: Prepare, ws: string, profileId: string): StageTransition[] {
  const rows = r(
    `SELECT at, properties FROM engagement_events
     WHERE workspace_id = ? AND profile_id = ? AND type = 'Stage Entered' ORDER BY id`,
  ).all(ws, profileId) as { at: number; properties: string }[];
  return rows.map((x) => stageTransition(x.at, x.properties));
}

export function countProfiles(r: Prepare, ws: string): number {
  return r('SELECT count(*) FROM profiles WHERE workspace_id = ? AND merged_into IS NULL')
    .pluck()
    .get(ws) as number;
}

/** Above every profile id (they are ASCII: a prefix, `_`, base-36 characters). */
const ID_MAX = '\u{10FFFF}';

/** A scan page; `until` (inclusive) bounds the ids, for a scan thread's range (scan-pool.ts). */
export function scanProfileStates(
  r: Prepare,
  ws: string,
  page: ScanPage & { until?: string },
): { profiles: ProfileState[]; next: string | null } {
  const until = page.until ?? null;
  if (page.facts && page.sample === undefined)
    return scanForEvaluation(r, ws, { after: page.after, until, limit: page.limit, facts: page.facts });
  const bound = page.sample === undefined ? null : idSampleBound(page.sample);
  const rows = (
    bound === null
      ? r(
          `SELECT ${PROFILE_ROW} FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ?
           AND id <= ? ORDER BY id LIMIT ?`,
        ).all(ws, page.after ?? '', until ?? ID_MAX, page.limit)
      : r(
          `SELECT ${PROFILE_ROW} FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ?
           AND substr(id, -${ID_RANDOM_CHARS}, 2) < ? ORDER BY id LIMIT ?`,
        ).all(ws, page.after ?? '', bound, page.limit)
  ) as ProfileRow[];
  const profiles = rows.map(lazyProfileState);
  return { profiles, next: rows.length < page.limit ? null : (profiles.at(-1)?.id ?? null) };
}

/**
 * A scan page of what evaluation reads, for a pass: the user id, traits (parsed when read), facts and
 * engagement columns as raw rows, no other columns. With a projection (a build), no traits unless asked
 * and of each profile's facts text only the series the rules name (pickSeries; facts in an older form
 * are parsed whole).
 */
export function scanForEvaluation(
  r: Prepare,
  ws: string,
  page: { after: string | null; until: string | null; limit: number; facts: FactsProjection | null },
): { profiles: ProfileState[]; next: string | null } {
  const want = page.facts;
  const rows = r(
    `SELECT ${projectedColumns(want)}
     FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ? AND id <= ?
     ORDER BY id LIMIT ?`,
  )
    .raw(true)
    .all(ws, page.after ?? '', page.until ?? ID_MAX, page.limit) as ProjectedRow[];
  const profiles = rows.map((row) => projectedState(row, want));
  return { profiles, next: rows.length < page.limit ? null : (profiles.at(-1)?.id ?? null) };
}

/** The select list of a `ProjectedRow` (`p`: the alias of `profiles`). */
export function projectedColumns(want: FactsProjection | null): string {
  return `p.id, p.user_id, ${want === null || want.traits ? 'p.traits' : 'NULL'}, p.facts, p.stage,
    p.previous_stage, p.stage_since, ${segmentsOf('p')}`;
}

/**
 * A profile state holding what evaluation reads: the user id, traits (parsed when read), the facts
 * (with a projection, only the series it names: pickSeries; facts in an older form are parsed whole)
 * and the engagement state. Not to be written back: the facts may be partial.
 */
export function projectedState(row: ProjectedRow, want: FactsProjection | null): ProfileState {
  const [id, userId, traitsText, facts, stage, previousStage, stageSince, segments] = row;
  let traits: JsonObject | undefined;
  return {
    id,
    userId,
    get traits(): JsonObject {
      return (traits ??= traitsText === null ? {} : json<JsonObject>(traitsText));
    },
    // Only what evaluation reads is filled in.
    traitTimes: {},
    createdAt: 0,
    firstSeenAt: null,
    lastSeenAt: null,
    eventCount: 0,
    facts:
      facts === null
        ? emptyFacts()
        : ((want && pickSeries(facts, want.events)) ?? readFacts(json<unknown>(facts))),
    engagement: { stage, previousStage, stageSince, segments: json<string[]>(segments) },
  };
}

export type ProjectedRow = [
  id: string,
  userId: string | null,
  traits: string | null,
  facts: string | null,
  stage: string | null,
  previousStage: string | null,
  stageSince: number | null,
  segments: string,
];

export function listEngagementEvents(
  r: Prepare,
  ws: string,
  page: { after: number; limit: number; profileId?: string },
): EngagementEventView[] {
  const limit = Math.min(Math.max(page.limit, 1), 1000);
  const rows = (
    page.profileId === undefined
      ? r('SELECT * FROM engagement_events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?').all(
          ws,
          page.after,
          limit,
        )
      : r(
          'SELECT * FROM engagement_events WHERE workspace_id = ? AND profile_id = ? AND id > ? ORDER BY id LIMIT ?',
        ).all(ws, page.profileId, page.after, limit)
  ) as EngagementEventRow[];
  return rows.map(engagementEventView);
}

/**
 * The segments a profile is shown in: its live memberships, except that a segment being rebuilt after a
 * rule change shows its snapshot instead.
 */
export function servingSegments(
  r: Prepare,
  ws: string,
  profileId: string,
  live: readonly string[],
): string[] {
  const rebuilding = r('SELECT id FROM segments WHERE workspace_id = ? AND snapshot = 1')
    .pluck()
    .all(ws) as string[];
  if (rebuilding.length === 0) return [...live];
  const frozen = r('SELECT segment_id FROM segment_snapshots WHERE workspace_id = ? AND profile_id = ?')
    .pluck()
    .all(ws, profileId) as string[];
  const skip = new Set(rebuilding);
  return [...new Set([...live.filter((id) => !skip.has(id)), ...frozen])].sort();
}

/** Rebuilds a workspace's kept stage counts from its profiles (on the writer, in its transaction). */
export function recountStages(w: Prepare, ws: string): void {
  w('DELETE FROM stage_counts WHERE workspace_id = ?').run(ws);
  w(
    `INSERT INTO stage_counts (workspace_id, stage, profiles)
     SELECT workspace_id, stage, count(*) FROM profiles INDEXED BY profiles_by_stage
     WHERE workspace_id = ? AND merged_into IS NULL AND stage IS NOT NULL GROUP BY workspace_id, stage`,
  ).run(ws);
}
