import { parentPort, workerData } from 'node:worker_threads';
import { KizunaError } from '../../errors.js';
import { openConnection, SqliteWriter } from './writer.js';
import { WRITER_AUTOCHECKPOINT } from './checkpointer.js';
import type { WriterReply, WriterRequest } from './writer-thread.js';

/**
 * The writer thread: owns the database's writer connection, so SQL execution and fsync never block
 * the thread that serves HTTP. Requests and replies travel in batches and are
 * matched by id (see writer-thread.ts).
 */
const port = parentPort!;
const connection = openConnection((workerData as { path: string }).path);
// A Checkpointer thread copies the log back meanwhile; this connection's checkpoint is the backstop.
connection.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT}`);
const writer = new SqliteWriter(connection);

let outbox: WriterReply[] = [];
const reply = (r: WriterReply) => {
  outbox.push(r);
  if (outbox.length === 1) {
    setImmediate(() => {
      port.postMessage(outbox);
      outbox = [];
    });
  }
};

function handle(req: WriterRequest): void {
  const work: Promise<unknown> =
    req.op === 'close'
      ? writer.close()
      : (writer[req.method] as (...args: unknown[]) => Promise<unknown>).apply(writer, req.args);
  work.then(
    (result) => reply({ id: req.id, ok: true, result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const error = {
        name: e.name,
        message: e.message,
        code: (e as { code?: unknown }).code,
        kizuna: e instanceof KizunaError,
      };
      reply({ id: req.id, ok: false, error });
    },
  );
}

port.on('message', (requests: WriterRequest[]) => requests.forEach(handle));
