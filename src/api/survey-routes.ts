import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { csvRecord } from '../domain/csv.js';
import type { NpsReport } from '../domain/surveys/report.js';
import { simulateRevenue } from '../domain/surveys/simulate.js';
import type { Survey } from '../domain/surveys/survey.js';
import { behaviourOf, surveyNpsReport } from '../engine/surveys/report.js';
import type { SurveyService } from '../engine/surveys/service.js';
import { ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import { writeKeyOf } from '../ingest/request.js';
import type { Store } from '../store/store.js';
import type { SurveyResponse } from '../store/survey-store.js';
import { adminWorkspace, limit, parse } from './params.js';
import { decodePairCursor, encodePairCursor } from './present.js';
import {
  adminAnswerBody,
  parseCreateSurvey,
  reportQuery,
  sdkAnswerBody,
  simulateBody,
  updateSurveyBody,
} from './survey-schema.js';

export interface SurveyApiDeps {
  store: Store;
  auth: KeyAuth;
  clock: Clock;
  surveys: SurveyService;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function surveyJson(s: Survey) {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    template: s.template,
    description: s.description,
    questions: s.questions,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

const answerJson = (a: SurveyResponse) => ({
  question: a.questionId,
  profileId: a.profileId,
  value: a.value,
  comment: a.comment,
  answeredAt: iso(a.answeredAt),
  source: a.source,
  journeyId: a.journeyId,
  messageKey: a.messageKey,
});

function afterOf(v: string): { profileId: string; questionId: string } {
  const [profileId, questionId] = decodePairCursor(v, 'after', 'string');
  return { profileId, questionId };
}

const at = (timestamp: string | undefined) => (timestamp === undefined ? undefined : Date.parse(timestamp));

/**
 * Surveys (docs/surveys.md): the admin API under /api/v1/surveys, server-side answers, the NPS
 * report (JSON or CSV) and the revenue simulation; and POST /v1/surveys/:id/responses for the browser
 * SDK with the write key, identified like /v1/track.
 */
export function registerSurveyRoutes(app: FastifyInstance, deps: SurveyApiDeps): void {
  const { store, auth, surveys } = deps;

  app.post('/api/v1/surveys', async (req, reply) => {
    const ws = await adminWorkspace(auth, req);
    const body = parseCreateSurvey(req.body);
    return reply.status(201).send(surveyJson(await surveys.create(ws, body)));
  });

  app.get('/api/v1/surveys', async (req) => {
    const ws = await adminWorkspace(auth, req);
    return { surveys: (await surveys.list(ws)).map(surveyJson) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/surveys/:id', async (req) => {
    const ws = await adminWorkspace(auth, req);
    return surveyJson(await surveys.get(ws, req.params.id));
  });

  app.put<{ Params: { id: string } }>('/api/v1/surveys/:id', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const body = parse(updateSurveyBody, req.body);
    return surveyJson(await surveys.update(ws, req.params.id, body));
  });

  app.post<{ Params: { id: string } }>('/api/v1/surveys/:id/archive', async (req) => {
    const ws = await adminWorkspace(auth, req);
    return surveyJson(await surveys.archive(ws, req.params.id));
  });

  app.post<{ Params: { id: string } }>('/api/v1/surveys/:id/responses', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const b = parse(adminAnswerBody, req.body);
    const who =
      b.profile_id !== undefined
        ? { profileId: b.profile_id }
        : { userId: b.userId, anonymousId: b.anonymousId };
    const r = await surveys.answer(ws, req.params.id, who, b.answers, {
      source: 'api',
      at: at(b.timestamp),
      messageId: b.messageId,
    });
    return { profileId: r.profileId, answers: r.answers.map(answerJson) };
  });

  /** The answers, each with the respondent's spend and purchases over the last 12 months. */
  app.get<{ Params: { id: string } }>('/api/v1/surveys/:id/responses', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const q = parse(
      z.strictObject({ limit: limit(1000, 100), after: z.string().optional() }),
      req.query ?? {},
    );
    await surveys.get(ws, req.params.id);
    const after = q.after === undefined ? undefined : afterOf(q.after);
    const page = await store.listSurveyResponses(ws, req.params.id, {
      limit: q.limit,
      ...(after && { after }),
    });
    const behaviour = await behaviourOf(
      store,
      ws,
      [...new Set(page.map((a) => a.profileId))],
      deps.clock.now(),
    );
    const last = page.length === q.limit ? page[page.length - 1] : undefined;
    return {
      responses: page.map((a) => {
        const b = behaviour.get(a.profileId);
        return {
          ...answerJson(a),
          revenue_365d: b?.revenue365 ?? null,
          purchases_365d: b?.purchases365 ?? null,
        };
      }),
      next: last ? encodePairCursor(last.profileId, last.questionId) : null,
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/surveys/:id/report', async (req, reply) => {
    const ws = await adminWorkspace(auth, req);
    const q = parse(reportQuery, req.query ?? {});
    const survey = await surveys.get(ws, req.params.id);
    const report = await surveyNpsReport(store, deps.clock, ws, survey, {
      period: q.period,
      retentionDays: q.retention_days,
    });
    if (q.format === 'csv') {
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="survey-${survey.id}-report.csv"`)
        .send(reportCsv(report, report.segmentNames));
    }
    return { survey: survey.id, period: q.period, ...report };
  });

  app.post<{ Params: { id: string } }>('/api/v1/surveys/:id/simulate', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const b = parse(simulateBody, req.body ?? {});
    const survey = await surveys.get(ws, req.params.id);
    const report = await surveyNpsReport(store, deps.clock, ws, survey, {
      period: 'month',
      retentionDays: b.retention_days,
    });
    const customers = b.customers ?? report.respondents;
    if (customers === 0)
      throw new ValidationError([
        { field: 'customers', rule: 'nobody has answered yet: give the number of customers' },
      ]);
    const r = simulateRevenue(report.groups, {
      promotersUp: b.promoters_up,
      detractorsDown: b.detractors_down,
      customers,
    });
    if (!r.ok) throw new ValidationError([{ field: r.field, rule: r.rule }]);
    return {
      survey: survey.id,
      respondents: report.respondents,
      customers,
      groups: report.groups,
      ...r.simulation,
    };
  });

  app.post<{ Params: { id: string } }>('/v1/surveys/:id/responses', async (req) => {
    const ws = await auth.workspaceOf(writeKeyOf(req.headers.authorization, req.body), 'write');
    const b = parse(sdkAnswerBody, req.body);
    const r = await surveys.answer(
      ws,
      req.params.id,
      { userId: b.userId, anonymousId: b.anonymousId },
      b.answers,
      {
        source: 'sdk',
        at: at(b.timestamp),
        messageId: b.messageId,
      },
    );
    return { success: true, answers: r.answers.length };
  });
}

/** The report as one table: the whole survey, each group, then each period, stage and segment. */
function reportCsv(r: NpsReport, segmentNames: Record<string, string>): string {
  const head = csvRecord([
    'section',
    'key',
    'respondents',
    'promoters',
    'passives',
    'detractors',
    'nps',
    'average_spend_365d',
    'average_purchases_365d',
    'retention_eligible',
    'retained',
    'retention_rate',
    'referrals_answered',
    'referrals_total',
  ]);
  const counts = (c: {
    respondents: number;
    promoters: number;
    passives: number;
    detractors: number;
    nps: number | null;
  }) => [c.respondents, c.promoters, c.passives, c.detractors, c.nps];
  const lines = [head, csvRecord(['survey', 'all', ...counts(r), null, null, null, null, null, null, null])];
  for (const g of ['promoters', 'passives', 'detractors'] as const) {
    const f = r.groups[g];
    lines.push(
      csvRecord([
        'group',
        g,
        f.count,
        g === 'promoters' ? f.count : 0,
        g === 'passives' ? f.count : 0,
        g === 'detractors' ? f.count : 0,
        null,
        f.averageSpend,
        f.averagePurchases,
        f.retention.eligible,
        f.retention.retained,
        f.retention.rate,
        f.referrals.answered,
        f.referrals.total,
      ]),
    );
  }
  const empty = [null, null, null, null, null, null, null];
  for (const p of r.overTime) lines.push(csvRecord(['period', p.period, ...counts(p), ...empty]));
  for (const s of r.byStage) lines.push(csvRecord(['stage', s.stage ?? '(none)', ...counts(s), ...empty]));
  for (const s of r.bySegment)
    lines.push(csvRecord(['segment', segmentNames[s.segment] ?? s.segment, ...counts(s), ...empty]));
  return lines.join('');
}
