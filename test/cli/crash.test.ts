import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { kizuna, startKizuna } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'kizuna-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps every acknowledged event when the server is killed (SIGKILL) mid-load, and restarts cleanly', async () => {
  const env = { KIZUNA_DATA_DIR: dir };
  const ws = JSON.parse((await kizuna(['workspace', 'create', 'crash', '--json'], env)).stdout) as {
    writeKey: string;
  };
  const server = await startKizuna(env);
  const acked: string[] = [];
  let sent = 0;
  let stop = false;
  const client = async (c: number) => {
    for (let i = 0; !stop; i++) {
      const ids = Array.from({ length: 50 }, (_, j) => `c${c}-${i}-${j}`);
      const body = JSON.stringify({
        batch: ids.map((messageId, j) => ({ type: 'track', event: 'Tick', userId: `u${j % 7}`, messageId })),
      });
      sent++;
      try {
        const res = await fetch(`${server.url}/v1/batch`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body,
        });
        if (res.status === 200) acked.push(...ids);
      } catch {
        return; // the server died under this request: it was never acknowledged
      }
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  // Kill once a good number of batches were acknowledged, while requests are still in flight.
  while (acked.length < 5000) await new Promise((r) => setImmediate(r));
  server.child.kill('SIGKILL');
  await server.exited;
  stop = true;
  await Promise.all(clients);
  expect(sent * 50).toBeGreaterThan(acked.length);

  const db = new Database(join(dir, 'kizuna.db'), { readonly: true });
  const has = db.prepare('SELECT 1 FROM events WHERE message_id = ?').pluck();
  const missing = acked.filter((id) => has.get(id) === undefined);
  db.close();
  expect(missing).toEqual([]);

  // The database is consistent after the crash: a restart serves and de-duplicates as before.
  const again = await startKizuna(env);
  try {
    const res = await fetch(`${again.url}/healthz`);
    expect(res.status).toBe(200);
  } finally {
    again.child.kill('SIGTERM');
    await again.exited;
  }
});
