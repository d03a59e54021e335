import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { KeyAuth } from '../http/auth.js';

/** The workspace of the request's `Authorization: Bearer <adminKey>`. */
export function adminWorkspace(auth: KeyAuth, req: FastifyRequest): Promise<string> {
  const h = req.headers.authorization;
  return auth.workspaceOf(h?.startsWith('Bearer ') ? h.slice(7).trim() : null, 'admin');
}

export { parse } from '../validation.js';

export const limit = (max: number, dflt: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` })
    .default(dflt);
