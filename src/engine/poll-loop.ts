import type { Logger } from 'pino';

/**
 * A background worker's loop: runs `work` (one batch, resolving with how many items it handled) again
 * at once while batches come back full, and otherwise sleeps `pollMs` or until nudged. A failing batch
 * is logged and retried a second later; the loop never dies while running.
 */
export class PollLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private nudged = false;

  constructor(
    private readonly work: () => Promise<number>,
    private readonly opts: { batch: number; pollMs: number; logger: Logger; what: string },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let n = 0;
        try {
          n = await this.work();
        } catch (err) {
          this.opts.logger.error({ err }, `${this.opts.what} batch failed; retrying`);
          await this.sleep(1000);
          continue;
        }
        if (n < this.opts.batch) await this.sleep(this.opts.pollMs);
      }
    })();
  }

  /** New work exists: look now instead of at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        this.nudged = false;
        done();
      };
    });
  }

  /** Stops after the batch in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }
}
