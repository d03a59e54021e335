import type { SendResult } from '../../channels/channel.js';
import { WebhookProvider, type WebhookOptions } from '../../channels/webhook/webhook.js';
import type { ClaimedMessage } from '../../store/delivery-store.js';
import type { ResolvedChannel } from './channels.js';

/**
 * How the dispatcher hands a claimed message to a channel's provider: the driver turns the stored
 * payload and the workspace's resolved configuration into the provider's own message.
 */
export interface Driver {
  send(message: ClaimedMessage, channel: ResolvedChannel, now: number): Promise<SendResult>;
  close?(): Promise<void>;
}

export type Drivers = Readonly<Record<string, Driver>>;

/**
 * The webhook step's request body: what the journey step declared (`data`), with what the receiver
 * needs to act on it and to drop a retry it has already seen (`key`, also in `X-Kizuna-Key`).
 */
export function webhookBody(m: ClaimedMessage, data: unknown) {
  return {
    type: 'journey.webhook',
    key: m.key,
    journey_id: m.journeyId,
    profile_id: m.profileId,
    created_at: new Date(m.createdAt).toISOString(),
    data: data ?? null,
  };
}

export function webhookDriver(opts: WebhookOptions = {}): Driver {
  const provider = new WebhookProvider(opts);
  return {
    send(m, ch, now) {
      const payload = (m.payload ?? {}) as { url?: unknown; body?: unknown };
      if (typeof payload.url !== 'string')
        return Promise.resolve({ ok: false, retryable: false, reason: 'the message has no URL' });
      return provider.send({
        url: payload.url,
        body: webhookBody(m, payload.body),
        key: m.key,
        secret: ch.secrets['signing_secret'] ?? '',
        allowPrivateNetwork: ch.settings['allow_private_network'] === true,
        now,
      });
    },
  };
}
