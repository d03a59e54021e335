import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.js';
import { CHANNELS } from '../domain/journeys/parse.js';
import { deliverySettingsJson, NO_SETTINGS, parseDeliverySettings } from '../domain/respect.js';
import { ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, limit, parse } from './params.js';
import { z } from 'zod';
import { holdoutReport } from '../engine/holdout.js';

/** Quiet hours, frequency caps and the global holdout with its report (docs/channels.md#respect-rules). */
export function registerDeliverySettingsRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  app.get('/api/v1/delivery-settings', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const raw = await deps.store.getDeliverySettings(ws);
    const p = raw === null ? null : parseDeliverySettings(raw, CHANNELS);
    return deliverySettingsJson(p?.ok ? p.settings : NO_SETTINGS);
  });

  app.put('/api/v1/delivery-settings', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const p = parseDeliverySettings(req.body, CHANNELS);
    if (!p.ok) throw new ValidationError(p.issues);
    const json = deliverySettingsJson(p.settings);
    await deps.store.putDeliverySettings(ws, json, deps.clock.now());
    return json;
  });

  app.get('/api/v1/holdout/results', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(
      z.object({
        event: z
          .string({ error: 'required: the goal event name' })
          .min(1, { error: 'must not be empty' })
          .max(200),
        days: limit(400, 30),
      }),
      req.query,
    );
    return holdoutReport(deps.store, deps.clock, ws, { event: q.event, days: q.days });
  });
}
