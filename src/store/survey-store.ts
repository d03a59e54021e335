/**
 * Surveys, their answers and the voice-of-the-customer board (docs/surveys.md). Definitions are
 * validated before they reach the store; the store keeps one answer per profile, survey and question.
 */
import type { AnswerValue, SurveyStatus } from '../domain/surveys/survey.js';

export interface SurveyRecord {
  readonly id: string;
  readonly name: string;
  readonly status: SurveyStatus;
  readonly template: string | null;
  /** the validated SurveyDefinition, as JSON */
  readonly definition: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What a caller gives to store a survey (the store stamps the times). */
export type SurveyPut = Omit<SurveyRecord, 'createdAt' | 'updatedAt'>;

export type ResponseSource = 'link' | 'api' | 'sdk';

export interface SurveyResponse {
  readonly surveyId: string;
  readonly questionId: string;
  readonly profileId: string;
  readonly value: AnswerValue;
  /** the numeric value reports use (scale and number questions) */
  readonly score: number | null;
  readonly comment: string | null;
  readonly answeredAt: number;
  readonly source: ResponseSource;
  /** the campaign the answer came from, when it came by a message's link */
  readonly journeyId: string | null;
  readonly messageKey: string | null;
}

export const FEEDBACK_SOURCES = ['survey', 'support', 'employee'] as const;
export type FeedbackSource = (typeof FEEDBACK_SOURCES)[number];
export const SENTIMENTS = ['good', 'bad', 'awful'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

export interface Feedback {
  readonly id: string;
  readonly profileId: string | null;
  readonly source: FeedbackSource;
  /** the member of staff who wrote it (support and employee feedback) */
  readonly author: string | null;
  readonly text: string;
  readonly sentiment: Sentiment | null;
  readonly topics: readonly string[];
  readonly surveyId: string | null;
  readonly questionId: string | null;
  readonly journeyId: string | null;
  readonly messageKey: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A change of tags: an absent field is left as it is; a null sentiment clears it. */
export interface FeedbackTags {
  readonly sentiment?: Sentiment | null;
  readonly topics?: readonly string[];
}

export interface FeedbackQuery {
  readonly profileId?: string;
  readonly source?: FeedbackSource;
  readonly sentiment?: Sentiment;
  readonly topic?: string;
  readonly surveyId?: string;
  readonly journeyId?: string;
  /** a substring of the text, matched on searchText() of both */
  readonly text?: string;
  readonly limit: number;
  /** the previous page's `next` */
  readonly before?: { readonly createdAt: number; readonly id: string };
}

export interface SurveyStore {
  /**
   * Creates a survey (ConflictError when its id or name is taken) or replaces one's name, status and
   * definition (NotFoundError when there is none; ConflictError when the new name is another's).
   */
  putSurvey(ws: string, s: SurveyPut, mode: 'create' | 'replace', now: number): Promise<SurveyRecord>;
  getSurvey(ws: string, id: string): Promise<SurveyRecord | null>;
  /** By name. */
  listSurveys(ws: string): Promise<SurveyRecord[]>;
  /**
   * Stores answers atomically, each replacing the profile's earlier answer to that survey question;
   * and, in the same transaction, the feedback of answers with a comment: one survey feedback row per
   * answer, its text replaced by a new comment, its tags kept (`feedback` carries their new ids).
   */
  recordSurveyResponses(
    ws: string,
    responses: readonly SurveyResponse[],
    feedback: readonly Feedback[],
  ): Promise<void>;
  /** A survey's answers in (profile, question) order, `limit` ≤ 5000, after the previous page's last. */
  listSurveyResponses(
    ws: string,
    surveyId: string,
    page: { limit: number; after?: { profileId: string; questionId: string } },
  ): Promise<SurveyResponse[]>;
  /** Stores new feedback (ConflictError when the id is taken). */
  addFeedback(ws: string, f: Feedback): Promise<void>;
  getFeedback(ws: string, id: string): Promise<Feedback | null>;
  /** Changes a feedback's tags; null when there is none. */
  tagFeedback(ws: string, id: string, tags: FeedbackTags, now: number): Promise<Feedback | null>;
  /** Newest first (created, then id), filtered; `limit` ≤ 500. */
  listFeedback(ws: string, q: FeedbackQuery): Promise<Feedback[]>;
}

/** What feedback search compares: lower case, compatibility forms folded (full-width ＡＢ is ab). */
export const searchText = (s: string): string => s.normalize('NFKC').toLowerCase();
