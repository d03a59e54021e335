import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { CoalescingRunner, reevaluateAll } from './reevaluation.js';

/**
 * Builds segments over existing history. A new or changed segment is stored as `building`; this runs a
 * pass over every profile (rebuilding facts first when the definition needs events the facts do not
 * yet keep), reporting progress on the segment, then marks it `ready`. Real-time evaluation includes a
 * building segment from the moment it is saved, so no event is missed while the pass runs.
 */
export class SegmentBuilder {
  private readonly runner: CoalescingRunner;
  /** what the next pass of each workspace must do, merged over the requests made while one runs */
  private readonly wanted = new Map<string, { rebuildFacts: boolean; everyone: boolean }>();

  /**
   * `settleMs`: how long a pass waits for more definition changes before it starts (wall time: it
   * trades latency for work, it is not business time). 0 in tests.
   */
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settleMs = 0,
  ) {
    this.runner = new CoalescingRunner(logger);
  }

  /**
   * Starts (or queues) a pass that builds the workspace's `building` segments; `everyone` runs it even
   * when none is building (a new stage model). Resolves when it is done.
   */
  build(workspaceId: string, opts: { rebuildFacts: boolean; everyone?: boolean }): Promise<void> {
    const wanted = this.wanted.get(workspaceId) ?? { rebuildFacts: false, everyone: false };
    this.wanted.set(workspaceId, {
      rebuildFacts: wanted.rebuildFacts || opts.rebuildFacts,
      everyone: wanted.everyone || (opts.everyone ?? false),
    });
    return this.runner.request(workspaceId, async () => {
      // A burst of definition changes (a team saving twenty traits in a row) becomes one pass: each
      // change arriving during the wait joins it, and each arriving during the pass queues one more.
      if (this.settleMs > 0) await new Promise((r) => setTimeout(r, this.settleMs));
      const want = this.wanted.get(workspaceId) ?? { rebuildFacts: false, everyone: false };
      this.wanted.delete(workspaceId);
      const building = (await this.store.listSegments(workspaceId)).filter((s) => s.status === 'building');
      const rebuildFacts = want.rebuildFacts;
      if (building.length === 0 && !rebuildFacts && !want.everyone) return;
      const started = this.clock.now();
      const result = await reevaluateAll(this.store, this.clock, workspaceId, {
        rebuildFacts,
        // A pass for new or changed segments alone evaluates just them; a new stage model, RFM bands
        // or LTV model changes everyone's evaluation.
        ...(!want.everyone && { segments: building.map((s) => s.id) }),
        onProgress: async (p) => {
          for (const s of building)
            await this.store.setSegmentBuild(
              workspaceId,
              s.id,
              { status: 'building', ...p },
              this.clock.now(),
            );
        },
      });
      // A segment changed again during the pass stays building: its change asked for another pass.
      const now = (await this.store.listSegments(workspaceId)).filter((s) => s.status === 'building');
      for (const s of building) {
        const cur = now.find((x) => x.id === s.id);
        if (cur && cur.version === s.version)
          await this.store.setSegmentBuild(
            workspaceId,
            s.id,
            { status: 'ready', done: result.processed, total: result.processed },
            this.clock.now(),
          );
      }
      this.logger.info(
        {
          workspaceId,
          segments: building.map((s) => s.id),
          rebuildFacts,
          ms: this.clock.now() - started,
          ...result,
        },
        'segments built',
      );
    });
  }

  /** Resumes builds a stopped process left unfinished. */
  async resume(): Promise<void> {
    for (const ws of await this.store.listWorkspaces()) {
      if ((await this.store.listSegments(ws.id)).some((s) => s.status === 'building'))
        void this.build(ws.id, { rebuildFacts: true });
    }
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }
}
