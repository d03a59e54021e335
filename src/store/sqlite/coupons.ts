/** Coupon pools on SQLite: writes inside the writer's transaction, reads on the reader connection. */
import {
  couponCode,
  couponPool,
  POOL_WITH_COUNTS,
  type CouponCodeRowDb,
  type CouponPoolRowDb,
} from '../coupon-rows.js';
import { couponKey, type CouponCode, type CouponPool, type CouponRequest } from '../coupon-store.js';
import { NotFoundError } from '../../errors.js';
import type { Prepare } from './statements.js';

export function putCouponPool(
  prep: Prepare,
  ws: string,
  p: { name: string; description: string | null },
  now: number,
): boolean {
  const created =
    prep(
      'INSERT OR IGNORE INTO coupon_pools (workspace_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ).run(ws, p.name, p.description, now, now).changes > 0;
  if (!created)
    prep('UPDATE coupon_pools SET description = ?, updated_at = ? WHERE workspace_id = ? AND name = ?').run(
      p.description,
      now,
      ws,
      p.name,
    );
  return created;
}

export function getCouponPool(r: Prepare, ws: string, name: string): CouponPool | null {
  const row = r(`${POOL_WITH_COUNTS} WHERE p.workspace_id = ? AND p.name = ?`).get(ws, name) as
    CouponPoolRowDb | undefined;
  return row ? couponPool(row) : null;
}

export function listCouponPools(r: Prepare, ws: string): CouponPool[] {
  return (r(`${POOL_WITH_COUNTS} WHERE p.workspace_id = ? ORDER BY p.name`).all(ws) as CouponPoolRowDb[]).map(
    couponPool,
  );
}

export function deleteCouponPool(prep: Prepare, ws: string, name: string): boolean {
  prep('DELETE FROM coupon_codes WHERE workspace_id = ? AND pool = ?').run(ws, name);
  return prep('DELETE FROM coupon_pools WHERE workspace_id = ? AND name = ?').run(ws, name).changes > 0;
}

export function addCouponCodes(
  prep: Prepare,
  ws: string,
  pool: string,
  codes: readonly string[],
  now: number,
): number {
  if (!prep('SELECT 1 FROM coupon_pools WHERE workspace_id = ? AND name = ?').get(ws, pool))
    throw new NotFoundError(`no coupon pool named "${pool}"`);
  const add = prep(
    'INSERT OR IGNORE INTO coupon_codes (workspace_id, pool, code, added_at) VALUES (?, ?, ?, ?)',
  );
  let added = 0;
  for (const c of codes) added += add.run(ws, pool, c, now).changes;
  return added;
}

export function getCouponCode(r: Prepare, ws: string, pool: string, code: string): CouponCode | null {
  const row = r('SELECT * FROM coupon_codes WHERE workspace_id = ? AND pool = ? AND code = ?').get(
    ws,
    pool,
    code,
  ) as CouponCodeRowDb | undefined;
  return row ? couponCode(row) : null;
}

export function assignCoupons(
  prep: Prepare,
  ws: string,
  requests: readonly CouponRequest[],
  now: number,
): Map<string, string | null> {
  const held = prep(
    'SELECT code FROM coupon_codes INDEXED BY coupon_codes_by_message WHERE workspace_id = ? AND pool = ? AND message_key = ?',
  ).pluck();
  const free = prep(
    `SELECT code FROM coupon_codes INDEXED BY coupon_codes_free
     WHERE workspace_id = ? AND pool = ? AND assigned_at IS NULL ORDER BY added_at, code LIMIT 1`,
  ).pluck();
  const take = prep(
    `UPDATE coupon_codes SET message_key = ?, profile_id = ?, assigned_at = ?
     WHERE workspace_id = ? AND pool = ? AND code = ?`,
  );
  const out = new Map<string, string | null>();
  for (const q of requests) {
    const k = couponKey(q);
    if (out.has(k)) continue;
    const mine = held.get(ws, q.pool, q.messageKey) as string | undefined;
    if (mine !== undefined) {
      out.set(k, mine);
      continue;
    }
    const code = free.get(ws, q.pool) as string | undefined;
    if (code === undefined) {
      out.set(k, null);
      continue;
    }
    take.run(q.messageKey, q.profileId, now, ws, q.pool, code);
    out.set(k, code);
  }
  return out;
}

/** Marks codes redeemed by an event (the first redemption counts). */
export function redeemCoupons(
  prep: Prepare,
  ws: string,
  redemptions: readonly { code: string; at: number }[],
): void {
  const redeem = prep(
    `UPDATE coupon_codes INDEXED BY coupon_codes_by_code SET redeemed_at = ?
     WHERE workspace_id = ? AND code = ? AND redeemed_at IS NULL`,
  );
  for (const r of redemptions) redeem.run(r.at, ws, r.code);
}
