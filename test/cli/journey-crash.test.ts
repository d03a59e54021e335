import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { CLI, kizuna, startKizuna } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'kizuna-journey-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CUSTOMERS = 2000;

/** `kizuna worker` as a real child process; resolves once it says it started. */
function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'worker', '--batch', '25', '--lease', '1'], {
    env: { ...process.env, DATABASE_URL: '', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const started = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if ((JSON.parse(line) as { msg?: string }).msg === 'journey runner started') resolve();
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
  });
  return { child, exited, started };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('continues every customer after the worker is killed (SIGKILL) mid-run, running no step twice', async () => {
  const env = { KIZUNA_DATA_DIR: dir, KIZUNA_JOURNEY_RUNNER: 'off', LOG_LEVEL: 'info' };
  const ws = JSON.parse((await kizuna(['workspace', 'create', 'crash', '--json'], env)).stdout) as {
    writeKey: string;
    adminKey: string;
  };
  const server = await startKizuna(env);
  const admin = (path: string, body?: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ws.adminKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const created = await admin('/journeys?allow_unknown=true', {
    name: 'Welcome series',
    trigger: { event: 'Signed Up' },
    start: 'hello',
    steps: {
      hello: { type: 'send', channel: 'email', template: 'hello', next: 'pause' },
      pause: { type: 'delay', duration: '1s', next: 'tips' },
      tips: { type: 'send', channel: 'email', template: 'tips', next: 'done' },
      done: { type: 'exit' },
    },
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  expect((await admin(`/journeys/${id}/publish`)).status).toBe(200);
  for (let i = 0; i < CUSTOMERS; i += 500) {
    const batch = Array.from({ length: 500 }, (_, j) => ({
      type: 'track',
      event: 'Signed Up',
      userId: `u${i + j}`,
      messageId: `s${i + j}`,
    }));
    const res = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batch }),
    });
    expect(res.status).toBe(200);
  }
  server.child.kill('SIGTERM');
  await server.exited;

  const db = new Database(join(dir, 'kizuna.db'), { readonly: true });
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const messages = () => count('SELECT count(*) FROM journey_messages');
  try {
    const first = startWorker(env);
    await first.started;
    await until('the first messages', () => messages() >= CUSTOMERS / 4);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = messages();
    expect(atKill).toBeLessThan(2 * CUSTOMERS);

    const second = startWorker(env);
    await second.started;
    await until(
      'every customer to finish',
      () => count("SELECT count(*) FROM journey_entries WHERE state = 'completed'") === CUSTOMERS,
    );
    second.child.kill('SIGTERM');
    await second.exited;

    expect(messages()).toBe(2 * CUSTOMERS);
    // Each customer got exactly one of each message, and each step is in their history once.
    expect(
      count(
        'SELECT count(*) FROM (SELECT entry_id FROM journey_messages GROUP BY entry_id HAVING count(*) <> 2)',
      ),
    ).toBe(0);
    expect(
      count(
        "SELECT count(*) FROM (SELECT entry_id, step FROM journey_steps WHERE type IN ('send', 'exit') GROUP BY entry_id, step HAVING count(*) <> 1)",
      ),
    ).toBe(0);
    expect(count("SELECT count(DISTINCT entry_id) FROM journey_steps WHERE step = 'tips'")).toBe(CUSTOMERS);
  } finally {
    db.close();
  }
}, 120_000);
