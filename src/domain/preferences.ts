/**
 * Subscription topics as workspace configuration, the hosted preference centre and double opt-in
 * (docs/channels.md#subscriptions-and-one-click-unsubscribe): what a declared topic is, how the page
 * picks its language, what a submitted form records, and when a confirmation link has expired.
 */
import { z } from 'zod';
import type { Subscription } from '../store/delivery-store.js';
import {
  TOPIC_NAME,
  TOPIC_RULE,
  TRANSACTIONAL,
  unsubscribedReason,
  type SubscriptionState,
} from './subscriptions.js';

export interface TopicLabel {
  readonly name: string;
  readonly description: string;
}

export interface Topic {
  readonly id: string;
  /** messages go only to contact points that subscribed (a newsletter under opt-in rules) */
  readonly requiresOptIn: boolean;
  /** locale (`en`, `ja`, `ja-JP`) → display name and description */
  readonly labels: Readonly<Record<string, TopicLabel>>;
}

/** The languages of the hosted pages; the first is the fallback. */
export const PAGE_LANGUAGES = ['en', 'ja'] as const;
export type PageLanguage = (typeof PAGE_LANGUAGES)[number];

/** How long a double opt-in confirmation link works. */
export const CONFIRM_TTL_MS = 7 * 24 * 60 * 60_000;

export const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const label = z.strictObject({
  name: z
    .string({ error: 'required: the name customers see' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(100, { error: 'must be at most 100 characters' }),
  description: z
    .string({ error: 'must be a string' })
    .trim()
    .max(500, { error: 'must be at most 500 characters' })
    .default(''),
});

/** `PUT /api/v1/subscription-topics`: the whole list, replacing the previous one. */
export const topicsBody = z
  .strictObject({
    topics: z
      .array(
        z.strictObject({
          id: z
            .string({ error: 'required: the topic templates name' })
            .regex(TOPIC_NAME, { error: TOPIC_RULE })
            .refine((v) => v !== TRANSACTIONAL, {
              error:
                'transactional messages are sent whatever the subscriptions say; it is not a topic to declare',
            }),
          requires_opt_in: z.boolean({ error: 'must be true or false' }).default(false),
          labels: z
            .record(z.string().regex(LOCALE), label, {
              error: (iss) =>
                iss.code === 'invalid_type'
                  ? 'required: a name and description per locale, e.g. {"en": {"name": "News"}}'
                  : iss.code === 'invalid_key'
                    ? 'the key must be a locale such as en or ja-JP'
                    : undefined,
            })
            .refine((l) => Object.keys(l).length > 0, {
              error: 'must name the topic in at least one locale',
            }),
        }),
        { error: 'required: a list of topics' },
      )
      .max(100, { error: 'must hold at most 100 topics' }),
  })
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.topics.forEach((t, i) => {
      if (seen.has(t.id))
        ctx.addIssue({ code: 'custom', message: `"${t.id}" is declared twice`, path: ['topics', i, 'id'] });
      seen.add(t.id);
    });
  });

export type TopicsJson = z.output<typeof topicsBody>;

/** The declared topics of a stored document (written validated; anything else reads as none). */
export function topicsOf(stored: unknown): Topic[] {
  const p = topicsBody.safeParse(stored);
  if (!p.success) return [];
  return p.data.topics.map((t) => ({ id: t.id, requiresOptIn: t.requires_opt_in, labels: t.labels }));
}

export function topicsJson(topics: readonly Topic[]): TopicsJson {
  return {
    topics: topics.map((t) => ({ id: t.id, requires_opt_in: t.requiresOptIn, labels: { ...t.labels } })),
  };
}

/** A topic's name and description in `lang`: that locale, its language, English, any, else the id. */
export function topicLabel(t: Topic, lang: string): TopicLabel {
  const keys = Object.keys(t.labels);
  const base = lang.split('-')[0]!.toLowerCase();
  const key =
    keys.find((k) => k.toLowerCase() === lang.toLowerCase()) ??
    keys.find((k) => k.split('-')[0]!.toLowerCase() === base) ??
    keys.find((k) => k.split('-')[0]!.toLowerCase() === 'en') ??
    keys[0];
  return (key !== undefined ? t.labels[key] : undefined) ?? { name: t.id, description: '' };
}

/**
 * The page's language: the `lang` query parameter when it names one, else the first of the
 * browser's `Accept-Language` (by q-value) that the pages speak, else English.
 */
export function pageLanguage(lang: unknown, acceptLanguage: unknown): PageLanguage {
  const supported = (v: string): PageLanguage | null => {
    const base = v.trim().split(/[-_]/)[0]!.toLowerCase();
    return (PAGE_LANGUAGES as readonly string[]).includes(base) ? (base as PageLanguage) : null;
  };
  if (typeof lang === 'string') {
    const l = supported(lang);
    if (l) return l;
  }
  if (typeof acceptLanguage === 'string') {
    const ranked = acceptLanguage
      .split(',')
      .map((part, i) => {
        const [tag = '', ...params] = part.split(';');
        const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
        return { tag, q: q === undefined ? 1 : Number(q), i };
      })
      .filter((x) => x.q > 0)
      .sort((a, b) => b.q - a.q || a.i - b.i);
    for (const x of ranked) {
      const l = supported(x.tag);
      if (l) return l;
    }
  }
  return 'en';
}

/** Whether the contact point gets a topic's messages now, as the preference centre shows it. */
export function receives(t: Topic, states: readonly SubscriptionState[]): boolean {
  return unsubscribedReason(t.id, states, t.requiresOptIn) === null;
}

/** Whether everything (`*`) is opted out of, and not lifted since. */
export function unsubscribedFromEverything(states: readonly SubscriptionState[]): boolean {
  const all = states.find((s) => s.topic === '*');
  return all?.status === 'unsubscribed';
}

/**
 * What a submitted preference-centre form records: every declared topic as ticked or not, and
 * "unsubscribe from everything" as topic `*` (which unticks every topic). An earlier opt-out of
 * everything is lifted only when the form no longer asks for it.
 */
export function preferenceChanges(
  topics: readonly Topic[],
  states: readonly SubscriptionState[],
  form: { readonly ticked: ReadonlySet<string>; readonly everything: boolean },
  contact: { readonly channel: string; readonly address: string },
  at: number,
): Subscription[] {
  const source = 'preference-centre';
  const out: Subscription[] = topics.map((t) => ({
    ...contact,
    topic: t.id,
    status: !form.everything && form.ticked.has(t.id) ? 'subscribed' : 'unsubscribed',
    source,
    at,
  }));
  if (form.everything) out.push({ ...contact, topic: '*', status: 'unsubscribed', source, at });
  else if (unsubscribedFromEverything(states))
    out.push({ ...contact, topic: '*', status: 'subscribed', source, at });
  return out;
}

/** Whether a confirmation link issued at `issuedAt` no longer works at `now`. */
export const confirmExpired = (issuedAt: number, now: number): boolean =>
  !(now >= issuedAt - 60_000 && now - issuedAt <= CONFIRM_TTL_MS);
