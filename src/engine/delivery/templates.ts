import { TRANSPARENCY_TTL_MS } from '../../domain/consent.js';
import { standInCodes } from '../../domain/coupons.js';
import type { Clock } from '../../domain/clock.js';
import { compileJourney } from '../../domain/journeys/compile.js';
import { compileDefinitions } from '../../domain/engagement/definitions.js';
import { computedTraitsOf } from '../../domain/engagement/evaluate.js';
import {
  compileTemplate,
  renderTemplate,
  type CompiledTemplate,
  type Rendered,
} from '../../domain/templates/render.js';
import { parseTemplate, templateJson, type TemplateDefinition } from '../../domain/templates/template.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { LinkSigner } from '../../channels/links.js';
import { TRANSACTIONAL } from '../../domain/subscriptions.js';
import { recipient } from './composer.js';
import type { TemplateRecord } from '../../store/delivery-store.js';
import type { Store } from '../../store/store.js';
import { RecommendationService } from '../recommendations.js';
import { SurveysDrop } from '../../domain/surveys/links.js';
import type { Survey } from '../../domain/surveys/survey.js';
import { surveyOf } from '../surveys/service.js';

/**
 * Message templates (docs/templates.md): validated (Liquid syntax included) before anything is
 * stored, versioned, and compiled once per version for rendering. A template a live journey sends is
 * not deleted from under it.
 */
export class TemplateService {
  private readonly compiled = new Map<string, CompiledTemplate>();
  private readonly names = new Map<string, { at: number; records: Map<string, TemplateRecord> }>();
  private readonly surveys = new Map<string, { at: number; list: Survey[] }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** signs the links e-mail templates may use (`preferences_url`, `unsubscribe_url`) */
    private readonly links: LinkSigner | null = null,
  ) {}

  /**
   * The signed links an e-mail to `address` may carry, as template variables: the preference centre,
   * the customer's transparency page, and (but for transactional messages) the one-click unsubscribe
   * link of the message's topic — the same links the e-mail driver keeps out of click tracking. None
   * for other channels.
   */
  linksFor(
    ws: string,
    channel: string,
    address: string,
    topic: string,
    profileId?: string,
    message?: string,
  ): Record<string, string> {
    if (!this.links || channel !== 'email' || address === '') return {};
    const contact = { ws, channel, address };
    const marketing = topic !== TRANSACTIONAL;
    return {
      preferences_url: this.links.preferencesUrl(contact),
      ...(marketing && {
        unsubscribe_url: this.links.unsubscribeUrl({
          ...contact,
          topic,
          ...(message !== undefined && { message }),
        }),
      }),
      // The customer's transparency page (docs/privacy.md), valid for 30 days from the send: for a
      // transactional message too when its template shows it (only marketing gets the footer).
      ...(profileId !== undefined && this.transparencyLink(ws, profileId)),
    };
  }

  /**
   * Only the customer's transparency link (what the footer of an e-mail whose template shows no links
   * needs): one signature instead of linksFor's three. None without a link signer.
   */
  transparencyLink(ws: string, profileId: string): { transparency_url?: string } {
    if (!this.links) return {};
    return {
      transparency_url: this.links.transparencyUrl({
        ws,
        profile: profileId,
        expiresAt: this.clock.now() + TRANSPARENCY_TTL_MS,
      }),
    };
  }

  /**
   * The `surveys` variable of a message to one customer (docs/surveys.md#e-mail-links): each link
   * signs the customer, the answer and the campaign, so a click records that answer on that profile.
   * The workspace's surveys are re-read at most once a second.
   */
  async surveysFor(
    ws: string,
    profileId: string,
    campaign: { journeyId: string | null; messageKey: string | null },
  ): Promise<Record<string, unknown>> {
    const links = this.links;
    if (!links) return {};
    const now = this.clock.now();
    let hit = this.surveys.get(ws);
    if (!hit || now - hit.at >= 1000 || now < hit.at) {
      hit = { at: now, list: (await this.store.listSurveys(ws)).map(surveyOf) };
      this.surveys.set(ws, hit);
    }
    const drop = new SurveysDrop(hit.list, (survey, question, value) =>
      links.surveyUrl({
        ws,
        survey: survey.id,
        question: question.id,
        profile: profileId,
        value,
        journey: campaign.journeyId,
        message: campaign.messageKey,
      }),
    );
    return { surveys: drop };
  }

  async create(ws: string, body: unknown): Promise<TemplateRecord> {
    const t = validate(body);
    const r = await this.store.putTemplate(
      ws,
      { name: t.name, channel: t.channel, definition: templateJson(t) },
      'create',
      this.clock.now(),
    );
    this.names.delete(ws);
    return r;
  }

  /** Replaces the template `name` (the body's name, when given, must be the same). */
  async replace(ws: string, name: string, body: unknown): Promise<TemplateRecord> {
    const named =
      typeof body === 'object' && body !== null && !Array.isArray(body) && !('name' in body)
        ? { ...body, name }
        : body;
    const t = validate(named);
    if (t.name !== name) {
      throw new ValidationError([
        { field: 'name', rule: `must be "${name}" (a template is renamed by creating another)` },
      ]);
    }
    const current = await this.get(ws, name);
    if (current.channel !== t.channel) {
      const users = await this.journeysUsing(ws, name);
      if (users.length > 0) {
        throw new ValidationError([
          {
            field: 'channel',
            rule: `template ${name} is sent on ${current.channel} by journey ${users.join(', ')}; its channel cannot change`,
          },
        ]);
      }
    }
    const r = await this.store.putTemplate(
      ws,
      { name, channel: t.channel, definition: templateJson(t) },
      'replace',
      this.clock.now(),
    );
    this.names.delete(ws);
    return r;
  }

  async get(ws: string, name: string): Promise<TemplateRecord> {
    const r = await this.store.getTemplate(ws, name);
    if (!r) throw new NotFoundError(`no template named "${name}"`);
    return r;
  }

  list(ws: string): Promise<TemplateRecord[]> {
    return this.store.listTemplates(ws);
  }

  async remove(ws: string, name: string): Promise<void> {
    await this.get(ws, name);
    const users = await this.journeysUsing(ws, name);
    if (users.length > 0) {
      throw new ValidationError([
        {
          field: 'name',
          rule: `template ${name} is sent by journey ${users.join(', ')}; change or archive those first`,
        },
      ]);
    }
    await this.store.deleteTemplate(ws, name);
    this.names.delete(ws);
  }

  /** The workspace's template names and channels, for validating journeys' send steps. */
  async catalog(ws: string): Promise<Map<string, string>> {
    return new Map((await this.store.listTemplates(ws)).map((t) => [t.name, t.channel]));
  }

  /**
   * The compiled template for rendering, or null when the workspace has none of that name. The
   * workspace's templates are re-read at most once a second; each version is compiled once.
   */
  async forSend(ws: string, name: string): Promise<CompiledTemplate | null> {
    const now = this.clock.now();
    let hit = this.names.get(ws);
    if (!hit || now - hit.at >= 1000 || now < hit.at) {
      hit = { at: now, records: new Map((await this.store.listTemplates(ws)).map((t) => [t.name, t])) };
      this.names.set(ws, hit);
    }
    const r = hit.records.get(name);
    return r ? this.compile(ws, r) : null;
  }

  compile(ws: string, r: TemplateRecord): CompiledTemplate {
    const key = `${ws}/${r.name}@${r.version}`;
    let c = this.compiled.get(key);
    if (!c) {
      if (this.compiled.size > 1000) this.compiled.clear();
      c = compileTemplate(validate(r.definition), r.version);
      this.compiled.set(key, c);
    }
    return c;
  }

  /**
   * Renders a template (the stored one, or an unsaved `draft`) for one customer as a send would now:
   * the content, or the reason the send would be skipped.
   */
  async preview(
    ws: string,
    q: { name?: string; draft?: unknown; profileId: string; locale?: string },
  ): Promise<{ template: string; version: number | null; profileId: string } & Rendered> {
    const compiled =
      q.draft !== undefined
        ? compileTemplate(validate(q.draft), 0)
        : this.compile(ws, await this.get(ws, q.name ?? ''));
    const profile = await this.store.getProfileState(ws, q.profileId);
    if (!profile) throw new NotFoundError(`profile ${q.profileId} not found`);
    const now = this.clock.now();
    const computed = computedTraitsOf(profile, compileDefinitions(await this.store.getDefinitions(ws)), now);
    const { channel, topic } = compiled.definition;
    const to = recipient(channel, profile);
    const catalog = await new RecommendationService(this.store, this.clock).forProfiles(
      ws,
      [profile.id],
      compiled.catalog,
    );
    const r = renderTemplate(compiled, {
      profile: { id: profile.id, userId: profile.userId, traits: profile.traits },
      computed: (name) => computed.get(name),
      stage: profile.engagement.stage,
      segments: profile.engagement.segments,
      journey: null,
      message: { key: 'preview' },
      event: null,
      now,
      // A preview takes no code from a pool: it shows a stand-in.
      coupons: standInCodes(compiled.pools),
      vars: {
        ...this.linksFor(ws, channel, typeof to === 'string' ? to : '', topic, profile.id),
        ...(compiled.usesSurveys &&
          (await this.surveysFor(ws, profile.id, { journeyId: null, messageKey: 'preview' }))),
      },
      ...(q.locale !== undefined && { locale: q.locale }),
      ...catalog.get(profile.id),
    });
    return {
      template: compiled.definition.name,
      version: q.draft !== undefined ? null : compiled.version,
      profileId: profile.id,
      ...r,
    };
  }

  /** Journeys (not archived) whose draft or live version sends the template. */
  private async journeysUsing(ws: string, name: string): Promise<string[]> {
    const out: string[] = [];
    for (const j of await this.store.listJourneys(ws)) {
      if (j.status === 'archived') continue;
      const live = j.version > 0 ? await this.store.getJourneyVersion(ws, j.id, j.version) : null;
      const sends = (def: unknown) =>
        [...(compileJourney(def)?.steps.values() ?? [])].some(
          (s) => s.type === 'send' && s.template === name,
        );
      if (sends(j.draft) || (live !== null && sends(live))) out.push(j.id);
    }
    return out;
  }
}

function validate(body: unknown): TemplateDefinition {
  const p = parseTemplate(body);
  if (!p.ok) throw new ValidationError(p.issues);
  return p.template;
}
