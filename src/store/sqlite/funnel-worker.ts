import { parentPort, workerData } from 'node:worker_threads';
import { scratchPath, SequenceScratch } from '../../domain/reports/sequence-path.js';
import type { FunnelRangeReply, FunnelRangeRequest, FunnelWorkerData } from './funnel-pool.js';
import { activeCustomers, decodeInto, sequenceRows } from './sequences.js';
import { statementCache } from './statements.js';
import { openConnection } from './connection.js';

/**
 * A funnel thread (funnel-pool.ts): its own connection on the database, read only; finds the paths of
 * the customers of the ranges it is handed and replies with those who entered.
 */
const port = parentPort!;
const data = workerData as FunnelWorkerData;
const db = openConnection(data.path, data.cacheMb);
const r = statementCache(db);
const { sequence, stepOf, spec } = data.query;
const steps = stepOf.length;
const scratch = new SequenceScratch(sequence.names.length);
/**
 * Whether the last range was dense (most of its customers entered): then this one is walked whole
 * without asking the rollup who can enter first (those who cannot have no path and are dropped), which
 * saves a walk of the rollup's rows. Only the cost depends on it, never the answer.
 */
let dense = false;

port.on('message', (req: FunnelRangeRequest | null) => {
  if (req === null) {
    db.close();
    port.close();
    return;
  }
  try {
    const { rows, base } = sequenceRows(
      r,
      data.workspaceId,
      dense ? { ...sequence, entering: null } : sequence,
      {
        after: req.after,
        until: req.until,
        limit: -1,
      },
    );
    // Customers with no path (none entered: no first-step event in the range) are dropped here, as
    // reportSequences drops those who do not enter.
    const ids: string[] = [];
    const depths = new Uint8Array(rows.length);
    const times = new Float64Array(rows.length * steps);
    for (const [id, seq] of rows) {
      const depth = scratchPath(
        scratch,
        decodeInto(scratch, seq, base),
        stepOf,
        spec,
        times,
        ids.length * steps,
      );
      if (depth === 0) continue;
      depths[ids.length] = depth;
      ids.push(id);
    }
    dense = ids.length * 2 >= activeCustomers(r, data.workspaceId, req.after, req.until);
    const reply: FunnelRangeReply = { ok: true, ids, depths, times };
    port.postMessage(reply, [depths.buffer, times.buffer]);
  } catch (err) {
    port.postMessage({
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    } satisfies FunnelRangeReply);
  }
});
