/**
 * Which in-app messages and cards one customer gets now (docs/in-app.md): schedule, targeting,
 * frequency, control group and variant, decided on the server. Pure: the caller reads the customer's
 * state and the workspace's active campaigns, this decides.
 */
import { unitDraw } from '../journeys/machine.js';
import {
  targetsEveryone,
  type CardDefinition,
  type MessageDefinition,
  type Targeting,
  type Variant,
} from './definition.js';

export interface ActiveMessage {
  readonly id: string;
  readonly definition: MessageDefinition;
}

export interface ActiveCard {
  readonly id: string;
  /** set for a card posted to one customer */
  readonly profileId: string | null;
  readonly definition: CardDefinition;
  readonly createdAt: number;
}

export interface MessageCounts {
  readonly impressions: number;
  /** the SDK session of the last impression */
  readonly lastSession: string | null;
}

export interface CardState {
  readonly readAt: number | null;
  readonly dismissedAt: number | null;
}

/** What eligibility knows of the customer. A visitor with no profile has `profileId` null. */
export interface Audience {
  readonly profileId: string | null;
  /** what control and variant draws hash: the profile id, else the visitor's anonymous id */
  readonly drawKey: string;
  readonly segments: ReadonlySet<string>;
  readonly stage: string | null;
  /** `journeyId/step` of each active journey entry */
  readonly journeySteps: ReadonlySet<string>;
  readonly counts: ReadonlyMap<string, MessageCounts>;
  readonly cardStates: ReadonlyMap<string, CardState>;
  /** the SDK session asking, when it says */
  readonly sessionId: string | null;
}

export function journeyStepKey(journeyId: string, step: string): string {
  return `${journeyId}/${step}`;
}

/** Whether the customer matches: a visitor without a profile matches only "everyone". */
export function matchesTargeting(t: Targeting, who: Audience): boolean {
  if (targetsEveryone(t)) return true;
  if (who.profileId === null) return false;
  if (t.segments.length > 0 && !t.segments.some((s) => who.segments.has(s))) return false;
  if (t.stages.length > 0 && (who.stage === null || !t.stages.includes(who.stage))) return false;
  if (
    t.journeySteps.length > 0 &&
    !t.journeySteps.some((j) => who.journeySteps.has(journeyStepKey(j.journeyId, j.step)))
  )
    return false;
  return true;
}

const inWindow = (now: number, start: number | null, end: number | null) =>
  (start === null || now >= start) && (end === null || now < end);

/** Whether the message's frequency rule still lets it be shown to this customer. */
export function frequencyAllows(
  m: MessageDefinition,
  counts: MessageCounts | undefined,
  session: string | null,
) {
  if (!counts) return true;
  switch (m.frequency.kind) {
    case 'once':
      return counts.impressions < 1;
    case 'times':
      return counts.impressions < m.frequency.max;
    case 'every_visit':
      return session === null || counts.lastSession !== session;
  }
}

export type Assignment = { readonly control: true } | { readonly control: false; readonly variant: Variant };

/**
 * The customer's arm of a message, the same on every request: a draw from the customer and message
 * decides the control group, an independent draw picks a variant by weight among the rest.
 */
export function assign(m: ActiveMessage, drawKey: string): Assignment {
  if (
    m.definition.controlPercent > 0 &&
    unitDraw(`${drawKey}/${m.id}/control`) * 100 < m.definition.controlPercent
  )
    return { control: true };
  const variants = m.definition.variants;
  const total = variants.reduce((s, v) => s + v.weight, 0);
  const draw = unitDraw(`${drawKey}/${m.id}/variant`) * total;
  let acc = 0;
  for (const v of variants) {
    acc += v.weight;
    if (draw < acc) return { control: false, variant: v };
  }
  return { control: false, variant: variants[variants.length - 1]! };
}

/**
 * The messages that qualify for the customer now, highest priority first (then id), each with the
 * variant they get, or `variant: null` when they are in its control group: a control message still
 * takes its trigger's turn on the page (so the customer experiences "no message" exactly where the
 * others see one) and its exposure is recorded, which is what the control group is measured from.
 */
export function eligibleMessages(
  messages: readonly ActiveMessage[],
  who: Audience,
  now: number,
): { message: ActiveMessage; variant: Variant | null }[] {
  const out: { message: ActiveMessage; variant: Variant | null }[] = [];
  for (const m of messages) {
    const d = m.definition;
    if (!inWindow(now, d.startAt, d.endAt)) continue;
    if (!matchesTargeting(d.targeting, who)) continue;
    if (!frequencyAllows(d, who.counts.get(m.id), who.sessionId)) continue;
    const a = assign(m, who.drawKey);
    out.push({ message: m, variant: a.control ? null : a.variant });
  }
  return out.sort(
    (a, b) =>
      b.message.definition.priority - a.message.definition.priority || (a.message.id < b.message.id ? -1 : 1),
  );
}

/**
 * The cards the customer sees now: campaign cards their targeting selects and their own cards,
 * started and not expired, not dismissed; pinned first, then newest first.
 */
export function eligibleCards(cards: readonly ActiveCard[], who: Audience, now: number): ActiveCard[] {
  return cards
    .filter((c) => {
      if (c.profileId !== null && c.profileId !== who.profileId) return false;
      if (!inWindow(now, c.definition.startAt, c.definition.expiresAt)) return false;
      if (c.profileId === null && !matchesTargeting(c.definition.targeting, who)) return false;
      return !who.cardStates.get(c.id)?.dismissedAt;
    })
    .sort(
      (a, b) =>
        Number(b.definition.pinned) - Number(a.definition.pinned) ||
        cardTime(b) - cardTime(a) ||
        (a.id < b.id ? 1 : -1),
    );
}

/** A card's place in the feed: when it started showing (its start, else its creation). */
function cardTime(c: ActiveCard): number {
  return c.definition.startAt ?? c.createdAt;
}
