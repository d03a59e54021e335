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
 * A profile's segment ids as a JSON array, in segment id order, for a select list (`AS segments`):
 * memberships are kept in `segment_members` (migration 0030) and, by profile, in `profile_segments`
 * (the profile's rowid and the segments' numbers, migration 0034), read here. `p` is the alias of
 * `profiles` in the query. In a write transaction this is the current membership: SQLite has one writer.
 */
export function segmentsOf(p: string): string {
  return `(SELECT json_group_array(id) FROM (SELECT s.id FROM profile_segments ps
    JOIN segments s ON s.num = ps.segment_num WHERE ps.profile_rowid = ${p}.rowid ORDER BY s.id))`;
}

/** `p.*` and the profile's segments: what `ProfileRow` holds. */
export const PROFILE_ROW = `p.*, ${segmentsOf('p')} AS segments`;
/**
 * A segment's size, for a select over `segments s`: kept in segment_counts (migration 0033); of the
 * snapshot while a changed segment is rebuilt (readers never see it half-updated).
 */
export const SEGMENT_SIZE = `CASE WHEN s.snapshot
    THEN (SELECT count(*) FROM segment_snapshots m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id)
    ELSE coalesce((SELECT c.members FROM segment_counts c WHERE c.workspace_id = s.workspace_id AND c.segment_id = s.id), 0)
  END`;
const SEGMENT_SELECT = `SELECT s.*, ${SEGMENT_SIZE} AS size FROM segments s`;

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
    .get(ws, segmentId) as number | undefined;
  // A deleted segment has no members, whatever rows of it are still to purge (segment-purge.ts).
  if (snapshot === undefined) return { profileIds: [], next: null };
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
  let rows: ProfileRow[];
  if (bound === null) {
    // A run of consecutive ids: their memberships in one walk (pageMembers).
    rows = r(
      `SELECT p.*, NULL AS segments FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ?
       AND id <= ? ORDER BY id LIMIT ?`,
    ).all(ws, page.after ?? '', until ?? ID_MAX, page.limit) as ProfileRow[];
    const members = pageMembers(r, ws, page.after ?? '', rows.at(-1)?.id, null);
    for (const row of rows) row.segments = members.get(row.id) ?? [];
  } else {
    // A sample skips most ids of its span: a seek for each sampled profile.
    rows = r(
      `SELECT ${PROFILE_ROW} FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ?
       AND substr(id, -${ID_RANDOM_CHARS}, 2) < ? ORDER BY id LIMIT ?`,
    ).all(ws, page.after ?? '', bound, page.limit) as ProfileRow[];
  }
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
  page: {
    after: string | null;
    until: string | null;
    limit: number;
    facts: FactsProjection | null;
    /** read just these segments' memberships (a build: membershipsReadBy); all when absent */
    members?: readonly string[] | null;
  },
): { profiles: ProfileState[]; rowids: number[]; next: string | null } {
  const want = page.facts;
  const rows = r(
    `SELECT ${projectedColumns(want, false)}, p.rowid
     FROM profiles p WHERE workspace_id = ? AND merged_into IS NULL AND id > ? AND id <= ?
     ORDER BY id LIMIT ?`,
  )
    .raw(true)
    .all(ws, page.after ?? '', page.until ?? ID_MAX, page.limit) as ProjectedRow[];
  const members = pageMembers(r, ws, page.after ?? '', rows.at(-1)?.[0], page.members ?? null);
  const profiles = rows.map((row) => projectedState(row, want, members.get(row[0]) ?? []));
  return {
    profiles,
    rowids: rows.map((row) => row[8]!),
    next: rows.length < page.limit ? null : (profiles.at(-1)?.id ?? null),
  };
}

/**
 * The memberships of the profiles with ids in (after, last], by profile, in segment id order: for a scan
 * page, one query (the profiles' key range, each profile's `profile_segments` entries) instead of a
 * statement per profile.
 */
function pageMembers(
  r: Prepare,
  ws: string,
  after: string,
  last: string | undefined,
  segments: readonly string[] | null,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (last === undefined) return out;
  if (segments === null) {
    // Every membership: one row a profile with its segments as one JSON text, not a row a membership
    // (at 1M customers a profile was in about 24 of 60 segments; docs/performance.md, engagement run 10).
    const grouped = r(
      `SELECT p.id, json_group_array(s.id) FROM profiles p
       JOIN profile_segments ps ON ps.profile_rowid = p.rowid JOIN segments s ON s.num = ps.segment_num
       WHERE p.workspace_id = ? AND p.id > ? AND p.id <= ? GROUP BY p.id`,
    )
      .raw(true)
      .all(ws, after, last) as [string, string][];
    for (const [profileId, list] of grouped) out.set(profileId, (JSON.parse(list) as string[]).sort());
    return out;
  }
  // Of some segments (a build's scan): the range of each segment's own key, not every membership.
  const rows = r(
    `SELECT profile_id, segment_id FROM json_each(?) s CROSS JOIN segment_members m
     WHERE m.workspace_id = ? AND m.segment_id = s.value AND m.profile_id > ? AND m.profile_id <= ?
     ORDER BY profile_id, segment_id`,
  )
    .raw(true)
    .all(JSON.stringify(segments), ws, after, last) as [string, string][];
  for (const [profileId, segmentId] of rows) {
    const list = out.get(profileId);
    if (list) list.push(segmentId);
    else out.set(profileId, [segmentId]);
  }
  return out;
}

/**
 * The select list of a `ProjectedRow` (`p`: the alias of `profiles`); without `segments`, the caller
 * reads the memberships itself and hands them to projectedState.
 */
export function projectedColumns(want: FactsProjection | null, segments = true): string {
  return `p.id, p.user_id, ${want === null || want.traits ? 'p.traits' : 'NULL'}, p.facts, p.stage,
    p.previous_stage, p.stage_since, ${segments ? segmentsOf('p') : 'NULL'}`;
}

/**
 * A profile state holding what evaluation reads: the user id, traits (parsed when read), the facts
 * (with a projection, only the series it names: pickSeries; facts in an older form are parsed whole)
 * and the engagement state. Not to be written back: the facts may be partial.
 */
export function projectedState(
  row: ProjectedRow,
  want: FactsProjection | null,
  memberships?: string[],
): ProfileState {
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
    engagement: {
      stage,
      previousStage,
      stageSince,
      segments: memberships ?? json<string[]>(segmentsText(segments)),
    },
  };
}

/** A row read without its segments is a bug, not a profile in no segment (rows.ts segmentsOfRow). */
function segmentsText(segments: string | null): string {
  if (segments === null) throw new Error('a profile row was read without its segments');
  return segments;
}

export type ProjectedRow = [
  id: string,
  userId: string | null,
  traits: string | null,
  facts: string | null,
  stage: string | null,
  previousStage: string | null,
  stageSince: number | null,
  /** null when the query left them out (projectedColumns) */
  segments: string | null,
  /** read by a pass's scan (scanForEvaluation) */
  rowid?: number,
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
