import { z } from 'zod';
import type { SecretBox } from '../../channels/secret-box.js';
import type { Clock } from '../../domain/clock.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { ChannelRecord } from '../../store/delivery-store.js';
import type { Store } from '../../store/store.js';
import { parse } from '../../validation.js';

import { newSigningSecret, PROVIDERS } from './providers.js';

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

/**
 * Each workspace's channel configuration (docs/channels.md): which provider a channel uses, its plain
 * settings and its credentials, sealed by the server's secret key before they reach the store. The
 * dispatcher reads them through `resolve`, cached for a second.
 */
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
    const completed = spec.complete
      ? prefixed('secrets', () => spec.complete!(settings, { ...kept, ...given }))
      : { settings, secrets: { ...kept, ...given } };
    const secrets = completed.secrets;
    const record: ChannelRecord = {
      channel,
      provider: body.provider,
      settings: completed.settings,
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
