import { isEmailAddress } from '../../channels/email/smtp.js';
import { isPhoneNumber } from '../../channels/sms/twilio.js';
import { isLineUserId } from '../../channels/line/messaging-api.js';
import type { Clock } from '../../domain/clock.js';
import type { Definitions } from '../../domain/engagement/definitions.js';
import { computedTraitsOf } from '../../domain/engagement/evaluate.js';
import type { Action } from '../../domain/journeys/machine.js';
import { isTimeZone } from '../../domain/journeys/time.js';
import type { ProfileState } from '../../domain/resolution.js';
import {
  capReached,
  describeQuietHours,
  NO_SETTINGS,
  inGlobalHoldout,
  parseDeliverySettings,
  PRIORITY_RANK,
  quietUntil,
  respected,
  type DeliverySettings,
  type RecentMessage,
} from '../../domain/respect.js';
import { consentReason, type ConsentEntry } from '../../domain/consent.js';
import { renderTemplate, type CompiledTemplate, type RenderInput } from '../../domain/templates/render.js';
import { withTransparencyFooter } from '../../domain/templates/footer.js';
import { TRANSACTIONAL } from '../../domain/subscriptions.js';
import { couponKey } from '../../store/coupon-store.js';
import { standInCodes } from '../../domain/coupons.js';
import { CHANNELS } from '../../domain/journeys/parse.js';
import type { OutboxMessage } from '../../store/delivery-store.js';
import type { TriggerEvent } from '../../store/journey-store.js';
import type { Store } from '../../store/store.js';
import type { TemplateService } from './templates.js';
import { catalogInputs } from './catalog-inputs.js';
import type { CatalogInput } from '../recommendations.js';

/** A message that draws coupon codes, waiting for them to render for good. */
interface CouponSend {
  readonly index: number;
  readonly ws: string;
  readonly key: string;
  readonly template: CompiledTemplate;
  readonly input: RenderInput;
  /** what the rendered fields get before they are sent (the transparency footer) */
  readonly finish: (content: Record<string, string>) => Record<string, string>;
}

/** One send or webhook action of a runner batch, with what composing it needs. */
export interface PendingAction {
  readonly workspaceId: string;
  readonly journeyId: string;
  readonly entryId: string;
  /** the event that let the customer in, when one did (its templates read it as `event`) */
  readonly triggerMessageId: string | null;
  readonly action: Action;
  readonly profile: ProfileState | null;
  readonly defs: Definitions | null;
}

/**
 * Turns a runner batch's send and webhook actions into outbox messages (docs/channels.md): each send
 * is rendered for its customer now, its recipient checked, and the respect rules applied — quiet
 * hours in the customer's time zone (hold until they end, or drop) and frequency caps over rolling
 * windows, counting what the customer was already sent and what this batch queues. Sends are taken in
 * priority order, so where a cap leaves room for only some, the more important message wins.
 */
export class Composer {
  private readonly settings = new Map<string, { at: number; settings: DeliverySettings }>();
  /**
   * Messages this composer queued that may not be committed yet (the runner stores a batch while it
   * composes the next): counted by the caps with what the store returns, by key, until `settle`.
   */
  private readonly unsettled = new Map<
    string,
    { ws: string; profileId: string; channel: string; topic: string | null; at: number }
  >();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly templates: TemplateService,
  ) {}

  /** The workspace's quiet hours and caps, re-read at most once a second. */
  async settingsOf(ws: string): Promise<DeliverySettings> {
    const now = this.clock.now();
    const hit = this.settings.get(ws);
    if (hit && now - hit.at < 1000 && now >= hit.at) return hit.settings;
    const raw = await this.store.getDeliverySettings(ws);
    const p = raw === null ? null : parseDeliverySettings(raw, CHANNELS);
    const settings = p?.ok ? p.settings : NO_SETTINGS;
    this.settings.set(ws, { at: now, settings });
    return settings;
  }

  /** The messages were stored (or will never be): the store counts them from now on. */
  settle(keys: Iterable<string>): void {
    for (const k of keys) this.unsettled.delete(k);
  }

  /** The messages of each pending action, in the order given. */
  async compose(pending: readonly PendingAction[], now: number): Promise<(OutboxMessage | null)[]> {
    const out: (OutboxMessage | null)[] = pending.map(() => null);
    const sends: number[] = [];
    pending.forEach((p, i) => {
      const a = p.action;
      if (a.kind === 'webhook') {
        out[i] = {
          key: a.key,
          step: a.step,
          channel: 'webhook',
          template: null,
          payload: { url: a.url, body: a.body },
          topic: null,
          status: 'queued',
          nextAttemptAt: now,
          reason: null,
        };
      } else if (a.kind === 'send') sends.push(i);
    });
    if (sends.length === 0) return out;
    const rank = (i: number) => {
      const a = pending[i]!.action;
      return a.kind === 'send' ? PRIORITY_RANK[a.priority] : 1;
    };
    sends.sort((x, y) => rank(x) - rank(y) || x - y);

    // Per workspace: settings, and the recent messages of its customers when it caps frequency.
    const recent = new Map<string, Map<string, RecentMessage[]>>();
    const settings = new Map<string, DeliverySettings>();
    for (const ws of new Set(sends.map((i) => pending[i]!.workspaceId))) {
      const s = await this.settingsOf(ws);
      settings.set(ws, s);
      if (s.caps.length > 0) {
        const longest = Math.max(...s.caps.map((c) => c.windowMs));
        const ids = sends
          .filter((i) => pending[i]!.workspaceId === ws && pending[i]!.profile)
          .map((i) => pending[i]!.profile!.id);
        const stored = await this.store.recentMessages(ws, ids, now - longest);
        const known = new Set([...stored.values()].flatMap((l) => l.map((m) => m.key)));
        for (const [key, u] of this.unsettled) {
          if (u.ws !== ws || known.has(key)) continue;
          const list = stored.get(u.profileId) ?? [];
          list.push({ key, channel: u.channel, topic: u.topic, at: u.at });
          stored.set(u.profileId, list);
        }
        recent.set(ws, stored);
      }
    }
    // The consent ledgers of the batch's customers: a withdrawal stops the very next send.
    const consents = new Map<string, Map<string, ConsentEntry[]>>();
    for (const ws of settings.keys()) {
      const ids = sends.flatMap((i) => {
        const p = pending[i]!;
        return p.workspaceId === ws && p.profile ? [p.profile.id] : [];
      });
      consents.set(ws, await this.store.consentsOf(ws, ids));
    }
    const triggers = await this.triggersOf(sends.map((i) => pending[i]!));
    // Recommendations and bought items for the templates that read them, for the batch at once.
    const catalog = await catalogInputs(this.store, this.clock, this.templates, pending);
    const coupons: CouponSend[] = [];
    for (const i of sends) {
      const p = pending[i]!;
      const event =
        p.triggerMessageId === null ? null : (triggers.get(`${p.workspaceId}/${p.triggerMessageId}`) ?? null);
      const ledger = p.profile ? (consents.get(p.workspaceId)?.get(p.profile.id) ?? []) : [];
      out[i] = await this.send(p, settings.get(p.workspaceId)!, recent, now, event, catalog(p), ledger, (c) =>
        coupons.push({ ...c, index: i, ws: p.workspaceId }),
      );
    }
    if (coupons.length > 0) await this.giveCoupons(coupons, out, now);
    return out;
  }

  /**
   * The triggering events of the sends whose templates read `event`, keyed `workspace/messageId`: one
   * read per workspace, and none for a batch whose templates do not use them (a broadcast).
   */
  private async triggersOf(sends: readonly PendingAction[]): Promise<Map<string, TriggerEvent>> {
    const wanted = new Map<string, Set<string>>();
    for (const p of sends) {
      if (p.triggerMessageId === null || p.action.kind !== 'send') continue;
      const t = await this.templates.forSend(p.workspaceId, p.action.template);
      if (!t?.usesEvent) continue;
      const ids = wanted.get(p.workspaceId) ?? new Set<string>();
      ids.add(p.triggerMessageId);
      wanted.set(p.workspaceId, ids);
    }
    const out = new Map<string, TriggerEvent>();
    for (const [ws, ids] of wanted) {
      for (const [id, e] of await this.store.getTriggerEvents(ws, [...ids])) out.set(`${ws}/${id}`, e);
    }
    return out;
  }

  /**
   * Gives the batch's messages that draw coupon codes their codes (one store call per workspace, and
   * only for messages that are going out: a capped or dropped message takes no code) and renders them
   * again with the codes. A pool with no free code left skips the message, saying so.
   */
  private async giveCoupons(sends: readonly CouponSend[], out: (OutboxMessage | null)[], now: number) {
    for (const ws of new Set(sends.map((c) => c.ws))) {
      const mine = sends.filter((c) => c.ws === ws);
      const codes = await this.store.assignCoupons(
        ws,
        mine.flatMap((c) =>
          c.template.pools.map((pool) => ({ pool, messageKey: c.key, profileId: c.input.profile.id })),
        ),
        now,
      );
      for (const c of mine) {
        const message = out[c.index]!;
        const given: Record<string, string> = {};
        const empty = c.template.pools.find((pool) => {
          const code = codes.get(couponKey({ pool, messageKey: c.key }));
          if (code) given[pool] = code;
          return !code;
        });
        const r = empty === undefined ? renderTemplate(c.template, { ...c.input, coupons: given }) : null;
        if (r === null || !r.ok) {
          this.settle([c.key]);
          out[c.index] = {
            ...message,
            payload: {},
            status: 'skipped',
            nextAttemptAt: null,
            reason:
              r === null
                ? `coupon pool "${empty}" has no free code left`
                : `template ${message.template} v${c.template.version}: ${r.reason}`,
          };
          continue;
        }
        const payload = message.payload as Record<string, unknown>;
        out[c.index] = {
          ...message,
          payload: { ...payload, content: c.finish(r.content), coupons: given },
        };
      }
    }
  }

  private async send(
    p: PendingAction,
    settings: DeliverySettings,
    recent: Map<string, Map<string, RecentMessage[]>>,
    now: number,
    trigger: TriggerEvent | null,
    catalog: CatalogInput | undefined,
    ledger: readonly ConsentEntry[],
    needsCoupons: (c: Omit<CouponSend, 'index' | 'ws'>) => void,
  ): Promise<OutboxMessage> {
    const a = p.action;
    if (a.kind !== 'send') throw new Error('not a send');
    const base = { key: a.key, step: a.step, channel: a.channel, template: a.template };
    const skip = (reason: string, topic: string | null = null): OutboxMessage => ({
      ...base,
      payload: {},
      topic,
      status: 'skipped',
      nextAttemptAt: null,
      reason,
    });
    const { profile, defs } = p;
    if (!profile || !defs) return skip('the customer no longer exists');
    const template = await this.templates.forSend(p.workspaceId, a.template);
    if (!template) return skip(`no template named "${a.template}"`);
    const topic = template.definition.topic;
    if (template.definition.channel !== a.channel)
      return skip(`"${a.template}" is a ${template.definition.channel} template, not ${a.channel}`, topic);
    const computed = computedTraitsOf(profile, defs, now);
    const to = recipient(a.channel, profile);
    // A marketing e-mail whose template does not place the transparency link gets it as a footer.
    const footer = a.channel === 'email' && topic !== TRANSACTIONAL && !template.placesTransparency;
    // Each link costs an HMAC: all of them for templates that show links; for the footer of one that
    // shows none, only the transparency link (to an address, as linksFor gives it).
    const address = typeof to === 'string' ? to : '';
    const links: Record<string, string> = template.usesLinks
      ? this.templates.linksFor(p.workspaceId, a.channel, address, topic, profile.id, a.key)
      : footer && address !== ''
        ? this.templates.transparencyLink(p.workspaceId, profile.id)
        : {};
    const input: RenderInput = {
      profile: { id: profile.id, userId: profile.userId, traits: profile.traits },
      computed: (name) => computed.get(name),
      stage: profile.engagement.stage,
      segments: profile.engagement.segments,
      journey: { id: p.journeyId, step: a.step, entryId: p.entryId },
      message: { key: a.key },
      event: trigger && { name: trigger.name ?? '', properties: trigger.properties },
      now,
      vars: {
        ...(template.usesLinks && links),
        ...(template.usesSurveys &&
          (await this.templates.surveysFor(p.workspaceId, profile.id, {
            journeyId: p.journeyId,
            messageKey: a.key,
          }))),
      },
      ...catalog,
    };
    // Rendered first with stand-in codes: a template that cannot render takes no code.
    const r = renderTemplate(
      template,
      template.pools.length > 0 ? { ...input, coupons: standInCodes(template.pools) } : input,
    );
    if (!r.ok) return skip(`template ${a.template} v${template.version}: ${r.reason}`, topic);
    if (typeof to !== 'string') return skip(to.reason, topic);
    const transparency = links['transparency_url'];
    const finish = (content: Record<string, string>) =>
      footer && transparency !== undefined
        ? withTransparencyFooter(content, transparency, r.locale)
        : content;
    const payload = {
      ...(to !== '' && { to }),
      topic,
      template_version: template.version,
      locale: r.locale,
      content: finish(r.content),
    };
    const message = (
      status: 'queued' | 'suppressed',
      nextAttemptAt: number | null,
      reason: string | null,
    ) => ({
      ...base,
      payload,
      topic,
      status,
      nextAttemptAt,
      reason,
    });
    const queued = (due: number, held: string | null) => {
      if (template.pools.length > 0) needsCoupons({ key: a.key, template, input, finish });
      return message('queued', due, held);
    };
    if (!respected(topic)) return queued(now, null);
    const withdrawn = consentReason(a.channel, topic, ledger);
    if (withdrawn !== null) return message('suppressed', null, withdrawn);
    if (inGlobalHoldout(profile.id, settings.holdoutPercent))
      return message(
        'suppressed',
        null,
        `global holdout: ${settings.holdoutPercent} % of customers get no marketing`,
      );

    const q = settings.quietHours;
    let due = now;
    let held: string | null = null;
    if (q && q.channels.includes(a.channel) && a.quietHours !== 'ignore') {
      const own = profile.traits['timezone'];
      const tz = typeof own === 'string' && isTimeZone(own) ? own : q.timezone;
      const until = quietUntil(q, now, tz);
      if (until !== null) {
        if (a.quietHours === 'drop')
          return message('suppressed', null, `${describeQuietHours(q, tz)} (dropped)`);
        due = until;
        held = `held for ${describeQuietHours(q, tz)} until ${new Date(until).toISOString()}`;
      }
    }
    const mine = recent.get(p.workspaceId);
    if (mine) {
      const list = mine.get(profile.id) ?? [];
      const capped = capReached(settings.caps, list, a.channel, topic, now);
      if (capped !== null) return message('suppressed', null, capped);
      list.push({ key: a.key, channel: a.channel, topic, at: now });
      mine.set(profile.id, list);
      this.unsettled.set(a.key, {
        ws: p.workspaceId,
        profileId: profile.id,
        channel: a.channel,
        topic,
        at: now,
      });
    }
    return queued(due, held);
  }
}

/**
 * Where a channel's message goes, from the profile: the e-mail address for e-mail (lower-cased, so an
 * opt-out matches however the address was written), the `phone` trait in E.164 for SMS (spaces,
 * dashes and brackets dropped), the `line_user_id` trait for LINE; '' for channels whose address the provider finds itself; or why
 * there is none.
 */
export function recipient(channel: string, p: ProfileState): string | { reason: string } {
  if (channel === 'sms') {
    const phone = p.traits['phone'];
    if (phone === undefined || phone === null || phone === '')
      return { reason: 'the customer has no phone number' };
    const v = typeof phone === 'string' ? phone.replace(/[\s()-]/g, '') : phone;
    return isPhoneNumber(v)
      ? v
      : { reason: `${JSON.stringify(phone)} is not a phone number in E.164 form (+819012345678)` };
  }
  if (channel === 'line') {
    const id = p.traits['line_user_id'];
    if (id === undefined || id === null || id === '') return { reason: 'the customer has no LINE user id' };
    return isLineUserId(id)
      ? id
      : { reason: `${JSON.stringify(id)} is not a LINE user id (U + 32 hex digits)` };
  }
  if (channel !== 'email') return '';
  const email = p.traits['email'];
  if (email === undefined || email === null || email === '')
    return { reason: 'the customer has no e-mail address' };
  const v = typeof email === 'string' ? email.trim().toLowerCase() : email;
  return isEmailAddress(v) ? v : { reason: `${JSON.stringify(email)} is not an e-mail address` };
}
