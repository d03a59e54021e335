import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../../channels/secret-box.js';
import type { Clock } from '../../domain/clock.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { ChannelRecord } from '../../store/delivery-store.js';
import type { Store } from '../../store/store.js';
import { parse } from '../../validation.js';

/**
 * Each workspace's channel configuration (docs/channels.md): which provider a channel uses, its plain
 * settings and its credentials, sealed by the server's secret key before they reach the store. The
 * dispatcher reads them through `resolve`, cached for a second.
 */
const ratePerSecond = z
  .number({ error: 'must be a number' })
  .positive({ error: 'must be more than 0' })
  .max(100_000, { error: 'must be at most 100000' })
  .nullable()
  .default(null);

interface ProviderSpec {
  readonly settings: z.ZodType<Record<string, unknown>>;
  readonly secrets: z.ZodType<Record<string, string>>;
  /** secrets made up when none are given (the webhook signing secret) */
  readonly generate?: () => Record<string, string>;
}

const newSigningSecret = () => ({ signing_secret: `whsec_${randomBytes(24).toString('base64url')}` });

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
        })
        .strict(),
      secrets: z
        .object({ username: z.string().max(500), password: z.string().max(500) })
        .partial()
        .strict(),
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
      generate: newSigningSecret,
    },
  },
};

export interface ResolvedChannel {
  readonly channel: string;
  readonly provider: string;
  /** when the configuration last changed (drivers keep connections per configuration) */
  readonly updatedAt: number;
  readonly settings: Record<string, unknown>;
  readonly secrets: Record<string, string>;
}

export interface ChannelView {
  readonly channel: string;
  readonly provider: string;
  readonly settings: Record<string, unknown>;
  /** the names of the credentials that are set (their values are never shown) */
  readonly secrets: readonly string[];
  readonly updatedAt: number;
}

const configureBody = z
  .object({
    provider: z.string({ error: 'must be a string' }),
    settings: z.record(z.string(), z.unknown(), { error: 'must be an object' }).default({}),
    secrets: z.record(z.string(), z.unknown(), { error: 'must be an object' }).default({}),
  })
  .strict();

export class ChannelService {
  private readonly cache = new Map<string, { at: number; channel: ResolvedChannel | null }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  /**
   * Creates or replaces a channel's configuration. Credentials left out keep their stored values, so
   * settings can change without sending the password again.
   */
  async configure(ws: string, channel: string, input: unknown): Promise<ChannelView> {
    const providers = PROVIDERS[channel];
    if (!providers)
      throw new NotFoundError(`unknown channel "${channel}"; channels: ${Object.keys(PROVIDERS).join(', ')}`);
    const body = parse(configureBody, input);
    const spec = providers[body.provider];
    if (!spec) {
      throw new ValidationError([
        {
          field: 'provider',
          rule: `must be one of ${Object.keys(providers).join(', ')} for the ${channel} channel`,
        },
      ]);
    }
    const settings = prefixed('settings', () => parse(spec.settings, body.settings));
    const given = prefixed('secrets', () => parse(spec.secrets, body.secrets));
    const current = await this.store.getChannel(ws, channel);
    const kept = current && current.provider === body.provider ? this.open(ws, current) : {};
    const secrets = { ...(spec.generate?.() ?? {}), ...kept, ...given };
    const record: ChannelRecord = {
      channel,
      provider: body.provider,
      settings,
      secrets: this.box.seal(secrets, context(ws, channel)),
      updatedAt: this.clock.now(),
    };
    await this.store.putChannel(ws, record);
    this.cache.delete(`${ws}/${channel}`);
    return view(record, secrets);
  }

  async get(ws: string, channel: string): Promise<ChannelView | null> {
    const r = await this.store.getChannel(ws, channel);
    return r ? view(r, this.open(ws, r)) : null;
  }

  async list(ws: string): Promise<ChannelView[]> {
    return (await this.store.listChannels(ws)).map((r) => view(r, this.open(ws, r)));
  }

  async remove(ws: string, channel: string): Promise<void> {
    if (!(await this.store.deleteChannel(ws, channel)))
      throw new NotFoundError(`the ${channel} channel is not configured`);
    this.cache.delete(`${ws}/${channel}`);
  }

  /** A new webhook signing secret, returned once (receivers verify signatures with it). */
  async rotateWebhookSecret(ws: string): Promise<string> {
    const current = await this.resolve(ws, 'webhook', { fresh: true });
    const secret = newSigningSecret();
    await this.configure(ws, 'webhook', {
      provider: current?.provider ?? 'webhook',
      settings: current?.settings ?? {},
      secrets: secret,
    });
    return secret.signing_secret;
  }

  /**
   * The configuration with its credentials opened, for sending. The webhook channel needs no setup:
   * the first use creates it with defaults and a generated signing secret.
   */
  async resolve(
    ws: string,
    channel: string,
    opts: { fresh?: boolean } = {},
  ): Promise<ResolvedChannel | null> {
    const key = `${ws}/${channel}`;
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (!opts.fresh && hit && now - hit.at < 1000 && now >= hit.at) return hit.channel;
    let r = await this.store.getChannel(ws, channel);
    if (!r && channel === 'webhook') {
      await this.configure(ws, 'webhook', { provider: 'webhook' });
      r = await this.store.getChannel(ws, channel);
    }
    const resolved = r
      ? {
          channel,
          provider: r.provider,
          updatedAt: r.updatedAt,
          settings: r.settings,
          secrets: this.open(ws, r),
        }
      : null;
    this.cache.set(key, { at: now, channel: resolved });
    return resolved;
  }

  private open(ws: string, r: ChannelRecord): Record<string, string> {
    return this.box.open(r.secrets, context(ws, r.channel));
  }
}

function context(ws: string, channel: string): string {
  return `kizuna/channel/${ws}/${channel}`;
}

function view(r: ChannelRecord, secrets: Record<string, string>): ChannelView {
  return {
    channel: r.channel,
    provider: r.provider,
    settings: r.settings,
    secrets: Object.keys(secrets).sort(),
    updatedAt: r.updatedAt,
  };
}

/** Re-throws a ValidationError with its fields under `prefix` (`settings.rate_per_second`). */
function prefixed<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ValidationError(
        err.issues.map((i) => ({
          field: i.field === 'query' ? prefix : `${prefix}.${i.field}`,
          rule: i.rule,
        })),
      );
    }
    throw err;
  }
}
