import type { SendResult } from '../../channels/channel.js';
import { ApnsProvider } from '../../channels/push/apns.js';
import { FcmProvider } from '../../channels/push/fcm.js';
import type { PushProvider, PushResult } from '../../channels/push/push.js';
import { parseSubscription, WebPushProvider } from '../../channels/webpush/web-push.js';
import type { Device, DeviceKind } from '../../store/contact-store.js';
import type { ClaimedMessage } from '../../store/delivery-store.js';
import type { Store } from '../../store/store.js';
import type { ResolvedChannel } from './channels.js';
import { perConfiguration, TEST_JOURNEY, type Driver } from './drivers.js';

/** The newest devices of a customer a push goes to; older ones are usually long gone. */
const MAX_DEVICES = 10;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

interface PushContent {
  title?: unknown;
  body?: unknown;
  url?: unknown;
  image?: unknown;
  icon?: unknown;
}

/** The rendered push content of a message, or why it cannot be sent. */
function contentOf(m: ClaimedMessage): { c: PushContent; body: string } | SendResult {
  const c = ((m.payload ?? {}) as { content?: PushContent }).content ?? {};
  const body = str(c.body);
  return body === null ? { ok: false, retryable: false, reason: 'the message has no body' } : { c, body };
}

/**
 * The device token of a test send (`POST /api/v1/channels/push/test` with `token`), or null. Only the
 * dispatcher's test send puts it in a payload; messages of journeys and broadcasts never carry it.
 */
function testToken(m: ClaimedMessage): string | null {
  return m.journeyId === TEST_JOURNEY
    ? str((m.payload as { test_token?: unknown } | null)?.test_token)
    : null;
}

/**
 * A push goes to every device the customer has on the channel (the newest ten): it is sent when one
 * device took it. A device whose token the service no longer knows is removed (the app was
 * uninstalled, the browser unsubscribed). Only when no device took it does the message fail, and it
 * is retried when some failure may pass — a retry sends to all devices again, which is why every
 * request carries a stable id derived from the message key where the service has one.
 */
async function toDevices(
  store: Store,
  m: ClaimedMessage,
  kinds: readonly DeviceKind[],
  none: string,
  send: (d: Device) => Promise<PushResult>,
): Promise<SendResult> {
  // The message names the profile it was made for; a merge since then moved the devices to the
  // survivor, which is looked up only when that profile has none (one read per push, usually).
  const of = async (id: string) => (await store.listDevices(m.workspaceId, [id])).get(id) ?? [];
  const typed = testToken(m);
  let all: Device[];
  if (typed !== null) {
    // A test send to a token the staff member typed: that one device, not stored, never removed.
    all = [
      {
        token: typed,
        profileId: m.profileId,
        kind: kinds[0]!,
        subscription: null,
        createdAt: 0,
        updatedAt: 0,
      },
    ];
  } else {
    all = await of(m.profileId);
    if (all.length === 0) {
      const survivor = (await store.getProfile(m.workspaceId, m.profileId))?.id;
      if (survivor !== undefined && survivor !== m.profileId) all = await of(survivor);
    }
  }
  const devices = all.filter((d) => kinds.includes(d.kind)).slice(0, MAX_DEVICES);
  if (devices.length === 0) return { ok: false, retryable: false, reason: none };
  const results = await Promise.all(devices.map(send));
  let sent = 0;
  const failures: string[] = [];
  let retryable = false;
  for (const [i, r] of results.entries()) {
    if (r.ok) {
      sent++;
      continue;
    }
    if ('invalidToken' in r && r.invalidToken && typed === null)
      await store.deleteDevice(m.workspaceId, devices[i]!.token);
    else retryable ||= r.retryable;
    failures.push(r.reason);
  }
  if (sent > 0) return { ok: true };
  const distinct = [...new Set(failures)];
  return {
    ok: false,
    retryable,
    reason: `no device took it (${devices.length}): ${distinct.slice(0, 3).join('; ')}`,
  };
}

/** Mobile push through FCM HTTP v1 (Android and iOS devices) or APNs (iOS devices). */
export function pushDriver(store: Store): Driver {
  const providers = perConfiguration<PushProvider>(
    (ch) =>
      ch.provider === 'apns'
        ? new ApnsProvider({
            teamId: String(ch.settings['team_id']),
            keyId: String(ch.settings['key_id']),
            bundleId: String(ch.settings['bundle_id']),
            baseUrl: str(ch.settings['base_url']) ?? 'https://api.push.apple.com',
            timeoutMs: Number(ch.settings['timeout_ms'] ?? 10_000),
            privateKey: ch.secrets['private_key'] ?? '',
          })
        : new FcmProvider({
            projectId: String(ch.settings['project_id']),
            clientEmail: String(ch.settings['client_email']),
            tokenUri: str(ch.settings['token_uri']) ?? 'https://oauth2.googleapis.com/token',
            baseUrl: str(ch.settings['base_url']) ?? 'https://fcm.googleapis.com',
            timeoutMs: Number(ch.settings['timeout_ms'] ?? 10_000),
            privateKey: ch.secrets['private_key'] ?? '',
          }),
    (p) => void p.close(),
  );
  return {
    send(m: ClaimedMessage, ch: ResolvedChannel) {
      const content = contentOf(m);
      if ('ok' in content) return Promise.resolve(content);
      const { c, body } = content;
      const data: Record<string, string> = { kizuna_key: m.key };
      const url = str(c.url);
      const image = str(c.image);
      if (url !== null) data['url'] = url;
      if (image !== null) data['image'] = image;
      const apns = ch.provider === 'apns';
      const provider = providers.get(m.workspaceId, ch);
      return toDevices(
        store,
        m,
        apns ? ['ios'] : ['ios', 'android'],
        apns ? 'the customer has no iOS device (APNs reaches iOS only)' : 'the customer has no push device',
        (d) =>
          provider.send({ token: d.token, title: str(c.title), body, data, key: m.key, expiresAt: null }),
      );
    },
    close() {
      providers.close();
      return Promise.resolve();
    },
  };
}

/** Web push (VAPID, RFC 8291) to the customer's subscribed browsers. */
export function webPushDriver(store: Store): Driver {
  const providers = perConfiguration(
    (ch) =>
      new WebPushProvider({
        subject: String(ch.settings['subject']),
        publicKey: String(ch.settings['public_key']),
        privateKey: ch.secrets['private_key'] ?? '',
        timeoutMs: Number(ch.settings['timeout_ms'] ?? 10_000),
        allowPrivateNetwork: ch.settings['allow_insecure'] === true,
      }),
    (p) => void p.close(),
  );
  return {
    send(m: ClaimedMessage, ch: ResolvedChannel) {
      const content = contentOf(m);
      if ('ok' in content) return Promise.resolve(content);
      const { c, body } = content;
      const payload = JSON.stringify({
        title: str(c.title),
        body,
        url: str(c.url),
        icon: str(c.icon),
        key: m.key,
      });
      const provider = providers.get(m.workspaceId, ch);
      const allowInsecure = ch.settings['allow_insecure'] === true;
      return toDevices(store, m, ['web'], 'the customer has no subscribed browser', (d) => {
        const sub = parseSubscription(d.subscription, { allowInsecure });
        if (!sub.ok)
          return Promise.resolve({ ok: false, retryable: false, reason: sub.reason, invalidToken: true });
        return provider.send({
          subscription: sub.subscription,
          payload,
          key: m.key,
          ttlSeconds: Number(ch.settings['ttl_seconds'] ?? 86_400),
        });
      });
    },
    close() {
      providers.close();
      return Promise.resolve();
    },
  };
}
