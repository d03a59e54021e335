import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { POOL_NAME } from '../domain/coupons.js';
import { parseCsv } from '../domain/csv.js';
import { utf8Text } from '../http/body.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { CouponCode, CouponPool } from '../store/coupon-store.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, parse } from './params.js';

/** A code as customers type it: printable, no spaces, at most 64 characters. */
const CODE = /^[\x21-\x7e]{1,64}$/;
/** Codes taken per upload (a bigger pool is uploaded in parts). */
const MAX_CODES = 100_000;

const poolBody = z.strictObject({
  description: z.string({ error: 'must be a string' }).max(500).nullable().default(null),
});
const codesBody = z.strictObject({
  codes: z.array(z.string({ error: 'must be a string' }), { error: 'required: an array of codes' }).min(1, {
    error: 'must hold at least one code',
  }),
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const poolJson = (p: CouponPool) => ({
  name: p.name,
  description: p.description,
  total: p.total,
  assigned: p.assigned,
  redeemed: p.redeemed,
  available: p.total - p.assigned,
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
});
const codeJson = (c: CouponCode) => ({
  pool: c.pool,
  code: c.code,
  addedAt: iso(c.addedAt),
  messageKey: c.messageKey,
  profileId: c.profileId,
  assignedAt: iso(c.assignedAt),
  redeemedAt: iso(c.redeemedAt),
});

function poolName(name: string): string {
  if (!POOL_NAME.test(name))
    throw new ValidationError([{ field: 'name', rule: 'must be 1–50 lower-case letters, digits or _' }]);
  return name;
}

/**
 * The codes of an upload: a JSON array, or text with one code per line (the first column of a CSV;
 * a header line `code` is skipped). Every bad code is named, and then nothing is stored.
 */
function codesOf(body: unknown): string[] {
  let raw: string[];
  if (Buffer.isBuffer(body)) {
    const csv = parseCsv(utf8Text(body));
    if (!csv.ok) throw new ValidationError([{ field: `line ${csv.line}`, rule: csv.reason }]);
    raw = csv.records
      .map((r) => (r.fields[0] ?? '').trim())
      .filter((c, i) => c !== '' && !(i === 0 && c.toLowerCase() === 'code'));
  } else raw = parse(codesBody, body).codes;
  if (raw.length === 0) throw new ValidationError([{ field: 'codes', rule: 'must hold at least one code' }]);
  if (raw.length > MAX_CODES)
    throw new ValidationError([
      { field: 'codes', rule: `must be at most ${MAX_CODES} per upload (this one has ${raw.length})` },
    ]);
  const issues = raw.flatMap((c, i) =>
    CODE.test(c) ? [] : [{ field: `codes[${i}]`, rule: 'must be 1–64 printable characters without spaces' }],
  );
  if (issues.length > 0) throw new ValidationError(issues.slice(0, 50));
  return [...new Set(raw)];
}

/** Coupon code pools (docs/coupons.md). */
export function registerCouponRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const { store } = deps;
  const existing = async (ws: string, name: string) => {
    const p = await store.getCouponPool(ws, name);
    if (!p) throw new NotFoundError(`no coupon pool named "${name}"`);
    return p;
  };

  app.get('/api/v1/coupon-pools', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    return { pools: (await store.listCouponPools(ws)).map(poolJson) };
  });

  app.put<{ Params: { name: string } }>('/api/v1/coupon-pools/:name', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const name = poolName(req.params.name);
    const b = parse(poolBody, req.body ?? {});
    const created = await store.putCouponPool(ws, { name, description: b.description }, deps.clock.now());
    return reply.status(created ? 201 : 200).send(poolJson(await existing(ws, name)));
  });

  app.get<{ Params: { name: string } }>('/api/v1/coupon-pools/:name', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    return poolJson(await existing(ws, req.params.name));
  });

  app.delete<{ Params: { name: string } }>('/api/v1/coupon-pools/:name', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const force = (req.query as { force?: string }).force === 'true';
    const p = await existing(ws, req.params.name);
    if (p.assigned > 0 && !force)
      throw new ConflictError(
        `pool "${p.name}" has ${p.assigned} codes given to customers; add ?force=true to delete them too`,
      );
    await store.deleteCouponPool(ws, p.name);
    return reply.status(204).send();
  });

  app.post<{ Params: { name: string } }>('/api/v1/coupon-pools/:name/codes', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    await existing(ws, req.params.name);
    const codes = codesOf(req.body);
    const added = await store.addCouponCodes(ws, req.params.name, codes, deps.clock.now());
    return { added, duplicates: codes.length - added, pool: poolJson(await existing(ws, req.params.name)) };
  });

  app.get<{ Params: { name: string; code: string } }>(
    '/api/v1/coupon-pools/:name/codes/:code',
    async (req) => {
      const ws = await adminWorkspace(deps.auth, req);
      const c = await store.getCouponCode(ws, req.params.name, req.params.code);
      if (!c) throw new NotFoundError(`pool "${req.params.name}" has no code "${req.params.code}"`);
      return codeJson(c);
    },
  );
}
