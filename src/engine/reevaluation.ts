import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { ScannedChange, ScannedChunk, Store } from '../store/store.js';
import { compileDefinitions, type Definitions } from '../domain/engagement/definitions.js';
import { findChanges } from '../domain/engagement/evaluate.js';
import { factsNeededBy, type FactsProjection } from '../domain/engagement/needs.js';

/** Profiles per re-evaluation transaction: small enough that ingestion interleaves between pages. */
export const PAGE_SIZE = 500;

export interface PassProgress {
  done: number;
  total: number;
}

/**
 * Profiles per scan page. A scan evaluates on the thread that serves HTTP (about 0.1 ms a profile with
 * 50 segments), so a page is kept to tens of milliseconds and the scan yields between pages.
 */
export const SCAN_PAGE_SIZE = 250;

/** Lets queued requests run between scan pages: SQLite reads resolve without ever yielding. */
export const yieldToRequests = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One pass over every canonical profile of a workspace. Returns how many changed stage or segments.
 *
 * Without a facts rebuild the pass scans on the reader and evaluates here (or, on a large SQLite
 * workspace, on the store's scan threads), off the writer: most profiles do not change in a pass, and
 * only those that would are handed to the writer, which loads and evaluates them again under its lock
 * (so an event that arrived meanwhile is never overwritten).
 * Ingestion keeps the writer almost to itself during a sweep. A rebuild writes every profile's facts,
 * so it runs page by page on the writer.
 */
export async function reevaluateAll(
  store: Store,
  clock: Clock,
  workspaceId: string,
  opts: {
    rebuildFacts: boolean;
    /**
     * Only these segments are new or changed (a build): the scan evaluates just them and leaves the
     * stage and the other segments to the sweep. Ignored with `rebuildFacts`.
     */
    segments?: readonly string[];
    onProgress?: (p: PassProgress) => Promise<void> | void;
  },
): Promise<{ processed: number; changed: number }> {
  const total = await store.countProfiles(workspaceId);
  if (!opts.rebuildFacts)
    return scanAndConfirm(
      store,
      clock,
      workspaceId,
      total,
      opts.segments ? new Set(opts.segments) : null,
      opts.onProgress,
    );
  let after: string | null = null;
  let processed = 0;
  let changed = 0;
  for (;;) {
    const r = await store.reevaluateProfiles(workspaceId, {
      after,
      limit: PAGE_SIZE,
      now: clock.now(),
      rebuildFacts: opts.rebuildFacts,
    });
    processed += r.processed;
    changed += r.changed;
    await opts.onProgress?.({ done: processed, total: Math.max(total, processed) });
    if (r.next === null) return { processed, changed };
    after = r.next;
  }
}

async function scanAndConfirm(
  store: Store,
  clock: Clock,
  workspaceId: string,
  total: number,
  only: ReadonlySet<string> | null,
  onProgress: ((p: PassProgress) => Promise<void> | void) | undefined,
): Promise<{ processed: number; changed: number }> {
  let defs: Definitions | null = null;
  // A build reads just the facts its segments' rules need (recomputed when the definitions change).
  let projected = { version: -1, facts: null as FactsProjection | null };
  let after: string | null = null;
  let processed = 0;
  let changed = 0;
  let reported = 0;
  // Progress is a write of its own: about a hundred per pass, not one per scan page.
  const reportEvery = Math.max(SCAN_PAGE_SIZE, Math.ceil(total / 100));
  // Profiles that would change are confirmed in writer pages of PAGE_SIZE, gathered over scan pages,
  // while the scan goes on: one confirmation in flight at a time, so the scan (this thread) and the
  // writer (its own thread or the database server) work at once, and the writer never queues more
  // than one page of a pass ahead of ingestion.
  const pending: string[] = [];
  let inFlight: Promise<void> | null = null;
  // A build on a store that can watch which profiles change while it scans: what the scan found for
  // profiles nothing touched meanwhile is stored as found, and only the others are confirmed.
  const scannedAt = clock.now();
  const watch = only && store.watchProfiles ? await store.watchProfiles(workspaceId) : null;
  const scanned: ScannedChange[] = [];
  // and their profiles' rowids, while every chunk brings them (SQLite's scan threads)
  let rowids: number[] | null = [];
  let scannedVersion = -1;
  const storeScanned = async (n: number): Promise<void> => {
    const changes = scanned.splice(0, n);
    const page = rowids?.splice(0, n);
    if (inFlight) await inFlight;
    inFlight = store.applyScannedMemberships!(workspaceId, watch!, {
      version: scannedVersion,
      now: scannedAt,
      changes,
      ...(page && { rowids: page }),
    }).then((r) => {
      changed += r.applied;
      for (const id of r.rest) pending.push(id);
    });
  };
  const confirm = async (ids: string[]): Promise<void> => {
    if (inFlight) await inFlight;
    inFlight = store
      .reevaluateProfiles(workspaceId, {
        after: null,
        limit: ids.length,
        now: clock.now(),
        rebuildFacts: false,
        ids,
        // A build confirms just its segments; a sweep evaluates everything.
        ...(only && { segments: [...only] }),
        relaxedDurability: true,
      })
      .then((r) => {
        changed += r.changed;
      });
  };
  /** Takes a scanned stretch's ids that would change: confirms them a writer page at a time. */
  const take = async (chunk: ScannedChunk): Promise<void> => {
    if (watch !== null && chunk.changes && chunk.version !== undefined) {
      // A page holds the changes of one definitions version.
      if (chunk.version !== scannedVersion && scanned.length > 0) await storeScanned(scanned.length);
      scannedVersion = chunk.version;
      for (const c of chunk.changes) scanned.push(c);
      if (chunk.rowids?.length !== chunk.changes.length) rowids = null;
      else if (rowids) for (const r of chunk.rowids) rowids.push(r);
    } else for (const id of chunk.ids) pending.push(id);
    while (scanned.length >= PAGE_SIZE) await storeScanned(PAGE_SIZE);
    while (pending.length >= PAGE_SIZE) await confirm(pending.splice(0, PAGE_SIZE));
    processed += chunk.scanned;
    if (processed - reported >= reportEvery) {
      reported = processed;
      await onProgress?.({ done: processed, total: Math.max(total, processed) });
    }
  };
  const finish = async (): Promise<{ processed: number; changed: number }> => {
    if (scanned.length > 0) await storeScanned(scanned.length);
    // What the stored pages sent back joins `pending` when they settle.
    while (inFlight || pending.length > 0) {
      if (inFlight) await inFlight;
      inFlight = null;
      if (pending.length > 0) await confirm(pending.splice(0));
    }
    await onProgress?.({ done: processed, total: Math.max(total, processed) });
    return { processed, changed };
  };
  try {
    // A large SQLite workspace scans on scan threads (both cores), as the definitions stand now.
    if (
      store.scanForChanges &&
      (await store.scanForChanges(workspaceId, { only: only && [...only], now: scannedAt, total }, take))
    )
      return await finish();
    for (;;) {
      const rec = await store.getDefinitions(workspaceId);
      if (defs?.version !== rec.version) defs = compileDefinitions(rec);
      await yieldToRequests();
      if (only && projected.version !== defs.version)
        projected = { version: defs.version, facts: factsNeededBy(defs, only) };
      const page = await store.scanProfileStates(workspaceId, {
        after,
        limit: SCAN_PAGE_SIZE,
        ...(projected.facts && { facts: projected.facts }),
      });
      // A watched build evaluates at the time its stored pages are entered at.
      const now = watch !== null ? scannedAt : clock.now();
      const { ids, changes } = findChanges(page.profiles, defs, only, now);
      await take({ ids, scanned: page.profiles.length, changes, version: defs.version });
      if (page.next === null) return await finish();
      after = page.next;
    }
  } finally {
    // A failed page must not leave a confirmation running unobserved.
    if (inFlight) await (inFlight as Promise<void>).catch(() => undefined);
    if (watch !== null) await store.unwatchProfiles?.(watch).catch(() => undefined);
  }
}

/** Runs one task per key at a time; asking again while it runs queues exactly one more run. */
export class CoalescingRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(private readonly logger: Logger) {}

  request(key: string, task: () => Promise<void>): Promise<void> {
    const current = this.running.get(key);
    if (current) {
      this.again.add(key);
      return current;
    }
    const run = (async () => {
      do {
        this.again.delete(key);
        try {
          await task();
        } catch (err) {
          this.logger.error({ err, key }, 're-evaluation failed');
        }
      } while (this.again.has(key));
    })().finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** Resolves when nothing runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }
}
