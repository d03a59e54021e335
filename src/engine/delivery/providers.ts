/**
 * The providers each channel can use and what their configuration holds (docs/channels.md): plain
 * settings, validated field by field, and credentials, which the channel service seals before storing.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readPrivateKey } from '../../channels/push/push.js';
import { generateVapidKeys } from '../../channels/webpush/web-push.js';
import { ValidationError } from '../../errors.js';

interface ProviderSpec {
  readonly settings: z.ZodType<Record<string, unknown>>;
  readonly secrets: z.ZodType<Record<string, string>>;
  /**
   * Completes a configuration once its credentials are merged with the stored ones: makes up what may
   * be generated (a webhook signing secret, a VAPID key pair) and derives settings from credentials.
   * Throws a ValidationError naming the credential when they do not fit together.
   */
  readonly complete?: (
    settings: Record<string, unknown>,
    secrets: Record<string, string>,
  ) => { settings: Record<string, unknown>; secrets: Record<string, string> };
}

export const newSigningSecret = () => ({ signing_secret: `whsec_${randomBytes(24).toString('base64url')}` });

const ratePerSecond = z
  .number({ error: 'must be a number' })
  .positive({ error: 'must be more than 0' })
  .max(100_000, { error: 'must be at most 100000' })
  .nullable()
  .default(null);

const timeoutMs = (dflt: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1000, { error: 'must be 1000–120000' })
    .max(120_000, { error: 'must be 1000–120000' })
    .default(dflt);
const port = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(1, { error: 'must be 1–65535' })
  .max(65535, { error: 'must be 1–65535' });
const mailbox = z
  .string({ error: 'must be a string' })
  .regex(/^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/, {
    error: 'must be an address, optionally with a name: Shop <news@shop.example>',
  });

const origin = (example: string) =>
  z
    .string({ error: 'must be a string' })
    .regex(/^https?:\/\/[^\s/?#]+\/?$/, { error: `must be an http(s) origin such as ${example}` })
    .default(example);
const required = (what: string) =>
  z
    .string({ error: `required: ${what}` })
    .min(1, { error: 'must not be empty' })
    .max(500);
const privateKey = z
  .object({ private_key: z.string().min(1).max(10_000) })
  .partial()
  .strict();

/** A PEM key that must be of `type`, checked when given: a wrong key fails at once, not at the first send. */
const pemKey =
  (type: 'rsa' | 'ec', what: string) =>
  (settings: Record<string, unknown>, secrets: Record<string, string>) => {
    const pem = secrets['private_key'];
    if (pem !== undefined) {
      const k = readPrivateKey(pem, type);
      if (!k.ok) throw new ValidationError([{ field: 'private_key', rule: `must be ${what}: ${k.reason}` }]);
    }
    return { settings, secrets };
  };

/**
 * The VAPID key pair: generated when the workspace gives none, and the public key (which browsers
 * subscribe with) always derived from the private one, so the two cannot disagree.
 */
function vapidPair(settings: Record<string, unknown>, secrets: Record<string, string>) {
  const given = secrets['private_key'];
  if (given === undefined) {
    const pair = generateVapidKeys();
    return {
      settings: { ...settings, public_key: pair.publicKey },
      secrets: { ...secrets, private_key: pair.privateKey },
    };
  }
  const raw = Buffer.from(given, 'base64url');
  let publicKey: string;
  try {
    if (raw.length !== 32) throw new Error('not 32 bytes');
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(raw);
    publicKey = ecdh.getPublicKey().toString('base64url');
  } catch {
    throw new ValidationError([
      { field: 'private_key', rule: 'must be a VAPID private key: 32 bytes of a P-256 key, base64url' },
    ]);
  }
  return { settings: { ...settings, public_key: publicKey }, secrets };
}

/** channel → provider → what its configuration holds */
export const PROVIDERS: Record<string, Record<string, ProviderSpec>> = {
  line: {
    'messaging-api': {
      settings: z
        .object({
          base_url: z
            .string({ error: 'must be a string' })
            .regex(/^https?:\/\/[^\s/?#]+\/?$/, {
              error: 'must be an http(s) origin such as https://api.line.me',
            })
            .default('https://api.line.me'),
          timeout_ms: timeoutMs(10_000),
          rate_per_second: ratePerSecond,
        })
        .strict(),
      secrets: z
        .object({ channel_access_token: z.string().min(1).max(1000) })
        .partial()
        .strict(),
    },
  },
  sms: {
    twilio: {
      settings: z
        .object({
          base_url: z
            .string({ error: 'must be a string' })
            .regex(/^https?:\/\/[^\s/?#]+\/?$/, {
              error: 'must be an http(s) origin such as https://api.twilio.com',
            })
            .default('https://api.twilio.com'),
          account_sid: z
            .string({ error: 'required: the account SID' })
            .min(1, { error: 'must not be empty' }),
          from: z
            .string({ error: 'required: a sender number (E.164) or a messaging service id (MG…)' })
            .regex(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, {
              error: 'must be a phone number in E.164 (+819012345678) or a messaging service id (MG…)',
            }),
          timeout_ms: timeoutMs(10_000),
          rate_per_second: ratePerSecond,
        })
        .strict(),
      secrets: z
        .object({ auth_token: z.string().min(1).max(500) })
        .partial()
        .strict(),
    },
  },
  email: {
    smtp: {
      settings: z
        .object({
          host: z.string({ error: 'required: the SMTP server' }).min(1, { error: 'must not be empty' }),
          port: port.default(587),
          secure: z.boolean({ error: 'must be true or false' }).default(false),
          require_tls: z.boolean({ error: 'must be true or false' }).default(false),
          from: mailbox,
          reply_to: mailbox.nullable().default(null),
          pool_size: z
            .number({ error: 'must be a number' })
            .int({ error: 'must be an integer' })
            .min(1, { error: 'must be 1–50' })
            .max(50, { error: 'must be 1–50' })
            .default(5),
          timeout_ms: timeoutMs(30_000),
          rate_per_second: ratePerSecond,
          track_opens: z.boolean({ error: 'must be true or false' }).default(true),
          track_clicks: z.boolean({ error: 'must be true or false' }).default(true),
        })
        .strict(),
      secrets: z
        .object({ username: z.string().max(500), password: z.string().max(500) })
        .partial()
        .strict(),
    },
  },
  push: {
    fcm: {
      settings: z
        .object({
          project_id: required('the Firebase project id'),
          client_email: required("the service account's client_email"),
          token_uri: z
            .string({ error: 'must be a string' })
            .regex(/^https?:\/\/\S+$/, { error: 'must be an http(s) URL' })
            .default('https://oauth2.googleapis.com/token'),
          base_url: origin('https://fcm.googleapis.com'),
          timeout_ms: timeoutMs(10_000),
          rate_per_second: ratePerSecond,
        })
        .strict(),
      secrets: privateKey,
      complete: pemKey('rsa', "the service account's RSA private_key (PEM)"),
    },
    apns: {
      settings: z
        .object({
          team_id: z
            .string({ error: 'required: the Apple developer team id' })
            .regex(/^[A-Z0-9]{10}$/, { error: 'must be 10 upper-case letters or digits' }),
          key_id: z
            .string({ error: 'required: the id of the .p8 key' })
            .regex(/^[A-Z0-9]{10}$/, { error: 'must be 10 upper-case letters or digits' }),
          bundle_id: z
            .string({ error: "required: the app's bundle id" })
            .regex(/^[A-Za-z0-9.-]{1,155}$/, { error: 'must be a bundle id such as com.shop.app' }),
          base_url: origin('https://api.push.apple.com'),
          timeout_ms: timeoutMs(10_000),
          rate_per_second: ratePerSecond,
        })
        .strict(),
      secrets: privateKey,
      complete: pemKey('ec', 'the .p8 key (PEM of a P-256 EC key)'),
    },
  },
  web_push: {
    vapid: {
      settings: z
        .object({
          subject: z
            .string({ error: 'required: a mailto: or https: URL push services can reach the sender at' })
            .regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, { error: 'must be a mailto: or https: URL' }),
          ttl_seconds: z
            .number({ error: 'must be a number' })
            .int({ error: 'must be an integer' })
            .min(0, { error: 'must be 0–2419200 (28 days)' })
            .max(2_419_200, { error: 'must be 0–2419200 (28 days)' })
            .default(86_400),
          timeout_ms: timeoutMs(10_000),
          rate_per_second: ratePerSecond,
          /** derived from the private key: accepted and replaced, so a GET-then-PUT round trip works */
          public_key: z.string().optional(),
          /** push endpoints on loopback or a private network (tests, an on-premises push service) */
          allow_insecure: z.boolean({ error: 'must be true or false' }).default(false),
        })
        .strict(),
      secrets: privateKey,
      complete: vapidPair,
    },
  },
  webhook: {
    webhook: {
      settings: z
        .object({
          allow_private_network: z.boolean({ error: 'must be true or false' }).default(false),
          rate_per_second: ratePerSecond,
        })
        .strict(),
      secrets: z
        .object({ signing_secret: z.string().min(16, { error: 'must be at least 16 characters' }).max(200) })
        .partial()
        .strict(),
      complete: (settings, secrets) => ({ settings, secrets: { ...newSigningSecret(), ...secrets } }),
    },
  },
};
