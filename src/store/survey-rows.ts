/** Row shapes of the survey and feedback tables, and their conversion, shared by both adapters. */
import type { AnswerValue, SurveyStatus } from '../domain/surveys/survey.js';
import type {
  Feedback,
  FeedbackSource,
  ResponseSource,
  Sentiment,
  SurveyRecord,
  SurveyResponse,
} from './survey-store.js';
import { json, num, numOrNull, type Num } from './rows.js';

export interface SurveyRowDb {
  id: string;
  name: string;
  status: string;
  template: string | null;
  definition: unknown;
  created_at: Num;
  updated_at: Num;
}

export function surveyRecord(r: SurveyRowDb): SurveyRecord {
  return {
    id: r.id,
    name: r.name,
    status: r.status as SurveyStatus,
    template: r.template,
    definition: json<unknown>(r.definition),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export interface ResponseRowDb {
  survey_id: string;
  question_id: string;
  profile_id: string;
  value: unknown;
  score: Num | null;
  comment: string | null;
  answered_at: Num;
  source: string;
  journey_id: string | null;
  message_key: string | null;
}

export function surveyResponse(r: ResponseRowDb): SurveyResponse {
  return {
    surveyId: r.survey_id,
    questionId: r.question_id,
    profileId: r.profile_id,
    value: json<AnswerValue>(r.value as string),
    score: numOrNull(r.score),
    comment: r.comment,
    answeredAt: num(r.answered_at),
    source: r.source as ResponseSource,
    journeyId: r.journey_id,
    messageKey: r.message_key,
  };
}

export interface FeedbackRowDb {
  id: string;
  profile_id: string | null;
  source: string;
  author: string | null;
  text: string;
  sentiment: string | null;
  topics: unknown;
  survey_id: string | null;
  question_id: string | null;
  journey_id: string | null;
  message_key: string | null;
  created_at: Num;
  updated_at: Num;
}

export function feedback(r: FeedbackRowDb): Feedback {
  return {
    id: r.id,
    profileId: r.profile_id,
    source: r.source as FeedbackSource,
    author: r.author,
    text: r.text,
    sentiment: r.sentiment as Sentiment | null,
    topics: json<string[]>(r.topics as string),
    surveyId: r.survey_id,
    questionId: r.question_id,
    journeyId: r.journey_id,
    messageKey: r.message_key,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** The columns every feedback read selects (the search text stays in the table). */
export const FEEDBACK_COLUMNS = `id, profile_id, source, author, text, sentiment, topics, survey_id, question_id,
  journey_id, message_key, created_at, updated_at`;
