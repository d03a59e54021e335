import type { Clock } from '../domain/clock.js';
import { compileDefinitions } from '../domain/engagement/definitions.js';
import { computedTraitsOf } from '../domain/engagement/evaluate.js';
import type { Logger } from 'pino';
import { fitLtv, ordersOf, refitDueAt, type LtvModel, type LtvSample } from '../domain/ltv/model.js';
import { ConflictError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { EngagementService } from './engagement.js';

/**
 * Fits a workspace's lifetime-value model (domain/ltv/model.ts) over every profile's facts, a page
 * at a time, and stores it with the definitions, which re-evaluates segments and stages with the new
 * predicted traits. One fit per workspace at a time; a fit reads only the facts (purchase counts, first
 * and last purchase, per-day counts, average order value), never the event history.
 */
export class LtvService {
  private readonly running = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly engagement: EngagementService,
  ) {}

  async fit(
    ws: string,
    opts: { holdoutDays: number; refitEveryDays?: number },
    progress?: (done: number) => void,
  ): Promise<LtvModel> {
    if (this.running.has(ws))
      throw new ConflictError('a fit of this workspace’s LTV model is already running');
    this.running.add(ws);
    try {
      const now = this.clock.now();
      const defs = compileDefinitions(await this.store.getDefinitions(ws));
      const samples: LtvSample[] = [];
      let after: string | null = null;
      let seen = 0;
      do {
        const page = await this.store.scanProfileStates(ws, { after, limit: 1000 });
        for (const p of page.profiles) {
          const orders = ordersOf(p.facts);
          if (!orders) continue;
          const aov = computedTraitsOf(p, defs, now).get('average_order_value');
          samples.push({ orders, averageOrderValue: typeof aov === 'number' ? aov : null });
        }
        seen += page.profiles.length;
        progress?.(seen);
        after = page.next;
      } while (after !== null);
      let model: LtvModel;
      try {
        model = {
          ...fitLtv(samples, now, opts.holdoutDays),
          refit: { everyDays: opts.refitEveryDays ?? 0, holdoutDays: opts.holdoutDays },
        };
      } catch (err) {
        if (err instanceof RangeError) throw new ConflictError(err.message, { cause: err });
        throw err;
      }
      await this.engagement.setLtvModel(ws, model);
      return model;
    } finally {
      this.running.delete(ws);
    }
  }

  /**
   * Refits every workspace's model whose scheduled refit is due (docs/ltv.md#refits), one workspace
   * after the other; returns how many were refitted. A workspace that can no longer be fitted (too few
   * buyers now) or is being fitted by hand keeps its model and is tried again on the next round.
   */
  async refitDue(logger: Logger): Promise<number> {
    let n = 0;
    for (const w of await this.store.listWorkspaces()) {
      const model = (await this.store.getDefinitions(w.id)).ltv;
      const due = model ? refitDueAt(model) : null;
      if (!model?.refit || due === null || this.clock.now() < due) continue;
      try {
        const next = await this.fit(w.id, {
          holdoutDays: model.refit.holdoutDays,
          refitEveryDays: model.refit.everyDays,
        });
        logger.info({ workspaceId: w.id, customers: next.customers }, 'LTV model refitted on schedule');
        n++;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        logger.warn({ workspaceId: w.id, reason: err.message }, 'scheduled LTV refit skipped');
      }
    }
    return n;
  }

  async forget(ws: string): Promise<void> {
    await this.engagement.setLtvModel(ws, null);
  }
}
