import type { EventType, JsonObject } from '../../domain/event.js';
import type { IdentityKey } from '../../domain/identity.js';
import { profileView, storedEvent, type EventRow, type ProfileRow } from '../rows.js';
import type {
  EventCursor,
  EventNameCount,
  EventPage,
  GroupView,
  ProfilePage,
  ProfileView,
  TraitFilter,
} from '../store.js';
import type { Sql } from './pg-driver.js';

// Profile, event and group reads on the pool (PostgresStore delegates here to stay small). Each
// result is read in one statement, so it agrees with itself.

/** A profile row with its identities and groups, read in one statement so they agree. */
const PROFILE_VIEW = `SELECT p.id, p.user_id, p.merged_into, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at,
  p.event_count, p.created_at, p.updated_at, p.stage, p.stage_since,
  -- live memberships, except that a segment rebuilt after a rule change shows its snapshot
  (SELECT coalesce(jsonb_agg(q.id ORDER BY q.id), '[]') FROM (
     SELECT m.segment_id AS id FROM segment_members m WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.id
       AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.workspace_id = p.workspace_id AND s.id = m.segment_id AND s.snapshot)
     UNION
     SELECT ss.segment_id FROM segment_snapshots ss WHERE ss.workspace_id = p.workspace_id AND ss.profile_id = p.id
   ) q) AS segments,
  coalesce((SELECT jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value)) FROM identities i
            WHERE i.workspace_id = p.workspace_id AND i.profile_id = p.id), '[]') AS identities,
  ARRAY(SELECT m.group_id FROM group_members m WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.id) AS groups
  FROM profiles p`;

type ProfileViewRow = ProfileRow & { identities: { kind: string; value: string }[]; groups: string[] };

const EVENT_COLUMNS =
  'e.id, e.profile_id, e.message_id, e.type, e.name, e.user_id, e.anonymous_id, e.timestamp, e.received_at, e.payload';

export async function getProfile(
  sql: Sql,
  workspaceId: string,
  profileId: string,
): Promise<ProfileView | null> {
  let id = profileId;
  // Merges point every loser straight at the final survivor, so the statement's one hop is enough
  // unless a merge commits between two reads; then follow on.
  for (let hops = 0; hops < 16; hops++) {
    const [row] = await sql.query<ProfileViewRow>(
      `${PROFILE_VIEW} WHERE p.workspace_id = $1
         AND p.id = coalesce((SELECT merged_into FROM profiles WHERE workspace_id = $1 AND id = $2), $2)`,
      [workspaceId, id],
    );
    if (!row) return null;
    if (!row.merged_into) return profileView(row, row.identities, row.groups);
    id = row.merged_into;
  }
  return null;
}

export async function lookupProfile(
  sql: Sql,
  workspaceId: string,
  key: IdentityKey,
): Promise<ProfileView | null> {
  const [row] = await sql.query<ProfileViewRow>(
    `${PROFILE_VIEW} WHERE p.workspace_id = $1
       AND p.id = (SELECT profile_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3)`,
    [workspaceId, key.kind, key.value],
  );
  if (!row) return null;
  // Identities always name a live profile (a merge re-points them in its own transaction).
  return row.merged_into
    ? getProfile(sql, workspaceId, row.merged_into)
    : profileView(row, row.identities, row.groups);
}

export async function listProfileEvents(
  sql: Sql,
  workspaceId: string,
  profileId: string,
  page: { limit: number; before?: EventCursor },
): Promise<EventPage> {
  const limit = Math.min(Math.max(page.limit, 1), 1000);
  const params: unknown[] = [workspaceId, profileId, limit + 1];
  let after = '';
  if (page.before) {
    params.push(page.before.timestamp, page.before.id);
    after = 'AND (e.timestamp, e.id) < ($4::bigint, $5::bigint)';
  }
  // The survivor of a merged id is one hop away (see getProfile).
  const rows = await sql.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e
     WHERE e.workspace_id = $1
       AND e.profile_id = (SELECT coalesce(merged_into, id) FROM profiles WHERE workspace_id = $1 AND id = $2)
       ${after}
     ORDER BY e.timestamp DESC, e.id DESC LIMIT $3`,
    params,
  );
  const events = rows.slice(0, limit).map(storedEvent);
  const last = events.at(-1);
  return {
    events,
    next: rows.length > limit && last ? { timestamp: last.timestamp, id: last.id } : null,
  };
}

export async function searchProfiles(
  sql: Sql,
  workspaceId: string,
  query: { filters: readonly TraitFilter[]; limit: number; after?: string },
): Promise<ProfilePage> {
  const where = ['p.workspace_id = $1', 'p.merged_into IS NULL'];
  const params: unknown[] = [workspaceId];
  const param = (v: unknown) => `$${params.push(v)}`;
  for (const f of query.filters) {
    // jsonb equality: 21 and '21' are different values; a missing key matches nothing.
    where.push(
      `(p.traits -> ${param(f.key)}) = ANY(${param(f.anyOf.map((v) => JSON.stringify(v)))}::jsonb[])`,
    );
  }
  if (query.after !== undefined) where.push(`p.id > ${param(query.after)}`);
  const limit = Math.min(Math.max(query.limit, 1), 1000);
  const rows = await sql.query<ProfileViewRow>(
    `${PROFILE_VIEW} WHERE ${where.join(' AND ')} ORDER BY p.id LIMIT ${param(limit + 1)}`,
    params,
  );
  const profiles = rows.slice(0, limit).map((r) => profileView(r, r.identities, r.groups));
  return { profiles, next: rows.length > limit ? (profiles.at(-1)?.id ?? null) : null };
}

export async function listEventNames(sql: Sql, workspaceId: string): Promise<EventNameCount[]> {
  const rows = await sql.query<{
    type: EventType;
    name: string;
    count: number;
    last_seen_at: number;
  }>(
    `SELECT type, name, sum(count)::bigint AS count, max(last_seen_at) AS last_seen_at FROM event_names
     WHERE workspace_id = $1 GROUP BY type, name ORDER BY count DESC, type, name`,
    [workspaceId],
  );
  return rows.map((r) => ({
    type: r.type,
    name: r.name === '' ? null : r.name,
    count: r.count,
    lastSeenAt: r.last_seen_at,
  }));
}

export async function getGroup(sql: Sql, workspaceId: string, groupId: string): Promise<GroupView | null> {
  const [row] = await sql.query<{
    id: string;
    traits: JsonObject;
    created_at: number;
    updated_at: number;
    members: number;
  }>(
    `SELECT g.id, g.traits, g.created_at, g.updated_at,
       (SELECT count(*) FROM group_members m WHERE m.workspace_id = g.workspace_id AND m.group_id = g.id) AS members
     FROM groups g WHERE g.workspace_id = $1 AND g.id = $2`,
    [workspaceId, groupId],
  );
  return row
    ? {
        id: row.id,
        traits: row.traits,
        memberCount: row.members,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
    : null;
}
