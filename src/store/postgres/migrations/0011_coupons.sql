-- Coupon code pools (docs/coupons.md): uploaded unique codes, each given once to one message. A code is
-- free until a message takes it (message_key, profile_id, assigned_at); the partial index hands out
-- the oldest free code first, and the unique index keeps one code per message and pool, so composing a
-- message again after a crash gets the same code back. Redemptions come from the customer's own events.
CREATE TABLE coupon_pools (
  workspace_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  description text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, name)
);

CREATE TABLE coupon_codes (
  workspace_id text COLLATE "C" NOT NULL,
  pool text COLLATE "C" NOT NULL,
  code text COLLATE "C" NOT NULL,
  added_at bigint NOT NULL,
  message_key text COLLATE "C",
  profile_id text COLLATE "C",
  assigned_at bigint,
  redeemed_at bigint,
  PRIMARY KEY (workspace_id, pool, code)
);
CREATE INDEX coupon_codes_free ON coupon_codes (workspace_id, pool, added_at, code) WHERE assigned_at IS NULL;
CREATE UNIQUE INDEX coupon_codes_by_message ON coupon_codes (workspace_id, pool, message_key)
  WHERE message_key IS NOT NULL;
CREATE INDEX coupon_codes_by_code ON coupon_codes (workspace_id, code);
