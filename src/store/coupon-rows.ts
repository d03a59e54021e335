/** Row shapes of the coupon tables, and their conversion, shared by both adapters. */
import type { CouponCode, CouponPool } from './coupon-store.js';
import { num, numOrNull, type Num } from './rows.js';

export interface CouponPoolRowDb {
  name: string;
  description: string | null;
  created_at: Num;
  updated_at: Num;
  total: Num;
  assigned: Num;
  redeemed: Num;
}

export function couponPool(r: CouponPoolRowDb): CouponPool {
  return {
    name: r.name,
    description: r.description,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    total: num(r.total),
    assigned: num(r.assigned),
    redeemed: num(r.redeemed),
  };
}

export interface CouponCodeRowDb {
  pool: string;
  code: string;
  added_at: Num;
  message_key: string | null;
  profile_id: string | null;
  assigned_at: Num | null;
  redeemed_at: Num | null;
}

export function couponCode(r: CouponCodeRowDb): CouponCode {
  return {
    pool: r.pool,
    code: r.code,
    addedAt: num(r.added_at),
    messageKey: r.message_key,
    profileId: r.profile_id,
    assignedAt: numOrNull(r.assigned_at),
    redeemedAt: numOrNull(r.redeemed_at),
  };
}

/** A pool with its counts (the same text on both engines: plain SQL). */
export const POOL_WITH_COUNTS = `SELECT p.name, p.description, p.created_at, p.updated_at,
  (SELECT count(*) FROM coupon_codes c WHERE c.workspace_id = p.workspace_id AND c.pool = p.name) AS total,
  (SELECT count(*) FROM coupon_codes c WHERE c.workspace_id = p.workspace_id AND c.pool = p.name
     AND c.assigned_at IS NOT NULL) AS assigned,
  (SELECT count(*) FROM coupon_codes c WHERE c.workspace_id = p.workspace_id AND c.pool = p.name
     AND c.redeemed_at IS NOT NULL) AS redeemed
  FROM coupon_pools p`;
