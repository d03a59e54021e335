import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import { newId } from '../ids.js';
import type { Store } from '../store/store.js';
import type { Feedback } from '../store/survey-store.js';
import { adminWorkspace, parse } from './params.js';
import { feedbackBody, feedbackQuery, tagBody } from './survey-schema.js';
import { decodePairCursor, encodePairCursor } from './present.js';

function beforeOf(v: string): { createdAt: number; id: string } {
  const [createdAt, id] = decodePairCursor(v, 'before', 'number');
  return { createdAt, id };
}

const iso = (ms: number) => new Date(ms).toISOString();

export const feedbackJson = (f: Feedback) => ({
  id: f.id,
  profileId: f.profileId,
  source: f.source,
  author: f.author,
  text: f.text,
  sentiment: f.sentiment,
  topics: f.topics,
  surveyId: f.surveyId,
  question: f.questionId,
  journeyId: f.journeyId,
  messageKey: f.messageKey,
  createdAt: iso(f.createdAt),
  updatedAt: iso(f.updatedAt),
});

/**
 * The voice-of-the-customer board (docs/surveys.md#voice-of-the-customer): survey comments arrive by
 * themselves; support notes and what staff heard from customers are posted here. Every entry can be
 * tagged good/bad/awful and by topic, filtered, and searched by substring.
 */
export function registerFeedbackRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const { store, auth } = deps;

  app.post('/api/v1/feedback', async (req, reply) => {
    const ws = await adminWorkspace(auth, req);
    const b = parse(feedbackBody, req.body);
    let profileId: string | null = null;
    if (b.profile_id !== undefined) {
      const p = await store.getProfile(ws, b.profile_id);
      if (!p) throw new ValidationError([{ field: 'profile_id', rule: `no profile ${b.profile_id}` }]);
      profileId = p.id;
    }
    const now = deps.clock.now();
    const f: Feedback = {
      id: newId('fb', now),
      profileId,
      source: b.source,
      author: b.author ?? null,
      text: b.text,
      sentiment: b.sentiment ?? null,
      topics: b.topics,
      surveyId: null,
      questionId: null,
      journeyId: b.journey_id ?? null,
      messageKey: b.message_key ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await store.addFeedback(ws, f);
    return reply.status(201).send(feedbackJson(f));
  });

  app.get('/api/v1/feedback', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const q = parse(feedbackQuery, req.query ?? {});
    const list = await store.listFeedback(ws, {
      limit: q.limit,
      ...(q.q !== undefined && { text: q.q }),
      ...(q.profile_id !== undefined && { profileId: q.profile_id }),
      ...(q.source !== undefined && { source: q.source }),
      ...(q.sentiment !== undefined && { sentiment: q.sentiment }),
      ...(q.topic !== undefined && { topic: q.topic }),
      ...(q.survey_id !== undefined && { surveyId: q.survey_id }),
      ...(q.journey_id !== undefined && { journeyId: q.journey_id }),
      ...(q.before !== undefined && { before: beforeOf(q.before) }),
    });
    const last = list.length === q.limit ? list[list.length - 1] : undefined;
    return {
      feedback: list.map(feedbackJson),
      next: last ? encodePairCursor(last.createdAt, last.id) : null,
    };
  });

  /**
   * One customer's notes, survey comments and staff feedback, newest first: the 360° view reads it
   * under profiles.read (and so, like every profile read, it is audited), where the whole board needs
   * reports.read.
   */
  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/feedback', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const q = parse(feedbackQuery.pick({ limit: true, before: true }), req.query ?? {});
    const p = await store.getProfile(ws, req.params.id);
    if (!p) throw new NotFoundError(`profile ${req.params.id} not found`);
    const list = await store.listFeedback(ws, {
      limit: q.limit,
      profileId: p.id,
      ...(q.before !== undefined && { before: beforeOf(q.before) }),
    });
    const last = list.length === q.limit ? list[list.length - 1] : undefined;
    return {
      feedback: list.map(feedbackJson),
      next: last ? encodePairCursor(last.createdAt, last.id) : null,
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/feedback/:id', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const f = await store.getFeedback(ws, req.params.id);
    if (!f) throw new NotFoundError(`feedback ${req.params.id} not found`);
    return feedbackJson(f);
  });

  /** Tags: sentiment (good, bad, awful, or null to clear) and topics (replacing the list). */
  app.put<{ Params: { id: string } }>('/api/v1/feedback/:id/tags', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const b = parse(tagBody, req.body);
    const f = await store.tagFeedback(
      ws,
      req.params.id,
      {
        ...(b.sentiment !== undefined && { sentiment: b.sentiment }),
        ...(b.topics !== undefined && { topics: b.topics }),
      },
      deps.clock.now(),
    );
    if (!f) throw new NotFoundError(`feedback ${req.params.id} not found`);
    return feedbackJson(f);
  });
}
