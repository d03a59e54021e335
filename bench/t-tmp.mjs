import { ROOT } from './lib.mjs';
const { SqliteStore } = await import(`${ROOT}dist/store/sqlite/sqlite-store.js`);
const { ManualClock } = await import(`${ROOT}dist/domain/clock.js`);
const { ReportService } = await import(`${ROOT}dist/engine/reports.js`);
const DAY = 86_400_000, NOW = Date.UTC(2026, 10, 1);
const clock = new ManualClock(NOW);
const store = SqliteStore.open({ path: process.argv[2], clock });
const reports = new ReportService(store, clock);
const ws = (await store.listWorkspaces?.())?.[0]?.id ?? process.argv[3];
const step = (name) => ({ name, where: [] });
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const f = await reports.funnel(ws, { steps: [step('Product Viewed'), step('Added To Cart'), step('Checkout Started'), step('Order Completed')], windowMs: 7 * DAY, from: NOW - 90 * DAY, to: NOW, breakdown: null });
  const ft = performance.now() - t; t = performance.now();
  await reports.retention(ws, { anchor: { kind: 'first_seen' }, activity: null, unit: 'month', from: NOW - 365 * DAY, to: NOW, periods: 12 });
  const rt = performance.now() - t; t = performance.now();
  await reports.retention(ws, { anchor: { kind: 'first_seen' }, activity: null, unit: 'week', from: NOW - 84 * DAY, to: NOW, periods: 12 });
  const wt = performance.now() - t; t = performance.now();
  await reports.retention(ws, { anchor: { kind: 'first_event', name: 'Order Completed' }, activity: 'Order Completed', unit: 'month', from: NOW - 365 * DAY, to: NOW, periods: 12 });
  console.log(`funnel ${ft.toFixed(0)} ms retention ${rt.toFixed(0)} weekly ${wt.toFixed(0)} purchase ${(performance.now() - t).toFixed(0)}`, f.steps.map(s=>s.customers).join(' '));
}
await store.close();
