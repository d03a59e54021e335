/**
 * What the mobile push providers (FCM for Android, APNs for iOS) share: the message a journey step
 * sends to one device token, and the outcome, which beside the channel port's `SendResult` can say that
 * the token itself is dead (the app was uninstalled, the token was rotated or never belonged to this
 * app). The caller then deletes the token instead of trying it again. Both services authenticate the
 * sender with a short-lived JWT signed by a key the provider keeps (RS256 for Google's OAuth token
 * endpoint, ES256 for APNs); the signing is done here with node:crypto.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { ChannelProvider, SendResult } from '../channel.js';

export interface PushMessage {
  /** the device token the app got from FCM or APNs */
  readonly token: string;
  readonly title: string | null;
  readonly body: string;
  /** key/value pairs the app receives with the notification */
  readonly data: Readonly<Record<string, string>>;
  /** idempotency key of the message */
  readonly key: string;
  /** ms epoch after which delivery is pointless, or null */
  readonly expiresAt: number | null;
}

/** A send's outcome; `invalidToken` marks a device token that will never work again. */
export type PushResult =
  | SendResult
  | { readonly ok: false; readonly retryable: false; readonly reason: string; readonly invalidToken: true };

export interface PushProvider extends ChannelProvider<PushMessage> {
  readonly channel: 'push';
  send(m: PushMessage): Promise<PushResult>;
  close(): Promise<void>;
}

/** The outcome for a device token the push service says is dead. */
export function invalidToken(reason: string): PushResult {
  return { ok: false, retryable: false, reason, invalidToken: true };
}

/** A message whose `expiresAt` has passed is not sent at all. */
export function expiredResult(m: PushMessage, now: number): SendResult | null {
  return m.expiresAt !== null && m.expiresAt <= now
    ? { ok: false, retryable: false, reason: 'the message expired before it could be sent' }
    : null;
}

/** A compact JWS: base64url(header).base64url(claims).base64url(signature over the first two parts). */
export function signJwt(header: object, claims: object, sign: (input: Buffer) => Buffer): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(
    JSON.stringify(claims),
  ).toString('base64url')}`;
  return `${input}.${sign(Buffer.from(input)).toString('base64url')}`;
}

/**
 * Reads a PEM private key of the expected type, or says why it cannot. Keys pasted into environment
 * variables often carry `\n` as two characters; those are turned back into line breaks.
 */
export function readPrivateKey(
  pem: string,
  type: 'rsa' | 'ec',
): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (key.asymmetricKeyType !== type) {
    return { ok: false, reason: `expected an ${type.toUpperCase()} key, got ${key.asymmetricKeyType}` };
  }
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return { ok: false, reason: `expected a P-256 key, got ${key.asymmetricKeyDetails?.namedCurve}` };
  }
  return { ok: true, key };
}
