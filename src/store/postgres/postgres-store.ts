import type pg from 'pg';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../domain/clock.js';
import type { EventType, JsonObject, NormalizedEvent } from '../../domain/event.js';
import type { IdentityKey } from '../../domain/identity.js';
import { ConflictError } from '../../errors.js';
import { newId } from '../../ids.js';
import { runIngest } from '../ingest-unit.js';
import { loadMigrations } from '../migrations.js';
import { profileView, storedEvent, type EventRow, type ProfileRow } from '../rows.js';
import type {
  EventCursor,
  EventNameCount,
  EventPage,
  GroupView,
  IngestResult,
  KeyKind,
  ProfilePage,
  ProfileView,
  Store,
  TraitFilter,
  Workspace,
} from '../store.js';
import { createPool, sqlOf, transaction, type RetryPolicy, type Sql } from './pg-driver.js';
import { guarded, violatedConstraint } from './pg-errors.js';
import { PostgresIngestTx } from './ingest-tx.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Advisory lock (two-int form, so it never collides with the ingest's bigint locks) for migrations. */
const MIGRATION_LOCK = [0x4b5a4e41, 1] as const;

/** Rows per event-name counter (see migrations/0001_initial.sql); readers sum them. */
const EVENT_NAME_SHARDS = 16;

/** Racing writers re-run a conflicting ingest; ten tries with a growing random pause are plenty. */
const INGEST_RETRY: RetryPolicy = { attempts: 10, jitterMs: 10 };

export interface PostgresStoreOptions {
  /** A `postgres://` connection URL. */
  readonly url: string;
  readonly clock: Clock;
  /** Connections in this process's pool (default 10). */
  readonly poolSize?: number;
}

/** A profile row with its identities and groups, read in one statement so they agree. */
const PROFILE_VIEW = `SELECT p.id, p.user_id, p.merged_into, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at,
  p.event_count, p.created_at, p.updated_at,
  coalesce((SELECT jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value)) FROM identities i
            WHERE i.workspace_id = p.workspace_id AND i.profile_id = p.id), '[]') AS identities,
  ARRAY(SELECT m.group_id FROM group_members m WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.id) AS groups
  FROM profiles p`;

type ProfileViewRow = ProfileRow & { identities: { kind: string; value: string }[]; groups: string[] };

const EVENT_COLUMNS =
  'e.id, e.profile_id, e.message_id, e.type, e.name, e.user_id, e.anonymous_id, e.timestamp, e.received_at, e.payload';

/**
 * The multi-process adapter: every Kizuna process opens its own pool on one database. Writes run in
 * READ COMMITTED transactions that lock what they touch (see PostgresIngestTx); reads run on the pool
 * and see committed data, each in one statement.
 *
 * Durability is the server's: with its default synchronous_commit, an acknowledged ingest is on disk.
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly sql: Sql;
  private readonly clock: Clock;
  private closed = false;
  /**
   * The next event-name counter shard: handed out round-robin, so this process's concurrent writers
   * (at most the pool size) add to different rows; the random start spreads processes apart.
   */
  private shard = Math.floor(Math.random() * EVENT_NAME_SHARDS);

  private constructor(opts: PostgresStoreOptions) {
    this.clock = opts.clock;
    this.pool = createPool({ url: opts.url, size: opts.poolSize ?? 10 });
    this.sql = sqlOf(this.pool);
  }

  /** Connects lazily: an unreachable server surfaces as StoreUnavailableError on first use. */
  static open(opts: PostgresStoreOptions): PostgresStore {
    return new PostgresStore(opts);
  }

  migrate(): Promise<{ applied: string[] }> {
    return guarded(async () => {
      const migrations = loadMigrations(MIGRATIONS_DIR);
      const lock = (sql: Sql) => sql.query('SELECT pg_advisory_xact_lock($1, $2)', MIGRATION_LOCK);
      await transaction(this.pool, async (sql) => {
        await lock(sql);
        await sql.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
        );
      });
      const applied: string[] = [];
      for (const m of migrations) {
        // Checked under the lock, so processes migrating at once apply each file exactly once.
        await transaction(this.pool, async (sql) => {
          await lock(sql);
          const done = await sql.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
          if (done.length > 0) return;
          await sql.query(m.sql);
          await sql.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            this.clock.now(),
          ]);
          applied.push(m.name);
        });
      }
      return { applied };
    });
  }

  createWorkspace(input: { name: string; writeKeyHash: string; adminKeyHash: string }): Promise<Workspace> {
    const ws: Workspace = { id: newId('ws'), name: input.name, createdAt: this.clock.now() };
    return guarded(async () => {
      try {
        await transaction(this.pool, async (sql) => {
          await sql.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [
            ws.id,
            ws.name,
            ws.createdAt,
          ]);
          await sql.query(
            `INSERT INTO api_keys (key_hash, workspace_id, kind, created_at) VALUES ($1, $3, 'write', $4), ($2, $3, 'admin', $4)`,
            [input.writeKeyHash, input.adminKeyHash, ws.id, ws.createdAt],
          );
        });
      } catch (err) {
        if (violatedConstraint(err) === 'workspaces_name_unique') {
          throw new ConflictError(`a workspace named "${input.name}" already exists`, { cause: err });
        }
        throw err;
      }
      return ws;
    });
  }

  findWorkspaceByName(name: string): Promise<Workspace | null> {
    return guarded(async () => {
      const [row] = await this.sql.query<{ id: string; name: string; created_at: number }>(
        'SELECT id, name, created_at FROM workspaces WHERE name = $1',
        [name],
      );
      return row ? { id: row.id, name: row.name, createdAt: row.created_at } : null;
    });
  }

  countWorkspaces(): Promise<number> {
    return guarded(async () => {
      const [row] = await this.sql.query<{ n: number }>('SELECT count(*) AS n FROM workspaces');
      return row?.n ?? 0;
    });
  }

  findKey(keyHash: string): Promise<{ workspaceId: string; kind: KeyKind } | null> {
    return guarded(async () => {
      const [row] = await this.sql.query<{ workspace_id: string; kind: KeyKind }>(
        'SELECT workspace_id, kind FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [keyHash],
      );
      return row ? { workspaceId: row.workspace_id, kind: row.kind } : null;
    });
  }

  private nextShard(): number {
    this.shard = (this.shard + 1) % EVENT_NAME_SHARDS;
    return this.shard;
  }

  ingest(workspaceId: string, events: readonly NormalizedEvent[]): Promise<IngestResult> {
    return guarded(() =>
      transaction(
        this.pool,
        (sql) => {
          const now = this.clock.now();
          const tx = new PostgresIngestTx(sql, workspaceId, now, events, this.nextShard());
          return runIngest(tx, events, {
            now,
            newProfileId: () => newId('p', now),
          });
        },
        INGEST_RETRY,
      ),
    );
  }

  getProfile(workspaceId: string, profileId: string): Promise<ProfileView | null> {
    return guarded(async () => {
      let id = profileId;
      // Merges point every loser straight at the final survivor, so the statement's one hop is enough
      // unless a merge commits between two reads; then follow on.
      for (let hops = 0; hops < 16; hops++) {
        const [row] = await this.sql.query<ProfileViewRow>(
          `${PROFILE_VIEW} WHERE p.workspace_id = $1
             AND p.id = coalesce((SELECT merged_into FROM profiles WHERE workspace_id = $1 AND id = $2), $2)`,
          [workspaceId, id],
        );
        if (!row) return null;
        if (!row.merged_into) return profileView(row, row.identities, row.groups);
        id = row.merged_into;
      }
      return null;
    });
  }

  lookupProfile(workspaceId: string, key: IdentityKey): Promise<ProfileView | null> {
    return guarded(async () => {
      const [row] = await this.sql.query<ProfileViewRow>(
        `${PROFILE_VIEW} WHERE p.workspace_id = $1
           AND p.id = (SELECT profile_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3)`,
        [workspaceId, key.kind, key.value],
      );
      if (!row) return null;
      // Identities always name a live profile (a merge re-points them in its own transaction).
      return row.merged_into
        ? this.getProfile(workspaceId, row.merged_into)
        : profileView(row, row.identities, row.groups);
    });
  }

  listProfileEvents(
    workspaceId: string,
    profileId: string,
    page: { limit: number; before?: EventCursor },
  ): Promise<EventPage> {
    return guarded(async () => {
      const limit = Math.min(Math.max(page.limit, 1), 1000);
      const params: unknown[] = [workspaceId, profileId, limit + 1];
      let after = '';
      if (page.before) {
        params.push(page.before.timestamp, page.before.id);
        after = 'AND (e.timestamp, e.id) < ($4::bigint, $5::bigint)';
      }
      // The survivor of a merged id is one hop away (see getProfile).
      const rows = await this.sql.query<EventRow>(
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
    });
  }

  searchProfiles(
    workspaceId: string,
    query: { filters: readonly TraitFilter[]; limit: number; after?: string },
  ): Promise<ProfilePage> {
    return guarded(async () => {
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
      const rows = await this.sql.query<ProfileViewRow>(
        `${PROFILE_VIEW} WHERE ${where.join(' AND ')} ORDER BY p.id LIMIT ${param(limit + 1)}`,
        params,
      );
      const profiles = rows.slice(0, limit).map((r) => profileView(r, r.identities, r.groups));
      return { profiles, next: rows.length > limit ? (profiles.at(-1)?.id ?? null) : null };
    });
  }

  listEventNames(workspaceId: string): Promise<EventNameCount[]> {
    return guarded(async () => {
      const rows = await this.sql.query<{
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
    });
  }

  getGroup(workspaceId: string, groupId: string): Promise<GroupView | null> {
    return guarded(async () => {
      const [row] = await this.sql.query<{
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
    });
  }

  /** Waits for checked-out clients to be returned, then closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
