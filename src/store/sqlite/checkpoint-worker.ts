import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The checkpoint thread (checkpointer.ts): its own connection, a PASSIVE checkpoint every interval.
 * With nothing new in the log a checkpoint returns at once; with synchronous = FULL it fsyncs the log
 * before copying and the database file after, so the log is never reused before its pages are safe.
 */
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const port = parentPort!;
const db = new Database(path, { fileMustExist: true });
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 0');
// Reads only log frames and writes database pages: no page cache worth the memory.
db.pragma('cache_size = -256');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (another checkpoint under way) or an I/O error: the writer's own checkpoint is the backstop.
  }
}, intervalMs);

port.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
