/**
 * The surveys, NPS report, simulator and voice-of-the-customer part of the OpenAPI document
 * (docs/surveys.md), merged into openapi.ts; test/http/surveys.test.ts calls every GET path listed
 * here with real ids.
 */
import { anyJson, auth, body, error, idParam, jsonBody, ok } from './openapi-parts.js';

const survey = ok('#/components/schemas/Survey');
const answers = {
  type: 'array',
  minItems: 1,
  maxItems: 20,
  items: {
    type: 'object',
    required: ['question', 'value'],
    additionalProperties: false,
    properties: {
      question: { type: 'string', description: 'a question id of the survey' },
      value: { type: ['integer', 'string'], description: 'a whole number in range, an option, or text' },
      comment: { type: ['string', 'null'], maxLength: 2000 },
    },
  },
};

export const surveyPaths = {
  '/api/v1/surveys': {
    get: {
      summary: 'Every survey, by name',
      responses: { 200: anyJson('{surveys: Survey[]}'), ...auth },
    },
    post: {
      summary: 'Create a survey, written out or from a built-in template',
      description:
        'Either `name` and `questions` (and optionally `description`), or `from_template` (`nps_programme`: NPS, loyalty in two years, referrals) with an optional `name`.',
      requestBody: body('#/components/schemas/SurveyInput'),
      responses: { 201: survey, 400: error, ...auth, 409: error },
    },
  },
  '/api/v1/surveys/{id}': {
    get: { summary: 'A survey', parameters: [idParam], responses: { 200: survey, ...auth, 404: error } },
    put: {
      summary: 'Replace a survey’s name, description and questions (a question’s kind never changes)',
      parameters: [idParam],
      requestBody: body('#/components/schemas/SurveyInput'),
      responses: { 200: survey, 400: error, ...auth, 404: error, 409: error },
    },
  },
  '/api/v1/surveys/{id}/archive': {
    post: {
      summary: 'Close a survey: its links and endpoints take no more answers; answers and report stay',
      parameters: [idParam],
      responses: { 200: survey, ...auth, 404: error },
    },
  },
  '/api/v1/surveys/{id}/responses': {
    get: {
      summary: 'The answers, each with the respondent’s revenue_365d and purchases_365d',
      parameters: [
        idParam,
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the previous page’s `next`' },
      ],
      responses: {
        200: anyJson('{responses: Response[], next: string | null}'),
        400: error,
        ...auth,
        404: error,
      },
    },
    post: {
      summary: 'Record answers collected server-side (each also a `Survey Answered` event)',
      description:
        'Name the respondent by exactly one of `profile_id`, `userId`, `anonymousId`. Answering a question again replaces the answer. All answers are checked before any is stored.',
      parameters: [idParam],
      requestBody: jsonBody({
        type: 'object',
        required: ['answers'],
        properties: {
          profile_id: { type: 'string' },
          userId: { type: 'string' },
          anonymousId: { type: 'string' },
          answers,
          timestamp: { type: 'string', format: 'date-time' },
          messageId: { type: 'string', description: 'makes a retry idempotent' },
        },
      }),
      responses: { 200: anyJson('{profileId, answers}'), 400: error, ...auth, 404: error, 409: error },
    },
  },
  '/api/v1/surveys/{id}/report': {
    get: {
      summary:
        'NPS report: groups with spend, purchases, retention and referrals; NPS over time, by stage and segment',
      parameters: [
        idParam,
        { name: 'period', in: 'query', schema: { enum: ['week', 'month'], default: 'month' } },
        {
          name: 'retention_days',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 365, default: 90 },
        },
        { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } },
      ],
      responses: {
        200: {
          description: 'the report (text/csv with format=csv)',
          content: {
            'application/json': { schema: { type: 'object' } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/surveys/{id}/simulate': {
    post: {
      summary: 'Revenue if promoters grew by X points and detractors fell by Y, with the assumptions',
      parameters: [idParam],
      requestBody: jsonBody({
        type: 'object',
        properties: {
          promoters_up: { type: 'number', minimum: -100, maximum: 100, default: 0 },
          detractors_down: { type: 'number', minimum: -100, maximum: 100, default: 0 },
          customers: { type: 'integer', minimum: 1, description: 'default: the number of respondents' },
          retention_days: { type: 'integer', minimum: 1, maximum: 365, default: 90 },
        },
      }),
      responses: {
        200: anyJson('{current, scenario, change, assumptions, groups}'),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/feedback': {
    get: {
      summary: 'The voice-of-the-customer board, newest first: filter and search',
      parameters: [
        {
          name: 'q',
          in: 'query',
          schema: { type: 'string' },
          description: 'a substring of the text (case and width folded)',
        },
        ...['profile_id', 'survey_id', 'journey_id', 'topic'].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        { name: 'source', in: 'query', schema: { enum: ['survey', 'support', 'employee'] } },
        { name: 'sentiment', in: 'query', schema: { enum: ['good', 'bad', 'awful'] } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        {
          name: 'before',
          in: 'query',
          schema: { type: 'string' },
          description: 'the previous page’s `next`',
        },
      ],
      responses: { 200: anyJson('{feedback: Feedback[], next: string | null}'), 400: error, ...auth },
    },
    post: {
      summary: 'Post a support note or what a member of staff heard from a customer',
      requestBody: jsonBody({
        type: 'object',
        required: ['text', 'source'],
        properties: {
          text: { type: 'string', maxLength: 2000 },
          source: { enum: ['support', 'employee'] },
          author: { type: 'string' },
          profile_id: { type: 'string' },
          sentiment: { enum: ['good', 'bad', 'awful'] },
          topics: { type: 'array', items: { type: 'string' }, maxItems: 10 },
          journey_id: { type: 'string' },
          message_key: { type: 'string' },
        },
      }),
      responses: { 201: ok('#/components/schemas/Feedback'), 400: error, ...auth },
    },
  },
  '/api/v1/profiles/{id}/feedback': {
    get: {
      summary: 'One customer’s feedback and notes, newest first (profiles.read; audited)',
      parameters: [
        idParam,
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        {
          name: 'before',
          in: 'query',
          schema: { type: 'string' },
          description: 'the previous page’s `next`',
        },
      ],
      responses: {
        200: anyJson('{feedback: Feedback[], next: string | null}'),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/feedback/{id}': {
    get: {
      summary: 'One feedback entry',
      parameters: [idParam],
      responses: { 200: ok('#/components/schemas/Feedback'), ...auth, 404: error },
    },
  },
  '/api/v1/feedback/{id}/tags': {
    put: {
      summary: 'Tag feedback: sentiment (or null) and topics (replacing the list)',
      parameters: [idParam],
      requestBody: jsonBody({
        type: 'object',
        properties: {
          sentiment: { enum: ['good', 'bad', 'awful', null] },
          topics: { type: 'array', items: { type: 'string' }, maxItems: 10 },
        },
      }),
      responses: { 200: ok('#/components/schemas/Feedback'), 400: error, ...auth, 404: error },
    },
  },
};

export const surveySchemas = {
  Question: {
    type: 'object',
    required: ['id', 'kind', 'text'],
    properties: {
      id: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,39}$' },
      kind: { enum: ['nps', 'csat', 'ces', 'scale', 'choice', 'number', 'text'] },
      text: { type: 'string', maxLength: 500 },
      min: {
        type: 'integer',
        description: 'scale (required) and number; nps 0–10, csat 1–5 and ces 1–7 are fixed',
      },
      max: { type: 'integer' },
      options: { type: 'array', items: { type: 'string' }, description: 'choice only, 2–20' },
      role: { enum: ['referrals'], description: 'number only: the "recommended to how many" question' },
    },
  },
  SurveyInput: {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 200 },
      description: { type: ['string', 'null'] },
      questions: {
        type: 'array',
        minItems: 1,
        maxItems: 20,
        items: { $ref: '#/components/schemas/Question' },
      },
      from_template: { enum: ['nps_programme'] },
    },
  },
  Survey: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      status: { enum: ['active', 'archived'] },
      template: { type: ['string', 'null'] },
      description: { type: ['string', 'null'] },
      questions: { type: 'array', items: { $ref: '#/components/schemas/Question' } },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  Feedback: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      profileId: { type: ['string', 'null'] },
      source: { enum: ['survey', 'support', 'employee'] },
      author: { type: ['string', 'null'] },
      text: { type: 'string' },
      sentiment: { enum: ['good', 'bad', 'awful', null] },
      topics: { type: 'array', items: { type: 'string' } },
      surveyId: { type: ['string', 'null'] },
      question: { type: ['string', 'null'] },
      journeyId: { type: ['string', 'null'] },
      messageKey: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
};
