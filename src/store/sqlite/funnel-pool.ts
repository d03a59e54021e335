import { Worker } from 'node:worker_threads';
import type { FunnelPath } from '../../domain/reports/funnel.js';
import type { FunnelPathQuery } from '../report-store.js';
import { ask } from './scan-pool.js';
import type { Prepare } from './statements.js';
import { monthOf } from '../../domain/reports/activity.js';

/**
 * A funnel's paths on scan threads (report-store.ts `funnelPaths`): each thread has its own read-only
 * connection, reads the sequences of the customers of the id ranges it is handed and finds their
 * paths, so a 2-core machine reads on both cores. Ranges are cut here as they are needed, on the
 * rollup's yearly rows (narrow, about one per active customer, in id order), and handed to whichever
 * thread is free.
 */
export interface FunnelWorkerData {
  path: string;
  cacheMb: number;
  workspaceId: string;
  query: FunnelPathQuery;
}

/** Customers with id > after and (unless null) id <= until. */
export interface FunnelRangeRequest {
  after: string;
  until: string | null;
}

/**
 * The customers of a range with a path of at least one step: `depths[i]` steps for `ids[i]`, their
 * times at `times[i * steps ...]` (typed arrays, moved rather than copied).
 */
export type FunnelRangeReply =
  { ok: true; ids: string[]; depths: Uint8Array; times: Float64Array } | { ok: false; message: string };

export interface FunnelPoolOptions {
  path: string;
  threads: number;
  /** customers per range handed to a thread */
  chunk: number;
  /**
   * fewer monthly rollup rows of the first step's name in the range's months than this: decline (the
   * work would not pay for starting the threads)
   */
  from: number;
  cacheMb: number;
}

/** False (having started nothing) when fewer than `opts.from` rollup rows say who can enter. */
export async function funnelPathsInParallel(
  r: Prepare,
  opts: FunnelPoolOptions,
  ws: string,
  query: FunnelPathQuery,
  each: (chunk: { ids: string[]; paths: FunnelPath[] }) => Promise<void>,
): Promise<boolean> {
  // Any ascending cuts partition the customers; the rows only keep ranges near `chunk` customers.
  const boundary = r(
    `SELECT profile_id FROM event_activity_years
     WHERE workspace_id = ? AND profile_id > ? ORDER BY profile_id LIMIT 1 OFFSET ?`,
  ).pluck();
  if (opts.from > 0) {
    // Who can enter, to the month (counted up to `from` rows, so a large funnel pays little for it).
    const candidates = r(
      `SELECT count(*) FROM (SELECT 1 FROM event_activity WHERE workspace_id = ? AND name = ? AND kind > 0
         AND month >= ? AND month < ? LIMIT ?)`,
    )
      .pluck()
      .get(
        ws,
        query.sequence.entering.name,
        monthOf(query.sequence.from),
        query.sequence.entering.before,
        opts.from,
      );
    if (Number(candidates) < opts.from) return false;
  }
  let cursor: string | null = '';
  const nextRange = (): FunnelRangeRequest | null => {
    if (cursor === null) return null;
    const after = cursor;
    const until = (boundary.get(ws, after, opts.chunk - 1) as string | undefined) ?? null;
    cursor = until;
    return { after, until };
  };
  const steps = query.stepOf.length;
  const workers: Worker[] = [];
  let reporting: Promise<void> = Promise.resolve();
  try {
    await Promise.all(
      Array.from({ length: opts.threads }, async () => {
        const worker = new Worker(new URL('./funnel-worker.js', import.meta.url), {
          workerData: {
            path: opts.path,
            cacheMb: opts.cacheMb,
            workspaceId: ws,
            query,
          } satisfies FunnelWorkerData,
        });
        workers.push(worker);
        for (let range = nextRange(); range !== null; range = nextRange()) {
          const reply = await ask<FunnelRangeRequest, FunnelRangeReply>(worker, range);
          if (!reply.ok) throw new Error(`funnel thread failed: ${reply.message}`);
          const paths = new Array<FunnelPath>(reply.ids.length);
          for (let i = 0; i < paths.length; i++) {
            const depth = reply.depths[i]!;
            const times = new Array<number>(depth);
            for (let k = 0; k < depth; k++) times[k] = reply.times[i * steps + k]!;
            paths[i] = { depth, times };
          }
          reporting = reporting.then(() => each({ ids: reply.ids, paths }));
          await reporting;
        }
      }),
    );
  } finally {
    for (const w of workers) w.postMessage(null);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return true;
}
