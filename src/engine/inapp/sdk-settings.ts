import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../../channels/secret-box.js';
import type { Clock } from '../../domain/clock.js';
import { AuthenticationError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { parse } from '../../validation.js';

/** The browser SDK's settings of a workspace, with the identity secret opened. */
export interface SdkSettings {
  /** the SDK tracks nothing until the visitor consents */
  readonly consentRequired: boolean;
  /** when set, a request naming a userId must prove it with `userHash` (docs/in-app.md) */
  readonly identitySecret: string | null;
}

/** As stored: the secret sealed by the server's secret key. */
interface StoredSettings {
  consentRequired: boolean;
  identitySecret: string | null;
}

const NONE: SdkSettings = { consentRequired: false, identitySecret: null };
const CACHE_MS = 5_000;

const body = z.strictObject({
  consentRequired: z.boolean({ error: 'must be true or false' }).optional(),
  /** null turns identity verification off; left out keeps the current secret */
  identitySecret: z
    .string({ error: 'must be a string or null' })
    .min(32, { error: 'must be at least 32 characters' })
    .max(256, { error: 'must be at most 256 characters' })
    .nullable()
    .optional(),
});

/**
 * SDK settings (docs/in-app.md#identity-verification): read on every SDK request, so cached per
 * workspace for 5 s (a change made through another process shows within that); the secret is sealed
 * at rest like channel credentials and never shown again after it is set.
 */
export class SdkSettingsService {
  private readonly cache = new Map<string, { at: number; settings: SdkSettings }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  async get(ws: string): Promise<SdkSettings> {
    const now = this.clock.now();
    const hit = this.cache.get(ws);
    if (hit && now - hit.at < CACHE_MS && now >= hit.at) return hit.settings;
    const raw = (await this.store.getSdkSettings(ws)) as StoredSettings | null;
    const settings: SdkSettings = raw
      ? {
          consentRequired: raw.consentRequired,
          identitySecret:
            raw.identitySecret === null
              ? null
              : (this.box.open(raw.identitySecret, context(ws))['secret'] ?? null),
        }
      : NONE;
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(ws, { at: now, settings });
    return settings;
  }

  /** Applies a PUT body; fields left out keep their values. */
  async update(ws: string, input: unknown): Promise<SdkSettings> {
    const b = parse(body, input);
    const current = await this.get(ws);
    return this.put(ws, {
      consentRequired: b.consentRequired ?? current.consentRequired,
      identitySecret: b.identitySecret === undefined ? current.identitySecret : b.identitySecret,
    });
  }

  /** A new random identity secret, returned once; verification is on from now. */
  async rotateSecret(ws: string): Promise<string> {
    const secret = randomBytes(32).toString('hex');
    await this.put(ws, { ...(await this.get(ws)), identitySecret: secret });
    return secret;
  }

  private async put(ws: string, s: SdkSettings): Promise<SdkSettings> {
    const stored: StoredSettings = {
      consentRequired: s.consentRequired,
      identitySecret:
        s.identitySecret === null ? null : this.box.seal({ secret: s.identitySecret }, context(ws)),
    };
    await this.store.putSdkSettings(ws, stored, this.clock.now());
    this.cache.delete(ws);
    return s;
  }
}

export function sdkSettingsJson(s: SdkSettings) {
  return { consentRequired: s.consentRequired, identityVerification: s.identitySecret !== null };
}

/** hex(HMAC-SHA256(secret, userId)): what the site's backend computes for its logged-in customer. */
export function userHashOf(secret: string, userId: string): string {
  return createHmac('sha256', secret).update(userId, 'utf8').digest('hex');
}

/**
 * Checks a request's identity proof: with a secret set, a userId must come with its userHash. 401
 * naming `userHash` otherwise; a request with only an anonymousId needs none.
 */
export function verifyIdentity(s: SdkSettings, userId: string | null, userHash: string | null): void {
  if (s.identitySecret === null || userId === null) return;
  if (userHash === null)
    throw new AuthenticationError('userHash: required with userId (this workspace verifies identities)');
  const want = Buffer.from(userHashOf(s.identitySecret, userId), 'utf8');
  const got = Buffer.from(userHash.toLowerCase(), 'utf8');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new AuthenticationError('userHash: does not match userId (hex HMAC-SHA256 of the userId)');
}

function context(ws: string): string {
  return `kizuna/sdk/${ws}/identity`;
}
