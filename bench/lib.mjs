// Shared helpers for the benchmarks: start a Kizuna server as its own process, drive load, read figures.
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = `${ROOT}dist/cli/main.js`;

/** Creates a workspace with the CLI against `env`'s store and returns its keys. */
export function createWorkspace(env, name) {
  const r = spawnSync(process.execPath, [CLI, 'workspace', 'create', name, '--json'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`workspace create failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Streams `customers` demo customers into workspace `bench` of the SQLite store in `dir`; returns the demo's stderr. */
export function fillDemo(dir, customers) {
  const r = spawnSync(
    process.execPath,
    [CLI, 'demo', '--customers', String(customers), '--workspace', 'bench'],
    {
      env: { ...process.env, KIZUNA_DATA_DIR: dir, DATABASE_URL: '' },
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  if (r.status !== 0) throw new Error(`demo failed: ${r.stderr.slice(-2000)}`);
  return r.stderr;
}

/**
 * The demo store of `customers` kept for every run in bench/.data/engagement-N (filled once by
 * `kizuna demo`, which takes minutes at 100,000), and its workspace keys (printed only once).
 */
export function demoStore(customers) {
  const data = join(ROOT, `bench/.data/engagement-${customers}`);
  mkdirSync(data, { recursive: true });
  const keysFile = join(data, 'keys.json');
  if (existsSync(keysFile)) return { data, keys: JSON.parse(readFileSync(keysFile, 'utf8')) };
  process.stdout.write(`filling ${fmt(customers)} demo customers into ${data} (once; kept for later runs)\n`);
  const stderr = fillDemo(data, customers);
  const keys = {
    writeKey: /write key: (\S+)/.exec(stderr)?.[1],
    adminKey: /admin key: (\S+)/.exec(stderr)?.[1],
  };
  writeFileSync(keysFile, JSON.stringify(keys));
  return { data, keys };
}

/**
 * The store a run works on, and how to drop it afterwards: a fresh copy of the kept store (every run
 * starts from the same state), or with BENCH_IN_PLACE=1 the kept store itself — for stores too big to
 * copy on this disk (1M demo customers take about 50 GB). An in-place run changes the kept store: the
 * segments it defines stay for the next run.
 */
export function workingStore(data, prefix) {
  if (process.env.BENCH_IN_PLACE === '1') {
    process.stdout.write(`BENCH_IN_PLACE=1: working on ${data} itself, not a copy\n`);
    return { dir: data, drop: () => undefined };
  }
  const dir = copyStore(data, prefix);
  return { dir, drop: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh copy of a kept store in a temporary directory, so every run starts from the same state. */
export function copyStore(data, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // The demo closed the database cleanly, so the main file holds everything (WAL checkpointed).
  copyFileSync(join(data, 'kizuna.db'), join(dir, 'kizuna.db'));
  return dir;
}

/** Starts `kizuna start` on a free port; resolves once it logs that it listens. */
export function startServer(env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'kizuna is listening') resolve({ child, url: entry.address, pid: child.pid });
      } catch {
        // not a log line
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

export function stopServer(server) {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.on('exit', resolve);
    server.child.kill('SIGTERM');
  });
}

/** CPU time a live process has used so far (user + system, all threads), in ms (Linux /proc). */
export function cpuMs(pid) {
  // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name, in clock ticks (100/s).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Peak resident memory of a live process, in MB (Linux /proc). */
export function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Runs `clients` loops for `seconds`, each POSTing `body(i)` to `path` and awaiting the answer.
 * Returns requests, items (as counted by `itemsPer`), latencies (ms, sorted) and elapsed seconds.
 */
export async function drive({ url, path, headers, clients, seconds, body, itemsPer = 1 }) {
  const pool = new Pool(url, { connections: clients, pipelining: 1 });
  const latencies = [];
  let requests = 0;
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const payload = body(next++);
        const t = performance.now();
        const res = await pool.request({ origin: url, path, method: 'POST', headers, body: payload });
        await res.body.text();
        latencies.push(performance.now() - t);
        if (res.statusCode !== 200) failures++;
        else requests++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { requests, items: requests * itemsPer, failures, latencies, elapsed };
}

/**
 * A /v1/batch body of `size` track events with unique messageIds, built by string concatenation.
 * `usersPerBatch` = size spreads a batch over `size` of 50,000 users (what a server-side SDK sends,
 * the worst case for the store); smaller values give each user a run of events, as a client-side
 * SDK's batch (one visitor's session) does.
 */
export function batchBody(run, i, size, usersPerBatch = size) {
  const parts = [];
  const perUser = Math.max(1, Math.floor(size / usersPerBatch));
  for (let j = 0; j < size; j++) {
    const n = i * size + j;
    const user = (i * usersPerBatch + Math.floor(j / perUser)) % 50000;
    parts.push(
      `{"type":"track","messageId":"${run}-${n}","userId":"user-${user}","event":"Product Viewed","timestamp":"2026-11-01T10:00:00.000Z","properties":{"sku":"SKU-${n % 997}","price":${(n % 50) * 100 + 980},"currency":"JPY","category":"shoes"},"context":{"ip":"203.0.113.7","locale":"ja-JP","userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)","library":{"name":"bench","version":"1"}}}`,
    );
  }
  return `{"batch":[${parts.join(',')}]}`;
}

export const fmt = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * HTTP calls to a bench server with a workspace's keys: `admin(method, path, body)` under /api/v1 with
 * the admin key, `ingest(batch)` to /v1/batch with the write key (a string body is sent as it is).
 * Any answer of 300 or more throws with the server's words.
 */
export function serverClient(url, keys, connections = 8) {
  const http = new Pool(url, { connections });
  const request = async (method, path, body, auth) => {
    const res = await http.request({
      origin: url,
      path,
      method,
      headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    admin: (method, path, body) => request(method, `/api/v1${path}`, body, `Bearer ${keys.adminKey}`),
    ingest: (batch) =>
      request('POST', '/v1/batch', batch, `Basic ${Buffer.from(`${keys.writeKey}:`).toString('base64')}`),
    close: () => http.close(),
  };
}
