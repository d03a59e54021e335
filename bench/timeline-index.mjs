// npm run bench:timeline-index — what migration 0021's covering timeline index costs ingestion: the
// store's own ingest (identity resolution, facts, the events row and its indexes) of batches of 100
// events, into two SQLite stores that differ only in that index. Baseline, same run and interleaved
// round by round: the store with the index as it was before 0021 (workspace, profile, timestamp, id).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fmt } from './lib.mjs';

const { SqliteStore } = await import(`${ROOT}dist/store/sqlite/sqlite-store.js`);
const { ManualClock } = await import(`${ROOT}dist/domain/clock.js`);
const { testEvent } = await import(`${ROOT}dist/domain/testing.js`);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const T0 = Date.UTC(2026, 5, 1);
const NAMES = ['Home', 'Product Viewed', 'Added To Cart', 'Checkout Started', 'Order Completed'];
const dirs = [];

async function open(before) {
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-timeline-'));
  dirs.push(dir);
  const path = join(dir, 'kizuna.db');
  const clock = new ManualClock(T0);
  let store = SqliteStore.open({ path, clock });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'bench', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  await store.close();
  if (before) {
    const db = new Database(path);
    db.exec(
      'DROP INDEX events_timeline; CREATE INDEX events_timeline ON events (workspace_id, profile_id, timestamp, id)',
    );
    db.close();
  }
  return { store: SqliteStore.open({ path, clock }), ws, n: 0, ms: 0 };
}

// 20,000 customers, events a second apart, the five names of the reports bench in turn.
async function round(s) {
  const t = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const batch = [];
    for (let k = 0; k < 100; k++, s.n++) {
      batch.push(
        testEvent({
          userId: `u${s.n % 20_000}`,
          name: NAMES[s.n % NAMES.length],
          messageId: `m${s.n}`,
          timestamp: T0 + s.n * 1000,
          properties: { sku: `S${s.n % 997}` },
        }),
      );
    }
    await s.store.ingest(s.ws, batch);
  }
  s.ms += performance.now() - t;
}

const before = await open(true);
const after = await open(false);
for (let r = 0; r < ROUNDS; r++) {
  await round(before);
  await round(after);
}
const rate = (s) => s.n / (s.ms / 1000);
process.stdout.write(
  `Timeline index on ingest: ${fmt(after.n)} events each, batches of 100 (SQLite)\n` +
    `  baseline, index before 0021: ${fmt(rate(before))} events/s\n` +
    `  covering index of 0021:      ${fmt(rate(after))} events/s; ratio ${fmt(rate(after) / rate(before), 2)}\n`,
);
await before.store.close();
await after.store.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
