import { APP, LIBRARIES, SHOP_TITLE, SHOP_URL, type Campaign, type Phone } from './catalog.js';
import type { DemoIds, Source } from './ids.js';
import { isoTimestamp } from './iso.js';
import type { Person } from './person.js';
import type { Rng } from './random.js';

/** A Segment-spec message as an SDK sends it inside a `/v1/batch` body. */
export interface SegmentMessage {
  type: string;
  messageId: string;
  timestamp: string;
  [k: string]: unknown;
}

type Fields = Record<string, unknown>;

/**
 * One place a customer talks to the shop from: a browser, an installed app, or the shop's back
 * end. Client SDKs keep an anonymousId per device and, after `identify`, send the userId on every
 * later call; the back end knows only the userId. That is exactly the identity story the demo must
 * reproduce, so touchpoints carry that state.
 */
export interface Touchpoint {
  readonly source: Source;
  readonly anonymousId: string | undefined;
  userId: string | undefined;
  /** A fresh object per call: consumers may enrich a message's context in place. */
  context(): Fields;
}

interface PageState {
  path: string;
  referrer: string;
  search: string;
  title: string;
  url: string;
}

export class WebTouchpoint implements Touchpoint {
  readonly source = 'web';
  userId: string | undefined = undefined;
  page: PageState = { path: '/', referrer: '', search: '', title: SHOP_TITLE, url: `${SHOP_URL}/` };
  /** analytics.js reports UTM parameters while they are in the address bar: the landing page only. */
  campaign: Campaign | undefined = undefined;
  landing = false;

  constructor(
    readonly anonymousId: string,
    private readonly person: Person,
  ) {}

  context(): Fields {
    const p = this.person;
    const ctx: Fields = {
      ip: p.ip,
      library: { ...LIBRARIES.web },
      locale: p.region.locale,
      page: { ...this.page },
      timezone: p.region.timezone,
      userAgent: p.userAgent,
    };
    const c = this.campaign;
    if (c) ctx['campaign'] = { source: c.source, medium: c.medium, name: c.name };
    return ctx;
  }
}

export class AppTouchpoint implements Touchpoint {
  readonly source: 'ios' | 'android';
  userId: string | undefined = undefined;

  constructor(
    readonly anonymousId: string,
    private readonly person: Person,
    private readonly phone: Phone,
    private readonly ip: string,
  ) {
    this.source = phone.platform;
  }

  context(): Fields {
    const p = this.person;
    const ph = this.phone;
    return {
      app: { name: APP.name, version: APP.version, build: APP.build, namespace: APP.namespace },
      device: { type: ph.platform, manufacturer: ph.manufacturer, model: ph.model },
      ip: this.ip,
      library: { ...LIBRARIES[ph.platform] },
      locale: p.region.locale,
      os: { name: ph.platform === 'ios' ? 'iOS' : 'Android', version: ph.osVersion },
      timezone: p.region.timezone,
    };
  }
}

export class ServerTouchpoint implements Touchpoint {
  readonly source = 'server';
  readonly anonymousId = undefined;

  constructor(public userId: string) {}

  context(): Fields {
    return { library: { ...LIBRARIES.server } };
  }
}

function utm(c: Campaign): string {
  return `utm_source=${c.source}&utm_medium=${c.medium}&utm_campaign=${c.name}`;
}

interface Entry {
  readonly t: number;
  readonly source: Source;
  readonly m: SegmentMessage;
}

/**
 * Collects one customer's messages. Sessions advance a cursor `t`, so calls within and across
 * sessions come out in order; back-end calls (refunds) may be placed at any time with `trackAt`,
 * and `finish` sorts them in. messageIds and timestamps are assigned only in `finish`, after
 * sorting, so ids number the messages in time order.
 */
export class CustomerLog {
  private readonly entries: Entry[] = [];
  /** Sessions append in time order; only back-end calls placed ahead (refunds) need a sort. */
  private sorted = true;

  constructor(
    private readonly ids: DemoIds,
    readonly person: Person,
    /** The session clock, epoch ms. */
    public t: number,
  ) {}

  /** A human pause of lo..hi seconds before the next call. */
  pause(rng: Rng, lo: number, hi: number): void {
    this.t += Math.round(rng.between(lo, hi) * 1000);
  }

  /** A page on the web, a screen in the app: the same step of a visit seen by either SDK. */
  view(tp: Touchpoint, name: string, path: string, title: string, props?: Fields): void {
    if (tp instanceof WebTouchpoint) {
      const c = tp.landing ? tp.campaign : undefined;
      if (!tp.landing) tp.campaign = undefined;
      tp.landing = false;
      const full = c ? `${path}${path.includes('?') ? '&' : '?'}${utm(c)}` : path;
      const q = full.indexOf('?');
      tp.page = {
        path: q < 0 ? full : full.slice(0, q),
        referrer: tp.page.url,
        search: q < 0 ? '' : full.slice(q),
        title: `${title} | ${SHOP_TITLE}`,
        url: `${SHOP_URL}${full}`,
      };
      this.add(tp, this.t, { type: 'page', name, properties: { name, ...tp.page, ...props } });
    } else {
      this.add(tp, this.t, { type: 'screen', name, properties: { name, ...props } });
    }
  }

  /**
   * Starts a web visit. The next `view` is the landing page: its referrer is where the visitor came
   * from, and it and the calls made on it carry the campaign.
   */
  land(tp: WebTouchpoint, campaign: Campaign | undefined): void {
    tp.campaign = campaign;
    tp.landing = true;
    tp.page = { ...tp.page, url: campaign ? campaign.referrer : '' };
  }

  track(tp: Touchpoint, event: string, properties: Fields): void {
    this.add(tp, this.t, { type: 'track', event, properties });
  }

  /** A back-end call at an arbitrary time; the session clock does not move. */
  trackAt(tp: Touchpoint, t: number, event: string, properties: Fields): void {
    this.add(tp, t, { type: 'track', event, properties });
  }

  /** The SDK remembers the userId from here on, so later calls from `tp` carry both ids. */
  identify(tp: Touchpoint, traits: Fields): void {
    tp.userId = this.person.userId;
    this.add(tp, this.t, { type: 'identify', traits });
  }

  alias(tp: Touchpoint, previousId: string): void {
    tp.userId = this.person.userId;
    this.add(tp, this.t, { type: 'alias', previousId });
  }

  group(tp: Touchpoint, groupId: string, traits: Fields): void {
    this.add(tp, this.t, { type: 'group', groupId, traits });
  }

  private add(tp: Touchpoint, t: number, fields: Fields): void {
    const m: SegmentMessage = { type: '', messageId: '', timestamp: '' };
    if (tp.anonymousId !== undefined) m['anonymousId'] = tp.anonymousId;
    if (tp.userId !== undefined) m['userId'] = tp.userId;
    Object.assign(m, fields);
    m['context'] = tp.context();
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && t < last.t) this.sorted = false;
    this.entries.push({ t, source: tp.source, m });
    // SDK calls made together (a page and its Product Viewed) still land a few hundred ms apart,
    // so a customer's timestamps strictly increase and no store has to break ties.
    if (t === this.t) this.t += 40 + ((this.entries.length * 73) % 260);
  }

  /**
   * The customer's messages in time order, without any later than `end` (a lapsed customer's
   * silence, or the present). No `sentAt` is set on purpose: ingestion corrects clock skew with
   * `receivedAt - sentAt`, which would drag replayed history to the moment it is loaded.
   */
  finish(end: number): SegmentMessage[] {
    if (!this.sorted) this.entries.sort((a, b) => a.t - b.t);
    const out: SegmentMessage[] = [];
    for (const e of this.entries) {
      if (e.t > end) break;
      e.m.messageId = this.ids.messageId(e.source, this.person.index, out.length);
      e.m.timestamp = isoTimestamp(e.t);
      out.push(e.m);
    }
    return out;
  }
}
