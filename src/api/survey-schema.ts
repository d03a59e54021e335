/**
 * The bodies of the survey and feedback API (docs/surveys.md), validated with zod into the domain's
 * shapes: every rule a stored survey relies on is checked here, before anything is stored.
 */
import { z } from 'zod';
import {
  FIXED_SCALES,
  MAX_TEXT,
  QUESTION_KINDS,
  SURVEY_TEMPLATES,
  type Question,
  type SurveyInput,
} from '../domain/surveys/survey.js';
import { FEEDBACK_SOURCES, SENTIMENTS } from '../store/survey-store.js';
import { parse } from '../validation.js';

const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` });

const whole = z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' });

const question = z
  .strictObject({
    id: z
      .string({ error: 'must be a string' })
      .regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'must be 1–40 of a-z, 0-9 and _, starting with a letter' }),
    kind: z.enum(QUESTION_KINDS, { error: `must be one of ${QUESTION_KINDS.join(', ')}` }),
    text: text(500),
    min: whole.min(-1000, { error: 'must be at least -1000' }).max(1_000_000).optional(),
    max: whole.min(-1000).max(1_000_000, { error: 'must be at most 1000000' }).optional(),
    options: z.array(text(100), { error: 'must be an array of strings' }).min(2).max(20).optional(),
    role: z.literal('referrals', { error: 'must be "referrals"' }).optional(),
  })
  .superRefine((q, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const fixed = FIXED_SCALES[q.kind];
    if (fixed && (q.min !== undefined || q.max !== undefined))
      issue(q.min !== undefined ? 'min' : 'max', `${q.kind} is always ${fixed.min} to ${fixed.max}`);
    if (q.kind === 'scale' && (q.min === undefined || q.max === undefined))
      issue(q.min === undefined ? 'min' : 'max', 'is required for a scale');
    if (
      (q.kind === 'scale' || q.kind === 'number') &&
      q.min !== undefined &&
      q.max !== undefined &&
      q.min >= q.max
    )
      issue('max', 'must be above min');
    if (q.kind === 'scale' && q.min !== undefined && q.max !== undefined && q.max - q.min > 100)
      issue('max', 'a scale has at most 101 points');
    if (q.kind === 'choice' && q.options === undefined) issue('options', 'is required for a choice');
    if (q.kind !== 'choice' && q.options !== undefined) issue('options', 'only a choice has options');
    if (q.options && new Set(q.options).size !== q.options.length)
      issue('options', 'must not repeat an option');
    if (q.role !== undefined && q.kind !== 'number') issue('role', 'only a number question counts referrals');
    if (!['scale', 'number', ...Object.keys(FIXED_SCALES)].includes(q.kind) && (q.min ?? q.max) !== undefined)
      issue(q.min !== undefined ? 'min' : 'max', `a ${q.kind} question has no range`);
  })
  .transform((q): Question => ({
    id: q.id,
    kind: q.kind,
    text: q.text,
    min: FIXED_SCALES[q.kind]?.min ?? q.min ?? (q.kind === 'number' ? 0 : null),
    max: FIXED_SCALES[q.kind]?.max ?? q.max ?? (q.kind === 'number' ? 1_000_000 : null),
    options: q.options ?? null,
    role: q.role ?? null,
  }));

const definition = {
  name: text(200),
  description: text(2000).nullish(),
  questions: z
    .array(question, { error: 'must be an array of questions' })
    .min(1, { error: 'must hold at least one question' })
    .max(20, { error: 'must hold at most 20 questions' })
    .superRefine((qs, ctx) => {
      const seen = new Set<string>();
      qs.forEach((q, i) => {
        if (seen.has(q.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `repeats question "${q.id}"` });
        seen.add(q.id);
      });
    }),
};

const fromTemplate = z.strictObject({
  from_template: z.enum(Object.keys(SURVEY_TEMPLATES) as [string, ...string[]], {
    error: `must be one of ${Object.keys(SURVEY_TEMPLATES).join(', ')}`,
  }),
  name: text(200).optional(),
});

/** A new survey: written out, or made from a built-in template (optionally renamed). */
export function parseCreateSurvey(body: unknown): SurveyInput & { template: string | null } {
  if (typeof body === 'object' && body !== null && 'from_template' in body) {
    const b = parse(fromTemplate, body);
    const t = SURVEY_TEMPLATES[b.from_template]!;
    return { ...t, name: b.name ?? t.name, template: b.from_template };
  }
  const b = parse(z.strictObject(definition), body);
  return { name: b.name, description: b.description ?? null, questions: b.questions, template: null };
}

export const updateSurveyBody = z.strictObject(definition).transform((b): SurveyInput => ({
  name: b.name,
  description: b.description ?? null,
  questions: b.questions,
}));

const comment = z
  .string({ error: 'must be a string' })
  .max(MAX_TEXT, { error: `must be at most ${MAX_TEXT} characters` })
  .transform((c) => (c.trim() === '' ? null : c.trim()))
  .nullish();

const answers = z
  .array(
    z.strictObject({
      question: z.string({ error: 'must be a question id' }).max(100),
      value: z.union([z.number(), z.string()], { error: 'must be a number or a string' }),
      comment,
    }),
    { error: 'must be an array of answers' },
  )
  .min(1, { error: 'must hold at least one answer' })
  .max(20, { error: 'must hold at most 20 answers' });

const timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional();
const messageId = z.string({ error: 'must be a string' }).min(1).max(200).optional();
const id = z.string({ error: 'must be a string' }).trim().min(1, { error: 'must not be empty' }).max(200);

/** Server-side collection: name the profile by id or by one identifier. */
export const adminAnswerBody = z
  .strictObject({
    profile_id: id.optional(),
    userId: id.optional(),
    anonymousId: id.optional(),
    answers,
    timestamp,
    messageId,
  })
  .refine((b) => [b.profile_id, b.userId, b.anonymousId].filter((v) => v !== undefined).length === 1, {
    error: 'give exactly one of profile_id, userId, anonymousId',
    path: ['profile_id'],
  });

/** The browser SDK's call (write key): identified like /v1/track. */
export const sdkAnswerBody = z
  .strictObject({
    userId: id.optional(),
    anonymousId: id.optional(),
    answers,
    timestamp,
    messageId,
    writeKey: z.string().optional(),
  })
  .refine((b) => b.userId !== undefined || b.anonymousId !== undefined, {
    error: 'an answer needs a userId or an anonymousId',
    path: ['userId'],
  });

export const reportQuery = z.strictObject({
  period: z.enum(['week', 'month'], { error: 'must be week or month' }).default('month'),
  retention_days: z.coerce
    .number({ error: 'must be a whole number of days' })
    .int({ error: 'must be a whole number of days' })
    .min(1, { error: 'must be 1 to 365' })
    .max(365, { error: 'must be 1 to 365' })
    .default(90),
  format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json'),
});

const points = z
  .number({ error: 'must be a number of percentage points' })
  .min(-100, { error: 'must be -100 to 100' })
  .max(100, { error: 'must be -100 to 100' });

export const simulateBody = z.strictObject({
  promoters_up: points.default(0),
  detractors_down: points.default(0),
  customers: z
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(1e9, { error: 'must be at most 1000000000' })
    .optional(),
  retention_days: reportQuery.shape.retention_days,
});

const topics = z
  .array(
    z
      .string({ error: 'must be a string' })
      .trim()
      .toLowerCase()
      .regex(/^[\p{L}\p{N}][\p{L}\p{N} _-]{0,39}$/u, {
        error: 'must be 1–40 letters, digits, spaces, _ or -',
      }),
    { error: 'must be an array of topics' },
  )
  .max(10, { error: 'must hold at most 10 topics' })
  .transform((t) => [...new Set(t)].sort());

const sentiment = z.enum(SENTIMENTS, { error: `must be one of ${SENTIMENTS.join(', ')}` });

export const feedbackBody = z.strictObject({
  text: text(MAX_TEXT),
  source: z.enum(['support', 'employee'], {
    error: 'must be support or employee (survey feedback comes from answers)',
  }),
  author: text(200).optional(),
  profile_id: id.optional(),
  sentiment: sentiment.optional(),
  topics: topics.default([]),
  journey_id: id.optional(),
  message_key: id.optional(),
});

export const tagBody = z
  .strictObject({ sentiment: sentiment.nullable().optional(), topics: topics.optional() })
  .refine((b) => b.sentiment !== undefined || b.topics !== undefined, {
    error: 'give sentiment, topics or both',
    path: ['sentiment'],
  });

export const feedbackQuery = z.strictObject({
  q: z.string().trim().min(1, { error: 'must not be empty' }).max(200).optional(),
  profile_id: id.optional(),
  source: z.enum(FEEDBACK_SOURCES, { error: `must be one of ${FEEDBACK_SOURCES.join(', ')}` }).optional(),
  sentiment: sentiment.optional(),
  topic: z.string().trim().toLowerCase().min(1).max(40).optional(),
  survey_id: id.optional(),
  journey_id: id.optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(500, { error: 'must be at most 500' })
    .default(50),
  before: z.string().optional(),
});
