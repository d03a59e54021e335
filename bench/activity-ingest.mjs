// npm run bench:activity-ingest — what keeping the activity rollup (migration 0027) costs ingestion:
// the store's own ingest (identity resolution, facts, the event row and its indexes, and now the
// rollup rows) of batches of 100 events, on SQLite, this build against a baseline build, interleaved
// round by round in one process. BENCH_BASELINE is a checkout of the commit before (with `dist/`
// built: `npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs`). BENCH_SPACING_MS is the
// time between consecutive events (default 1,000: a customer's events mostly share a day, so the
// rollup is mostly read, not written; 86,400,000: every event of a customer lands on a new day).
// BENCH_CUSTOMERS (default 20,000) customers take the events in turn, each name in turn: with the
// default each event is a customer's first of its name that month (a new rollup row, the worst
// case); with 2,000 each customer repeats every name several times a day (the rollup is only read).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fmt } from './lib.mjs';

const BASELINE = process.env.BENCH_BASELINE;
if (!BASELINE) throw new Error('BENCH_BASELINE: a checkout of the commit before, with dist/ built');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const SPACING = Number(process.env.BENCH_SPACING_MS ?? 1000);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 20_000);
const T0 = Date.UTC(2026, 5, 1);
const NAMES = ['Home', 'Product Viewed', 'Added To Cart', 'Checkout Started', 'Order Completed'];
const dirs = [];

async function open(root) {
  const { SqliteStore } = await import(`${root}/dist/store/sqlite/sqlite-store.js`);
  const { ManualClock } = await import(`${root}/dist/domain/clock.js`);
  const { testEvent } = await import(`${root}/dist/domain/testing.js`);
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-activity-'));
  dirs.push(dir);
  const store = SqliteStore.open({ path: join(dir, 'kizuna.db'), clock: new ManualClock(T0) });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'bench', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  return { store, ws, testEvent, n: 0, ms: 0 };
}

// CUSTOMERS customers in turn, the five names of the reports bench, SPACING apart.
async function round(s) {
  const t = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const batch = [];
    for (let k = 0; k < 100; k++, s.n++) {
      batch.push(
        s.testEvent({
          userId: `u${s.n % CUSTOMERS}`,
          name: NAMES[s.n % NAMES.length],
          messageId: `m${s.n}`,
          timestamp: T0 + Math.floor(s.n / CUSTOMERS) * SPACING + (s.n % CUSTOMERS),
          properties: { sku: `S${s.n % 997}` },
        }),
      );
    }
    await s.store.ingest(s.ws, batch);
  }
  s.ms += performance.now() - t;
}

const before = await open(BASELINE.replace(/\/$/, ''));
const after = await open(ROOT.replace(/\/$/, ''));
for (let r = 0; r < ROUNDS; r++) {
  await round(before);
  await round(after);
}
const rate = (s) => s.n / (s.ms / 1000);
process.stdout.write(
  `Activity rollup on ingest: ${fmt(after.n)} events each, batches of 100, ${fmt(SPACING)} ms apart per customer (SQLite)\n` +
    `  baseline (${BASELINE}): ${fmt(rate(before))} events/s\n` +
    `  with the rollup:        ${fmt(rate(after))} events/s; ratio ${fmt(rate(after) / rate(before), 2)}\n`,
);
await before.store.close();
await after.store.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
