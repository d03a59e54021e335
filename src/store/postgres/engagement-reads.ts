import type { ProfileState } from '../../domain/resolution.js';
import {
  engagementEventView,
  profileState,
  segmentView,
  stageTransition,
  type EngagementEventRow,
  type ProfileRow,
  type SegmentRow,
} from '../rows.js';
import { ID_RANDOM_CHARS, idSampleBound } from '../../ids.js';
import type { EngagementEventView, ScanPage, SegmentView, StageTransition, Workspace } from '../store.js';
import { ENGAGEMENT_COLUMNS, SEGMENTS_OF_P } from './ingest-statements.js';
import type { Sql } from './pg-driver.js';

// Engagement reads on the pool (PostgresStore delegates here to stay small). Each is one statement,
// so it sees one committed state.

const SEGMENT_SELECT = `SELECT s.id, s.name, s.description, s.rule, s.version, s.status, s.requires_profiling,
  s.build_done, s.build_total,
  s.built_at, s.created_at, s.updated_at,
  CASE WHEN s.snapshot
    THEN (SELECT count(*) FROM segment_snapshots m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id)
    ELSE (SELECT count(*) FROM segment_members m WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.id)
  END AS size
  FROM segments s`;

/** The canonical id of `$2` in workspace `$1`: merges point every loser straight at the final survivor. */
const CANONICAL = 'coalesce((SELECT merged_into FROM profiles WHERE workspace_id = $1 AND id = $2), $2)';

export async function listSegments(sql: Sql, ws: string): Promise<SegmentView[]> {
  const rows = await sql.query<SegmentRow>(`${SEGMENT_SELECT} WHERE s.workspace_id = $1 ORDER BY s.name`, [
    ws,
  ]);
  return rows.map(segmentView);
}

export async function getSegment(sql: Sql, ws: string, id: string): Promise<SegmentView | null> {
  const [row] = await sql.query<SegmentRow>(`${SEGMENT_SELECT} WHERE s.workspace_id = $1 AND s.id = $2`, [
    ws,
    id,
  ]);
  return row ? segmentView(row) : null;
}

export async function listSegmentMembers(
  sql: Sql,
  ws: string,
  segmentId: string,
  page: { limit: number; after?: string },
): Promise<{ profileIds: string[]; next: string | null }> {
  const limit = Math.min(Math.max(page.limit, 1), 1000);
  // One statement: the snapshot while a changed segment is rebuilt, else the live members.
  const rows = await sql.query<{ profile_id: string }>(
    `SELECT profile_id FROM segment_snapshots
       WHERE workspace_id = $1 AND segment_id = $2 AND profile_id > $3
         AND (SELECT snapshot FROM segments WHERE workspace_id = $1 AND id = $2)
     UNION ALL
     SELECT profile_id FROM segment_members
       WHERE workspace_id = $1 AND segment_id = $2 AND profile_id > $3
         AND NOT coalesce((SELECT snapshot FROM segments WHERE workspace_id = $1 AND id = $2), false)
     ORDER BY profile_id LIMIT $4`,
    [ws, segmentId, page.after ?? '', limit + 1],
  );
  const profileIds = rows.slice(0, limit).map((r) => r.profile_id);
  return { profileIds, next: rows.length > limit ? (profileIds.at(-1) ?? null) : null };
}

export function segmentSizeHistory(
  sql: Sql,
  ws: string,
  segmentId: string,
  since: number,
): Promise<{ at: number; size: number }[]> {
  return sql.query<{ at: number; size: number }>(
    'SELECT at, size FROM segment_sizes WHERE workspace_id = $1 AND segment_id = $2 AND at >= $3 ORDER BY at',
    [ws, segmentId, since],
  );
}

/**
 * The kept stage counts: the sum of each stage's delta rows (migration 0022). `rows` tells the caller
 * whether folding them is due.
 */
export async function stageCounts(
  sql: Sql,
  ws: string,
): Promise<{ counts: Record<string, number>; rows: number }> {
  const found = await sql.query<{ stage: string; n: string; rows: string }>(
    `SELECT stage, sum(profiles) AS n, count(*) AS rows FROM stage_counts WHERE workspace_id = $1 GROUP BY stage`,
    [ws],
  );
  const counts: Record<string, number> = {};
  let rows = 0;
  for (const row of found) {
    rows += Number(row.rows);
    if (Number(row.n) !== 0) counts[row.stage] = Number(row.n);
  }
  return { counts, rows };
}

/**
 * Serialises the statements that delete stage-count rows (a fold, a recount): two of them at once
 * could each delete what the other already summed.
 */
const STAGE_COUNTS_LOCK = `hashtext('stage_counts'), hashtext($1)`;

/** Folds a workspace's stage-count deltas into one row per stage, unless another fold is running. */
export async function foldStageCounts(sql: Sql, ws: string): Promise<void> {
  const [lock] = await sql.query<{ ok: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${STAGE_COUNTS_LOCK}) AS ok`,
    [ws],
  );
  if (!lock?.ok) return;
  // One statement, one snapshot: a delta committed meanwhile is neither deleted nor summed.
  await sql.query(
    `WITH gone AS (DELETE FROM stage_counts WHERE workspace_id = $1 RETURNING stage, profiles)
     INSERT INTO stage_counts (workspace_id, stage, profiles)
     SELECT $1, stage, sum(profiles) FROM gone GROUP BY stage HAVING sum(profiles) <> 0`,
    [ws],
  );
}

/** Rebuilds a workspace's stage counts from its profiles (in the caller's transaction). */
export async function recountStages(sql: Sql, ws: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(${STAGE_COUNTS_LOCK})`, [ws]);
  await sql.query(
    `WITH gone AS (DELETE FROM stage_counts WHERE workspace_id = $1)
     INSERT INTO stage_counts (workspace_id, stage, profiles)
     SELECT workspace_id, stage, count(*) FROM profiles
     WHERE workspace_id = $1 AND merged_into IS NULL AND stage IS NOT NULL GROUP BY workspace_id, stage`,
    [ws],
  );
}

/** The stage transitions of a profile (or of the survivor of a merged-away id), in stream order. */
export async function stageHistory(sql: Sql, ws: string, profileId: string): Promise<StageTransition[]> {
  const rows = await sql.query<{ at: number; properties: Record<string, unknown> }>(
    `SELECT at, properties FROM engagement_events
     WHERE workspace_id = $1 AND profile_id = ${CANONICAL} AND type = 'Stage Entered' ORDER BY id`,
    [ws, profileId],
  );
  return rows.map((x) => stageTransition(x.at, x.properties));
}

export async function getProfileState(sql: Sql, ws: string, profileId: string): Promise<ProfileState | null> {
  let id = profileId;
  // One hop is enough unless a merge commits between two reads; then follow on (as getProfile does).
  for (let hops = 0; hops < 16; hops++) {
    const [row] = await sql.query<ProfileRow>(
      `SELECT p.id, p.user_id, p.merged_into, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at,
         p.event_count, p.created_at, p.updated_at, ${ENGAGEMENT_COLUMNS}, ${SEGMENTS_OF_P}
       FROM profiles p WHERE p.workspace_id = $1 AND p.id = ${CANONICAL}`,
      [ws, id],
    );
    if (!row) return null;
    if (!row.merged_into) return profileState(row);
    id = row.merged_into;
  }
  return null;
}

/** Several profiles' states by id in one query (a merged-away id resolves to its survivor). */
export async function getProfileStates(
  sql: Sql,
  ws: string,
  profileIds: readonly string[],
): Promise<Map<string, ProfileState>> {
  const out = new Map<string, ProfileState>();
  if (profileIds.length === 0) return out;
  const rows = await sql.query<ProfileRow>(
    `SELECT p.id, p.user_id, p.merged_into, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at,
       p.event_count, p.created_at, p.updated_at, ${ENGAGEMENT_COLUMNS}, ${SEGMENTS_OF_P}
     FROM profiles p WHERE p.workspace_id = $1 AND p.id = ANY($2::text[])`,
    [ws, [...new Set(profileIds)]],
  );
  for (const row of rows) {
    if (!row.merged_into) out.set(row.id, profileState(row));
    else {
      const survivor = await getProfileState(sql, ws, row.id);
      if (survivor) out.set(row.id, survivor);
    }
  }
  return out;
}

export async function countProfiles(sql: Sql, ws: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>(
    'SELECT count(*) AS n FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL',
    [ws],
  );
  return row?.n ?? 0;
}

export async function listWorkspaces(sql: Sql): Promise<Workspace[]> {
  const rows = await sql.query<{ id: string; name: string; created_at: number }>(
    'SELECT id, name, created_at FROM workspaces ORDER BY created_at, id',
  );
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}

export async function scanProfileStates(
  sql: Sql,
  ws: string,
  page: ScanPage,
): Promise<{ profiles: ProfileState[]; next: string | null }> {
  const bound = page.sample === undefined ? null : idSampleBound(page.sample);
  const rows = await sql.query<ProfileRow>(
    `SELECT p.id, p.user_id, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at, p.event_count,
       p.created_at, p.updated_at, ${ENGAGEMENT_COLUMNS}, ${SEGMENTS_OF_P}
     FROM profiles p WHERE p.workspace_id = $1 AND p.merged_into IS NULL AND p.id > $2
       AND ($4::text IS NULL OR substr(right(p.id, ${ID_RANDOM_CHARS}), 1, 2) < $4::text)
     ORDER BY p.id LIMIT $3`,
    [ws, page.after ?? '', page.limit, bound],
  );
  const profiles = rows.map(profileState);
  return { profiles, next: rows.length < page.limit ? null : (profiles.at(-1)?.id ?? null) };
}

export async function listEngagementEvents(
  sql: Sql,
  ws: string,
  page: { after: number; limit: number; profileId?: string },
): Promise<EngagementEventView[]> {
  const limit = Math.min(Math.max(page.limit, 1), 1000);
  const rows =
    page.profileId === undefined
      ? await sql.query<EngagementEventRow>(
          'SELECT id, profile_id, at, type, subject, properties FROM engagement_events WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3',
          [ws, page.after, limit],
        )
      : await sql.query<EngagementEventRow>(
          `SELECT id, profile_id, at, type, subject, properties FROM engagement_events
           WHERE workspace_id = $1 AND profile_id = ${CANONICAL} AND id > $3 ORDER BY id LIMIT $4`,
          [ws, page.profileId, page.after, limit],
        );
  return rows.map(engagementEventView);
}
