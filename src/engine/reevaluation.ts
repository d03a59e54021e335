import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';

/** Profiles per re-evaluation transaction: small enough that ingestion interleaves between pages. */
export const PAGE_SIZE = 500;

export interface PassProgress {
  done: number;
  total: number;
}

/**
 * One pass over every canonical profile of a workspace, page by page, each page its own transaction.
 * Returns how many profiles changed stage or segments.
 */
export async function reevaluateAll(
  store: Store,
  clock: Clock,
  workspaceId: string,
  opts: { rebuildFacts: boolean; onProgress?: (p: PassProgress) => Promise<void> | void },
): Promise<{ processed: number; changed: number }> {
  const total = await store.countProfiles(workspaceId);
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
