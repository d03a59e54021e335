import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { PrivacyService } from './privacy.js';
import { CoalescingRunner, reevaluateAll } from './reevaluation.js';

/**
 * Time-based re-evaluation: stages and segments change as time passes with no event (an active
 * customer drifts to at-risk). Every `intervalMs` the sweeper re-evaluates every profile of every
 * workspace, records segment sizes and deletes raw events older than the workspace's retention
 * (docs/privacy.md#retention). `tick()` is driven by a timer in the server and by hand in tests
 * (with an injected clock), so nothing sleeps.
 */
export class Sweeper {
  private readonly runner: CoalescingRunner;
  private lastRun = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly privacy: PrivacyService;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {
    this.runner = new CoalescingRunner(logger);
    this.privacy = new PrivacyService(store, clock);
  }

  /** Sweeps every workspace whose last sweep is at least one interval old. */
  async tick(): Promise<void> {
    for (const ws of await this.store.listWorkspaces()) {
      const last = this.lastRun.get(ws.id);
      if (last !== undefined && this.clock.now() - last < this.intervalMs) continue;
      await this.sweep(ws.id);
    }
  }

  /** One full pass over a workspace now. */
  sweep(workspaceId: string): Promise<void> {
    return this.runner.request(workspaceId, async () => {
      const started = this.clock.now();
      this.lastRun.set(workspaceId, started);
      const r = await reevaluateAll(this.store, this.clock, workspaceId, { rebuildFacts: false });
      await this.store.recordSegmentSizes(workspaceId, this.clock.now());
      const expiredEvents = await this.privacy.applyRetention(workspaceId);
      const expiredAudit = await this.privacy.applyAuditRetention(workspaceId);
      this.logger.info(
        { workspaceId, ...r, expiredEvents, expiredAudit, ms: this.clock.now() - started },
        'time-based re-evaluation done',
      );
    });
  }

  start(checkEveryMs = 60_000): void {
    const run = () => {
      this.tick().catch((err: unknown) => this.logger.error({ err }, 'sweep failed'));
    };
    this.timer = setInterval(run, checkEveryMs);
    this.timer.unref();
    run();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.runner.idle();
  }
}
