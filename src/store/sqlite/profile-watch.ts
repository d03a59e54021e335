import type Database from 'better-sqlite3';
import type { Prepare } from './statements.js';
import type { DefinitionsCache } from './engagement.js';
import type { ScannedChange, ScannedMemberships } from '../store.js';
import { withMembershipBulk } from './segment-purge.js';

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
        // A bulk write of the watches' own (writeBulk) is quiet: skipped here, not called back.
        const unlessBulk =
          table === 'segment_members' ? 'WHEN NOT EXISTS (SELECT 1 FROM main.membership_bulk)' : '';
        this.db.exec(
          `CREATE TEMP TRIGGER IF NOT EXISTS ${name} AFTER ${when} ON main.${table} ${unlessBulk}
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
    const rowids: number[] = [];
    const rest: string[] = [];
    page.changes.forEach((c, i) => {
      if (w.touched.has(c[0]) || !c[1].every(isBuilding) || !c[2].every(isBuilding)) rest.push(c[0]);
      else {
        changes.push(c);
        rowids.push(page.rowids?.[i] ?? 0);
      }
    });
    this.quiet = true;
    try {
      if (page.rowids?.length === page.changes.length) this.writeBulk(ws, page.now, changes, rowids);
      else this.writeOneByOne(ws, page.now, changes);
    } finally {
      this.quiet = false;
    }
    return { applied: changes.length, rest };
  }

  /** Through the membership triggers, which find each profile's rowid and each segment's number. */
  private writeOneByOne(ws: string, now: number, changes: readonly ScannedChange[]): void {
    const enter = this.prep(ENTER);
    const exit = this.prep(EXIT);
    for (const [id, entered, exited] of changes) {
      for (const s of entered) enter.run(ws, s, id, now);
      for (const s of exited) exit.run(ws, s, id);
    }
  }

  /**
   * With the profiles' rowids from the scan: past the membership triggers (migration 0035), writing
   * `profile_segments` by rowid and number and each segment's count once for the page. The rowids are
   * the profiles' own: a profile deleted or merged since the scan read it was touched, and went the
   * long way.
   */
  private writeBulk(
    ws: string,
    now: number,
    changes: readonly ScannedChange[],
    rowids: readonly number[],
  ): void {
    const enter = this.prep(ENTER);
    const exit = this.prep(EXIT);
    const link = this.prep(
      'INSERT OR IGNORE INTO profile_segments (profile_rowid, segment_num) VALUES (?, ?)',
    );
    const unlink = this.prep('DELETE FROM profile_segments WHERE profile_rowid = ? AND segment_num = ?');
    const numOf = this.prep('SELECT num FROM segments WHERE workspace_id = ? AND id = ?').pluck();
    const segments = new Map<string, { num: number; delta: number }>();
    const segment = (id: string) => {
      let s = segments.get(id);
      if (!s) segments.set(id, (s = { num: numOf.get(ws, id) as number, delta: 0 }));
      return s;
    };
    withMembershipBulk(this.prep, () => {
      changes.forEach(([id, entered, exited], i) => {
        const rowid = rowids[i]!;
        for (const s of entered) {
          if (enter.run(ws, s, id, now).changes === 0) continue;
          const seg = segment(s);
          link.run(rowid, seg.num);
          seg.delta++;
        }
        for (const s of exited) {
          if (exit.run(ws, s, id).changes === 0) continue;
          const seg = segment(s);
          unlink.run(rowid, seg.num);
          seg.delta--;
        }
      });
      const count = this.prep(
        `INSERT INTO segment_counts (workspace_id, segment_id, members) VALUES (?, ?, ?)
         ON CONFLICT (workspace_id, segment_id) DO UPDATE SET members = members + excluded.members`,
      );
      for (const [id, s] of segments) if (s.delta !== 0) count.run(ws, id, s.delta);
    });
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}

const ENTER =
  'INSERT OR IGNORE INTO segment_members (workspace_id, segment_id, profile_id, entered_at) VALUES (?, ?, ?, ?)';
const EXIT = 'DELETE FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND profile_id = ?';

/** name, operation, table, the column holding the profile id */
const TRIGGERS: readonly (readonly [string, 'UPDATE' | 'DELETE' | 'INSERT', string, string])[] = [
  ['kizuna_watch_profile_update', 'UPDATE', 'profiles', 'id'],
  ['kizuna_watch_profile_delete', 'DELETE', 'profiles', 'id'],
  ['kizuna_watch_member_insert', 'INSERT', 'segment_members', 'profile_id'],
  ['kizuna_watch_member_delete', 'DELETE', 'segment_members', 'profile_id'],
];
