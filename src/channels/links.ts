/**
 * Signed links in messages (the one-click unsubscribe link, open pixels and tracked links, the
 * preference centre, double opt-in confirmations, survey answers): the link carries what it acts on, signed with a key derived from the server's secret
 * key, so it works without a lookup table and cannot be forged or edited to act on someone else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UnsubscribeLink {
  readonly ws: string;
  readonly channel: string;
  readonly address: string;
  readonly topic: string;
  /** the message the link came in, so the unsubscribe counts against its campaign (docs/reports.md) */
  readonly message?: string;
}

/** A contact point of a workspace: what a preference-centre link names. */
export interface ContactLink {
  readonly ws: string;
  readonly channel: string;
  readonly address: string;
}

/** A double opt-in confirmation: the topic to subscribe to, and when the link was issued. */
export interface ConfirmLink extends ContactLink {
  readonly topic: string;
  readonly issuedAt: number;
}

/** One answer to a survey question, for one customer, from one message (docs/surveys.md). */
export interface SurveyLink {
  readonly ws: string;
  readonly survey: string;
  readonly question: string;
  readonly profile: string;
  readonly value: number | string;
  /** the campaign the message belongs to, when known */
  readonly journey: string | null;
  readonly message: string | null;
}

/** One customer's transparency page, valid until `expiresAt` (epoch ms). */
export interface TransparencyLink {
  readonly ws: string;
  readonly profile: string;
  readonly expiresAt: number;
}

const isText = (v: unknown): v is string => typeof v === 'string';

export class LinkSigner {
  private readonly key: Buffer;

  constructor(
    serverKey: Buffer,
    /** where customers reach this server (`https://engage.example.com`) */
    private readonly publicUrl: () => string,
  ) {
    this.key = createHmac('sha256', serverKey).update('kizuna/links/v1').digest();
  }

  sign(value: unknown): string {
    const body = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The signed value, or null when the token was not made by this server (or was changed). */
  verify(token: string): unknown {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    // Compared as text: base64 decoding ignores trailing characters, so bytes would let `<mac>x` pass.
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(body));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }

  unsubscribeUrl(link: UnsubscribeLink): string {
    const v = { w: link.ws, c: link.channel, a: link.address, t: link.topic };
    return `${this.base()}/u/${this.sign(link.message === undefined ? v : { ...v, m: link.message })}`;
  }

  readUnsubscribe(token: string): UnsubscribeLink | null {
    const r = this.readContact(token, undefined);
    const topic = r?.fields['t'];
    const message = r?.fields['m'];
    return r && isText(topic) ? { ...r.link, topic, ...(isText(message) && { message }) } : null;
  }

  /** The customer's preference centre (`/p/…`) for one contact point. */
  preferencesUrl(link: ContactLink): string {
    return `${this.base()}/p/${this.sign({ x: 'p', w: link.ws, c: link.channel, a: link.address })}`;
  }

  readPreferences(token: string): ContactLink | null {
    return this.readContact(token, 'p')?.link ?? null;
  }

  /** A double opt-in confirmation link (`/c/…`); it carries its issue time, so it can expire. */
  confirmUrl(link: ConfirmLink): string {
    const v = { x: 'c', w: link.ws, c: link.channel, a: link.address, t: link.topic, i: link.issuedAt };
    return `${this.base()}/c/${this.sign(v)}`;
  }

  readConfirm(token: string): ConfirmLink | null {
    const r = this.readContact(token, 'c');
    const topic = r?.fields['t'];
    const issuedAt = r?.fields['i'];
    if (!r || !isText(topic) || typeof issuedAt !== 'number' || !Number.isFinite(issuedAt)) return null;
    return { ...r.link, topic, issuedAt };
  }

  /**
   * The contact point a token names, when it is of the given kind (`x`: `p` preference centre, `c`
   * confirmation; none for unsubscribe links, which came first), with the token's other fields.
   */
  private readContact(
    token: string,
    kind: string | undefined,
  ): { link: ContactLink; fields: Record<string, unknown> } | null {
    const v = this.verify(token);
    if (typeof v !== 'object' || v === null) return null;
    const f = v as Record<string, unknown>;
    const [ws, channel, address] = [f['w'], f['c'], f['a']];
    if (f['x'] !== kind || !isText(ws) || !isText(channel) || !isText(address)) return null;
    return { link: { ws, channel, address }, fields: f };
  }

  /**
   * The customer's transparency page (`/t/…`, docs/privacy.md#transparency-page): names the profile
   * and carries its expiry, so a leaked link stops working.
   */
  transparencyUrl(l: TransparencyLink): string {
    return `${this.base()}/t/${this.sign({ x: 't', w: l.ws, p: l.profile, e: l.expiresAt })}`;
  }

  readTransparency(token: string): TransparencyLink | null {
    const v = this.verify(token);
    if (typeof v !== 'object' || v === null) return null;
    const f = v as Record<string, unknown>;
    const [ws, profile, expiresAt] = [f['w'], f['p'], f['e']];
    if (f['x'] !== 't' || !isText(ws) || !isText(profile) || typeof expiresAt !== 'number') return null;
    return { ws, profile, expiresAt };
  }

  /** A one-click survey answer (`/s/…`): records `value` for the profile, then offers a comment form. */
  surveyUrl(l: SurveyLink): string {
    const v = {
      x: 's',
      w: l.ws,
      s: l.survey,
      q: l.question,
      p: l.profile,
      v: l.value,
      j: l.journey,
      k: l.message,
    };
    return `${this.base()}/s/${this.sign(v)}`;
  }

  readSurvey(token: string): SurveyLink | null {
    const f = this.verify(token) as Record<string, unknown> | null;
    if (typeof f !== 'object' || f === null || f['x'] !== 's') return null;
    const [ws, survey, question, profile, value] = [f['w'], f['s'], f['q'], f['p'], f['v']];
    const [journey, message] = [f['j'] ?? null, f['k'] ?? null];
    if (!isText(ws) || !isText(survey) || !isText(question) || !isText(profile)) return null;
    if (!isText(value) && typeof value !== 'number') return null;
    if ((journey !== null && !isText(journey)) || (message !== null && !isText(message))) return null;
    return { ws, survey, question, profile, value, journey, message };
  }

  /** The open pixel of a message. */
  openUrl(ws: string, key: string): string {
    return `${this.base()}/t/o/${this.sign({ w: ws, k: key })}`;
  }

  /** A tracked link of a message: records the click, then redirects to `url`. */
  clickUrl(ws: string, key: string, url: string): string {
    return `${this.base()}/t/c/${this.sign({ w: ws, k: key, u: url })}`;
  }

  /** What a tracking token names: the message, and for a click the address it leads to. */
  readTracking(token: string): { ws: string; key: string; url: string | null } | null {
    const v = this.verify(token) as { w?: unknown; k?: unknown; u?: unknown } | null;
    if (!v || typeof v.w !== 'string' || typeof v.k !== 'string') return null;
    if (v.u !== undefined && (typeof v.u !== 'string' || !/^https?:\/\//i.test(v.u))) return null;
    return { ws: v.w, key: v.k, url: v.u ?? null };
  }

  private base(): string {
    return this.publicUrl().replace(/\/+$/, '');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, 32);
  }
}
