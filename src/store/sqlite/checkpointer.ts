import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file on a thread of its own, so the writer thread does not.
 *
 * In WAL mode every commit appends its changed pages to the log, and a checkpoint copies them into
 * the database file, fsyncs it and lets the log start over. SQLite runs that checkpoint inside the
 * commit that takes the log past `wal_autocheckpoint` pages (1,000 by default), on the writer's
 * thread: for ingest, which changes thousands of pages a commit, that was a checkpoint every commit,
 * as many reads and writes as the commit itself plus an fsync of the whole database file, all while
 * requests waited for the writer. This thread runs a PASSIVE checkpoint every `intervalMs` instead:
 * it copies what has committed since the last one without taking the write lock, so the writer keeps
 * committing meanwhile. The writer thread's own checkpoint stays as a backstop at WRITER_AUTOCHECKPOINT
 * pages; it then finds most pages copied already, and it is the one that lets the log restart when
 * commits never pause (a checkpoint that runs beside a writer never catches up with the log's end).
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(path: string, intervalMs = 100) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path, intervalMs },
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // A failed checkpoint thread costs speed, not data: the writer's own checkpoint still runs.
    this.worker.on('error', () => undefined);
    // It must not keep a process alive that has nothing else to do.
    this.worker.unref();
  }

  /** Stops after the checkpoint under way, if any, and closes the thread's connection. */
  async close(): Promise<void> {
    this.worker.postMessage('stop');
    await this.exited;
  }
}

/**
 * The writer connection's `wal_autocheckpoint` when a Checkpointer runs beside it: about 40 MB of
 * log, several commits' worth at full ingest, so the background thread normally copies first.
 */
export const WRITER_AUTOCHECKPOINT = 10_000;
