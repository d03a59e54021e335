import type { Prepare } from './statements.js';

/**
 * Runs `fn` (inside the caller's write transaction) past the membership triggers of migrations 0033
 * and 0034: while a row stands in `membership_bulk` they stand aside, and the caller keeps
 * `profile_segments` and `segment_counts` itself (migration 0035). The row never outlives `fn`, and a
 * transaction that fails takes it back with everything else.
 */
export function withMembershipBulk<T>(prep: Prepare, fn: () => T): T {
  prep('INSERT INTO membership_bulk (active) VALUES (1)').run();
  try {
    return fn();
  } finally {
    prep('DELETE FROM membership_bulk').run();
  }
}

/**
 * Memberships a purge step deletes: at 1,000,000 customers 742,366 went in 5.6–6.0 s, about 16 ms a
 * step (docs/performance.md, engagement run 12).
 */
export const PURGE_STEP = 2000;

/**
 * Deleting a segment (applyDefinitionChange) deletes its definition and lists it in `segment_purges`;
 * its membership rows go afterwards, `limit` at a time, each step its own transaction so ingest and
 * passes write between steps. The rows left meanwhile are invisible: readers reach memberships through
 * the segments that exist, by id or by number, and numbers are never reused (migration 0035).
 *
 * One step of the oldest purge in the store: whether purges remain.
 */
export function purgeStep(prep: Prepare, limit = PURGE_STEP): boolean {
  const next = prep(
    'SELECT workspace_id, segment_id, num FROM segment_purges ORDER BY deleted_at, workspace_id, segment_id LIMIT 1',
  ).get() as { workspace_id: string; segment_id: string; num: number } | undefined;
  if (!next) return false;
  purgeSegment(prep, next.workspace_id, next.segment_id, next.num, limit);
  return prep('SELECT 1 FROM segment_purges LIMIT 1').get() !== undefined;
}

/**
 * Before a segment is created under the id of a deleted one whose rows are not all gone yet: the rest
 * of them, now, so the new segment does not inherit them.
 */
export function purgeBeforeReuse(prep: Prepare, ws: string, segmentId: string): void {
  const num = prep('SELECT num FROM segment_purges WHERE workspace_id = ? AND segment_id = ?')
    .pluck()
    .get(ws, segmentId) as number | undefined;
  if (num !== undefined) purgeSegment(prep, ws, segmentId, num, -1);
}

/** Deletes up to `limit` (-1: all) of a deleted segment's memberships; the purge ends with the last. */
function purgeSegment(prep: Prepare, ws: string, segmentId: string, num: number, limit: number): void {
  withMembershipBulk(prep, () => {
    const ids = prep(
      'SELECT profile_id FROM segment_members WHERE workspace_id = ? AND segment_id = ? ORDER BY profile_id LIMIT ?',
    )
      .pluck()
      .all(ws, segmentId, limit) as string[];
    const unlink = prep(
      `DELETE FROM profile_segments WHERE segment_num = ?
         AND profile_rowid = (SELECT rowid FROM profiles WHERE workspace_id = ? AND id = ?)`,
    );
    const drop = prep(
      'DELETE FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND profile_id = ?',
    );
    for (const id of ids) {
      unlink.run(num, ws, id);
      drop.run(ws, segmentId, id);
    }
    if (limit < 0 || ids.length < limit)
      prep('DELETE FROM segment_purges WHERE workspace_id = ? AND segment_id = ?').run(ws, segmentId);
  });
}
