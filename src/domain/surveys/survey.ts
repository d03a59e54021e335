/**
 * Surveys (docs/surveys.md): NPS, CSAT, CES and custom questions. A survey is a list of questions;
 * an answer is a value checked against its question. Pure: the API validates bodies into these
 * shapes, the store keeps them, the report reads them.
 */

export const QUESTION_KINDS = ['nps', 'csat', 'ces', 'scale', 'choice', 'number', 'text'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];

/** The fixed scales of the standard kinds; `scale` brings its own. */
export const FIXED_SCALES: Readonly<Partial<Record<QuestionKind, { min: number; max: number }>>> = {
  nps: { min: 0, max: 10 },
  csat: { min: 1, max: 5 },
  ces: { min: 1, max: 7 },
};

/** The longest free-text answer or comment, in characters. */
export const MAX_TEXT = 2000;
/** The most an e-mail can offer as one-click links (a 0–10 NPS row is 11). */
export const MAX_LINKS = 11;

export interface Question {
  /** stable within the survey: answers, links and reports name it */
  readonly id: string;
  readonly kind: QuestionKind;
  readonly text: string;
  /** scale kinds and number: the smallest and largest value accepted */
  readonly min: number | null;
  readonly max: number | null;
  /** choice: the options, as stored and shown */
  readonly options: readonly string[] | null;
  /** number: `referrals` marks the "how many people have you recommended us to?" question */
  readonly role: 'referrals' | null;
}

export interface SurveyDefinition {
  readonly description: string | null;
  readonly questions: readonly Question[];
}

/** What the API accepts as a survey: a name and its definition. */
export type SurveyInput = { readonly name: string } & SurveyDefinition;

export type SurveyStatus = 'active' | 'archived';

export interface Survey extends SurveyDefinition {
  readonly id: string;
  readonly name: string;
  readonly status: SurveyStatus;
  /** the built-in template it was made from, if any */
  readonly template: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type AnswerValue = number | string;

export type CheckedAnswer =
  { ok: true; value: AnswerValue; score: number | null } | { ok: false; rule: string };

export const isScale = (k: QuestionKind): boolean =>
  k === 'nps' || k === 'csat' || k === 'ces' || k === 'scale';

/**
 * Whether `value` answers `q`: a whole number inside the scale for scale kinds and number, one of the
 * options for choice, text up to MAX_TEXT for text. `score` is the numeric value the reports use.
 */
export function checkAnswer(q: Question, value: unknown): CheckedAnswer {
  if (isScale(q.kind) || q.kind === 'number') {
    if (typeof value !== 'number' || !Number.isInteger(value))
      return { ok: false, rule: 'must be a whole number' };
    if (value < q.min! || value > q.max!) return { ok: false, rule: `must be ${q.min} to ${q.max}` };
    return { ok: true, value, score: value };
  }
  if (typeof value !== 'string') return { ok: false, rule: 'must be a string' };
  if (q.kind === 'choice') {
    return q.options!.includes(value)
      ? { ok: true, value, score: null }
      : { ok: false, rule: `must be one of ${q.options!.map((o) => JSON.stringify(o)).join(', ')}` };
  }
  if (value.trim() === '') return { ok: false, rule: 'must not be empty' };
  if (value.length > MAX_TEXT) return { ok: false, rule: `must be at most ${MAX_TEXT} characters` };
  return { ok: true, value, score: null };
}

/** The values one-click links can offer for a question: every point of a short scale, or the options. */
export function linkValues(q: Question): AnswerValue[] {
  if (q.kind === 'choice') return [...q.options!];
  if (!isScale(q.kind)) return [];
  const out: number[] = [];
  for (let v = q.min!; v <= q.max! && out.length < MAX_LINKS; v++) out.push(v);
  return out;
}

export type NpsGroup = 'promoter' | 'passive' | 'detractor';

/** The standard NPS bands: 9–10 promoters, 7–8 passives, 0–6 detractors. */
export function npsGroup(score: number): NpsGroup {
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

/** The built-in survey templates (`from_template`). */
export const SURVEY_TEMPLATES: Readonly<Record<string, { name: string } & SurveyDefinition>> = {
  /**
   * The seed survey of a real programme: NPS, whether the customer expects to be a customer in two
   * years, and how many people they have recommended the brand to; the report links each respondent
   * to their spend and purchases over the last 12 months.
   */
  nps_programme: {
    name: 'NPS programme',
    description: 'Net Promoter Score with loyalty intent and referrals, linked to 12-month spend',
    questions: [
      {
        id: 'nps',
        kind: 'nps',
        text: 'How likely are you to recommend us to a friend or colleague?',
        min: 0,
        max: 10,
        options: null,
        role: null,
      },
      {
        id: 'two_years',
        kind: 'choice',
        text: 'Do you expect to be using this brand in two years?',
        min: null,
        max: null,
        options: ['yes', 'no', 'unsure'],
        role: null,
      },
      {
        id: 'referrals',
        kind: 'number',
        text: 'How many people have you recommended it to?',
        min: 0,
        max: 1000,
        options: null,
        role: 'referrals',
      },
    ],
  },
};
