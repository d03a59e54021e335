// npm run bench:inapp — the SDK's message eligibility endpoint (GET /v1/messages) at a fixed arrival
// rate with 100 active messages, over a demo shop's customers, through a real server process;
// baseline: a bare node:http server answering the same GETs with a fixed JSON body, at the same rate.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Pool, request } from 'undici';
import { cpuMs, fillDemo, fmt, percentile, ROOT, serverClient, startServer, stopServer } from './lib.mjs';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 3000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MESSAGES = 100;
const line = (s = '') => process.stdout.write(`${s}\n`);

spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'kizuna-bench-inapp-'));
line(`filling a demo shop of ${fmt(CUSTOMERS)} customers…`);
fillDemo(dir, CUSTOMERS);
const db = new Database(join(dir, 'kizuna.db'), { readonly: true });
const ws = db.prepare("SELECT id FROM workspaces WHERE name = 'bench'").get().id;
const userIds = db
  .prepare("SELECT value FROM identities WHERE workspace_id = ? AND kind = 'user_id' ORDER BY random()")
  .pluck()
  .all(ws);
const events = db.prepare('SELECT count(*) FROM events').pluck().get();
db.close();
const key = (kind) =>
  JSON.parse(
    spawnSync(process.execPath, [join(ROOT, 'bench/admin-key.mjs'), dir, ws, kind], { encoding: 'utf8' })
      .stdout,
  );
const { adminKey } = key('admin');
const { writeKey } = key('write');

const env = { KIZUNA_DATA_DIR: dir, DATABASE_URL: '' };
const server = await startServer(env, process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? []);
const api = serverClient(server.url, { adminKey, writeKey });

// Audiences of the kinds a marketing team targets: buyers, big spenders, recent viewers, by stage.
const segments = [];
for (const [name, rule] of [
  ['buyers', { event: 'Order Completed' }],
  ['repeat buyers', { event: 'Order Completed', count: { op: 'gte', value: 3 } }],
  ['viewers', { event: 'Product Viewed' }],
  ['signed up', { event: 'Signed Up' }],
]) {
  segments.push((await api.admin('POST', '/segments', { name, rule })).id);
}
for (const id of segments) {
  while ((await api.admin('GET', `/segments/${id}`)).status !== 'ready')
    await new Promise((r) => setTimeout(r, 200));
}
// 100 active messages: a fifth for everyone, the rest by segment or stage; some personalised, some
// A/B tested with a control group, every frequency rule.
const stages = ['new', 'active', 'loyal', 'at_risk', 'dormant'];
const frequencies = [{ kind: 'once' }, { kind: 'times', max: 3 }, { kind: 'every_visit' }];
for (let i = 0; i < MESSAGES; i++) {
  const targeting =
    i % 5 === 0
      ? {}
      : i % 5 < 3
        ? { segments: [segments[i % segments.length]] }
        : { stages: [stages[i % stages.length]] };
  const personal = i % 4 === 0;
  await api.admin('POST', '/in-app-messages', {
    name: `message ${i}`,
    type: ['modal', 'banner', 'slide_in', 'full_screen'][i % 4],
    position: i % 4 === 1 || i % 4 === 2 ? 'bottom' : null,
    priority: i % 10,
    status: 'active',
    trigger: i % 2 ? { kind: 'page', urlPattern: '/products/*' } : { kind: 'event', event: 'Product Added' },
    targeting,
    frequency: frequencies[i % 3],
    controlPercent: i % 3 === 0 ? 10 : 0,
    variants: [
      {
        key: 'a',
        weight: 1,
        content: {
          title: personal ? 'Hello {{ profile.first_name | default: "there" }}' : `Offer ${i}`,
          body: 'Free shipping on orders over ¥5,000 this week.',
          buttons: [{ label: 'Shop now', url: 'https://shop.example/sale' }],
        },
      },
      ...(i % 2 ? [{ key: 'b', weight: 1, content: { title: `Offer ${i} (b)`, body: 'Today only.' } }] : []),
    ],
  });
}
await api.close();

/** Sends GETs at `rate` per second for `seconds` (open loop: latency includes any queueing). */
async function openLoop(url, pathOf, pid) {
  const cpuBefore = cpuMs(pid);
  const pool = new Pool(url, { connections: 128, pipelining: 1 });
  const latencies = [];
  let failures = 0;
  const total = RATE * SECONDS;
  const started = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const t = performance.now();
        const res = await pool.request({ path: pathOf(i), method: 'GET' });
        await res.body.text();
        latencies.push(performance.now() - t);
        if (res.statusCode !== 200) failures++;
      })(),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  // Server CPU per request: what the answer costs, apart from the queueing a busy machine adds.
  const cpuPerRequest = (cpuMs(pid) - cpuBefore) / latencies.length;
  return { latencies, failures, rate: latencies.length / elapsed, cpuPerRequest };
}

const known = Math.max(1, Math.floor(userIds.length * 0.9));
const pathOf = (i) =>
  // Nine in ten requests from known customers, one in ten from visitors Kizuna has not seen.
  i % 10 === 9
    ? `/v1/messages?writeKey=${writeKey}&anonymousId=visitor-${i}`
    : `/v1/messages?writeKey=${writeKey}&userId=${encodeURIComponent(userIds[i % known])}&sessionId=s${i % 50}`;
const sample = await (await request(`${server.url}${pathOf(0)}`)).body.json();
await openLoop(server.url, pathOf, server.pid).catch(() => null); // warm-up run, discarded
const kizuna = await openLoop(server.url, pathOf, server.pid);
await stopServer(server);

// Baseline: a bare node:http server answering each GET with a fixed body of the same size.
const body = JSON.stringify(sample);
const bare = spawn(
  process.execPath,
  [
    '-e',
    `const b = process.argv[1];
     const s = require('node:http').createServer((q, r) => { r.writeHead(200, { 'content-type': 'application/json' }); r.end(b); });
     s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`,
    body,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise((resolve) =>
  bare.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
);
const baseline = await openLoop(`http://127.0.0.1:${port}`, pathOf, bare.pid);
bare.kill();
rmSync(dir, { recursive: true, force: true });

const p = (r, q) => fmt(percentile(r.latencies, q), 2);
line(`Kizuna in-app eligibility benchmark · node ${process.version} · ${new Date().toISOString()}`);
line(
  `store: SQLite, ${fmt(userIds.length)} customers, ${fmt(events)} events; ${MESSAGES} active messages, ${segments.length} segments; ${fmt(RATE)} requests/s for ${SECONDS} s; a sample answer holds ${sample.messages.length} messages (${fmt(body.length)} bytes)`,
);
line(
  `  Kizuna GET /v1/messages: ${fmt(kizuna.rate)} requests/s · p50 ${p(kizuna, 50)} ms · p99 ${p(kizuna, 99)} ms · max ${p(kizuna, 100)} ms · failures ${kizuna.failures} · server CPU ${fmt(kizuna.cpuPerRequest, 3)} ms/request (target p99 < 20 ms)`,
);
line(
  `  baseline, bare node:http with a fixed body: ${fmt(baseline.rate)} requests/s · p50 ${p(baseline, 50)} ms · p99 ${p(baseline, 99)} ms · CPU ${fmt(baseline.cpuPerRequest, 3)} ms/request → ratio p99 ${fmt(percentile(kizuna.latencies, 99) / percentile(baseline.latencies, 99), 2)}`,
);
