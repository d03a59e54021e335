// npm run bench:segment-pass — the two engagement passes of issue 3, in-process on a copy of the
// engagement bench store (BENCH_CUSTOMERS, default 20,000; filled on first use, as bench:engagement does):
// (1) the build of one new segment over every profile (SegmentBuilder, no settle wait) and (2) a full
// re-evaluation (`kizuna reevaluate`'s pass). Prints wall and CPU time per profile (and by thread),
// load average and peak RSS, and deletes each segment it built while single events arrive (how long
// the writer is held). Needs `npm run build` (reads dist/). BENCH_IN_PLACE=1 works on the kept store,
// not a copy.
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import pino from 'pino';
import { ROOT, demoStore, fmt, workingStore } from './lib.mjs';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 20_000);
const { SqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const { systemClock } = await import(join(ROOT, 'dist/domain/clock.js'));
const { SegmentBuilder } = await import(join(ROOT, 'dist/engine/builder.js'));
const { reevaluateAll } = await import(join(ROOT, 'dist/engine/reevaluation.js'));
const { testEvent } = await import(join(ROOT, 'dist/domain/testing.js'));
const line = (s = '') => process.stdout.write(`${s}\n`);

const { dir, drop } = workingStore(demoStore(CUSTOMERS).data, 'kizuna-segpass-');
// BENCH_PARALLEL_FROM: scan threads from this many profiles (the store's default when unset; a
// large number scans on this thread alone, to compare).
const parallelFrom = process.env.BENCH_PARALLEL_FROM;
const store = SqliteStore.open({
  path: join(dir, 'kizuna.db'),
  clock: systemClock,
  writer: 'thread',
  ...(parallelFrom !== undefined && { parallelScan: { from: Number(parallelFrom) } }),
});
const logger = pino({ level: 'silent' });
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** CPU time of this (the scanning) thread, ms: /proc counts it in clock ticks of 10 ms. */
const threadCpu = () => {
  const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
/** CPU time of every thread of this process, ms, by thread id (scan threads, the writer, this one). */
const threadsCpu = () => {
  const out = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = /\((.*)\)/.exec(st)?.[1] ?? '?';
      const f = st.split(') ')[1].split(' ');
      out.set(tid, { name, ms: (Number(f[11]) + Number(f[12])) * 10 });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
};
/**
 * Watches every thread's CPU from `before` on (sampled every 100 ms: scan threads end with the pass);
 * `stop` returns the threads that used at least 1 % of `ms`, busiest first: "name s, …".
 */
const watchThreads = () => {
  const before = threadsCpu();
  const last = new Map(before);
  const sample = () => {
    for (const [tid, t] of threadsCpu()) last.set(tid, t);
  };
  const timer = setInterval(sample, 100);
  return (ms) => {
    clearInterval(timer);
    sample();
    return busiest(before, last, ms);
  };
};
const busiest = (before, after, ms) => {
  const used = [];
  for (const [tid, t] of after) {
    const d = t.ms - (before.get(tid)?.ms ?? 0);
    // this thread, threads started by the pass (scan threads), the others (the writer, GC helpers)
    const who = tid === String(process.pid) ? 'this' : before.has(tid) ? t.name : `${t.name}+`;
    if (d >= ms / 100) used.push([who, d]);
  }
  return used
    .sort((a, b) => b[1] - a[1])
    .map(([n, d]) => `${n} ${fmt(d / 1000, 1)} s`)
    .join(', ');
};
const rssMb = () => {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
try {
  await store.migrate();
  const ws = await store.findWorkspaceByName('bench');
  const total = await store.countProfiles(ws.id);
  line(
    `segment-pass · node ${process.version} · ${new Date().toISOString()} · load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  line(`store: ${fmt(CUSTOMERS)} demo customers, ${fmt(total)} profiles`);
  const rules = (process.env.BENCH_RULES ?? 'repeat').split(',');
  const catalog = {
    repeat: { event: 'Order Completed', count: { op: 'gte', value: 2 }, within: { days: 90 } },
    lapsed: { event: 'Order Completed', performed: false, within: { days: 30 } },
    email: { has: 'email' },
    revenue: { computed: 'revenue_total', op: 'gte', value: 200 },
  };
  for (const name of rules) {
    const id = `seg_bench_${name}_${Date.now()}`;
    await store.changeDefinitions(
      ws.id,
      {
        kind: 'put_segment',
        segment: {
          id,
          name: `bench ${name} ${id}`,
          description: '',
          rule: catalog[name],
          status: 'building',
        },
      },
      systemClock.now(),
    );
    const builder = new SegmentBuilder(store, systemClock, logger, 0);
    const t0 = performance.now();
    const c0 = cpu();
    const t0c = threadCpu();
    const threads = watchThreads();
    await builder.build(ws.id, { rebuildFacts: false });
    const ms = performance.now() - t0;
    const cms = cpu() - c0;
    const tms = threadCpu() - t0c;
    const seg = await store.getSegment(ws.id, id);
    line(
      `build of one new segment "${name}" (${fmt(seg.size)} members) over ${fmt(total)} profiles: ${fmt(ms / 1000, 2)} s = ${fmt((ms * 1000) / total, 1)} µs/profile wall, CPU ${fmt((cms * 1000) / total, 1)} µs/profile (scanning thread ${fmt((tms * 1000) / total, 1)})`,
    );
    line(`  CPU by thread: ${threads(ms)}`);
    // The segment goes again (on the kept store, every run then builds over the same segments). Single
    // events keep arriving meanwhile, one every 20 ms: how long the deletion holds the writer shows as
    // their longest wait. On SQLite the memberships go after the definition, in steps (migration 0035).
    let probing = true;
    const waits = [];
    const probe = (async () => {
      for (let k = 0; probing; k++) {
        const t = performance.now();
        await store.ingest(ws.id, [
          testEvent({ userId: 'bench-probe', name: 'Probe', messageId: `probe-${id}-${k}` }),
        ]);
        waits.push(performance.now() - t);
        await sleep(20);
      }
    })();
    const d0 = performance.now();
    await store.changeDefinitions(ws.id, { kind: 'delete_segment', id }, systemClock.now());
    const call = performance.now() - d0;
    await store.purgesSettled?.();
    const purged = performance.now() - d0;
    probing = false;
    await probe;
    line(
      `  deleted: the call ${fmt(call, 0)} ms, memberships gone after ${fmt(purged / 1000, 2)} s; ${waits.length} single events meanwhile, longest wait ${fmt(Math.max(...waits), 0)} ms`,
    );
  }
  const t0 = performance.now();
  const c0 = cpu();
  const t0c = threadCpu();
  const r = await reevaluateAll(store, systemClock, ws.id, { rebuildFacts: false });
  const ms = performance.now() - t0;
  const cms = cpu() - c0;
  const tms = threadCpu() - t0c;
  line(
    `full re-evaluation: ${fmt(r.processed)} profiles, ${fmt(r.changed)} changed, ${fmt(ms / 1000, 2)} s = ${fmt((ms * 1000) / r.processed, 1)} µs/profile wall, CPU ${fmt((cms * 1000) / r.processed, 1)} µs/profile (scanning thread ${fmt((tms * 1000) / r.processed, 1)})`,
  );
  line(
    `peak RSS ${fmt(rssMb())} MB · load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await store.close();
  drop();
}
