import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { reevaluateAll } from '../../src/engine/reevaluation.js';
import { WRITER_AUTOCHECKPOINT } from '../../src/store/sqlite/checkpointer.js';
import { storeContract } from './contract.js';
import { journeyContract } from './journey-contract.js';
import { deliveryContract } from './delivery-contract.js';
import { contactContract } from './contact-contract.js';
import { couponContract } from './coupon-contract.js';
import { preferenceContract } from './preference-contract.js';
import { catalogContract } from './catalog-contract.js';
import { inAppContract } from './inapp-contract.js';
import { reportContract } from './report-contract.js';
import { sequencePath } from '../../src/domain/reports/funnel.js';

// The writer thread runs compiled JavaScript (a worker cannot load the TypeScript sources), so this
// suite runs the contract against the build in dist/, which `npm test` refreshes first (pretest).
const built = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
const { SqliteStore: BuiltStore } = (await import(built)) as { SqliteStore: typeof SqliteStore };

const root = mkdtempSync(join(tmpdir(), 'kizuna-sqlite-thread-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

storeContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});

journeyContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});

deliveryContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
contactContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
couponContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
preferenceContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
catalogContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
inAppContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
// Funnels read on scan threads from the first customer on (threshold 0), three customers a range.
reportContract('sqlite (writer thread, funnels on scan threads)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) =>
      Promise.resolve(
        BuiltStore.open({ path, clock, writer: 'thread', parallelScan: { from: 0, chunk: 3 } }),
      ),
    reset: () => Promise.resolve(),
  };
});

/**
 * A funnel's paths found on scan threads (funnel-pool.ts), ranges of a few customers each, some dense
 * (read whole) and some sparse (read through the rollup): every customer's path is the one found from
 * the same customer's sequence read on one thread, and the threads did run.
 */
it('finds funnel paths on scan threads as from the sequences read on one thread', async () => {
  const DAY = 86_400_000;
  const T0 = Date.UTC(2026, 2, 1);
  const clock = new ManualClock(T0 + 40 * DAY);
  const store = BuiltStore.open({
    path: join(root, `t${++n}.db`),
    clock,
    writer: 'thread',
    parallelScan: { from: 0, chunk: 4 },
  });
  try {
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    const events = [];
    for (let c = 0; c < 80; c++) {
      const user = `u${String(c).padStart(3, '0')}`;
      // customers 20–59 never view in the range: a sparse stretch of ids between dense ones
      const sparse = c >= 20 && c < 60;
      for (let i = 0; i < 6; i++) {
        const name = ['View', 'Cart', 'Order'][(c + i) % 3]!;
        const at = sparse && name === 'View' ? T0 - DAY : T0 + ((c * 7 + i * 13) % 30) * DAY + (i % 2) * 1000;
        events.push(testEvent({ userId: user, name, messageId: `${user}-${i}`, timestamp: at }));
      }
    }
    await store.ingest(ws, events);
    const names = ['View', 'Cart', 'Order'];
    const spec = { windowMs: 5 * DAY, from: T0, to: T0 + 20 * DAY };
    const sequence = { names, from: T0, to: T0 + 25 * DAY, entering: { name: 'View', before: spec.to } };
    const stepOf = [0, 1, 2];
    const threaded = new Map<string, unknown>();
    const ran = await store.funnelPaths(ws, { sequence, stepOf, spec }, (chunk) => {
      chunk.ids.forEach((id, i) => threaded.set(id, chunk.paths[i]));
      return Promise.resolve();
    });
    expect(ran).toBe(true);
    const expected = new Map<string, unknown>();
    const page = await store.reportSequences(ws, sequence, { after: null, limit: 1000 });
    for (const c of page.rows) {
      const p = sequencePath(c.names, c.times, stepOf, spec);
      if (p.depth > 0) expected.set(c.profileId, p);
    }
    expect(expected.size).toBeGreaterThan(20);
    expect([...threaded].sort()).toEqual([...expected].sort());
  } finally {
    await store.close();
  }
});

/**
 * A writer thread that dies (here: terminated from outside, as an uncaught error or an out-of-memory
 * exit would) fails the requests it held with 503 and is replaced: the server keeps its store.
 */
it('replaces a writer thread that died, and keeps what was committed before', async () => {
  const store = BuiltStore.open({
    path: join(root, `t${++n}.db`),
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    writer: 'thread',
  });
  await store.migrate();
  const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
  await store.ingest(ws, [testEvent({ userId: 'before', messageId: 'm-before' })]);
  const thread = (store as unknown as { writes: { worker: Worker } }).writes;
  const dead = thread.worker;
  await dead.terminate();
  // While it is down: refused with the store-unavailable error (HTTP 503), nothing hangs.
  await expect(
    store.ingest(ws, [testEvent({ userId: 'during', messageId: 'm-during' })]),
  ).rejects.toMatchObject({
    name: 'StoreUnavailableError',
    status: 503,
  });
  // A new thread takes over after its back-off (real time: a thread's start cannot be clock-driven).
  let accepted = false;
  for (let i = 0; i < 100 && !accepted; i++) {
    await new Promise((r) => setTimeout(r, 50));
    accepted = await store.ingest(ws, [testEvent({ userId: 'after', messageId: 'm-after' })]).then(
      () => true,
      () => false,
    );
  }
  expect(accepted).toBe(true);
  expect(thread.worker).not.toBe(dead);
  for (const userId of ['before', 'after'])
    expect(await store.lookupProfile(ws, { kind: 'user_id', value: userId })).not.toBeNull();
  expect(await store.lookupProfile(ws, { kind: 'user_id', value: 'during' })).toBeNull();
  await store.close();
});

/**
 * A pass over a large workspace scans on scan threads (scan-pool.ts), each over ranges of profiles
 * cut from the primary key. Here every pass of one store does (threshold 0, ranges of 7 profiles) and
 * none of the other's: the same history must end in the same stages, memberships and events.
 */
it('scans passes on scan threads with the same outcome as on one thread', async () => {
  const DAY = 86_400_000;
  const outcome = async (parallel: boolean) => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const path = join(root, `t${++n}.db`);
    const store = BuiltStore.open({
      path,
      clock,
      writer: 'thread',
      parallelScan: parallel ? { from: 0, chunk: 7 } : { from: Number.POSITIVE_INFINITY },
    });
    try {
      await store.migrate();
      const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
      const events = [];
      for (let i = 0; i < 40; i++) {
        events.push(
          testEvent({ userId: `u${i}`, messageId: `v${i}`, name: 'Product Viewed', timestamp: clock.now() }),
        );
        for (let k = 0; k < i % 4; k++)
          events.push(
            testEvent({
              userId: `u${i}`,
              messageId: `o${i}-${k}`,
              name: 'Order Completed',
              timestamp: clock.now(),
            }),
          );
      }
      await store.ingest(ws, events);
      clock.advance(3 * DAY);
      const put = (id: string, rule: unknown) =>
        store.changeDefinitions(
          ws,
          { kind: 'put_segment', segment: { id, name: id, description: '', rule, status: 'building' } },
          clock.now(),
        );
      // A build projected to one series, one reading traits, one needing whole facts.
      await put('seg_repeat', { event: 'Order Completed', count: { op: 'gte', value: 2 } });
      await put('seg_viewers', { and: [{ event: 'Product Viewed' }, { trait: 'plan', op: 'not_exists' }] });
      await put('seg_revenue', { computed: 'purchase_count', op: 'gte', value: 3 });
      const built = await reevaluateAll(store, clock, ws, {
        rebuildFacts: false,
        segments: ['seg_repeat', 'seg_viewers', 'seg_revenue'],
      });
      // A build whose rule reads another segment's stored memberships (a scan reads just those).
      await put('seg_repeat_viewers', {
        and: [{ segment: 'seg_repeat' }, { segment: 'seg_revenue', member: false }],
      });
      await reevaluateAll(store, clock, ws, { rebuildFacts: false, segments: ['seg_repeat_viewers'] });
      const builtSizes = Object.fromEntries(
        (await store.listSegments(ws)).map((s) => [s.id, s.size] as const),
      );
      // Time passes: a full pass moves stages.
      clock.advance(40 * DAY);
      const swept = await reevaluateAll(store, clock, ws, { rebuildFacts: false });
      const sizes = Object.fromEntries((await store.listSegments(ws)).map((s) => [s.id, s.size] as const));
      const stream = await store.listEngagementEvents(ws, { after: 0, limit: 1000 });
      const kinds: Record<string, number> = {};
      for (const e of stream) kinds[`${e.type} ${e.subject}`] = (kinds[`${e.type} ${e.subject}`] ?? 0) + 1;
      // Sizes kept and memberships by profile in step with the membership rows, however written (a
      // build on scan threads stores its pages past the triggers: profile-watch.ts).
      const db = new Database(path, { readonly: true });
      const inStep = db
        .prepare(
          `SELECT (SELECT count(*) FROM segment_counts c WHERE c.members <> (SELECT count(*) FROM segment_members m
             WHERE m.workspace_id = c.workspace_id AND m.segment_id = c.segment_id))
           + (SELECT count(*) FROM (SELECT p.rowid, s.num FROM segment_members m
               JOIN profiles p ON p.workspace_id = m.workspace_id AND p.id = m.profile_id
               JOIN segments s ON s.workspace_id = m.workspace_id AND s.id = m.segment_id
             EXCEPT SELECT profile_rowid, segment_num FROM profile_segments))
           + (SELECT count(*) FROM membership_bulk)`,
        )
        .pluck()
        .get();
      db.close();
      expect(inStep).toBe(0);
      return { built, builtSizes, swept, sizes, stages: await store.stageCounts(ws), kinds };
    } finally {
      await store.close();
    }
  };
  const threads = await outcome(true);
  expect(threads.built).toMatchObject({ processed: 40 });
  expect(threads.builtSizes).toEqual({
    seg_repeat: 20,
    seg_viewers: 40,
    seg_revenue: 10,
    seg_repeat_viewers: 10,
  });
  expect(threads.sizes).toEqual(threads.builtSizes);
  expect(threads.swept.changed).toBeGreaterThan(0);
  expect(threads).toEqual(await outcome(false));
});

it('copies committed pages into the database file on the checkpoint thread, not the writer', async () => {
  const path = join(root, `t${++n}.db`);
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const store = BuiltStore.open({ path, clock, writer: 'thread' });
  try {
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'ckpt', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    for (let b = 0; b < 10; b++)
      await store.ingest(
        ws,
        Array.from({ length: 100 }, (_, i) =>
          testEvent({
            userId: `u${b}-${i}`,
            name: 'Product Viewed',
            messageId: `ck-${b}-${i}`,
            properties: { sku: `SKU-${i}`, note: 'x'.repeat(300) },
          }),
        ),
      );
    const reader = new Database(path, { readonly: true });
    try {
      const pages = reader.pragma('page_count', { simple: true }) as number;
      const frames = statSync(`${path}-wal`).size / (4096 + 24);
      // Far fewer log pages than the writer's own checkpoint waits for, so only the thread copies them.
      expect(frames).toBeLessThan(WRITER_AUTOCHECKPOINT);
      const deadline = Date.now() + 10_000;
      while (statSync(path).size < pages * 4096 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(statSync(path).size).toBe(pages * 4096);
      // What the file holds alone (no log) is the committed data.
      const copy = join(root, `copy${n}.db`);
      copyFileSync(path, copy);
      const alone = new Database(copy, { readonly: true });
      expect(alone.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1000);
      alone.close();
    } finally {
      reader.close();
    }
  } finally {
    await store.close();
  }
});

it('hands a runner store to the writer at once, so it commits while this thread is still busy', async () => {
  const path = join(root, `t${++n}.db`);
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const store = BuiltStore.open({ path, clock, writer: 'thread' });
  const reader = () => new Database(path, { readonly: true });
  try {
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'at-once', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    const definition = {
      name: 'Thanks',
      trigger: { event: 'Order Completed' },
      entry: { limit: 'every_time' },
      start: 'thanks',
      steps: {
        thanks: { type: 'send', channel: 'email', template: 'thanks', next: 'done' },
        done: { type: 'exit' },
      },
    };
    await store.createJourney(ws, { id: 'jr_thanks', name: 'Thanks', draft: definition }, clock.now());
    await store.publishJourney(ws, 'jr_thanks', { definition, migrate: false, nextRunAt: null }, clock.now());
    await store.ingest(ws, [testEvent({ userId: 'u1', name: 'Order Completed', messageId: 'o1' })]);
    const db = reader();
    const claimed = db.prepare('SELECT count(*) FROM journey_entries WHERE claimed_by IS NOT NULL').pluck();
    expect(claimed.get()).toBe(0);
    // The runner claims (and stores) and then renders without yielding; here, a busy wait stands for
    // the rendering. The claim must be committed during it, not when the event loop next turns.
    const claim = store.claimDueEntries('w1', 10, clock.now(), 60_000);
    const until = Date.now() + 5000;
    let seen = 0;
    while (Date.now() < until && seen === 0) seen = claimed.get() as number;
    expect(seen).toBe(1);
    expect(await claim).toHaveLength(1);
    db.close();
  } finally {
    await store.close();
  }
});
