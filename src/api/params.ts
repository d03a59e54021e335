import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../access/principal.js';
import type { KeyAuth } from '../http/auth.js';

/**
 * The workspace of the caller the access hook already authenticated and authorised (src/http/access.ts):
 * a key's or a signed-in user's. `_auth` is no longer used; it stays so route files keep one shape.
 */
export function adminWorkspace(_auth: KeyAuth, req: FastifyRequest): Promise<string> {
  return Promise.resolve(principalOf(req).workspaceId);
}

export { parse } from '../validation.js';

export const limit = (max: number, dflt: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` })
    .default(dflt);
