import type { Writable } from 'node:stream';
import { PRODUCTS, SHOP_URL } from '../demo/catalog.js';
import { generateShop } from '../demo/shop.js';
import type { NormalizedEvent } from '../domain/event.js';
import { ValidationError } from '../errors.js';
import { normalizeMessage } from '../ingest/message.js';
import type { Store } from '../store/store.js';
import { createWorkspace } from '../workspace.js';
import { createProgress } from './progress.js';

export interface DemoOptions {
  customers: number;
  workspace: string;
  seed: number;
  days: number;
  out: Writable & { isTTY?: boolean };
  now?: number;
}

/** Events per store call: big enough to amortise a commit, small enough to keep memory flat. */
const BATCH = 1000;
const IN_FLIGHT = 4;

/**
 * Streams a generated shop history through the same validation as /v1/batch into `workspace`,
 * creating it if needed. Generated messageIds are deterministic, so running it twice with the same
 * seed and `now` stores nothing twice.
 */
export async function runDemo(
  store: Store,
  opts: DemoOptions,
): Promise<{ workspaceId: string; events: number; duplicates: number }> {
  let workspaceId = (await store.findWorkspaceByName(opts.workspace))?.id;
  if (!workspaceId) {
    const ws = await createWorkspace(store, opts.workspace);
    workspaceId = ws.id;
    opts.out.write(
      `Created workspace "${ws.name}" (${ws.id}). Keys, shown once:\n  write key: ${ws.writeKey}\n  admin key: ${ws.adminKey}\n`,
    );
  }
  const now = opts.now ?? Date.now();
  // The shop's products, so its views and orders can be turned into recommendations (docs/catalog.md).
  await store.putItems(
    workspaceId,
    PRODUCTS.map((p) => ({
      id: p.product_id,
      name: p.name,
      url: `${SHOP_URL}/products/${p.slug}`,
      imageUrl: null,
      price: p.priceJpy,
      currency: 'JPY',
      category: p.category,
      available: true,
      extra: { sku: p.sku },
      updatedAt: now,
    })),
  );
  const progress = createProgress({ total: opts.customers, label: 'customers', stream: opts.out });
  let pending: NormalizedEvent[] = [];
  let events = 0;
  let duplicates = 0;
  let customers = 0;
  let progressed = 0;
  // Up to IN_FLIGHT batches are being stored while the next ones are generated, so generation and
  // the writer (its own thread) overlap. A customer's messages never span two batches, so batches are
  // independent and may commit in any order.
  const inFlight = new Set<Promise<void>>();
  const send = async (batch: NormalizedEvent[], done: number) => {
    const r = await store.ingest(workspaceId, batch);
    events += r.stored;
    duplicates += r.duplicates;
    progress.tick(done);
  };
  const flush = async () => {
    if (pending.length === 0) return;
    const p = send(pending, customers - progressed);
    progressed = customers;
    pending = [];
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  for (const history of generateShop({ customers: opts.customers, seed: opts.seed, now, days: opts.days })) {
    for (const msg of history) {
      const r = normalizeMessage(msg, 'demo', null, {
        receivedAt: now,
        sentAt: null,
        context: null,
        ip: null,
      });
      if (!r.ok) throw new ValidationError(r.issues);
      pending.push(r.event);
    }
    customers++;
    if (pending.length >= BATCH) await flush();
  }
  await flush();
  await Promise.all(inFlight);
  progress.done();
  const n = (x: number) => x.toLocaleString('en-US');
  opts.out.write(
    `Stored ${n(events)} events for ${n(customers)} customers in workspace "${opts.workspace}"` +
      (duplicates > 0 ? ` (${n(duplicates)} were already there)` : '') +
      '.\n',
  );
  return { workspaceId, events, duplicates };
}
