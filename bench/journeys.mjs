// npm run bench:journeys — the durable journey runner through the real server (docs/performance.md):
//  1. N customers (BENCH_CUSTOMERS, default 1,000,000) enter a journey and wait in a delay step; the
//     server's memory is read while they wait.
//  2. Their timers come due together (the bench moves every due time to now in the database: nobody
//     waits a day for a benchmark); entries advanced per second until all finished, against a baseline:
//     a bare script doing the same row writes per entry in the same database engine.
//  3. Event → journey step latency: a journey with no delay, its trigger sent at 20/s while
//     1,000 other events/s load the server; time from sending to the message being recorded.
// BENCH_PG=postgres://... runs it on PostgreSQL with the runner in 2 `kizuna worker` processes.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import {
  CLI,
  ROOT,
  createWorkspace,
  serverClient,
  fmt,
  peakRssMb,
  percentile,
  startServer,
  stopServer,
} from './lib.mjs';

const N = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
const PG = process.env.BENCH_PG ?? null;
const line = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/** Read/write access to the bench's database, either engine. */
async function openDb(dataDir) {
  if (PG) {
    // A pool: the latency probes poll concurrently, and one client would queue them behind each other.
    const client = new pg.Pool({ connectionString: PG, max: 8 });
    return {
      one: async (sql, args = []) => {
        let i = 0;
        const r = await client.query(
          sql.replace(/\?/g, () => `$${++i}`),
          args,
        );
        return Object.values(r.rows[0] ?? {})[0];
      },
      exec: async (sql, args = []) => {
        let i = 0;
        await client.query(
          sql.replace(/\?/g, () => `$${++i}`),
          args,
        );
      },
      close: () => client.end(),
    };
  }
  const db = new Database(join(dataDir, 'kizuna.db'));
  db.pragma('busy_timeout = 60000');
  return {
    one: async (sql, args = []) =>
      db
        .prepare(sql)
        .pluck()
        .get(...args),
    exec: async (sql, args = []) => void db.prepare(sql).run(...args),
    close: async () => db.close(),
  };
}

function startWorker(env) {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.includes('journey runner started')) resolve({ child, pid: child.pid });
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'kizuna-bench-jr-'));
  const env = PG
    ? { DATABASE_URL: PG, KIZUNA_JOURNEY_RUNNER: 'off', KIZUNA_SWEEP_INTERVAL_MINUTES: '0' }
    : { KIZUNA_DATA_DIR: dataDir, DATABASE_URL: '', KIZUNA_SWEEP_INTERVAL_MINUTES: '0' };
  if (PG) {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    await c.end();
  }
  const keys = createWorkspace(env, 'bench');
  const server = await startServer(env);
  const workers = PG ? await Promise.all([startWorker(env), startWorker(env)]) : [];
  const runnerPids = PG ? workers.map((w) => w.pid) : [server.pid];
  const db = await openDb(dataDir);
  const http = serverClient(server.url, keys);
  const { admin, ingest } = http;
  const journey = async (definition) => {
    const j = await admin('POST', '/journeys?allow_unknown=true', definition);
    await admin('POST', `/journeys/${j.id}/publish`);
    return j.id;
  };
  line(
    `journeys bench: ${fmt(N)} customers on ${PG ? 'PostgreSQL, runner in 2 worker processes' : 'SQLite, runner in the server'}`,
  );

  // 1. N customers enter and wait.
  const timers = await journey({
    name: 'Timers',
    trigger: { event: 'Signed Up' },
    start: 'wait',
    steps: {
      wait: { type: 'delay', until: '2030-01-01T00:00:00Z', next: 'tips' },
      tips: { type: 'send', channel: 'email', template: 'tips', next: 'done' },
      done: { type: 'exit' },
    },
  });
  const t0 = performance.now();
  let sent = 0;
  const SIZE = 500;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const from = sent;
        if (from >= N) return;
        sent += SIZE;
        const parts = [];
        for (let i = from; i < Math.min(N, from + SIZE); i++)
          parts.push(`{"type":"track","event":"Signed Up","userId":"c${i}","messageId":"s${i}"}`);
        await ingest(`{"batch":[${parts.join(',')}]}`);
        if (from % 100_000 === 0) process.stderr.write(`  ingested ${fmt(from)}\n`);
      }
    }),
  );
  const ingestSec = (performance.now() - t0) / 1000;
  const waitingSql = `SELECT count(*) FROM journey_entries WHERE journey_id = ? AND phase = 'waiting'`;
  for (;;) {
    const w = Number(await db.one(waitingSql, [timers]));
    if (w >= N) break;
    await sleep(500);
  }
  const enterSec = (performance.now() - t0) / 1000;
  line(
    `entered and waiting: ${fmt(N)} in ${fmt(enterSec, 1)} s (ingest ${fmt(N / ingestSec)} events/s; entries started ${fmt(N / enterSec)}/s)`,
  );
  line(
    `memory while ${fmt(N)} wait: ${runnerPids.map((p, i) => `${PG ? `worker ${i + 1}` : 'server'} RSS ${fmt(rssMb(p))} MB (peak ${fmt(peakRssMb(p))} MB)`).join(', ')}${PG ? `, server RSS ${fmt(rssMb(server.pid))} MB` : ''}`,
  );

  // 2. The timers come due together.
  const due = Date.now();
  const tDue = performance.now();
  await db.exec(`UPDATE journey_entries SET due_at = ? WHERE journey_id = ? AND phase = 'waiting'`, [
    due,
    timers,
  ]);
  const updateSec = (performance.now() - tDue) / 1000;
  const tRun = performance.now();
  const doneSql = `SELECT count(*) FROM journey_entries WHERE journey_id = ? AND state = 'completed'`;
  let peakDuring = 0;
  for (;;) {
    const d = Number(await db.one(doneSql, [timers]));
    peakDuring = Math.max(peakDuring, ...runnerPids.map(rssMb));
    if (d >= N) break;
    await sleep(200);
  }
  const runSec = (performance.now() - tRun) / 1000;
  const perSec = N / runSec;
  const msgs = Number(await db.one('SELECT count(*) FROM journey_messages WHERE journey_id = ?', [timers]));
  line(
    `timers due together: ${fmt(N)} entries finished in ${fmt(runSec, 1)} s = ${fmt(perSec)} entries/s (${fmt(perSec * 2)} steps/s: send + exit); due-time update took ${fmt(updateSec, 1)} s; ${fmt(msgs)} messages`,
  );
  line(`  peak runner RSS during the burst: ${fmt(peakDuring)} MB`);

  // 3. Event → step latency under 1,000 events/s of other traffic.
  const instant = await journey({
    name: 'Instant',
    trigger: { event: 'Coupon Clicked' },
    entry: { limit: 'every_time' },
    start: 'send',
    steps: {
      send: { type: 'send', channel: 'in_app', template: 'coupon', next: 'done' },
      done: { type: 'exit' },
    },
  });
  await sleep(1500); // runners' cached definitions and the ingest writer's index refresh
  let stop = false;
  let bg = 0;
  const background = (async () => {
    const started = performance.now();
    for (let i = 0; !stop; i++) {
      const parts = [];
      for (let j = 0; j < 50; j++)
        parts.push(
          `{"type":"track","event":"Product Viewed","userId":"c${(i * 50 + j) % N}","messageId":"bg${i}-${j}"}`,
        );
      void ingest(`{"batch":[${parts.join(',')}]}`).then(() => (bg += 50));
      const next = started + (i + 1) * 50; // 20 batches of 50 per second
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  const latencies = [];
  const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
  const lt0 = performance.now();
  const ws = await db.one('SELECT id FROM workspaces WHERE name = ?', ['bench']);
  const profileSql = `SELECT profile_id FROM identities WHERE workspace_id = ? AND kind = 'user_id' AND value = ?`;
  // Named index on SQLite: it would otherwise scan the workspace's million messages (see docs/architecture.md).
  const sentSql = `SELECT count(*) FROM journey_messages${PG ? '' : ' INDEXED BY journey_messages_by_profile'}
    WHERE workspace_id = ? AND profile_id = ? AND journey_id = ?`;
  const one = async (k) => {
    const user = `c${(k * 7919) % N}`;
    const profile = await db.one(profileSql, [ws, user]);
    const t = performance.now();
    await ingest({
      batch: [{ type: 'track', event: 'Coupon Clicked', userId: user, messageId: `click${k}` }],
    });
    for (;;) {
      if (Number(await db.one(sentSql, [ws, profile, instant])) > 0) break;
      // PostgreSQL probes are queries to the server under test; polling them every 2 ms loaded it.
      await sleep(PG ? 10 : 2);
    }
    latencies.push(performance.now() - t);
  };
  const inflight = [];
  for (let k = 0; k < SAMPLES; k++) {
    inflight.push(one(k));
    await sleep(50);
  }
  await Promise.all(inflight);
  stop = true;
  await background;
  const loadSec = (performance.now() - lt0) / 1000;
  latencies.sort((a, b) => a - b);
  line(
    `event → step executed (${SAMPLES} triggers at 20/s, background ${fmt(bg / loadSec)} events/s): p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(percentile(latencies, 99), 1)} ms, max ${fmt(latencies[latencies.length - 1], 1)} ms`,
  );

  await http.close();
  await db.close();
  for (const w of workers) w.child.kill('SIGTERM');
  await stopServer(server);

  // Baseline: the same row writes per entry with no engine (SQLite only).
  if (!PG) {
    const base = baseline(Math.min(N, 200_000));
    line(
      `baseline: bare SQLite doing one entry's writes (update entry, 2 history rows, 1 message) in 1,000-entry transactions: ${fmt(base)} entries/s`,
    );
    line(`ratio runner / baseline: ${fmt(perSec / base, 2)}`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

function baseline(n) {
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-bench-jr-raw-'));
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const migrations = join(ROOT, 'src/store/sqlite/migrations');
  for (const f of readdirSync(migrations).sort()) db.exec(readFileSync(join(migrations, f), 'utf8'));
  const ins = db.prepare(
    `INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase, steps_taken, step_since, due_at, trigger, entered_at)
     VALUES ('ws', ?, 'j', 1, ?, 'active', 'wait', 'waiting', 1, 0, 1, 't', 0)`,
  );
  db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(`e${String(i).padStart(8, '0')}`, `p${i}`);
  })();
  const pick = db.prepare('SELECT * FROM journey_entries WHERE due_at <= ? ORDER BY due_at LIMIT 1000');
  const claim = db.prepare(
    'UPDATE journey_entries SET claimed_by = ?, due_at = ? WHERE workspace_id = ? AND id = ?',
  );
  const save = db.prepare(
    `UPDATE journey_entries SET state = 'completed', step = 'done', phase = 'enter', due_at = NULL, claimed_by = NULL, ended_at = ?
     WHERE workspace_id = ? AND id = ? AND claimed_by = ?`,
  );
  const log = db.prepare(
    'INSERT INTO journey_steps (workspace_id, entry_id, at, step, type, outcome) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const msg = db.prepare(
    `INSERT OR IGNORE INTO journey_messages (workspace_id, key, journey_id, entry_id, profile_id, step, channel, template, payload, created_at)
     VALUES ('ws', ?, 'j', ?, ?, 'tips', 'email', 'tips', '{}', 0)`,
  );
  const t = performance.now();
  for (;;) {
    const rows = db
      .transaction(() => {
        const r = pick.all(10);
        for (const e of r) claim.run('c', 1e12, 'ws', e.id);
        return r;
      })
      .immediate();
    if (rows.length === 0) break;
    db.transaction(() => {
      for (const e of rows) {
        if (save.run(5, 'ws', e.id, 'c').changes === 0) continue;
        log.run('ws', e.id, 5, 'tips', 'send', 'email tips queued');
        log.run('ws', e.id, 5, 'done', 'exit', 'completed');
        msg.run(`${e.id}:tips:1`, e.id, e.profile_id);
      }
    }).immediate();
  }
  const perSec = n / ((performance.now() - t) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return perSec;
}

await main();
