/**
 * The service worker for web push (served as /sdk/kizuna-sw.js; a site copies it to its own origin or
 * loads it there with `importScripts`). It shows what Kizuna's web push channel sends
 * (src/engine/delivery/push-drivers.ts): a JSON payload `{ title, body, url, icon, key }`, and opens
 * `url` when the notification is clicked.
 */

// The DOM lib has no service-worker types; these are the few this file uses.
interface PushPayload {
  title?: string | null;
  body?: string | null;
  url?: string | null;
  icon?: string | null;
  key?: string | null;
}
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown; text(): string } | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WindowClient {
  url: string;
  focus(): Promise<WindowClient>;
}
interface Scope {
  registration: { showNotification(title: string, options?: NotificationOptions): Promise<void> };
  clients: {
    matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
  };
  location: { origin: string };
  addEventListener(type: 'push', fn: (e: PushEvent) => void): void;
  addEventListener(type: 'notificationclick', fn: (e: NotificationEvent) => void): void;
}

const sw = self as unknown as Scope;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The payload of a push: the channel's JSON, or plain text as the body. */
export function readPayload(data: PushEvent['data']): PushPayload {
  if (!data) return {};
  try {
    const v = data.json();
    return v && typeof v === 'object' ? v : { body: String(v) };
  } catch {
    return { body: data.text() };
  }
}

sw.addEventListener('push', (e) => {
  const p = readPayload(e.data);
  const options: NotificationOptions = { body: text(p.body) ?? '', data: { url: text(p.url) ?? null } };
  const icon = text(p.icon);
  if (icon) options.icon = icon;
  const key = text(p.key);
  if (key) options.tag = key;
  e.waitUntil(sw.registration.showNotification(text(p.title) ?? '', options));
});

sw.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const raw = (e.notification.data as { url?: unknown } | null)?.url;
  let url: string | null = null;
  try {
    const u = typeof raw === 'string' ? new URL(raw, sw.location.origin) : null;
    url = u && (u.protocol === 'https:' || u.protocol === 'http:') ? u.href : null;
  } catch {
    url = null;
  }
  if (!url) return;
  const target = url;
  e.waitUntil(
    sw.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
      const open = list.find((c) => c.url === target);
      return open ? open.focus() : sw.clients.openWindow(target);
    }),
  );
});
