import { randomUUID } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import type { JsonObject, NormalizedEvent } from '../../domain/event.js';
import {
  checkAnswer,
  npsGroup,
  type AnswerValue,
  type Question,
  type Survey,
  type SurveyDefinition,
  type SurveyInput,
} from '../../domain/surveys/survey.js';
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../../errors.js';
import { newId } from '../../ids.js';
import { checkJsonText } from '../../ingest/limits.js';
import { normalizeMessage } from '../../ingest/message.js';
import { profileEvent } from '../../ingest/profile-event.js';
import type { Store } from '../../store/store.js';
import type { Feedback, ResponseSource, SurveyRecord, SurveyResponse } from '../../store/survey-store.js';

/** The event every answer is recorded as, on the customer's timeline (journeys can trigger on it). */
export const SURVEY_ANSWERED = 'Survey Answered';

export interface RawAnswer {
  readonly question: string;
  readonly value: unknown;
  readonly comment?: string | null | undefined;
}

/** Who answered: a known profile (a message's link, the admin API) or an identifier (SDK, admin API). */
export type Respondent =
  { profileId: string } | { userId?: string | undefined; anonymousId?: string | undefined };

export interface AnswerOptions {
  readonly source: ResponseSource;
  readonly at?: number | undefined;
  /** makes a retried request idempotent: its events are stored once */
  readonly messageId?: string | undefined;
  readonly journeyId?: string | null;
  readonly messageKey?: string | null;
  /** `answers[i]` for API bodies; the link pages name the fields as their forms do */
  readonly fieldOf?: (i: number, field: 'question' | 'value' | 'comment') => string;
}

export function surveyOf(r: SurveyRecord): Survey {
  const d = r.definition as SurveyDefinition;
  return {
    ...d,
    id: r.id,
    name: r.name,
    status: r.status,
    template: r.template,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/**
 * Surveys and their answers (docs/surveys.md). An answer is checked against its question before
 * anything is written; then it is ingested as a `Survey Answered` event on the profile (so it is on
 * the timeline and can trigger journeys) and stored as the profile's answer to that question,
 * replacing the one before, with its comment on the voice-of-the-customer board.
 */
export class SurveyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** called when ingesting answers made or woke journey entries */
    private readonly onJourneyWork?: () => void,
  ) {}

  async create(ws: string, input: SurveyInput & { template: string | null }): Promise<Survey> {
    const definition: SurveyDefinition = { description: input.description, questions: input.questions };
    const r = await this.store.putSurvey(
      ws,
      {
        id: newId('sv', this.clock.now()),
        name: input.name,
        status: 'active',
        template: input.template,
        definition,
      },
      'create',
      this.clock.now(),
    );
    return surveyOf(r);
  }

  async get(ws: string, id: string): Promise<Survey> {
    const r = await this.store.getSurvey(ws, id);
    if (!r) throw new NotFoundError(`survey ${id} not found`);
    return surveyOf(r);
  }

  async list(ws: string): Promise<Survey[]> {
    return (await this.store.listSurveys(ws)).map(surveyOf);
  }

  /**
   * Replaces a survey's name and questions. A question keeps its kind for good (answers already
   * stored under it were checked against it); questions may be added, reworded or dropped.
   */
  async update(ws: string, id: string, input: SurveyInput): Promise<Survey> {
    const current = await this.get(ws, id);
    const issues: FieldIssue[] = [];
    input.questions.forEach((q, i) => {
      const before = current.questions.find((b) => b.id === q.id);
      if (before && before.kind !== q.kind)
        issues.push({
          field: `questions[${i}].kind`,
          rule: `question "${q.id}" is ${before.kind}; its kind cannot change`,
        });
    });
    if (issues.length > 0) throw new ValidationError(issues);
    const definition: SurveyDefinition = { description: input.description, questions: input.questions };
    const r = await this.store.putSurvey(
      ws,
      { id, name: input.name, status: current.status, template: current.template, definition },
      'replace',
      this.clock.now(),
    );
    return surveyOf(r);
  }

  /** Closes a survey: its links and endpoints take no more answers; its answers and report stay. */
  async archive(ws: string, id: string): Promise<Survey> {
    const s = await this.get(ws, id);
    const r = await this.store.putSurvey(
      ws,
      {
        id,
        name: s.name,
        status: 'archived',
        template: s.template,
        definition: { description: s.description, questions: s.questions },
      },
      'replace',
      this.clock.now(),
    );
    return surveyOf(r);
  }

  /**
   * Records answers, all or nothing as far as validation goes: every answer is checked (question
   * known, value in range, comment within limits, no question twice) before anything is written.
   * Returns the profile the answers were recorded on.
   */
  async answer(
    ws: string,
    surveyId: string,
    who: Respondent,
    raw: readonly RawAnswer[],
    opts: AnswerOptions,
  ): Promise<{ profileId: string; answers: SurveyResponse[] }> {
    const survey = await this.get(ws, surveyId);
    if (survey.status !== 'active')
      throw new ConflictError(`survey ${surveyId} is archived and takes no answers`);
    const checked = checkAnswers(survey, raw, opts.fieldOf ?? ((i, f) => `answers[${i}].${f}`));
    const at = opts.at ?? this.clock.now();
    const base = opts.messageId ?? `survey-${randomUUID()}`;
    const campaign = { journeyId: opts.journeyId ?? null, messageKey: opts.messageKey ?? null };
    const properties = (a: (typeof checked)[number]): JsonObject => ({
      survey_id: survey.id,
      survey_name: survey.name,
      question_id: a.question.id,
      question: a.question.text,
      kind: a.question.kind,
      value: a.value,
      ...(a.score !== null && { score: a.score }),
      ...(a.question.kind === 'nps' && a.score !== null && { nps_group: npsGroup(a.score) }),
      ...(a.comment !== null && { comment: a.comment }),
      source: opts.source,
      ...(campaign.journeyId !== null && { journey_id: campaign.journeyId }),
      ...(campaign.messageKey !== null && { message_key: campaign.messageKey }),
    });
    const messageIdOf = (q: Question) => `${base}:${q.id}`;

    let profileId: string;
    if ('profileId' in who) {
      const view = await this.store.getProfile(ws, who.profileId);
      if (!view) throw new NotFoundError(`profile ${who.profileId} not found`);
      profileId = view.id;
      const events = checked
        .map((a) =>
          profileEvent(
            view,
            { type: 'track', event: SURVEY_ANSWERED, properties: properties(a) },
            { messageId: messageIdOf(a.question), library: 'kizuna-surveys', now: at },
          ),
        )
        .filter((e): e is NormalizedEvent => e !== null);
      await this.ingest(ws, events);
    } else {
      const events = checked.map((a) => {
        const n = normalizeMessage(
          {
            type: 'track',
            event: SURVEY_ANSWERED,
            userId: who.userId ?? null,
            anonymousId: who.anonymousId ?? null,
            properties: properties(a),
            messageId: messageIdOf(a.question),
            timestamp: new Date(at).toISOString(),
            context: { library: { name: 'kizuna-surveys' } },
          },
          '',
          'track',
          { receivedAt: this.clock.now(), sentAt: null, context: null, ip: null },
        );
        if (!n.ok) throw new ValidationError(n.issues);
        return n.event;
      });
      await this.ingest(ws, events);
      const key =
        who.userId !== undefined
          ? ({ kind: 'user_id', value: who.userId } as const)
          : ({ kind: 'anonymous_id', value: who.anonymousId! } as const);
      const view = await this.store.lookupProfile(ws, key);
      if (!view)
        throw new NotFoundError('the answering profile could not be found after its answer was ingested');
      profileId = view.id;
    }

    const responses: SurveyResponse[] = checked.map((a) => ({
      surveyId: survey.id,
      questionId: a.question.id,
      profileId,
      value: a.value,
      score: a.score,
      comment: a.comment,
      answeredAt: at,
      source: opts.source,
      ...campaign,
    }));
    const now = this.clock.now();
    const comments: Feedback[] = checked
      .filter((a) => a.comment !== null)
      .map((a) => ({
        id: newId('fb', now),
        profileId,
        source: 'survey',
        author: null,
        text: a.comment!,
        sentiment: null,
        topics: [],
        surveyId: survey.id,
        questionId: a.question.id,
        ...campaign,
        createdAt: now,
        updatedAt: now,
      }));
    await this.store.recordSurveyResponses(ws, responses, comments);
    return { profileId, answers: responses };
  }

  private async ingest(ws: string, events: readonly NormalizedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const r = await this.store.ingest(ws, events);
    if (r.journeyWork > 0) this.onJourneyWork?.();
  }
}

interface CheckedAnswer {
  readonly question: Question;
  readonly value: AnswerValue;
  readonly score: number | null;
  readonly comment: string | null;
}

function checkAnswers(
  survey: Survey,
  raw: readonly RawAnswer[],
  fieldOf: (i: number, field: 'question' | 'value' | 'comment') => string,
): CheckedAnswer[] {
  const issues: FieldIssue[] = [];
  const out: CheckedAnswer[] = [];
  const seen = new Set<string>();
  raw.forEach((a, i) => {
    const q = survey.questions.find((x) => x.id === a.question);
    if (!q) {
      issues.push({
        field: fieldOf(i, 'question'),
        rule: `must be a question of the survey: ${survey.questions.map((x) => x.id).join(', ')}`,
      });
      return;
    }
    if (seen.has(q.id)) issues.push({ field: fieldOf(i, 'question'), rule: `answers "${q.id}" twice` });
    seen.add(q.id);
    const c = checkAnswer(q, a.value);
    if (!c.ok) issues.push({ field: fieldOf(i, 'value'), rule: c.rule });
    else if (typeof c.value === 'string') checkJsonText(c.value, fieldOf(i, 'value'), issues);
    const comment = a.comment ?? null;
    if (comment !== null) checkJsonText(comment, fieldOf(i, 'comment'), issues);
    if (comment !== null && comment.length > 2000)
      issues.push({ field: fieldOf(i, 'comment'), rule: 'must be at most 2000 characters' });
    if (c.ok) out.push({ question: q, value: c.value, score: c.score, comment });
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}
