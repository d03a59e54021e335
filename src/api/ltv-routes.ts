import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { refitDueAt, type LtvModel } from '../domain/ltv/model.js';
import type { LtvService } from '../engine/ltv.js';
import { NotFoundError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, parse } from './params.js';

export interface LtvApiDeps {
  store: Store;
  auth: KeyAuth;
  ltv: LtvService;
}

/** The traits a fitted model gives every buyer (docs/ltv.md). */
export const LTV_TRAITS = ['probability_alive', 'predicted_purchases_365d', 'predicted_ltv_365d'] as const;

const fitBody = z.strictObject({
  holdout_days: z
    .number({ error: 'must be a whole number of days' })
    .int({ error: 'must be a whole number of days' })
    .min(0, { error: 'must be 0 (no holdout report) to 365' })
    .max(365, { error: 'must be 0 (no holdout report) to 365' })
    .default(90),
  refit_every_days: z
    .number({ error: 'must be a whole number of days' })
    .int({ error: 'must be a whole number of days' })
    .min(0, { error: 'must be 0 (refit only when asked) to 365' })
    .max(365, { error: 'must be 0 (refit only when asked) to 365' })
    .default(7),
});

export function ltvJson(m: LtvModel) {
  return {
    fittedAt: new Date(m.fittedAt).toISOString(),
    customers: m.customers,
    purchases: { model: 'BG/NBD', ...m.bgnbd },
    spend: m.spend === null ? null : { model: 'Gamma-Gamma', ...m.spend },
    holdout: m.holdout,
    refitEveryDays: m.refit?.everyDays ?? 0,
    nextFitAt: ((at) => (at === null ? null : new Date(at).toISOString()))(refitDueAt(m)),
    traits: LTV_TRAITS,
  };
}

/** The lifetime-value model: fit it, read it with its holdout report, forget it. */
export function registerLtvRoutes(app: FastifyInstance, deps: LtvApiDeps): void {
  const { store, auth, ltv } = deps;

  app.get('/api/v1/ltv', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const model = (await store.getDefinitions(ws)).ltv;
    if (!model) throw new NotFoundError('no LTV model has been fitted: POST /api/v1/ltv/fit');
    return ltvJson(model);
  });

  app.post('/api/v1/ltv/fit', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const body = parse(fitBody, req.body ?? {});
    return ltvJson(
      await ltv.fit(ws, { holdoutDays: body.holdout_days, refitEveryDays: body.refit_every_days }),
    );
  });

  app.delete('/api/v1/ltv', async (req, reply) => {
    const ws = await adminWorkspace(auth, req);
    await ltv.forget(ws);
    return reply.status(204).send();
  });
}
