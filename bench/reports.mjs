// npm run bench:reports — the analytics reports (docs/reports.md) on BENCH_PROFILES customers
// (default 50,000) and BENCH_EVENTS events (default 1,000,000) spread over a year, on the SQLite
// store: a 4-step funnel over 90 days, a 12-month retention table, and the uplift report of a
// campaign sent to every customer (the journey results endpoint's read and statistics). Rows are
// written straight into the database (no HTTP, no identity resolution) so seeding is fast.
// BENCH_ROUNDS repeats the funnel and retention (first run and warm runs); BENCH_KEEP keeps the file.
// Baseline, same run: a plain count(*) of the workspace's events (and of the campaign's entries),
// the least any scan of the same rows can cost on this disk and machine.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fmt } from './lib.mjs';

const { SqliteStore } = await import(`${ROOT}dist/store/sqlite/sqlite-store.js`);
const { ManualClock } = await import(`${ROOT}dist/domain/clock.js`);
const { ReportService } = await import(`${ROOT}dist/engine/reports.js`);
const { journeyResults } = await import(`${ROOT}dist/domain/journeys/results.js`);

const PROFILES = Number(process.env.BENCH_PROFILES ?? 50_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 1);
const START = NOW - 365 * DAY;
const line = (s = '') => process.stdout.write(`${s}\n`);
const time = async (fn) => {
  const t = performance.now();
  const out = await fn();
  return [out, (performance.now() - t) / 1000];
};

// A small deterministic generator, so every run seeds the same data.
let seed = 42;
const rand = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const dir = mkdtempSync(join(tmpdir(), 'kizuna-reports-'));
const path = join(dir, 'kizuna.db');
const clock = new ManualClock(NOW);
let store = SqliteStore.open({ path, clock });
await store.migrate();
const ws = (await store.createWorkspace({ name: 'bench', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
await store.close();

line(`Reports bench: ${fmt(PROFILES)} customers, ${fmt(EVENTS)} events over 365 days (SQLite)`);
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
const [, seedSec] = await time(() => {
  const pid = (i) => `p${String(i).padStart(8, '0')}`;
  // Each customer is first seen on a day of the year and is active from then on.
  const firstSeen = Array.from({ length: PROFILES }, () => START + Math.floor(rand() * 360) * DAY);
  const insertProfile = db.prepare(
    `INSERT INTO profiles (workspace_id, id, user_id, first_seen_at, last_seen_at, event_count, created_at, updated_at, stage)
     VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
  );
  const stages = ['new', 'active', 'loyal', 'at_risk', 'dormant'];
  db.transaction(() => {
    for (let i = 0; i < PROFILES; i++)
      insertProfile.run(ws, pid(i), `u${i}`, firstSeen[i], NOW, firstSeen[i], NOW, stages[i % 5]);
  })();
  // Shopping sessions: a home page view or not, a product view, and then each further step with some
  // chance, minutes apart: cart (35 %), checkout (50 % of those), order with revenue (60 % of those).
  const insertEvent = db.prepare(
    `INSERT INTO events (workspace_id, profile_id, message_id, type, name, user_id, timestamp, received_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let n = 0;
  const emit = (i, type, name, t, props) => {
    insertEvent.run(ws, pid(i), `m${n}`, type, name, `u${i}`, t, t, `{"properties":${props}}`);
    n++;
  };
  const BATCH = 20_000;
  while (n < EVENTS) {
    db.transaction(() => {
      for (let k = 0; k < BATCH && n < EVENTS; k++) {
        const i = Math.floor(rand() * PROFILES);
        let t = firstSeen[i] + Math.floor(rand() * (NOW - firstSeen[i]));
        if (rand() < 0.5) emit(i, 'page', 'Home', t - 60_000, '{}');
        emit(i, 'track', 'Product Viewed', t, `{"sku":"S${n % 997}"}`);
        const steps = [
          ['Added To Cart', 0.35],
          ['Checkout Started', 0.5],
          ['Order Completed', 0.6],
        ];
        for (const [name, p] of steps) {
          if (rand() >= p) break;
          t += Math.floor(rand() * 3_600_000);
          emit(
            i,
            'track',
            name,
            t,
            name === 'Order Completed' ? `{"revenue":${(1 + (n % 90)) * 100}}` : '{}',
          );
        }
      }
    })();
  }
  // A campaign sent to every customer: 10 % control, conversions at 3 % (treatment 3.6 %).
  db.prepare(
    `INSERT INTO journeys (workspace_id, id, name, status, draft, version, created_at, updated_at) VALUES (?, 'jr_bench', 'Bench', 'published', '{}', 1, ?, ?)`,
  ).run(ws, NOW, NOW);
  const insertEntry = db.prepare(
    `INSERT INTO journey_entries (workspace_id, id, journey_id, version, profile_id, state, step, phase, step_since, trigger, entered_at, ended_at, converted_at, arm, converted_value)
     VALUES (?, ?, 'jr_bench', 1, ?, 'completed', 'done', 'enter', ?, 'bench', ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < PROFILES; i++) {
      const control = i % 10 === 0;
      const converted = rand() < (control ? 0.03 : 0.036);
      insertEntry.run(
        ws,
        `e${i}`,
        pid(i),
        NOW,
        NOW,
        NOW,
        converted ? NOW : null,
        control ? 'control' : 'treatment',
        converted ? 1000 + (i % 50) * 100 : null,
      );
    }
  })();
});
line(`  seeded in ${fmt(seedSec, 1)} s`);
// The rows went in without the store, so the activity rollup is built the way migrations 0027 and
// 0031 build it on an existing database: their backfill statements, timed.
const backfills = ['0027_event_activity.sql', '0031_activity_years.sql']
  .map((f) => readFileSync(`${ROOT}dist/store/sqlite/migrations/${f}`, 'utf8'))
  .map((sql) => sql.slice(sql.indexOf('INSERT INTO')));
const [, backfillSec] = await time(() => backfills.forEach((sql) => db.exec(sql)));
db.exec('ANALYZE');
db.close();
line(`  activity rollup backfilled (migrations 0027 and 0031's statements) in ${fmt(backfillSec, 1)} s`);

// As the server opens it (src/app.ts): writes on their own thread, large scans on scan threads.
store = SqliteStore.open({ path, clock, writer: 'thread' });
const reports = new ReportService(store, clock);
const raw = new Database(path, { readonly: true });
const [events, countSec] = await time(() =>
  raw.prepare('SELECT count(*) FROM events WHERE workspace_id = ?').pluck().get(ws),
);
const [, countEntriesSec] = await time(() =>
  raw
    .prepare("SELECT count(*) FROM journey_entries WHERE workspace_id = ? AND journey_id = 'jr_bench'")
    .pluck()
    .get(ws),
);
line(
  `  baseline: count(*) of ${fmt(events)} events ${fmt(countSec * 1000, 0)} ms; of ${fmt(PROFILES)} campaign entries ${fmt(countEntriesSec * 1000, 0)} ms`,
);

// BENCH_ROUNDS: each report this many times (the first is the one a restarted server answers; the
// later ones, warm, are listed after it).
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const rounds = async (fn) => {
  const [out, first] = await time(fn);
  const more = [];
  for (let i = 1; i < ROUNDS; i++) more.push((await time(fn))[1]);
  return [out, first, more.length === 0 ? '' : `; then ${more.map((t) => fmt(t, 2)).join(', ')} s`];
};
const step = (name) => ({ name, where: [] });
const [funnel, funnelSec, funnelMore] = await rounds(() =>
  reports.funnel(ws, {
    steps: [step('Product Viewed'), step('Added To Cart'), step('Checkout Started'), step('Order Completed')],
    windowMs: 7 * DAY,
    from: NOW - 90 * DAY,
    to: NOW,
    breakdown: null,
  }),
);
line(
  `  funnel, 4 steps over 90 days: ${fmt(funnelSec, 2)} s (${funnel.steps.map((s) => fmt(s.customers)).join(' → ')}); ratio to count(*) ${fmt(funnelSec / countSec, 1)} (target < 5 s at 1M/20M)${funnelMore}`,
);
const [retention, retentionSec, retentionMore] = await rounds(() =>
  reports.retention(ws, {
    anchor: { kind: 'first_seen' },
    activity: null,
    unit: 'month',
    from: NOW - 365 * DAY,
    to: NOW,
    periods: 12,
  }),
);
line(
  `  retention, 12 monthly cohorts × 12 months: ${fmt(retentionSec, 2)} s (${retention.cohorts.length} cohorts, first of ${fmt(retention.cohorts[0]?.size ?? 0)}); ratio ${fmt(retentionSec / countSec, 1)} (target < 5 s)${retentionMore}`,
);
const [uplift, upliftSec] = await time(async () =>
  journeyResults(await store.journeyOutcomes(ws, 'jr_bench'), new Set(['control'])),
);
line(
  `  uplift of a campaign to ${fmt(PROFILES)} recipients: ${fmt(upliftSec * 1000, 0)} ms (p = ${uplift.uplift?.conversion.pValue?.toPrecision(2)}); ratio to count(*) of its entries ${fmt(upliftSec / countEntriesSec, 1)} (target < 2 s at 1M)`,
);
raw.close();
await store.close();
if (process.env.BENCH_KEEP) line(`  kept ${path}`);
else rmSync(dir, { recursive: true, force: true });
