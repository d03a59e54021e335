import { parentPort, workerData } from 'node:worker_threads';
import { compileDefinitions, type Definitions } from '../../domain/engagement/definitions.js';
import { findChanges } from '../../domain/engagement/evaluate.js';
import type { ScannedChange } from '../store.js';
import { factsNeededBy, membershipsReadBy } from '../../domain/engagement/needs.js';
import { scanForEvaluation } from './engagement-reads.js';
import { statementCache } from './statements.js';
import { openConnection } from './connection.js';
import type { ScanChunkReply, ScanChunkRequest, ScanWorkerData } from './scan-pool.js';

/**
 * A scan thread (scan-pool.ts): its own connection on the database, read only; evaluates the ranges
 * of profiles it is handed and replies with the ids a pass must confirm on the writer.
 */
const port = parentPort!;
const data = workerData as ScanWorkerData;
const db = openConnection(data.path, data.cacheMb);
const r = statementCache(db);
const defs: Definitions = compileDefinitions(data.definitions);
const only = data.only === null ? null : new Set(data.only);
const facts = only === null ? null : factsNeededBy(defs, only);
const members = only === null ? null : membershipsReadBy(defs, only);

port.on('message', (req: ScanChunkRequest | null) => {
  if (req === null) {
    db.close();
    port.close();
    return;
  }
  try {
    const ids: string[] = [];
    // A build's scan also says what would change, so the writer can store it without evaluating again.
    const changes: ScannedChange[] = [];
    // and the rowids of their profiles, so the writer stores them past the triggers (profile-watch.ts)
    const rowids: number[] = [];
    let scanned = 0;
    let after = req.after;
    // One read transaction for the range: its pages share a snapshot and the page cache, which SQLite
    // empties at the start of every read transaction that finds the database changed (the writer
    // commits a page of the pass every few hundred profiles).
    db.exec('BEGIN');
    for (;;) {
      const page = scanForEvaluation(r, data.workspaceId, {
        after,
        until: req.until,
        limit: data.pageSize,
        facts,
        members,
      });
      const found = findChanges(page.profiles, defs, only, data.now);
      for (const id of found.ids) ids.push(id);
      let at = 0;
      for (const c of found.changes) {
        // found.changes is in the page's order
        while (page.profiles[at]!.id !== c[0]) at++;
        changes.push(c);
        rowids.push(page.rowids[at]!);
      }
      scanned += page.profiles.length;
      if (page.next === null) break;
      after = page.next;
    }
    db.exec('COMMIT');
    port.postMessage({ ok: true, ids, scanned, ...(only && { changes, rowids }) } satisfies ScanChunkReply);
  } catch (err) {
    // A range that failed must not leave its read transaction open for the next one.
    if (db.inTransaction) db.exec('ROLLBACK');
    port.postMessage({
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    } satisfies ScanChunkReply);
  }
});
