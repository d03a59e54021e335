import type { Clock } from '../../domain/clock.js';
import { chooseWinner, readAbTest, winnerDefinition, type AbTest } from '../../domain/journeys/ab-test.js';
import type { JsonObject } from '../../domain/event.js';
import { journeyResults, type Results } from '../../domain/journeys/results.js';
import { isObject } from '../../domain/rules/schema-values.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { JourneyView } from '../../store/journey-store.js';

export interface AbTestView {
  readonly journeyId: string;
  readonly test: AbTest;
  /** when the rest is sent automatically (null: only when asked) */
  readonly decideAt: number | null;
  /** the test variants' results (the rest and the control are left out) */
  readonly results: Results;
}

export interface SentRest {
  readonly journeyId: string;
  readonly winner: string;
  /** significant, best observed, or chosen by the caller */
  readonly how: 'significant' | 'best observed' | 'chosen';
  /** customers of the rest released to be sent the winner */
  readonly released: number;
  readonly version: number;
}

/**
 * Sends the rest of an A/B broadcast's audience the winning variant (domain/journeys/ab-test.ts):
 * on request, or by itself once the broadcast's `send_winner_after` has passed on the injected
 * clock (`runDue`, which a poll loop calls). Choosing publishes a new version and wakes the held
 * customers; the runner then sends them the winner like any journey step.
 */
export class AbWinnerService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private async load(ws: string, id: string): Promise<{ j: JourneyView; def: JsonObject; t: AbTest }> {
    const j = await this.store.getJourney(ws, id);
    if (!j) throw new NotFoundError(`journey ${id} not found`);
    const def = j.version > 0 ? await this.store.getJourneyVersion(ws, id, j.version) : null;
    const t = readAbTest(def);
    if (!t || !isObject(def)) throw new NotFoundError(`journey ${id} is not an A/B broadcast`);
    return { j, def, t };
  }

  async status(ws: string, id: string): Promise<AbTestView> {
    const { def, t } = await this.load(ws, id);
    const arms = (await this.store.journeyOutcomes(ws, id)).filter(
      (a) => a.arm !== null && a.arm in t.variants,
    );
    return {
      journeyId: id,
      test: t,
      decideAt: decideAt(def, t),
      results: journeyResults(arms, new Set(), { metric: t.metric }),
    };
  }

  /** ConflictError when the rest was sent already, the broadcast is not running, or nobody was tested yet. */
  async sendRest(ws: string, id: string, opts: { variant?: string | undefined } = {}): Promise<SentRest> {
    const { j, def, t } = await this.load(ws, id);
    if (t.winner !== null) throw new ConflictError(`the rest of ${id} was already sent variant ${t.winner}`);
    if (j.status !== 'published') throw new ConflictError(`journey ${id} is ${j.status}, not running`);
    if (opts.variant !== undefined && !(opts.variant in t.variants)) {
      throw new ValidationError([
        { field: 'variant', rule: `must be one of the test variants: ${Object.keys(t.variants).join(', ')}` },
      ]);
    }
    const arms = (await this.store.journeyOutcomes(ws, id)).filter(
      (a) => a.arm !== null && a.arm in t.variants,
    );
    if (!arms.some((a) => a.entered > 0)) throw new ConflictError(`no customer of ${id} has been tested yet`);
    const results = journeyResults(arms, new Set(), { metric: t.metric });
    const choice =
      opts.variant !== undefined
        ? { arm: opts.variant, how: 'chosen' as const }
        : chooseWinner(t, arms, results.winner?.arm ?? null);
    if (!choice) throw new ConflictError(`no customer of ${id} has been tested yet`);
    const now = this.clock.now();
    const next = winnerDefinition(def, t, choice.arm, now);
    // Published only over the version read above: of two processes choosing at once (two servers'
    // timers, or a timer and a person), one publishes and the other gets a ConflictError. No new run
    // is scheduled: the audience entered at the broadcast's one run.
    let version: number;
    try {
      ({ version } = await this.store.publishJourney(
        ws,
        id,
        { definition: next, migrate: true, nextRunAt: null, ifVersion: j.version },
        now,
      ));
    } catch (err) {
      if (err instanceof ConflictError)
        throw new ConflictError(`the rest of ${id} was not sent: ${err.message}`, { cause: err });
      throw err;
    }
    // The draft follows, so publishing it again later cannot bring the hold back.
    await this.store.updateJourneyDraft(ws, id, { name: j.name, draft: next }, now);
    const released = await this.store.releaseWaiting(ws, id, t.hold, now);
    return { journeyId: id, winner: choice.arm, how: choice.how, released, version };
  }

  /** Sends the rest of every running A/B broadcast whose wait is over; returns how many were sent. */
  async runDue(): Promise<number> {
    const now = this.clock.now();
    let sent = 0;
    for (const w of await this.store.listWorkspaces()) {
      for (const j of await this.store.listJourneys(w.id)) {
        if (j.status !== 'published') continue;
        const draftTest = readAbTest(j.draft);
        if (!draftTest || draftTest.winner !== null || draftTest.decideAfterMs === null) continue;
        const at = decideAt(j.draft, draftTest);
        if (at === null || at > now) continue;
        try {
          await this.sendRest(w.id, j.id);
          sent++;
        } catch (err) {
          // Nobody tested yet (an empty audience) or raced by a manual send: nothing to do now.
          if (!(err instanceof ConflictError)) throw err;
        }
      }
    }
    return sent;
  }
}

/** The broadcast's start (its schedule's `at`) plus the wait; null without a wait. */
function decideAt(def: unknown, t: AbTest): number | null {
  if (t.decideAfterMs === null || !isObject(def) || !isObject(def['trigger'])) return null;
  const s = def['trigger']['schedule'];
  const at = isObject(s) && typeof s['at'] === 'string' ? Date.parse(s['at']) : NaN;
  return Number.isFinite(at) ? at + t.decideAfterMs : null;
}
