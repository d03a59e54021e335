/**
 * Web push opt-in: registers the service worker (which must be served from the site's own origin),
 * subscribes with the workspace's VAPID public key from GET /v1/sdk/config, and registers the
 * subscription with POST /v1/push/subscriptions (DELETE to undo).
 */
import type { Api } from './api.js';

export type PushResult = { ok: true } | { ok: false; reason: string };

export interface PushOptions {
  /** the service worker's URL on the site's own origin (default /kizuna-sw.js) */
  serviceWorkerPath?: string;
  scope?: string;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4))
    .replace(/-/g, '+')
    .replace(/_/g, '/');
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export class Push {
  constructor(
    private readonly api: Api,
    private readonly vapidKey: () => Promise<string | null>,
    private readonly enabled: () => boolean,
    private readonly defaults: PushOptions,
  ) {}

  private supported(): string | null {
    if (!('serviceWorker' in navigator))
      return 'this browser has no service workers (or the page is not https)';
    if (typeof PushManager === 'undefined') return 'this browser has no Push API';
    if (typeof Notification === 'undefined') return 'this browser has no Notification API';
    return null;
  }

  async subscribe(opts: PushOptions = {}): Promise<PushResult> {
    const unsupported = this.supported();
    if (unsupported) return { ok: false, reason: unsupported };
    if (!this.enabled()) return { ok: false, reason: 'no consent yet: call kizuna.consent(true) first' };
    const key = await this.vapidKey();
    if (!key) return { ok: false, reason: 'web push is not configured for this workspace' };
    const path = opts.serviceWorkerPath ?? this.defaults.serviceWorkerPath ?? '/kizuna-sw.js';
    const scope = opts.scope ?? this.defaults.scope;
    try {
      if (Notification.permission === 'denied') return { ok: false, reason: 'notifications are blocked' };
      if (Notification.permission !== 'granted' && (await Notification.requestPermission()) !== 'granted')
        return { ok: false, reason: 'the visitor did not allow notifications' };
      await navigator.serviceWorker.register(path, scope ? { scope } : undefined);
      const reg = await navigator.serviceWorker.ready;
      const sub =
        (await reg.pushManager.getSubscription()) ??
        (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
      const status = await this.api.send('/v1/push/subscriptions', { subscription: sub.toJSON() });
      return status >= 200 && status < 300
        ? { ok: true }
        : { ok: false, reason: `the server answered ${status || 'nothing'}` };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  async unsubscribe(opts: PushOptions = {}): Promise<PushResult> {
    const unsupported = this.supported();
    if (unsupported) return { ok: false, reason: unsupported };
    try {
      const reg = await navigator.serviceWorker.getRegistration(opts.scope ?? this.defaults.scope);
      const sub = await reg?.pushManager.getSubscription();
      if (!sub) return { ok: true };
      if (this.enabled())
        await this.api.send('/v1/push/subscriptions', { subscription: sub.toJSON() }, 'DELETE');
      await sub.unsubscribe();
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }
}
