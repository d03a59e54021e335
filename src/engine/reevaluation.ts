import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { compileDefinitions, type Definitions } from '../domain/engagement/definitions.js';
import { evaluateProfile, segmentsWouldChange } from '../domain/engagement/evaluate.js';

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
 * Without a facts rebuild the pass scans on the reader and evaluates here, off the writer: most
 * profiles do not change in a pass, and only those that would are handed to the writer, which loads
 * and evaluates them again under its lock (so an event that arrived meanwhile is never overwritten).
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
  let after: string | null = null;
  let processed = 0;
  let changed = 0;
  for (;;) {
    const rec = await store.getDefinitions(workspaceId);
    if (defs?.version !== rec.version) defs = compileDefinitions(rec);
    await yieldToRequests();
    const page = await store.scanProfileStates(workspaceId, { after, limit: SCAN_PAGE_SIZE });
    const now = clock.now();
    const candidates: string[] = [];
    for (const p of page.profiles) {
      const changes = only ? segmentsWouldChange(p, defs, only, now) : evaluateProfile(p, defs, now).changed;
      if (changes) candidates.push(p.id);
    }
    for (let i = 0; i < candidates.length; i += PAGE_SIZE) {
      const r = await store.reevaluateProfiles(workspaceId, {
        after: null,
        limit: PAGE_SIZE,
        now: clock.now(),
        rebuildFacts: false,
        ids: candidates.slice(i, i + PAGE_SIZE),
      });
      changed += r.changed;
    }
    processed += page.profiles.length;
    await onProgress?.({ done: processed, total: Math.max(total, processed) });
    if (page.next === null) return { processed, changed };
    after = page.next;
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
