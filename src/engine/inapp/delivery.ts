import type { Clock } from '../../domain/clock.js';
import { compileDefinitions } from '../../domain/engagement/definitions.js';
import { computedTraitsOf } from '../../domain/engagement/evaluate.js';
import {
  cardFields,
  compileFields,
  messageContentOf,
  messageFields,
  readsComputed,
  readsTime,
  renderFields,
  type ContentInput,
  type Fields,
} from '../../domain/inapp/content.js';
import {
  CONTROL_ARM,
  type MessageContent,
  type MessageType,
  type Trigger,
} from '../../domain/inapp/definition.js';
import {
  eligibleCards,
  eligibleMessages,
  journeyStepKey,
  type ActiveCard,
  type ActiveMessage,
  type Audience,
} from '../../domain/inapp/eligibility.js';
import type { CompiledTemplate } from '../../domain/templates/render.js';
import type { CardRecord, InAppState, MessageRecord } from '../../store/inapp-store.js';
import type { ProfileView, Store } from '../../store/store.js';

/** A message as the SDK receives it (the contract, /work/inapp-contract.md). */
export interface SdkMessage {
  readonly id: string;
  readonly variant: string;
  readonly type: MessageType;
  readonly priority: number;
  readonly trigger: Trigger;
  readonly position: 'top' | 'bottom' | null;
  /** empty for the control group: nothing is shown, the SDK only reports the exposure */
  readonly content: MessageContent | Record<string, never>;
  /** set when the customer is in the message's control group (`variant` is then "control") */
  readonly control?: true;
}

export interface SdkCard {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly imageUrl: string | null;
  readonly url: string | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly read: boolean;
  readonly pinned: boolean;
}

/** Who is asking: their profile (null for a visitor Kizuna has not stored yet) and SDK session. */
export interface Customer {
  readonly profile: ProfileView | null;
  readonly anonymousId: string | null;
  readonly sessionId: string | null;
}

/** Liquid fields compiled once per campaign version; null when no field has markup (shown as is). */
interface Compiled {
  readonly template: CompiledTemplate | null;
  readonly computed: boolean;
  /** names this compilation in the render cache */
  readonly id: number;
  /** the output depends on the time (`now`, computed traits), so it is rendered afresh every time */
  readonly volatile: boolean;
}

/**
 * Customer states whose rendered fields are kept (each with every compilation rendered for it); the
 * least recently asked is dropped first past this many. Per state, not per field set, so one customer
 * with a hundred messages is one entry and a working set of customers does not thrash.
 */
const RENDER_CACHE = 20_000;
let compilations = 0;

interface ActiveSet {
  readonly at: number;
  readonly messages: readonly ActiveMessage[];
  readonly cards: readonly ActiveCard[];
  /** by `messageId/variant` and card id: compiled when the set is read, not per request */
  readonly compiled: ReadonlyMap<string, Compiled>;
  /** whether any active campaign targets a journey step (else the journey read is skipped) */
  readonly journeys: boolean;
}

const DEFAULT_CACHE_MS = 5_000;
const MARKUP = /\{\{|\{%/;

/**
 * The SDK's read path (docs/in-app.md): which messages and cards one customer gets now, personalised.
 * The workspace's active campaigns are cached in memory for a few seconds (changes made through this
 * process show at once, through another within the TTL) with their Liquid compiled, so a request
 * costs the profile lookup and one read of the customer's own state.
 */
export class InAppDelivery {
  private readonly active = new Map<string, ActiveSet>();
  private readonly ownCards = new Map<string, Compiled>();
  private readonly compiledBySource = new Map<string, { source: string; compiled: Compiled }>();
  private readonly rendered = new Map<string, Map<number, Record<string, string> | null>>();

  /** Fields rendered afresh and served from the render cache, since start (for tests and metrics). */
  readonly counts = { rendered: 0, cached: 0 };

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly cacheMs = DEFAULT_CACHE_MS,
  ) {}

  /** Drops a workspace's cached campaigns (after an admin change). */
  invalidate(ws: string): void {
    this.active.delete(ws);
  }

  /**
   * The customer's profile by the ids the SDK sends: the userId's, else the anonymous id's, but never
   * an anonymous profile that already belongs to another userId (a shared browser that did not reset).
   */
  async findProfile(
    ws: string,
    userId: string | null,
    anonymousId: string | null,
  ): Promise<ProfileView | null> {
    if (userId !== null) {
      const p = await this.store.lookupProfile(ws, { kind: 'user_id', value: userId });
      if (p) return p;
    }
    if (anonymousId === null) return null;
    const p = await this.store.lookupProfile(ws, { kind: 'anonymous_id', value: anonymousId });
    return p && (userId === null || p.userId === null || p.userId === userId) ? p : null;
  }

  async forCustomer(
    ws: string,
    c: Customer,
    want: { messages: boolean; cards: boolean },
  ): Promise<{ messages: SdkMessage[]; cards: SdkCard[] }> {
    const now = this.clock.now();
    const set = await this.activeSet(ws, now);
    const p = c.profile;
    const state: InAppState | null = p
      ? await this.store.inAppStateOf(ws, p.id, { journeys: set.journeys })
      : null;
    const who: Audience = {
      profileId: p?.id ?? null,
      drawKey: p?.id ?? `anon:${c.anonymousId ?? ''}`,
      segments: new Set(p?.segments ?? []),
      stage: p?.stage ?? null,
      journeySteps: new Set(state?.journeySteps.map((j) => journeyStepKey(j.journeyId, j.step)) ?? []),
      counts: state?.counts ?? new Map(),
      cardStates: state?.cardStates ?? new Map(),
      sessionId: c.sessionId,
    };
    const messages = want.messages ? eligibleMessages(set.messages, who, now) : [];
    const cards = want.cards
      ? eligibleCards(
          // The customer's own cards (some maybe posted to a profile since merged into this one).
          [
            ...set.cards,
            ...(state?.cards ?? []).map((r) => ({ ...activeCard(r), profileId: who.profileId })),
          ],
          who,
          now,
        )
      : [];
    // Every variant of every active message was compiled with the set.
    const compiledOf = (m: { message: ActiveMessage; variant: { key: string } }) =>
      set.compiled.get(`${m.message.id}/${m.variant.key}`)!;
    const shown = messages.flatMap(({ message, variant }) => (variant ? [{ message, variant }] : []));
    const input = await this.renderInput(ws, p, now, [
      ...shown.map(compiledOf),
      ...cards.map((card) => this.compiledCard(set, card)),
    ]);
    const out: { messages: SdkMessage[]; cards: SdkCard[] } = { messages: [], cards: [] };
    // What a render reads of the customer: the same key means the same output (time-free templates).
    const stateKey = p ? `${p.id}|${p.updatedAt}|${p.stage ?? ''}|${p.segments.join(',')}` : 'visitor';
    for (const { message, variant } of messages) {
      const d = message.definition;
      if (variant === null) {
        const { type, priority, trigger, position } = d;
        out.messages.push({
          id: message.id,
          variant: CONTROL_ARM,
          type,
          priority,
          trigger,
          position,
          content: {},
          control: true,
        });
        continue;
      }
      const rendered = this.render(
        compiledOf({ message, variant }),
        message.id,
        messageFields(variant.content),
        input,
        stateKey,
      );
      if (!rendered) continue;
      out.messages.push({
        id: message.id,
        variant: variant.key,
        type: d.type,
        priority: d.priority,
        trigger: d.trigger,
        position: d.position,
        content: messageContentOf(variant.content, rendered),
      });
    }
    for (const card of cards) {
      const rendered = this.render(
        this.compiledCard(set, card),
        card.id,
        cardFields(card.definition),
        input,
        stateKey,
      );
      if (!rendered) continue;
      const d = card.definition;
      out.cards.push({
        id: card.id,
        title: rendered['title'] ?? '',
        body: rendered['body'] ?? '',
        imageUrl: d.imageUrl,
        url: d.url,
        createdAt: new Date(d.startAt ?? card.createdAt).toISOString(),
        expiresAt: d.expiresAt === null ? null : new Date(d.expiresAt).toISOString(),
        read: Boolean(who.cardStates.get(card.id)?.readAt),
        pinned: d.pinned,
      });
    }
    return out;
  }

  /**
   * Whether the customer sees the card now (it exists, is theirs, is live and not dismissed): only
   * such a card can be read or dismissed, so ids of other customers' cards tell nothing.
   */
  async cardVisible(ws: string, cardId: string, c: Customer): Promise<boolean> {
    const { cards } = await this.forCustomer(ws, c, { messages: false, cards: true });
    return cards.some((x) => x.id === cardId);
  }

  private async activeSet(ws: string, now: number): Promise<ActiveSet> {
    const hit = this.active.get(ws);
    if (hit && now - hit.at < this.cacheMs && now >= hit.at) return hit;
    const { messages, cards } = await this.store.listActiveInApp(ws);
    const compiled = new Map<string, Compiled>();
    for (const m of messages)
      for (const v of m.definition.variants)
        compiled.set(
          `${m.id}/${v.key}`,
          this.compileOnce(ws, `${m.id}/${v.key}`, m.definition.name, messageFields(v.content), ['html']),
        );
    for (const c of cards)
      compiled.set(c.id, this.compileOnce(ws, c.id, c.definition.name, cardFields(c.definition), []));
    const set: ActiveSet = {
      at: now,
      messages: messages.map(activeMessage),
      cards: cards.map(activeCard),
      compiled,
      journeys:
        messages.some((m) => m.definition.targeting.journeySteps.length > 0) ||
        cards.some((c) => c.definition.targeting.journeySteps.length > 0),
    };
    if (this.active.size >= 10_000) this.active.clear();
    this.active.set(ws, set);
    return set;
  }

  /**
   * The compilation of a campaign's fields, reused while its name and fields stay the same: the set is
   * re-read every few seconds, and a fresh compilation would start every customer's render cache over
   * (a cache that empties every five seconds rarely sees the same customer twice).
   */
  private compileOnce(
    ws: string,
    key: string,
    name: string,
    fields: Fields,
    html: readonly string[],
  ): Compiled {
    const source = JSON.stringify([name, fields, html]);
    const cacheKey = `${ws}/${key}`;
    const hit = this.compiledBySource.get(cacheKey);
    if (hit && hit.source === source) return hit.compiled;
    const c = compile(name, fields, html);
    if (this.compiledBySource.size >= 50_000) this.compiledBySource.clear();
    this.compiledBySource.set(cacheKey, { source, compiled: c });
    return c;
  }

  /** A campaign card's compiled fields from the set; a customer's own card's, compiled once per version. */
  private compiledCard(set: ActiveSet, card: ActiveCard & { updatedAt?: number }): Compiled {
    const hit = set.compiled.get(card.id);
    if (hit) return hit;
    const key = `${card.id}@${card.updatedAt ?? 0}`;
    let c = this.ownCards.get(key);
    if (!c) {
      c = compile(card.definition.name, cardFields(card.definition), []);
      if (this.ownCards.size >= 5_000) this.ownCards.clear();
      this.ownCards.set(key, c);
    }
    return c;
  }

  /**
   * A compilation's fields rendered for one customer state, from the cache when it was rendered for
   * the same state before (a customer's page views ask again and again, and every visitor without a
   * profile renders alike). Fields reading the time or computed traits are rendered every time.
   */
  private render(
    c: Compiled,
    key: string,
    fields: Fields,
    input: ContentInput,
    stateKey: string,
  ): Record<string, string> | null {
    if (c.template === null) return { ...fields };
    if (c.volatile) {
      this.counts.rendered++;
      return renderFields(c.template, key, input);
    }
    let mine = this.rendered.get(stateKey);
    if (mine) {
      // Most recently asked last: the first key is always the one to drop.
      this.rendered.delete(stateKey);
      this.rendered.set(stateKey, mine);
    } else {
      if (this.rendered.size >= RENDER_CACHE) this.rendered.delete(this.rendered.keys().next().value!);
      mine = new Map();
      this.rendered.set(stateKey, mine);
    }
    if (mine.has(c.id)) {
      this.counts.cached++;
      return mine.get(c.id)!;
    }
    this.counts.rendered++;
    const out = renderFields(c.template, key, input);
    mine.set(c.id, out);
    return out;
  }

  /** What templates see; computed traits are loaded only when a field to render reads them. */
  private async renderInput(
    ws: string,
    p: ProfileView | null,
    now: number,
    compiled: readonly Compiled[],
  ): Promise<ContentInput> {
    let computed: (name: string) => unknown = () => undefined;
    if (p && compiled.some((c) => c.template !== null && c.computed)) {
      const state = await this.store.getProfileState(ws, p.id);
      if (state) {
        const traits = computedTraitsOf(state, compileDefinitions(await this.store.getDefinitions(ws)), now);
        computed = (name) => traits.get(name);
      }
    }
    return {
      profile: { id: p?.id ?? '', userId: p?.userId ?? null, traits: p?.traits ?? {} },
      computed,
      stage: p?.stage ?? null,
      segments: p?.segments ?? [],
      now,
    };
  }
}

/** Compiles fields once; no template when no field has markup (they are then shown as they are). */
function compile(name: string, fields: Fields, html: readonly string[]): Compiled {
  const dynamic = Object.values(fields).some((f) => MARKUP.test(f));
  const computed = readsComputed(fields);
  return {
    template: dynamic ? compileFields(name, fields, html) : null,
    computed,
    id: ++compilations,
    volatile: computed || readsTime(fields),
  };
}

function activeMessage(r: MessageRecord): ActiveMessage {
  return { id: r.id, definition: r.definition };
}

function activeCard(r: CardRecord): ActiveCard & { updatedAt: number } {
  return {
    id: r.id,
    profileId: r.profileId,
    definition: r.definition,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
