/**
 * The journey part of the admin API's OpenAPI document; merged into openapi.ts.
 * test/http/journeys.test.ts calls every GET path listed here with real ids.
 */
import { allowUnknown, anyJson, auth, body, error, ok, resultsParams } from './openapi-parts.js';

const path = (name: string, description?: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  ...(description && { description }),
});
const idParam = path('id');
const definition = body('#/components/schemas/JourneyDefinition');
const page = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'after', in: 'query', schema: { type: 'string' }, description: "the previous page's `next`" },
];
const lifecycle = (summary: string) => ({
  post: {
    summary,
    parameters: [idParam],
    responses: { 200: ok('#/components/schemas/Journey'), ...auth, 404: error, 409: error },
  },
});

export const journeyPaths = {
  '/api/v1/journeys': {
    get: { summary: 'All journeys', responses: { 200: anyJson('{journeys: Journey[]}'), ...auth } },
    post: {
      summary: 'Create a journey (a validated draft; nothing runs until it is published)',
      description: 'Definition language: docs/journeys.md. A 400 names the step and field that are wrong.',
      parameters: [allowUnknown],
      requestBody: definition,
      responses: { 201: ok('#/components/schemas/Journey'), 400: error, ...auth, 409: error },
    },
  },
  '/api/v1/broadcasts': {
    post: {
      summary:
        'Send one message to a segment at a time (or a local time on a date), throttled, with a control group',
      description: 'Creates and publishes a scheduled journey; see docs/journeys.md#broadcasts.',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['name', 'segment', 'channel'],
              description: 'give `template`, or `variants` for an A/B test whose rest is sent the winner',
              properties: {
                name: { type: 'string' },
                segment: { type: 'string' },
                channel: { type: 'string' },
                template: { type: 'string' },
                send_at: { type: 'string', description: 'ISO 8601 with a zone, or "now"' },
                date: { type: 'string', format: 'date', description: 'with local_time, instead of send_at' },
                local_time: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
                every_days: { type: 'integer', minimum: 1, maximum: 365 },
                throttle_per_minute: { type: 'integer', minimum: 1 },
                control_percent: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 },
                goal: {
                  type: 'object',
                  description: '{event, where?, within}: the conversion results measure',
                },
                variants: {
                  type: 'array',
                  minItems: 2,
                  maxItems: 5,
                  description: 'A/B test variants (docs/reports.md#send-the-rest-the-winner)',
                  items: {
                    type: 'object',
                    required: ['name', 'template'],
                    properties: { name: { type: 'string' }, template: { type: 'string' } },
                  },
                },
                test_percent: {
                  type: 'number',
                  default: 20,
                  description: 'the share the variants split; the rest waits for the winner',
                },
                winner_metric: { enum: ['conversion', 'revenue'], default: 'conversion' },
                send_winner_after: {
                  type: 'string',
                  description:
                    'send the rest the winner this long after the start (e.g. 4h); without it, on request',
                },
              },
            },
          },
        },
      },
      responses: { 201: ok('#/components/schemas/Journey'), 400: error, ...auth },
    },
  },
  '/api/v1/journeys/{id}': {
    get: {
      summary: 'A journey and its draft',
      parameters: [idParam],
      responses: { 200: ok('#/components/schemas/Journey'), ...auth, 404: error },
    },
    put: {
      summary: 'Replace the draft (published versions never change; publish to make the draft live)',
      parameters: [idParam, allowUnknown],
      requestBody: definition,
      responses: { 200: ok('#/components/schemas/Journey'), 400: error, ...auth, 404: error, 409: error },
    },
  },
  '/api/v1/journeys/{id}/publish': {
    post: {
      summary: 'Publish the draft as the next version',
      description:
        'New entries take the new version. Customers already inside finish on their version, unless `migrate=true`: then those whose current step id exists in the new version move to it.',
      parameters: [idParam, { name: 'migrate', in: 'query', schema: { enum: ['true', 'false'] } }],
      responses: { 200: anyJson('Journey plus {migrated}'), 400: error, ...auth, 404: error, 409: error },
    },
  },
  '/api/v1/journeys/{id}/pause': lifecycle('Pause: no new entries and no steps run until resumed'),
  '/api/v1/journeys/{id}/resume': lifecycle('Resume a paused journey'),
  '/api/v1/journeys/{id}/archive': lifecycle(
    'Archive: every active entry ends; the journey can no longer change',
  ),
  '/api/v1/journeys/{id}/versions/{version}': {
    get: {
      summary: 'A published version, as frozen',
      parameters: [idParam, path('version', 'version number, from 1')],
      responses: { 200: anyJson('{journeyId, version, definition}'), ...auth, 404: error },
    },
  },
  '/api/v1/journeys/{id}/stats': {
    get: {
      summary: 'Customers per step now; entered, completed, exited, converted; and per day',
      parameters: [
        idParam,
        { name: 'days', in: 'query', schema: { type: 'integer', maximum: 400, default: 30 } },
      ],
      responses: { 200: ok('#/components/schemas/JourneyStats'), ...auth, 404: error },
    },
  },
  '/api/v1/journeys/{id}/results': {
    get: {
      summary:
        'Results by split variant: conversion rate and revenue per customer, uplift over control with confidence interval and p-value, A/B/n comparison and winner (docs/journeys.md#results)',
      parameters: [idParam, ...resultsParams],
      responses: {
        200: anyJson(
          '{journeyId, metric, groups[], uplift: {conversion, revenue} | null, variants[], winner, verdict}',
        ),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/journeys/{id}/messages': {
    get: {
      summary: 'Messages the journey recorded (what send and webhook steps asked for), oldest first',
      parameters: [idParam, ...page],
      responses: { 200: anyJson('{messages, next}'), ...auth, 404: error },
    },
  },
  '/api/v1/journeys/{id}/explain/{profileId}': {
    get: {
      summary: 'Why a customer did or did not enter the journey, condition by condition, and their entries',
      parameters: [idParam, path('profileId')],
      responses: { 200: anyJson('{entered, checks: [{check, ok, detail}], entries}'), ...auth, 404: error },
    },
  },
  '/api/v1/profiles/{id}/journeys': {
    get: {
      summary: "A customer's journey entries, newest first, with the current step and step history",
      parameters: [idParam],
      responses: { 200: anyJson('{entries: JourneyEntry[]}'), ...auth },
    },
  },
  '/api/v1/profiles/{id}/messages': {
    get: {
      summary: 'Messages journeys recorded for a customer, oldest first',
      parameters: [idParam, ...page],
      responses: { 200: anyJson('{messages, next}'), ...auth },
    },
  },
  '/api/v1/lists/{list}/members': {
    get: {
      summary: 'Profile ids in a static list (filled by add_to_list steps)',
      parameters: [path('list'), ...page],
      responses: { 200: anyJson('{profileIds, next}'), ...auth },
    },
  },
};

export const journeySchemas = {
  JourneyDefinition: {
    type: 'object',
    required: ['name', 'trigger', 'start', 'steps'],
    description: 'see docs/journeys.md',
    properties: {
      name: { type: 'string' },
      description: { type: 'string' },
      trigger: {
        type: 'object',
        description:
          '{event, where?} | {segment_entered} | {segment_exited} | {stage_entered} | {schedule: {segment, at, every_days?}}',
      },
      throttle: { type: 'object', description: "{per_minute}: spreads a scheduled run's entries" },
      entry: { type: 'object', description: '{limit: "once" | "every_time" | {once_per_days}, segment?}' },
      timezone: { type: 'string', description: 'IANA zone for customers without a valid `timezone` trait' },
      start: { type: 'string' },
      steps: { type: 'object', additionalProperties: { type: 'object', required: ['type'] } },
      goal: { type: 'object', description: '{event, where?, within}' },
      exit_when: { description: '{event, where?} | {segment} or a list of them' },
    },
  },
  Journey: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      status: { enum: ['draft', 'published', 'paused', 'archived'] },
      version: { type: 'integer', description: 'latest published version; 0 before the first publish' },
      draft: { $ref: '#/components/schemas/JourneyDefinition' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      publishedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  JourneyStats: {
    type: 'object',
    properties: {
      journeyId: { type: 'string' },
      steps: {
        type: 'object',
        additionalProperties: { type: 'integer' },
        description: 'active customers per step',
      },
      entered: { type: 'integer' },
      active: { type: 'integer' },
      completed: { type: 'integer' },
      exited: { type: 'integer' },
      converted: { type: 'integer' },
      daily: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            day: { type: 'string' },
            entered: { type: 'integer' },
            ended: { type: 'integer' },
            converted: { type: 'integer' },
          },
        },
      },
    },
  },
};
