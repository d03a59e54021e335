/**
 * Coupon code pools (docs/coupons.md): unique codes uploaded per pool, each given to one message of one
 * customer, and marked redeemed when that customer's events report it.
 */

export interface CouponPool {
  readonly name: string;
  readonly description: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** codes uploaded */
  readonly total: number;
  /** codes given to a message */
  readonly assigned: number;
  /** codes a customer used */
  readonly redeemed: number;
}

export interface CouponCode {
  readonly pool: string;
  readonly code: string;
  readonly addedAt: number;
  readonly messageKey: string | null;
  readonly profileId: string | null;
  readonly assignedAt: number | null;
  readonly redeemedAt: number | null;
}

/** One code a message needs from a pool. */
export interface CouponRequest {
  readonly pool: string;
  readonly messageKey: string;
  readonly profileId: string;
}

export interface CouponStore {
  /** Creates a pool or changes its description; false when it existed. */
  putCouponPool(ws: string, p: { name: string; description: string | null }, now: number): Promise<boolean>;
  getCouponPool(ws: string, name: string): Promise<CouponPool | null>;
  /** By name. */
  listCouponPools(ws: string): Promise<CouponPool[]>;
  /** Removes a pool and its codes; false when there was none. */
  deleteCouponPool(ws: string, name: string): Promise<boolean>;
  /** Adds codes to a pool (which must exist); codes it already holds are left as they are. Returns how many were new. */
  addCouponCodes(ws: string, pool: string, codes: readonly string[], now: number): Promise<number>;
  getCouponCode(ws: string, pool: string, code: string): Promise<CouponCode | null>;
  /**
   * Gives each request a code: the one its message already holds from that pool (composing a message
   * again gives the same code), else the pool's oldest free code, taken for good. A request the pool
   * has no free code for gets null. Concurrent callers never get the same code. Keyed `pool/messageKey`.
   */
  assignCoupons(
    ws: string,
    requests: readonly CouponRequest[],
    now: number,
  ): Promise<Map<string, string | null>>;
}

/** The key `assignCoupons` answers a request under. */
export const couponKey = (r: { pool: string; messageKey: string }) => `${r.pool}/${r.messageKey}`;
