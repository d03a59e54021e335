// npm run bench:lookup — profile lookup with its latest 50 events, on a SQLite store of ≥ 1M events
// filled by `kizuna demo`, through the real HTTP server; baseline: the same two reads as bare SQL.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { CLI, ROOT, fmt, percentile, startServer, stopServer } from './lib.mjs';

const TARGET_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5000);
// Kept between runs (bench/.data is git-ignored): filling 1M events takes a while.
const DIR = join(ROOT, 'bench/.data/lookup');
const line = (s = '') => process.stdout.write(`${s}\n`);

spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
mkdirSync(DIR, { recursive: true });
const env = { ...process.env, KIZUNA_DATA_DIR: DIR, DATABASE_URL: '' };
const count = () => {
  if (!existsSync(join(DIR, 'kizuna.db'))) return 0;
  const db = new Database(join(DIR, 'kizuna.db'), { readonly: true });
  const n = db.prepare('SELECT count(*) AS n FROM events').get().n;
  db.close();
  return n;
};
for (let seed = 1; count() < TARGET_EVENTS; seed++) {
  line(`filling: ${fmt(count())} events so far, adding a demo shop with seed ${seed}`);
  const r = spawnSync(
    process.execPath,
    [CLI, 'demo', '--customers', '20000', '--seed', String(seed), '--workspace', 'bench'],
    { env, stdio: 'inherit' },
  );
  if (r.status !== 0) process.exit(1);
}
const events = count();

// The profiles to look up: a random sample of user ids, heavy and light customers alike.
const db = new Database(join(DIR, 'kizuna.db'), { readonly: true });
const ws = db.prepare("SELECT id FROM workspaces WHERE name = 'bench'").get().id;
const userIds = db
  .prepare(
    "SELECT value FROM identities WHERE workspace_id = ? AND kind = 'user_id' ORDER BY random() LIMIT ?",
  )
  .pluck()
  .all(ws, SAMPLES);

// Baseline: the same two reads as bare SQL on one connection.
const idStmt = db
  .prepare("SELECT profile_id FROM identities WHERE workspace_id = ? AND kind = 'user_id' AND value = ?")
  .pluck();
const profStmt = db.prepare('SELECT * FROM profiles WHERE workspace_id = ? AND id = ?');
const evStmt = db.prepare(
  'SELECT * FROM events WHERE workspace_id = ? AND profile_id = ? ORDER BY timestamp DESC, id DESC LIMIT 50',
);
const raw = [];
for (const u of userIds) {
  const t = performance.now();
  const pid = idStmt.get(ws, u);
  profStmt.get(ws, pid);
  evStmt.all(ws, pid).forEach((e) => JSON.parse(e.payload));
  raw.push(performance.now() - t);
}
db.close();
raw.sort((a, b) => a - b);

// Kizuna: GET lookup, then GET its 50 latest events, over HTTP on a keep-alive connection.
const admin = JSON.parse(
  spawnSync(process.execPath, [join(ROOT, 'bench/admin-key.mjs'), DIR, ws], { encoding: 'utf8' }).stdout,
).adminKey;
const server = await startServer(env);
const pool = new Pool(server.url, { connections: 1 });
const headers = { authorization: `Bearer ${admin}` };
const get = async (path) => {
  const res = await pool.request({ path, method: 'GET', headers });
  const body = await res.body.json();
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${JSON.stringify(body)}`);
  return body;
};
for (const u of userIds.slice(0, 200)) await get(`/api/v1/profiles/lookup?userId=${encodeURIComponent(u)}`); // warm-up
const http = [];
let returned = 0;
for (const u of userIds) {
  const t = performance.now();
  const p = await get(`/api/v1/profiles/lookup?userId=${encodeURIComponent(u)}`);
  const page = await get(`/api/v1/profiles/${p.id}/events?limit=50`);
  http.push(performance.now() - t);
  returned += page.events.length;
}
await pool.close();
await stopServer(server);
http.sort((a, b) => a - b);

line(`Kizuna lookup benchmark · node ${process.version} · ${new Date().toISOString()}`);
line(
  `store: SQLite, ${fmt(events)} events; ${fmt(userIds.length)} random customers, ${fmt(returned / userIds.length, 1)} events returned on average`,
);
line(
  `  Kizuna over HTTP (lookup + latest 50 events): p50 ${fmt(percentile(http, 50), 2)} ms · p99 ${fmt(percentile(http, 99), 2)} ms · max ${fmt(http.at(-1), 2)} ms (target p99 < 10 ms)`,
);
line(
  `  baseline, the same reads as bare SQL in-process: p50 ${fmt(percentile(raw, 50), 2)} ms · p99 ${fmt(percentile(raw, 99), 2)} ms → ratio p99 ${fmt(percentile(raw, 99) / percentile(http, 99), 2)}`,
);
