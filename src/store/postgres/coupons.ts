/**
 * Coupon pools on PostgreSQL. Free codes are taken with `FOR UPDATE SKIP LOCKED`, so concurrent
 * composers (several runner processes) each get different codes without waiting for each other.
 */
import {
  couponCode,
  couponPool,
  POOL_WITH_COUNTS,
  type CouponCodeRowDb,
  type CouponPoolRowDb,
} from '../coupon-rows.js';
import { couponKey, type CouponCode, type CouponPool, type CouponRequest } from '../coupon-store.js';
import { NotFoundError } from '../../errors.js';
import type { Sql } from './pg-driver.js';

export async function putCouponPool(
  sql: Sql,
  ws: string,
  p: { name: string; description: string | null },
  now: number,
): Promise<boolean> {
  const rows = await sql.query<{ created: boolean }>(
    `INSERT INTO coupon_pools (workspace_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (workspace_id, name) DO UPDATE SET description = excluded.description, updated_at = excluded.updated_at
     RETURNING (xmax = 0) AS created`,
    [ws, p.name, p.description, now],
  );
  return rows[0]?.created === true;
}

export async function getCouponPool(sql: Sql, ws: string, name: string): Promise<CouponPool | null> {
  const rows = await sql.query<CouponPoolRowDb>(
    `${POOL_WITH_COUNTS} WHERE p.workspace_id = $1 AND p.name = $2`,
    [ws, name],
  );
  return rows[0] ? couponPool(rows[0]) : null;
}

export async function listCouponPools(sql: Sql, ws: string): Promise<CouponPool[]> {
  const rows = await sql.query<CouponPoolRowDb>(
    `${POOL_WITH_COUNTS} WHERE p.workspace_id = $1 ORDER BY p.name`,
    [ws],
  );
  return rows.map(couponPool);
}

export async function deleteCouponPool(sql: Sql, ws: string, name: string): Promise<boolean> {
  await sql.query('DELETE FROM coupon_codes WHERE workspace_id = $1 AND pool = $2', [ws, name]);
  const rows = await sql.query('DELETE FROM coupon_pools WHERE workspace_id = $1 AND name = $2 RETURNING 1', [
    ws,
    name,
  ]);
  return rows.length > 0;
}

export async function addCouponCodes(
  sql: Sql,
  ws: string,
  pool: string,
  codes: readonly string[],
  now: number,
): Promise<number> {
  const exists = await sql.query('SELECT 1 FROM coupon_pools WHERE workspace_id = $1 AND name = $2', [
    ws,
    pool,
  ]);
  if (exists.length === 0) throw new NotFoundError(`no coupon pool named "${pool}"`);
  const rows = await sql.query(
    `INSERT INTO coupon_codes (workspace_id, pool, code, added_at)
     SELECT $1, $2, c, $4 FROM unnest($3::text[]) AS c
     ON CONFLICT DO NOTHING RETURNING 1`,
    [ws, pool, codes, now],
  );
  return rows.length;
}

export async function getCouponCode(
  sql: Sql,
  ws: string,
  pool: string,
  code: string,
): Promise<CouponCode | null> {
  const rows = await sql.query<CouponCodeRowDb>(
    'SELECT * FROM coupon_codes WHERE workspace_id = $1 AND pool = $2 AND code = $3',
    [ws, pool, code],
  );
  return rows[0] ? couponCode(rows[0]) : null;
}

/** Runs inside a transaction: per pool, the codes messages already hold, then free codes for the rest. */
export async function assignCoupons(
  sql: Sql,
  ws: string,
  requests: readonly CouponRequest[],
  now: number,
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const byPool = new Map<string, CouponRequest[]>();
  for (const q of requests) {
    if (out.has(couponKey(q))) continue;
    out.set(couponKey(q), null);
    byPool.set(q.pool, [...(byPool.get(q.pool) ?? []), q]);
  }
  for (const [pool, qs] of byPool) {
    const held = await sql.query<{ message_key: string; code: string }>(
      `SELECT message_key, code FROM coupon_codes
       WHERE workspace_id = $1 AND pool = $2 AND message_key = ANY($3::text[])`,
      [ws, pool, qs.map((q) => q.messageKey)],
    );
    for (const h of held) out.set(couponKey({ pool, messageKey: h.message_key }), h.code);
    const want = qs.filter((q) => out.get(couponKey(q)) === null);
    if (want.length === 0) continue;
    const taken = await sql.query<{ message_key: string; code: string }>(
      `WITH want AS (
         SELECT w.key, w.profile_id, w.n FROM json_to_recordset($3::json) AS w (key text, profile_id text, n integer)),
       free AS (
         SELECT code, row_number() OVER (ORDER BY added_at, code) AS n FROM (
           SELECT code, added_at FROM coupon_codes
           WHERE workspace_id = $1 AND pool = $2 AND assigned_at IS NULL
           ORDER BY added_at, code LIMIT $4 FOR UPDATE SKIP LOCKED) f)
       UPDATE coupon_codes c SET message_key = want.key, profile_id = want.profile_id, assigned_at = $5
       FROM want JOIN free ON free.n = want.n
       WHERE c.workspace_id = $1 AND c.pool = $2 AND c.code = free.code
       RETURNING c.message_key, c.code`,
      [
        ws,
        pool,
        JSON.stringify(want.map((q, i) => ({ key: q.messageKey, profile_id: q.profileId, n: i + 1 }))),
        want.length,
        now,
      ],
    );
    for (const t of taken) out.set(couponKey({ pool, messageKey: t.message_key }), t.code);
  }
  return out;
}

/** Marks codes redeemed by an event (the first redemption counts). */
export async function redeemCoupons(
  sql: Sql,
  ws: string,
  redemptions: readonly { code: string; at: number }[],
): Promise<void> {
  if (redemptions.length === 0) return;
  await sql.query(
    `UPDATE coupon_codes c SET redeemed_at = r.at
     FROM (SELECT code, min(at) AS at FROM json_to_recordset($2::json) AS x (code text, at bigint) GROUP BY code) r
     WHERE c.workspace_id = $1 AND c.code = r.code AND c.redeemed_at IS NULL`,
    [ws, JSON.stringify(redemptions)],
  );
}
