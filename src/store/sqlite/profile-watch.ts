import type Database from 'better-sqlite3';
import type { Prepare } from './statements.js';
import type { DefinitionsCache } from './engagement.js';
import type { ScannedChange, ScannedMemberships } from '../store.js';

/**
 * Which profiles changed while a build's scan ran, so the writer can store what the scan found for the
 * others without loading and evaluating them again (a build's confirmation, run on the writer thread).
 *
 * A watch notes every profile whose row or memberships this connection changes from the moment it
 * begins (temporary triggers calling back into this thread; every write of this process goes through
 * this connection), and the database's `data_version` when it began: another connection's commit (a
 * CLI beside the server) changes that number, and then the watch knows nothing any more and every
 * profile goes the long way. A profile the scan read after the watch began and that no write touched
 * since is in the state the scan evaluated, so its scanned change is the one the writer would find.
 */
export class ProfileWatches {
  private nextId = 1;
  private readonly active = new Map<number, { ws: string; dataVersion: number; touched: Set<string> }>();
  /** while the watches' own membership writes run: they are not changes the scans missed */
  private quiet = false;

  constructor(
    private readonly db: Database.Database,
    private readonly prep: Prepare,
    private readonly definitions: DefinitionsCache,
  ) {
    db.function('kizuna_touched', { deterministic: false }, (ws: unknown, id: unknown) => {
      if (this.quiet) return null;
      for (const w of this.active.values()) if (w.ws === ws) w.touched.add(id as string);
      return null;
    });
  }

  begin(ws: string): number {
    if (this.active.size === 0) {
      for (const [name, when, table, column] of TRIGGERS) {
        const row = when === 'INSERT' ? 'NEW' : 'OLD';
        this.db.exec(
          `CREATE TEMP TRIGGER IF NOT EXISTS ${name} AFTER ${when} ON main.${table}
           BEGIN SELECT kizuna_touched(${row}.workspace_id, ${row}.${column}); END`,
        );
      }
    }
    const id = this.nextId++;
    this.active.set(id, { ws, dataVersion: this.dataVersion(), touched: new Set() });
    return id;
  }

  end(id: number): void {
    this.active.delete(id);
    if (this.active.size === 0)
      for (const [name] of TRIGGERS) this.db.exec(`DROP TRIGGER IF EXISTS temp.${name}`);
  }

  /**
   * Inside the caller's write transaction: stores the scanned changes of the profiles no write touched
   * since the watch began, as membership rows entered at the scan's time, and returns the ids that must
   * be confirmed the long way. All of them when the watch cannot vouch for the scan: another
   * connection committed, the definitions are not the ones scanned, or a segment is no longer being
   * built (a ready segment's changes emit events, which only the long way writes).
   */
  apply(ws: string, watchId: number, page: ScannedMemberships): { applied: number; rest: string[] } {
    const all = () => ({ applied: 0, rest: page.changes.map((c) => c[0]) });
    const w = this.active.get(watchId);
    if (!w || w.ws !== ws || w.dataVersion !== this.dataVersion()) return all();
    const defs = this.definitions.get(this.prep, ws);
    if (defs.version !== page.version) return all();
    const building = new Set(defs.segments.filter((s) => s.status === 'building').map((s) => s.id));
    const isBuilding = (s: string) => building.has(s);
    const changes: ScannedChange[] = [];
    const rest: string[] = [];
    for (const c of page.changes) {
      if (w.touched.has(c[0]) || !c[1].every(isBuilding) || !c[2].every(isBuilding)) rest.push(c[0]);
      else changes.push(c);
    }
    const enter = this.prep(
      'INSERT OR IGNORE INTO segment_members (workspace_id, segment_id, profile_id, entered_at) VALUES (?, ?, ?, ?)',
    );
    const exit = this.prep(
      'DELETE FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND profile_id = ?',
    );
    this.quiet = true;
    try {
      for (const [id, entered, exited] of changes) {
        for (const s of entered) enter.run(ws, s, id, page.now);
        for (const s of exited) exit.run(ws, s, id);
      }
    } finally {
      this.quiet = false;
    }
    return { applied: changes.length, rest };
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}

/** name, operation, table, the column holding the profile id */
const TRIGGERS: readonly (readonly [string, 'UPDATE' | 'DELETE' | 'INSERT', string, string])[] = [
  ['kizuna_watch_profile_update', 'UPDATE', 'profiles', 'id'],
  ['kizuna_watch_profile_delete', 'DELETE', 'profiles', 'id'],
  ['kizuna_watch_member_insert', 'INSERT', 'segment_members', 'profile_id'],
  ['kizuna_watch_member_delete', 'DELETE', 'segment_members', 'profile_id'],
];
