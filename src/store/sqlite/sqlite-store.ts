import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../domain/clock.js';
import type { JsonObject, NormalizedEvent } from '../../domain/event.js';
import type { IdentityKey } from '../../domain/identity.js';
import type { LoadedState } from '../../domain/resolution.js';
import { ConflictError } from '../../errors.js';
import { newId } from '../../ids.js';
import { runIngestSync, type GroupState, type IngestTx, type WritePlan } from '../ingest-unit.js';
import { loadMigrations } from '../migrations.js';
import { json, profileState, profileView, storedEvent, type EventRow, type ProfileRow } from '../rows.js';
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
import { traitPath } from '../trait-path.js';

/** A group commit is flushed early once it holds this many events, to bound its latency and memory. */
const GROUP_COMMIT_EVENTS = 5000;

type Prepare = (sql: string) => Database.Statement;

/**
 * Prepared statements, compiled once per connection and SQL text: compiling costs more than running
 * most of these statements. Bounded, because searches build SQL from their number of filters.
 */
function statementCache(db: Database.Database): Prepare {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size >= 500) cache.clear();
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

type Outcome = { ok: true; result: IngestResult } | { ok: false; error: unknown };

interface PendingIngest {
  workspaceId: string;
  events: readonly NormalizedEvent[];
  resolve(r: IngestResult): void;
  reject(e: unknown): void;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface SqliteStoreOptions {
  /** Database file, or ':memory:' for tests. */
  readonly path: string;
  readonly clock: Clock;
}

/**
 * The embedded default. One writer connection, used by one transaction at a time (a queue in this
 * process, SQLite's own lock across processes, so the CLI can write while a server runs), and a
 * separate reader connection: in WAL mode readers never wait for the writer.
 *
 * Durability: WAL with synchronous=FULL, so a transaction is on disk when COMMIT returns — an
 * acknowledged request is never lost, even by a power cut.
 */
export class SqliteStore implements Store {
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly clock: Clock;
  private readonly w: Prepare;
  private readonly r: Prepare;
  /** One call in its own savepoint (better-sqlite3 nests transactions as savepoints). */
  private readonly ingestOne: Database.Transaction<(c: PendingIngest) => IngestResult>;
  private readonly commitGroup: Database.Transaction<(calls: PendingIngest[]) => Outcome[]>;
  private pending: PendingIngest[] = [];
  private pendingEvents = 0;
  private flushScheduled = false;

  private constructor(path: string, clock: Clock) {
    this.clock = clock;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.writer = new Database(path);
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma('synchronous = FULL');
    this.writer.pragma('busy_timeout = 10000');
    this.writer.pragma('foreign_keys = ON');
    // An in-memory database is private to its connection, so tests read through the writer.
    this.reader = path === ':memory:' ? this.writer : new Database(path, { readonly: false });
    this.reader.pragma('busy_timeout = 10000');
    this.w = statementCache(this.writer);
    this.r = statementCache(this.reader);
    this.ingestOne = this.writer.transaction((c: PendingIngest) => {
      const now = this.clock.now();
      return runIngestSync(new SqliteIngestTx(this.w, c.workspaceId), c.events, { now, newProfileId: () => newId('p', now) });
    });
    this.commitGroup = this.writer.transaction((calls: PendingIngest[]) =>
      calls.map((c): Outcome => {
        try {
          return { ok: true, result: this.ingestOne(c) };
        } catch (error) {
          // SQLite may have ended the whole transaction (disk full, I/O error): then nothing of
          // this group can commit, and every caller must hear so.
          if (!this.writer.inTransaction) throw error;
          return { ok: false, error };
        }
      }),
    );
  }

  static open(opts: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(opts.path, opts.clock);
  }

  /**
   * Runs `fn` in an IMMEDIATE transaction on the writer. `fn` is synchronous, so nothing else in this
   * process runs while the transaction is open; other processes wait on SQLite's lock (busy_timeout).
   */
  private async write<T>(fn: () => T): Promise<T> {
    await Promise.resolve();
    return this.writer.transaction(fn).immediate();
  }

  async migrate(): Promise<{ applied: string[] }> {
    const migrations = loadMigrations(MIGRATIONS_DIR);
    this.writer.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const applied: string[] = [];
    for (const m of migrations) {
      // Checked inside the write lock, so two processes migrating at once apply each file once.
      await this.write(() => {
        const done = this.w('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version);
        if (done) return;
        this.writer.exec(m.sql);
        this.w('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, this.clock.now());
        applied.push(m.name);
      });
    }
    return { applied };
  }

  async createWorkspace(input: { name: string; writeKeyHash: string; adminKeyHash: string }): Promise<Workspace> {
    const ws: Workspace = { id: newId('ws'), name: input.name, createdAt: this.clock.now() };
    return this.write(() => {
      const taken = this.w('SELECT 1 FROM workspaces WHERE name = ?').get(input.name);
      if (taken) throw new ConflictError(`a workspace named "${input.name}" already exists`);
      this.w('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)').run(ws.id, ws.name, ws.createdAt);
      const key = this.w(
        'INSERT INTO api_keys (key_hash, workspace_id, kind, created_at) VALUES (?, ?, ?, ?)',
      );
      key.run(input.writeKeyHash, ws.id, 'write', ws.createdAt);
      key.run(input.adminKeyHash, ws.id, 'admin', ws.createdAt);
      return ws;
    });
  }

  async findWorkspaceByName(name: string): Promise<Workspace | null> {
    const row = this.r('SELECT id, name, created_at FROM workspaces WHERE name = ?').get(name) as
      | { id: string; name: string; created_at: number }
      | undefined;
    return Promise.resolve(row ? { id: row.id, name: row.name, createdAt: row.created_at } : null);
  }

  async countWorkspaces(): Promise<number> {
    const row = this.r('SELECT count(*) AS n FROM workspaces').get() as { n: number };
    return Promise.resolve(row.n);
  }

  async findKey(keyHash: string): Promise<{ workspaceId: string; kind: KeyKind } | null> {
    const row = this.r('SELECT workspace_id, kind FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL')
      .get(keyHash) as { workspace_id: string; kind: KeyKind } | undefined;
    return Promise.resolve(row ? { workspaceId: row.workspace_id, kind: row.kind } : null);
  }

  /**
   * Group commit: calls that arrive in the same turn of the event loop share one transaction, each in
   * its own savepoint, so one bad call fails alone while a burst of small requests pays for one
   * fsync instead of one each. Every call still resolves only after COMMIT has returned.
   */
  ingest(workspaceId: string, events: readonly NormalizedEvent[]): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ workspaceId, events, resolve, reject });
      this.pendingEvents += events.length;
      if (this.pendingEvents >= GROUP_COMMIT_EVENTS) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const calls = this.pending;
    this.pending = [];
    this.pendingEvents = 0;
    if (calls.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.commitGroup.immediate(calls);
    } catch (error) {
      for (const c of calls) c.reject(error);
      return;
    }
    calls.forEach((c, i) => {
      const o = outcomes[i]!;
      if (o.ok) c.resolve(o.result);
      else c.reject(o.error);
    });
  }

  private canonicalRow(workspaceId: string, profileId: string): ProfileRow | null {
    const stmt = this.r('SELECT * FROM profiles WHERE workspace_id = ? AND id = ?');
    let id = profileId;
    // Merges re-point older losers to the newest survivor, so this follows at most a step or two.
    for (let hops = 0; hops < 16; hops++) {
      const row = stmt.get(workspaceId, id) as ProfileRow | undefined;
      if (!row) return null;
      if (!row.merged_into) return row;
      id = row.merged_into;
    }
    return null;
  }

  private view(workspaceId: string, row: ProfileRow): ProfileView {
    const identities = this.r('SELECT kind, value FROM identities WHERE workspace_id = ? AND profile_id = ?')
      .all(workspaceId, row.id) as { kind: string; value: string }[];
    const groups = this.r('SELECT group_id FROM group_members WHERE workspace_id = ? AND profile_id = ?')
      .all(workspaceId, row.id) as { group_id: string }[];
    return profileView(
      row,
      identities,
      groups.map((g) => g.group_id),
    );
  }

  async getProfile(workspaceId: string, profileId: string): Promise<ProfileView | null> {
    const row = this.canonicalRow(workspaceId, profileId);
    return Promise.resolve(row ? this.view(workspaceId, row) : null);
  }

  async lookupProfile(workspaceId: string, key: IdentityKey): Promise<ProfileView | null> {
    const hit = this.r('SELECT profile_id FROM identities WHERE workspace_id = ? AND kind = ? AND value = ?')
      .get(workspaceId, key.kind, key.value) as { profile_id: string } | undefined;
    return hit ? this.getProfile(workspaceId, hit.profile_id) : null;
  }

  async listProfileEvents(
    workspaceId: string,
    profileId: string,
    page: { limit: number; before?: EventCursor },
  ): Promise<EventPage> {
    const row = this.canonicalRow(workspaceId, profileId);
    if (!row) return { events: [], next: null };
    const limit = Math.min(Math.max(page.limit, 1), 1000);
    const rows = (
      page.before
        ? this.r(
              `SELECT * FROM events WHERE workspace_id = ? AND profile_id = ? AND (timestamp, id) < (?, ?)
               ORDER BY timestamp DESC, id DESC LIMIT ?`,
            )
            .all(workspaceId, row.id, page.before.timestamp, Number(page.before.id), limit + 1)
        : this.r(
              'SELECT * FROM events WHERE workspace_id = ? AND profile_id = ? ORDER BY timestamp DESC, id DESC LIMIT ?',
            )
            .all(workspaceId, row.id, limit + 1)
    ) as EventRow[];
    const events = rows.slice(0, limit).map(storedEvent);
    const last = events.at(-1);
    return Promise.resolve({
      events,
      next: rows.length > limit && last ? { timestamp: last.timestamp, id: last.id } : null,
    });
  }

  async searchProfiles(
    workspaceId: string,
    query: { filters: readonly TraitFilter[]; limit: number; after?: string },
  ): Promise<ProfilePage> {
    const where = ['workspace_id = ?', 'merged_into IS NULL'];
    const params: unknown[] = [workspaceId];
    for (const f of query.filters) {
      where.push(`(traits -> ?) IN (${f.anyOf.map(() => '?').join(', ')})`);
      params.push(traitPath(f.key), ...f.anyOf.map((v) => JSON.stringify(v)));
    }
    if (query.after !== undefined) {
      where.push('id > ?');
      params.push(query.after);
    }
    const limit = Math.min(Math.max(query.limit, 1), 1000);
    const rows = this.r(`SELECT * FROM profiles WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
      .all(...params, limit + 1) as ProfileRow[];
    const profiles = rows.slice(0, limit).map((r) => this.view(workspaceId, r));
    return Promise.resolve({ profiles, next: rows.length > limit ? (profiles.at(-1)?.id ?? null) : null });
  }

  async listEventNames(workspaceId: string): Promise<EventNameCount[]> {
    const rows = this.r(
        'SELECT type, name, count, last_seen_at FROM event_names WHERE workspace_id = ? ORDER BY count DESC, type, name',
      )
      .all(workspaceId) as { type: string; name: string; count: number; last_seen_at: number }[];
    return Promise.resolve(
      rows.map((r) => ({
        type: r.type as EventNameCount['type'],
        name: r.name === '' ? null : r.name,
        count: r.count,
        lastSeenAt: r.last_seen_at,
      })),
    );
  }

  async getGroup(workspaceId: string, groupId: string): Promise<GroupView | null> {
    const row = this.r(
        `SELECT g.*, (SELECT count(*) FROM group_members m WHERE m.workspace_id = g.workspace_id AND m.group_id = g.id) AS members
         FROM groups g WHERE g.workspace_id = ? AND g.id = ?`,
      )
      .get(workspaceId, groupId) as
      | { id: string; traits: string; created_at: number; updated_at: number; members: number }
      | undefined;
    return Promise.resolve(
      row
        ? {
            id: row.id,
            traits: json<JsonObject>(row.traits),
            memberCount: row.members,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
          }
        : null,
    );
  }

  async close(): Promise<void> {
    this.flush();
    await Promise.resolve();
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}

/** The ingest unit of work on the writer connection (already inside BEGIN IMMEDIATE). */
class SqliteIngestTx implements IngestTx<'sync'> {
  constructor(
    private readonly prep: Prepare,
    private readonly ws: string,
  ) {}

  existingMessageIds(messageIds: readonly string[]): Set<string> {
    const stmt = this.prep('SELECT 1 FROM events WHERE workspace_id = ? AND message_id = ?').pluck();
    const found = new Set<string>();
    for (const id of messageIds) if (stmt.get(this.ws, id) !== undefined) found.add(id);
    return found;
  }

  load(keys: readonly string[]): LoadedState {
    const idStmt = this.prep('SELECT profile_id FROM identities WHERE workspace_id = ? AND kind = ? AND value = ?')
      .pluck();
    const profStmt = this.prep('SELECT * FROM profiles WHERE workspace_id = ? AND id = ?');
    const state: LoadedState = { identities: new Map(), profiles: new Map() };
    for (const key of keys) {
      const sep = key.indexOf(':');
      const owner = idStmt.get(this.ws, key.slice(0, sep), key.slice(sep + 1)) as string | undefined;
      if (owner === undefined) continue;
      state.identities.set(key, owner);
      if (!state.profiles.has(owner)) {
        const row = profStmt.get(this.ws, owner) as ProfileRow | undefined;
        if (row) state.profiles.set(owner, profileState(row));
      }
    }
    return state;
  }

  loadGroups(groupIds: readonly string[]): Map<string, GroupState> {
    const stmt = this.prep('SELECT traits, trait_times, created_at FROM groups WHERE workspace_id = ? AND id = ?');
    const out = new Map<string, GroupState>();
    for (const id of groupIds) {
      const row = stmt.get(this.ws, id) as { traits: string; trait_times: string; created_at: number } | undefined;
      if (row) out.set(id, { traits: json<JsonObject>(row.traits), traitTimes: json<Record<string, number>>(row.trait_times), createdAt: row.created_at, isNew: false });
    }
    return out;
  }

  write(plan: WritePlan): void {
    const { prep, ws } = this;
    const { now, resolution } = plan;
    for (const m of resolution.merges) {
      prep('UPDATE profiles SET merged_into = ?, updated_at = ? WHERE workspace_id = ? AND id = ?').run(m.into, now, ws, m.from);
      prep('UPDATE profiles SET merged_into = ? WHERE workspace_id = ? AND merged_into = ?').run(m.into, ws, m.from);
      prep('UPDATE identities SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?').run(m.into, ws, m.from);
      prep('UPDATE events SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?').run(m.into, ws, m.from);
      prep(
        `INSERT OR IGNORE INTO group_members (workspace_id, group_id, profile_id, joined_at)
         SELECT workspace_id, group_id, ?, joined_at FROM group_members WHERE workspace_id = ? AND profile_id = ?`,
      ).run(m.into, ws, m.from);
      prep('DELETE FROM group_members WHERE workspace_id = ? AND profile_id = ?').run(ws, m.from);
    }
    const insProfile = prep(
      `INSERT INTO profiles (workspace_id, id, user_id, traits, trait_times, first_seen_at, last_seen_at, event_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const p of resolution.created) {
      insProfile.run(ws, p.id, p.userId, JSON.stringify(p.traits), JSON.stringify(p.traitTimes), p.firstSeenAt, p.lastSeenAt, p.eventCount, p.createdAt, now);
    }
    const updProfile = prep(
      `UPDATE profiles SET user_id = ?, traits = ?, trait_times = ?, first_seen_at = ?, last_seen_at = ?, event_count = ?, created_at = ?, updated_at = ?
       WHERE workspace_id = ? AND id = ?`,
    );
    for (const p of resolution.updated) {
      updProfile.run(p.userId, JSON.stringify(p.traits), JSON.stringify(p.traitTimes), p.firstSeenAt, p.lastSeenAt, p.eventCount, p.createdAt, now, ws, p.id);
    }
    const insIdentity = prep(
      'INSERT INTO identities (workspace_id, kind, value, profile_id, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const ni of resolution.newIdentities) insIdentity.run(ws, ni.key.kind, ni.key.value, ni.profileId, now);
    const insEvent = prep(
      `INSERT INTO events (workspace_id, profile_id, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const { event: e, profileId } of plan.events) {
      insEvent.run(ws, profileId, e.messageId, e.type, e.name, e.userId, e.anonymousId, e.timestamp, e.receivedAt, e.payload);
    }
    const bump = prep(
      `INSERT INTO event_names (workspace_id, type, name, count, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, type, name) DO UPDATE SET count = count + excluded.count,
         first_seen_at = min(first_seen_at, excluded.first_seen_at), last_seen_at = max(last_seen_at, excluded.last_seen_at)`,
    );
    for (const n of plan.eventNames) bump.run(ws, n.type, n.name, n.count, n.firstSeenAt, n.lastSeenAt);
    const upGroup = prep(
      `INSERT INTO groups (workspace_id, id, traits, trait_times, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, id) DO UPDATE SET traits = excluded.traits, trait_times = excluded.trait_times, updated_at = excluded.updated_at`,
    );
    for (const g of plan.groups) upGroup.run(ws, g.id, JSON.stringify(g.state.traits), JSON.stringify(g.state.traitTimes), g.state.createdAt, now);
    const member = prep(
      'INSERT OR IGNORE INTO group_members (workspace_id, group_id, profile_id, joined_at) VALUES (?, ?, ?, ?)',
    );
    for (const m of plan.memberships) member.run(ws, m.groupId, m.profileId, m.at);
  }
}

