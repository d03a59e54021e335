import { parentPort, workerData } from 'node:worker_threads';
import { KizunaError } from '../../errors.js';
import { openConnection, SqliteWriter } from './writer.js';
import type { WriterOutcome, WriterRequest } from './writer-thread.js';

/**
 * The writer thread: owns the database's writer connection, so SQL execution and fsync never block
 * the thread that serves HTTP. Requests and replies are matched by id (see writer-thread.ts).
 */
const port = parentPort!;
const writer = new SqliteWriter(openConnection((workerData as { path: string }).path));

port.on('message', (req: WriterRequest) => {
  const reply = (r: WriterOutcome) => port.postMessage({ id: req.id, ...r });
  const work: Promise<unknown> =
    req.op === 'ingest'
      ? writer.ingest(req.workspaceId, req.events, req.now)
      : req.op === 'migrate'
        ? writer.migrate(req.now)
        : req.op === 'createWorkspace'
          ? writer.createWorkspace(req.ws, req.keys)
          : writer.close();
  work.then(
    (result) => reply({ ok: true, result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      reply({
        ok: false,
        error: {
          name: e.name,
          message: e.message,
          code: (e as { code?: unknown }).code,
          kizuna: e instanceof KizunaError,
        },
      });
    },
  );
});
