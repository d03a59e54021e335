import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AbWinnerService } from '../engine/journeys/ab-winner.js';
import type { KeyAuth } from '../http/auth.js';
import { adminWorkspace, parse } from './params.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A/B broadcasts (docs/reports.md#send-the-rest-the-winner): where the test stands, and sending the
 * rest of the audience the winner (the significant one, else the best observed, or the one named).
 */
export function registerAbTestRoutes(
  app: FastifyInstance,
  deps: { auth: KeyAuth; winners: AbWinnerService },
): void {
  const workspace = (req: FastifyRequest) => adminWorkspace(deps.auth, req);
  type Id = { Params: { id: string } };

  app.get<Id>('/api/v1/broadcasts/:id/ab-test', async (req) => {
    const ws = await workspace(req);
    const v = await deps.winners.status(ws, req.params.id);
    return {
      journeyId: v.journeyId,
      variants: v.test.variants,
      metric: v.test.metric,
      sendWinnerAt: iso(v.decideAt),
      winner: v.test.winner,
      decidedAt: iso(v.test.decidedAt),
      results: v.results,
    };
  });

  app.post<Id>('/api/v1/broadcasts/:id/send-winner', async (req) => {
    const ws = await workspace(req);
    const body = parse(
      z.strictObject(
        { variant: z.string({ error: 'must be a variant name' }).min(1).optional() },
        { error: 'the body must be a JSON object' },
      ),
      req.body ?? {},
    );
    return deps.winners.sendRest(ws, req.params.id, { variant: body.variant });
  });
}
