/**
 * The SDK once initialised: identity, the event transport, consent, in-app messages, cards and push,
 * wired to the page's lifecycle. The public facade (client.ts) checks arguments and guards every call;
 * this file trusts its inputs.
 */
import { Api } from './api.js';
import { Cards } from './cards.js';
import { realTimers } from './clock.js';
import { Consent } from './consent.js';
import { uuid } from './ids.js';
import { Identity, type Traits } from './identity.js';
import { memoryKV, overlayKV, type KV } from './kv.js';
import { warnOnce } from './log.js';
import { InApp } from './messages.js';
import { Push } from './push.js';
import { persistentStores, type Stores } from './storage.js';
import { BUFFER_PREFIX, Transport, type Message } from './transport.js';
import { VERSION } from './version.js';

export interface InitOptions {
  /** the workspace's write key (public by design) */
  writeKey: string;
  /** the Kizuna server, e.g. https://kizuna.example.com */
  host: string;
  /** hold everything until consent(true), whatever the workspace's setting says */
  consentRequired?: boolean;
  /** send when this many events are queued (default 20) */
  flushAt?: number;
  /** else this many ms after the first queued event (default 10,000) */
  flushInterval?: number;
  /** identity verification: hex HMAC-SHA256 of the user id, made by the site's server */
  userHash?: string;
  /** fetch and show in-app messages (default true) */
  messages?: boolean;
  /** where the site serves kizuna-sw.js (default /kizuna-sw.js) */
  serviceWorkerPath?: string;
  serviceWorkerScope?: string;
}

interface SdkConfig {
  consentRequired?: boolean;
  vapidPublicKey?: string | null;
}

const CONSENT_KEY = 'kz_consent';
const SESSION_KEY = 'kz_sid';

export class Core {
  readonly identity: Identity;
  readonly transport: Transport;
  readonly consent: Consent;
  readonly inapp: InApp;
  readonly cards: Cards;
  readonly push: Push;
  private readonly persistent: Stores;
  private storing = false;
  private sessionStore: KV;
  private config: Promise<SdkConfig | null>;
  private readonly api: Api;

  constructor(private readonly o: InitOptions) {
    const host = (/^https?:\/\//i.test(o.host) ? o.host : `https://${o.host}`).replace(/\/+$/, '');
    this.persistent = persistentStores();
    this.consent = new Consent(
      o.consentRequired === true,
      this.persistent.identity.get(CONSENT_KEY) === 'granted',
    );
    this.identity = new Identity(overlayKV(this.persistent.identity));
    if (o.userHash) this.identity.identify(null, null, o.userHash);
    this.sessionStore = overlayKV(this.persistent.session);
    this.api = new Api(host, o.writeKey, () => this.identity);
    this.transport = new Transport({
      url: `${host}/v1/batch`,
      writeKey: o.writeKey,
      send: async (url, body) =>
        (
          await fetch(url, {
            method: 'POST',
            body,
            headers: { 'content-type': 'text/plain;charset=UTF-8' },
            credentials: 'omit',
          })
        ).status,
      beacon:
        typeof navigator.sendBeacon === 'function' ? (url, body) => navigator.sendBeacon(url, body) : null,
      timers: realTimers,
      store: memoryKV(),
      enabled: false,
      flushAt: o.flushAt,
      flushInterval: o.flushInterval,
      warn: warnOnce,
    });
    this.inapp = new InApp(this.api, () => this.sessionId());
    this.cards = new Cards(this.api, () => this.consent.allowed());
    this.push = new Push(
      this.api,
      () => this.vapidKey(),
      () => this.consent.allowed(),
      {
        serviceWorkerPath: o.serviceWorkerPath,
        scope: o.serviceWorkerScope,
      },
    );
    this.config = this.loadConfig();
    this.listen();
    this.apply();
  }

  /** A Segment message of `type` with this browser's identity and context. */
  message(type: string, fields: Record<string, unknown>): Message {
    const m: Message = {
      type,
      messageId: uuid(),
      timestamp: new Date().toISOString(),
      anonymousId: this.identity.anonymousId,
      ...fields,
      context: this.context(),
      integrations: {},
    };
    if (this.identity.userId !== null && m['userId'] === undefined) m['userId'] = this.identity.userId;
    return m;
  }

  /** Queues a message: sent when allowed, held in memory until consent, dropped after a refusal. */
  enqueue(m: Message): void {
    if (this.consent.holding()) this.transport.enqueue(m);
  }

  identify(userId: string | null, traits: Traits | null, userHash: string | null): void {
    const before = this.identity.userId;
    this.identity.identify(userId, traits, userHash);
    this.enqueue(this.message('identify', { traits: this.identity.traits }));
    if (this.identity.userId !== before) this.refreshMessages();
  }

  reset(): void {
    this.identity.reset();
    this.sessionStore.remove(SESSION_KEY);
    this.inapp.stop();
    this.refreshMessages();
  }

  /** The visitor's answer to the consent question. */
  setConsent(granted: boolean): void {
    if (granted) {
      this.consent.decision = 'granted';
      this.apply();
      this.persistent.identity.set(CONSENT_KEY, 'granted');
      return;
    }
    this.consent.decision = 'denied';
    this.storing = false;
    Identity.erase(this.persistent.identity);
    this.persistent.identity.remove(CONSENT_KEY);
    for (const k of this.persistent.buffer.keys())
      if (k.startsWith(BUFFER_PREFIX)) this.persistent.buffer.remove(k);
    this.persistent.session.remove(SESSION_KEY);
    this.identity.moveTo(memoryKV());
    this.sessionStore = memoryKV();
    this.transport.setEnabled(false, memoryKV(), true);
    this.inapp.stop();
  }

  /**
   * Records the visitor's choice per purpose in the workspace's consent ledger (POST /v1/consent,
   * source `sdk`); whether it was stored. A record of a choice is not tracking: it is sent whatever
   * consent mode says, so a refusal is on record too.
   */
  async recordConsent(purposes: Record<string, boolean>, textVersion: string | null): Promise<boolean> {
    const body: Record<string, unknown> = { consents: purposes, method: 'banner' };
    if (textVersion !== null) body['textVersion'] = textVersion;
    return (await this.api.send('/v1/consent', body)) === 202;
  }

  onPage(): void {
    this.refreshMessages();
  }

  /** Page views count from the SDK's session id (sessionStorage), sent with in-app impressions. */
  sessionId(): string {
    let id = this.sessionStore.get(SESSION_KEY);
    if (!id) {
      id = uuid();
      this.sessionStore.set(SESSION_KEY, id);
    }
    return id;
  }

  private refreshMessages(): void {
    if (this.o.messages !== false && this.consent.allowed()) void this.inapp.refresh();
  }

  /** Starts storing and sending once allowed. */
  private apply(): void {
    if (this.storing || !this.consent.allowed()) return;
    this.storing = true;
    this.identity.moveTo(this.persistent.identity);
    const sid = this.sessionStore.get(SESSION_KEY);
    this.sessionStore = this.persistent.session;
    if (sid) this.sessionStore.set(SESSION_KEY, sid);
    this.transport.setEnabled(true, this.persistent.buffer);
    this.refreshMessages();
  }

  private async loadConfig(): Promise<SdkConfig | null> {
    const c = await this.api.get<SdkConfig>('/v1/sdk/config', false);
    if (this.consent.required === null) this.consent.required = c?.consentRequired === true;
    else if (c?.consentRequired === true) this.consent.required = true;
    this.apply();
    return c;
  }

  private async vapidKey(): Promise<string | null> {
    let c = await this.config;
    if (!c?.vapidPublicKey) {
      this.config = this.api.get<SdkConfig>('/v1/sdk/config', false);
      c = await this.config;
    }
    return c?.vapidPublicKey ?? null;
  }

  private context(): Record<string, unknown> {
    let timezone: string | undefined;
    try {
      timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch {
      timezone = undefined;
    }
    return {
      library: { name: 'kizuna.js', version: VERSION },
      page: pageContext(),
      userAgent: navigator.userAgent,
      locale: navigator.language,
      timezone,
    };
  }

  /** Page hide: hand the queue to sendBeacon; unload: leave the buffer for the next page. */
  private listen(): void {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.transport.beacon();
    });
    addEventListener('pagehide', () => {
      this.transport.beacon();
      this.transport.orphan();
    });
    addEventListener('pageshow', (e) => {
      if (e.persisted) this.transport.touch();
    });
  }
}

/** analytics.js's context.page (and page() properties). */
export function pageContext(): Record<string, string> {
  const canonical = document.querySelector('link[rel="canonical"]')?.getAttribute('href');
  return {
    path: location.pathname,
    referrer: document.referrer,
    search: location.search,
    title: document.title,
    url: canonical || location.href.split('#')[0] || location.href,
  };
}
