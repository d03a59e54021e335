/**
 * On-site / in-app message and content card campaigns (docs/in-app.md): what the admin API accepts,
 * checked whole before anything is stored. Text fields are Liquid (checked for syntax here, rendered
 * per customer by content.ts); the SDK shows them as plain text, so only the `html` type's markup is
 * HTML, rendered with escaping on and shown in a sandboxed iframe.
 */
import { z } from 'zod';
import { syntaxError } from '../templates/liquid.js';

export const MESSAGE_TYPES = ['modal', 'banner', 'slide_in', 'full_screen', 'html'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** the largest custom HTML source of one variant (the SDK puts it in an iframe's srcdoc) */
export const MAX_HTML_CHARS = 64 * 1024;
export const MAX_VARIANTS = 8;
export const MAX_TARGETS = 50;

export type Trigger =
  | { readonly kind: 'event'; readonly event: string }
  | { readonly kind: 'page'; readonly urlPattern: string }
  | { readonly kind: 'delay'; readonly seconds: number }
  | { readonly kind: 'exit_intent' };

/** Who a campaign is for: every listed kind must match, any entry of a kind will do; empty = everyone. */
export interface Targeting {
  readonly segments: readonly string[];
  readonly stages: readonly string[];
  readonly journeySteps: readonly { readonly journeyId: string; readonly step: string }[];
}

export type Frequency =
  | { readonly kind: 'once' }
  | { readonly kind: 'times'; readonly max: number }
  | { readonly kind: 'every_visit' };

export interface Button {
  readonly label: string;
  readonly url: string | null;
  readonly action: 'click' | 'dismiss';
}

export interface MessageContent {
  readonly title: string;
  readonly body: string;
  readonly imageUrl: string | null;
  readonly buttons: readonly Button[];
  readonly html: string | null;
}

/** What the control group is called wherever arms are named (reports, SDK interactions). */
export const CONTROL_ARM = 'control';

export interface Variant {
  /** `a`, `b`, ...: reported with every interaction */
  readonly key: string;
  readonly weight: number;
  readonly content: MessageContent;
}

export interface MessageDefinition {
  readonly name: string;
  readonly type: MessageType;
  readonly trigger: Trigger;
  readonly position: 'top' | 'bottom' | null;
  readonly priority: number;
  readonly targeting: Targeting;
  readonly frequency: Frequency;
  readonly variants: readonly Variant[];
  /** percent of customers (0–50) held out: they never get the message, for measuring its effect */
  readonly controlPercent: number;
  readonly startAt: number | null;
  readonly endAt: number | null;
}

export interface CardDefinition {
  readonly name: string;
  readonly title: string;
  readonly body: string;
  readonly imageUrl: string | null;
  readonly url: string | null;
  readonly pinned: boolean;
  readonly targeting: Targeting;
  readonly startAt: number | null;
  readonly expiresAt: number | null;
}

const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => syntaxError(s) === null, {
      error: (i) => `is not valid Liquid: ${syntaxError(String(i.input))}`,
    });

/** A whole number in [min, max], the range named in the error. */
const whole = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be ${min}–${max}` })
    .max(max, { error: `must be ${min}–${max}` });

const name = z
  .string({ error: 'required: a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });

/** Absolute http(s) addresses only: a `javascript:` link in a message would run in the host page. */
const url = z
  .string({ error: 'must be a string' })
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'https:' || u.protocol === 'http:';
      } catch {
        return false;
      }
    },
    { error: 'must be an absolute http or https URL' },
  );

const iso = z
  .string({ error: 'must be an ISO 8601 date-time with a time zone' })
  .regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/, {
    error: 'must be an ISO 8601 date-time with a time zone',
  })
  .transform((s, ctx) => {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.issues.push({ code: 'custom', input: s, message: 'is not a real date-time' });
      return z.NEVER;
    }
    return ms;
  });

const id = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });

const targeting = z
  .strictObject({
    segments: z.array(id, { error: 'must be an array of segment ids' }).max(MAX_TARGETS).default([]),
    stages: z.array(id, { error: 'must be an array of stage names' }).max(MAX_TARGETS).default([]),
    journeySteps: z
      .array(z.strictObject({ journeyId: id, step: id }), {
        error: 'must be an array of { journeyId, step }',
      })
      .max(MAX_TARGETS)
      .default([]),
  })
  .default({ segments: [], stages: [], journeySteps: [] });

const trigger = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('event'), event: id }),
    z.strictObject({
      kind: z.literal('page'),
      urlPattern: z
        .string({ error: 'must be a string' })
        .min(1, { error: 'must not be empty' })
        .max(2048, { error: 'must be at most 2048 characters' }),
    }),
    z.strictObject({
      kind: z.literal('delay'),
      seconds: whole(0, 3600),
    }),
    z.strictObject({ kind: z.literal('exit_intent') }),
  ],
  { error: 'must be { kind: event | page | delay | exit_intent, ... }' },
);

const frequency = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('once') }),
      z.strictObject({
        kind: z.literal('times'),
        max: whole(1, 1000),
      }),
      z.strictObject({ kind: z.literal('every_visit') }),
    ],
    { error: 'must be { kind: once | times | every_visit }' },
  )
  .default({ kind: 'once' });

const button = z.strictObject({
  label: text(100).pipe(z.string().min(1, { error: 'must not be empty' })),
  url: url.nullable().default(null),
  action: z.enum(['click', 'dismiss'], { error: 'must be click or dismiss' }).default('click'),
});

const content = z.strictObject({
  title: text(500).default(''),
  body: text(5000).default(''),
  imageUrl: url.nullable().default(null),
  buttons: z
    .array(button, { error: 'must be an array' })
    .max(3, { error: 'must have at most 3 buttons' })
    .default([]),
  html: z
    .string({ error: 'must be a string' })
    .max(MAX_HTML_CHARS, { error: `must be at most ${MAX_HTML_CHARS} characters` })
    .refine((s) => syntaxError(s) === null, {
      error: (i) => `is not valid Liquid: ${syntaxError(String(i.input))}`,
    })
    .nullable()
    .default(null),
});

const variant = z.strictObject({
  key: z
    .string({ error: 'must be a string' })
    .regex(/^[a-z0-9_]{1,20}$/, { error: 'must be 1–20 lower-case letters, digits or _' }),
  weight: whole(1, 1000).default(1),
  content,
});

const schedule = {
  startAt: iso.nullable().default(null),
};

export const messageSchema = z
  .strictObject({
    name,
    type: z.enum(MESSAGE_TYPES, { error: `must be one of ${MESSAGE_TYPES.join(', ')}` }),
    trigger,
    position: z.enum(['top', 'bottom'], { error: 'must be top, bottom or null' }).nullable().default(null),
    priority: whole(0, 1000).default(0),
    targeting,
    frequency,
    /** one content (a single variant `a`) or `variants` for an A/B test */
    content: content.optional(),
    variants: z.array(variant, { error: 'must be an array' }).min(1).max(MAX_VARIANTS).optional(),
    controlPercent: z
      .number({ error: 'must be a number' })
      .min(0, { error: 'must be 0–50' })
      .max(50, { error: 'must be 0–50' })
      .default(0),
    ...schedule,
    endAt: iso.nullable().default(null),
    status: z.enum(CAMPAIGN_STATUSES, { error: `must be one of ${CAMPAIGN_STATUSES.join(', ')}` }).optional(),
  })
  .superRefine((m, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if ((m.content === undefined) === (m.variants === undefined))
      issue(['content'], 'give either content (one variant) or variants (an A/B test), not both');
    const variants = m.variants ?? (m.content ? [{ key: 'a', weight: 1, content: m.content }] : []);
    const keys = new Set<string>();
    variants.forEach((v, i) => {
      const at: (string | number)[] = m.variants ? ['variants', i] : [];
      if (keys.has(v.key)) issue([...at, 'key'], `"${v.key}" is used twice`);
      if (v.key === CONTROL_ARM) issue([...at, 'key'], `"${CONTROL_ARM}" is the control group's name`);
      keys.add(v.key);
      const c = [...at, 'content'];
      if (m.type === 'html' && v.content.html === null)
        issue([...c, 'html'], 'is required for the html type');
      if (m.type !== 'html' && v.content.html !== null) issue([...c, 'html'], 'is only for the html type');
      if (m.type !== 'html' && v.content.body.trim() === '' && v.content.title.trim() === '')
        issue([...c, 'body'], 'a message needs a title or a body');
    });
    if ((m.type === 'banner' || m.type === 'slide_in') && m.position === null)
      issue(['position'], `is required for the ${m.type} type: top or bottom`);
    if (m.startAt !== null && m.endAt !== null && m.endAt <= m.startAt)
      issue(['endAt'], 'must be after startAt');
  });

/** The validated definition and the status asked for (if any), from a parsed API body. */
export function messageDefinition(m: z.infer<typeof messageSchema>): MessageDefinition {
  return {
    name: m.name,
    type: m.type,
    trigger: m.trigger,
    position: m.position,
    priority: m.priority,
    targeting: m.targeting,
    frequency: m.frequency,
    variants: m.variants ?? (m.content ? [{ key: 'a', weight: 1, content: m.content }] : []),
    controlPercent: m.controlPercent,
    startAt: m.startAt,
    endAt: m.endAt,
  };
}

export const cardSchema = z
  .strictObject({
    name,
    title: text(500).pipe(z.string().min(1, { error: 'must not be empty' })),
    body: text(5000).default(''),
    imageUrl: url.nullable().default(null),
    url: url.nullable().default(null),
    pinned: z.boolean({ error: 'must be true or false' }).default(false),
    targeting,
    ...schedule,
    expiresAt: iso.nullable().default(null),
    status: z.enum(CAMPAIGN_STATUSES, { error: `must be one of ${CAMPAIGN_STATUSES.join(', ')}` }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.startAt !== null && c.expiresAt !== null && c.expiresAt <= c.startAt)
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be after startAt' });
  });

export function cardDefinition(c: z.infer<typeof cardSchema>): CardDefinition {
  return {
    name: c.name,
    title: c.title,
    body: c.body,
    imageUrl: c.imageUrl,
    url: c.url,
    pinned: c.pinned,
    targeting: c.targeting,
    startAt: c.startAt,
    expiresAt: c.expiresAt,
  };
}

/** Whether targeting selects everyone (then even a visitor Kizuna has no profile for qualifies). */
export function targetsEveryone(t: Targeting): boolean {
  return t.segments.length === 0 && t.stages.length === 0 && t.journeySteps.length === 0;
}
