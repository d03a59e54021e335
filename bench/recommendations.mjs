// npm run bench:recommendations — the recommendation rebuild and the send-time read on a store filled
// by `kizuna demo` (BENCH_CUSTOMERS, default 20,000; kept in bench/.data/recommendations-N), which
// imports the demo shop's 32 products into the catalogue. In one run: the raw interaction scan alone
// (the same pages of customers and their recent Product Viewed / Order Completed events, nothing
// else) as the baseline, the full rebuild (scan + co-occurrence + storing the lists), and the
// send-time read of recommendations for batches of 1,000 customers against the profile states the
// runner reads for every batch anyway. Figures go to docs/performance.md.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fillDemo, fmt } from './lib.mjs';

const { SqliteStore } = await import(`${ROOT}dist/store/sqlite/sqlite-store.js`);
const { RecommendationService } = await import(`${ROOT}dist/engine/recommendations.js`);
const { INTERACTION_EVENTS, RECOMMENDATION_LIMITS } = await import(`${ROOT}dist/domain/recommendations.js`);
const { systemClock } = await import(`${ROOT}dist/domain/clock.js`);

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DATA = join(ROOT, `bench/.data/recommendations-${CUSTOMERS}`);
const line = (s = '') => process.stdout.write(`${s}\n`);

function fill() {
  if (existsSync(join(DATA, 'kizuna.db'))) return;
  mkdirSync(DATA, { recursive: true });
  line(`filling ${fmt(CUSTOMERS)} demo customers into ${DATA} (once; kept for later runs)`);
  fillDemo(DATA, CUSTOMERS);
}

const best = (xs) => Math.min(...xs);

fill();
const dir = mkdtempSync(join(tmpdir(), 'kizuna-bench-rec-'));
copyFileSync(join(DATA, 'kizuna.db'), join(dir, 'kizuna.db'));
const store = SqliteStore.open({ path: join(dir, 'kizuna.db'), clock: systemClock });
try {
  await store.migrate();
  const ws = (await store.findWorkspaceByName('bench')).id;
  const profiles = await store.countProfiles(ws);
  const service = new RecommendationService(store, systemClock);

  const ids = [];
  for (let after = null; ids.length < 10_000;) {
    const page = await store.scanProfileStates(ws, { after, limit: 1000 });
    ids.push(...page.profiles.map((p) => p.id));
    if (page.next === null) break;
    after = page.next;
  }
  const batches = [];
  for (let at = 0; at < ids.length; at += 1000) batches.push(ids.slice(at, at + 1000));

  // Each run measures every figure once, so a machine busy with other work slows them alike.
  const scans = [];
  const rebuilds = [];
  const profileReads = [];
  const reads = [];
  let events = 0;
  let result;
  let shown = 0;
  for (let run = 0; run < RUNS; run++) {
    // Baseline: the same scan the rebuild does, with nothing done with what it reads.
    let t = performance.now();
    events = 0;
    for (let after = null; ;) {
      const page = await store.scanInteractions(ws, {
        after,
        limit: 500,
        names: INTERACTION_EVENTS,
        perProfile: RECOMMENDATION_LIMITS.eventsPerCustomer,
      });
      for (const xs of page.interactions.values()) events += xs.length;
      if (page.next === null) break;
      after = page.next;
    }
    scans.push(performance.now() - t);

    t = performance.now();
    result = await service.rebuild(ws);
    rebuilds.push(performance.now() - t);

    // Send time, baseline: the profile states the runner reads for every batch anyway.
    t = performance.now();
    for (const batch of batches) await store.getProfileStates(ws, batch);
    profileReads.push(performance.now() - t);

    // Send time: recommendations and bought items for the same batches of 1,000 customers.
    t = performance.now();
    shown = 0;
    for (const batch of batches) {
      const got = await service.forProfiles(ws, batch, { recommendations: true, bought: true });
      for (const r of got.values()) shown += r.recommendations.length;
    }
    reads.push(performance.now() - t);
  }

  const rate = (n, ms) => `${fmt(Math.round(n / (ms / 1000)))}/s`;
  line(
    `store: ${fmt(profiles)} profiles, ${fmt(events)} interaction events read per scan, best of ${RUNS} runs`,
  );
  line(
    `baseline: interaction scan alone            ${fmt(Math.round(best(scans)))} ms · ${rate(profiles, best(scans))} customers`,
  );
  line(
    `rebuild (scan + co-occurrence + store lists) ${fmt(Math.round(best(rebuilds)))} ms · ${rate(profiles, best(rebuilds))} customers · ratio to scan ${(best(scans) / best(rebuilds)).toFixed(2)}`,
  );
  line(
    `  ${fmt(result.customersWithItems)} customers with items, ${fmt(result.pairs)} pairs, ${fmt(result.itemsWithSimilar)} of ${fmt(result.catalogItems)} items with lists`,
  );
  line(
    `send time, batches of 1,000 (${fmt(ids.length)} customers): profile states alone ${fmt(Math.round(best(profileReads)))} ms · ${rate(ids.length, best(profileReads))}`,
  );
  line(
    `  recommendations + bought ${fmt(Math.round(best(reads)))} ms · ${rate(ids.length, best(reads))} customers · ${(shown / Math.max(1, ids.length)).toFixed(1)} items each`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
