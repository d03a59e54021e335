import { Worker } from 'node:worker_threads';
import type { DefinitionsRecord } from '../../domain/engagement/definitions.js';
import type { ScannedChange, ScannedChunk } from '../store.js';
import type { Prepare } from './statements.js';

/**
 * A pass's scan on several threads (engine/reevaluation.ts): each scan thread has its own read-only
 * connection and evaluates the profiles of the id ranges it is handed, so a 2-core machine evaluates
 * on both cores while this thread keeps serving requests. Ranges of about `chunk` profiles are cut
 * here as they are needed and handed to whichever thread is free, so a thread slowed by other work
 * takes fewer.
 */
export interface ScanWorkerData {
  path: string;
  cacheMb: number;
  workspaceId: string;
  definitions: DefinitionsRecord;
  only: string[] | null;
  now: number;
  pageSize: number;
}

/** Profiles with id > after and (unless null) id <= until. */
export interface ScanChunkRequest {
  after: string;
  until: string | null;
}

export type ScanChunkReply =
  | { ok: true; ids: string[]; scanned: number; changes?: ScannedChange[]; rowids?: number[] }
  | { ok: false; message: string };

/** Chunks a scan may run ahead of the ones still being reported: a few thousand ids each. */
const AHEAD = 4;

export interface ScanPoolOptions {
  path: string;
  threads: number;
  /** profiles per chunk handed to a thread */
  chunk: number;
  /** each thread's page cache */
  cacheMb: number;
}

export async function scanInParallel(
  r: Prepare,
  opts: ScanPoolOptions,
  work: Omit<ScanWorkerData, 'path' | 'cacheMb'>,
  each: (chunk: ScannedChunk) => Promise<void>,
): Promise<void> {
  // Ranges are cut on the profiles' key: since profiles became a rowid table (migration 0032) it is an
  // index of its own, narrow entries, so a cut walks `chunk` of them and none of the rows. (The
  // identities' index by profile, used before, holds two to three entries a profile, and a cut
  // walked those: 0.67 s of this thread's time in a build at 100,000 customers, under a profiler.)
  const boundary = r(
    `SELECT id FROM profiles
     WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT 1 OFFSET ?`,
  ).pluck();
  let cursor: string | null = '';
  /** the next range, or null when every profile has been handed out */
  const nextRange = (): ScanChunkRequest | null => {
    if (cursor === null) return null;
    const after = cursor;
    const until = (boundary.get(work.workspaceId, after, opts.chunk - 1) as string | undefined) ?? null;
    cursor = until;
    return { after, until };
  };
  const workers: Worker[] = [];
  // Reported in the order they arrive; `each` runs one at a time. A thread scans its next range while
  // the chunks before are still being reported (stored by the writer), up to AHEAD chunks behind.
  let reporting: Promise<void> = Promise.resolve();
  let backlog = 0;
  try {
    await Promise.all(
      Array.from({ length: opts.threads }, async () => {
        const worker = new Worker(new URL('./scan-worker.js', import.meta.url), {
          workerData: { ...work, path: opts.path, cacheMb: opts.cacheMb } satisfies ScanWorkerData,
        });
        workers.push(worker);
        for (let range = nextRange(); range !== null; range = nextRange()) {
          const reply = await ask<ScanChunkRequest, ScanChunkReply>(worker, range);
          if (!reply.ok) throw new Error(`scan thread failed: ${reply.message}`);
          const { ids, scanned, changes, rowids } = reply;
          const chunk: ScannedChunk = changes
            ? { ids, scanned, changes, ...(rowids && { rowids }), version: work.definitions.version }
            : { ids, scanned };
          backlog++;
          reporting = reporting.then(() => each(chunk)).finally(() => backlog--);
          // Observed by the awaits below; until then a failure must not count as unhandled.
          reporting.catch(() => undefined);
          if (backlog > AHEAD) await reporting;
        }
      }),
    );
    await reporting;
  } finally {
    for (const w of workers) w.postMessage(null);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Posts one request to a thread and waits for its one reply (scan and funnel threads alike). */
export function ask<Req, Reply>(worker: Worker, req: Req): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Reply) => {
      cleanup();
      resolve(m);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`scan thread exited (${code})`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(req);
  });
}
