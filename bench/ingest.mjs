// npm run bench:ingest — ingestion throughput of a real Kizuna server process, with baselines
// measured in the same run. Figures go to docs/performance.md. BENCH_SECONDS shortens the phases;
// BENCH_ONLY=postgres runs only the PostgreSQL phase (BENCH_ONLY=sqlite only the SQLite ones). The
// single-event phase runs after a BENCH_WARMUP_SECONDS (3) warm-up, as does its baseline.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  ROOT,
  batchBody,
  cpuMs,
  createWorkspace,
  drive,
  fmt,
  peakRssMb,
  percentile,
  startServer,
  stopServer,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const SHORT = Math.max(5, Math.round(SECONDS / 3));
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const PG_URL = process.env.KIZUNA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ONLY = process.env.BENCH_ONLY ?? '';
const basic = (key) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const line = (s = '') => process.stdout.write(`${s}\n`);

/**
 * `helpers()` lists the pids of other processes that work for the server (PostgreSQL backends): their
 * CPU time during the phase is added up with the server's and reported per event.
 */
async function batchPhase(env, label, seconds, usersPerBatch = 100, helpers = async () => []) {
  const keys = createWorkspace(env, 'bench');
  const server = await startServer(env);
  const run = `b${Date.now()}`;
  const headers = { authorization: basic(keys.writeKey), 'content-type': 'application/json' };
  // The pool's connections open during the first requests: helpers are read at the end, and those
  // that started during the phase count from zero.
  const before = new Map([[server.pid, cpuMs(server.pid)]]);
  for (const pid of await helpers()) before.set(pid, cpuMs(pid));
  const r = await drive({
    url: server.url,
    path: '/v1/batch',
    headers,
    clients: 4,
    seconds,
    body: (i) => batchBody(run, i, 100),
    itemsPer: 100,
  });
  const serverCpu = cpuMs(server.pid) - before.get(server.pid);
  let helperCpu = 0;
  for (const pid of await helpers()) helperCpu += cpuMs(pid) - (before.get(pid) ?? 0);
  const rss = peakRssMb(server.pid);
  await stopServer(server);
  const perEvent = (ms) => fmt((ms * 1000) / r.items, 1);
  line(
    `${label}: /v1/batch, 100 events a batch from ${usersPerBatch} users, 4 clients, ${fmt(r.elapsed, 1)} s`,
  );
  line(
    `  ${fmt(r.items / r.elapsed)} events/s acknowledged · p50 ${fmt(percentile(r.latencies, 50), 1)} ms · p99 ${fmt(percentile(r.latencies, 99), 1)} ms · failures ${r.failures} · server peak RSS ${fmt(rss)} MB`,
  );
  line(
    `  CPU per event: server ${perEvent(serverCpu)} µs${helperCpu > 0 ? ` + database backends ${perEvent(helperCpu)} µs` : ''} · load average ${loadAverage()}`,
  );
  return { ...r, rate: r.items / r.elapsed, rss };
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main() {
  spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  line(`Kizuna ingest benchmark · node ${process.version} · ${new Date().toISOString()}`);
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-bench-'));
  try {
    if (ONLY !== 'postgres') {
      // 1. Batches on SQLite, then check every acknowledged event is on disk.
      const sqliteEnv = { KIZUNA_DATA_DIR: dir, DATABASE_URL: '' };
      const b = await batchPhase(sqliteEnv, 'SQLite', SECONDS);
      const db = new Database(join(dir, 'kizuna.db'), { readonly: true });
      const stored = db.prepare('SELECT count(*) AS n FROM events').get().n;
      db.close();
      line(
        `  durability: ${fmt(stored)} events in the file after shutdown, ${fmt(b.items)} acknowledged → ${stored >= b.items ? 'all there' : 'MISSING EVENTS'}`,
      );

      const rawInsert = (usersPerBatch) =>
        JSON.parse(
          spawnSync(
            process.execPath,
            [join(ROOT, 'bench/raw-sqlite.mjs'), String(SHORT), String(usersPerBatch)],
            { encoding: 'utf8' },
          ).stdout,
        );
      const raw = rawInsert(100);
      line(
        `  baseline: a bare script inserting the same events into SQLite: ${fmt(raw.rate)} events/s → ratio ${fmt(b.rate / raw.rate, 2)} (target ≥ 0.5)`,
      );

      // The same load shaped like client-side SDK traffic: each batch holds 10 users' runs of events.
      const sdkDir = mkdtempSync(join(tmpdir(), 'kizuna-bench-sdk-'));
      const sdk = await batchPhase({ KIZUNA_DATA_DIR: sdkDir, DATABASE_URL: '' }, 'SQLite', SHORT, 10);
      rmSync(sdkDir, { recursive: true, force: true });
      const rawSdk = rawInsert(10);
      line(
        `  with 10 users a batch: baseline ${fmt(rawSdk.rate)} events/s → ratio ${fmt(sdk.rate / rawSdk.rate, 2)}`,
      );

      // 2. Single-event /v1/track against a bare node:http server reading the same requests.
      const keys = createWorkspace(sqliteEnv, 'bench-track');
      const server = await startServer(sqliteEnv);
      const track = (i) =>
        `{"userId":"t-${i % 5000}","event":"Button Clicked","messageId":"t${Date.now()}-${i}","properties":{"button":"buy","screen":"product"},"timestamp":"2026-11-01T10:00:00.000Z"}`;
      const headers = { authorization: basic(keys.writeKey), 'content-type': 'application/json' };
      // Both servers are measured warm: a fresh process spends its first seconds compiling its hot
      // paths (V8's helper threads), which a 5-10 s phase would count as the server's cost per request.
      const warm = (url) =>
        drive({ url, path: '/v1/track', headers, clients: 32, seconds: WARMUP, body: track });
      await warm(server.url);
      const t = await drive({
        url: server.url,
        path: '/v1/track',
        headers,
        clients: 32,
        seconds: SHORT,
        body: track,
      });
      const trackRss = peakRssMb(server.pid);
      await stopServer(server);
      const bare = spawn(process.execPath, [join(ROOT, 'bench/bare-http.mjs')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const port = await new Promise((resolve) => bare.stdout.once('data', (d) => resolve(String(d).trim())));
      await warm(`http://127.0.0.1:${port}`);
      const base = await drive({
        url: `http://127.0.0.1:${port}`,
        path: '/v1/track',
        headers,
        clients: 32,
        seconds: SHORT,
        body: track,
      });
      bare.kill();
      line(
        `SQLite: single-event /v1/track, 32 concurrent clients, ${fmt(t.elapsed, 1)} s after a ${WARMUP} s warm-up`,
      );
      line(
        `  ${fmt(t.requests / t.elapsed)} requests/s · p50 ${fmt(percentile(t.latencies, 50), 1)} ms · p99 ${fmt(percentile(t.latencies, 99), 1)} ms · server peak RSS ${fmt(trackRss)} MB`,
      );
      line(
        `  baseline: bare node:http reading and acknowledging the same requests: ${fmt(base.requests / base.elapsed)} requests/s, p99 ${fmt(percentile(base.latencies, 99), 1)} ms → ratio ${fmt(t.requests / t.elapsed / (base.requests / base.elapsed), 2)} (target ≥ 0.5)`,
      );
      line(`Server peak memory: ${fmt(Math.max(b.rss, sdk.rss, trackRss))} MB (target < 300 MB)`);
    }

    // 3. The batch phase again on PostgreSQL, in a scratch database.
    const admin = new pg.Client({ connectionString: PG_URL });
    let pgDb = null;
    try {
      if (ONLY === 'sqlite') return;
      await admin.connect();
      pgDb = `kizuna_bench_${Date.now()}`;
      await admin.query(`CREATE DATABASE ${pgDb}`);
      const url = new URL(PG_URL);
      url.pathname = `/${pgDb}`;
      const backends = async () =>
        (await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [pgDb])).rows.map(
          (r) => r.pid,
        );
      const p = await batchPhase({ DATABASE_URL: url.toString() }, 'PostgreSQL', SECONDS, 100, backends);
      line(`  (target ≥ 20,000 events/s)`);
      void p;
    } catch (err) {
      line(`PostgreSQL: skipped (${err.message})`);
    } finally {
      if (pgDb) await admin.query(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
