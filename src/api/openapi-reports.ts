/**
 * The analytics reports and A/B broadcast part of the OpenAPI document (docs/reports.md), merged into
 * openapi.ts; test/http/reports.test.ts calls every GET path listed here with real ids.
 */
import { anyJson, auth, error, idParam, jsonBody } from './openapi-parts.js';

const range = [
  {
    name: 'from',
    in: 'query',
    schema: { type: 'string' },
    description: 'a date (midnight UTC) or a date-time with a zone; default: see each report',
  },
  { name: 'to', in: 'query', schema: { type: 'string' }, description: 'exclusive; default: now' },
];
const format = { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } };
const report = (what: string) => ({
  200: {
    description: `${what} (text/csv with format=csv)`,
    content: {
      'application/json': { schema: { type: 'object' } },
      'text/csv': { schema: { type: 'string' } },
    },
  },
  400: error,
  ...auth,
});
const where = {
  type: 'array',
  maxItems: 10,
  description: 'property filters, as in segment rules: {property, op, value}',
  items: {
    type: 'object',
    required: ['property', 'op'],
    properties: { property: { type: 'string' }, op: { type: 'string' }, value: {} },
  },
};
const eventStep = {
  type: 'object',
  required: ['event'],
  additionalProperties: false,
  properties: { event: { type: 'string' }, where },
};

export const reportPaths = {
  '/api/v1/reports/funnel': {
    post: {
      summary:
        'Funnel: customers per ordered step within a conversion window, conversion, median time between steps',
      description:
        'A customer enters with a first-step event from `from` to `to` (default: the last 30 days) and has `window` from it to finish. Breakdown by current stage or segment membership.',
      parameters: [format],
      requestBody: jsonBody({
        type: 'object',
        required: ['steps'],
        additionalProperties: false,
        properties: {
          steps: { type: 'array', minItems: 2, maxItems: 10, items: eventStep },
          window: { type: 'string', default: '7d', description: 'a duration: 30m, 2h, 3d, 1w' },
          from: { type: 'string' },
          to: { type: 'string' },
          breakdown: { enum: ['stage', 'segment'] },
        },
      }),
      responses: report('{steps[], breakdown: {by, groups[{key, steps[]}]} | null}'),
    },
  },
  '/api/v1/reports/retention': {
    get: {
      summary:
        'Retention cohorts: by first seen or first purchase, per week or month, returning per later period',
      parameters: [
        {
          name: 'cohort',
          in: 'query',
          schema: { enum: ['first_seen', 'first_purchase'], default: 'first_seen' },
        },
        {
          name: 'purchase_event',
          in: 'query',
          schema: { type: 'string', default: 'Order Completed' },
          description: 'the event whose first occurrence places a customer (cohort=first_purchase)',
        },
        {
          name: 'event',
          in: 'query',
          schema: { type: 'string' },
          description: 'what counts as returning (default: any track, page or screen event)',
        },
        { name: 'period', in: 'query', schema: { enum: ['week', 'month'], default: 'month' } },
        { name: 'periods', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 52, default: 12 } },
        ...range,
        format,
      ],
      responses: report('{cohorts[{cohort, start, size, periods[{customers, percent} | null]}]}'),
    },
  },
  '/api/v1/reports/stage-flow': {
    get: {
      summary:
        'Stage flow: customers who moved from stage X to Y per period, and stage sizes at each period end',
      parameters: [
        { name: 'period', in: 'query', schema: { enum: ['day', 'week', 'month'], default: 'week' } },
        ...range,
        format,
      ],
      responses: report('{periods[{period, start, end, moves[{from, to, customers}], sizes}]}'),
    },
  },
  '/api/v1/reports/messages': {
    get: {
      summary:
        'Message performance per campaign step and channel: sent, delivered, bounced, opened, clicked, converted, unsubscribed, with rates',
      parameters: [...range, format],
      responses: report('{campaigns[], channels[], total}'),
    },
  },
  '/api/v1/reports/attribution': {
    post: {
      summary:
        'Conversions and revenue credited to the last or first message touch within send and open windows',
      parameters: [format],
      requestBody: jsonBody({
        type: 'object',
        required: ['goal'],
        additionalProperties: false,
        properties: {
          goal: eventStep,
          value_property: {
            type: 'string',
            description: 'the goal property holding its value, e.g. revenue',
          },
          model: { enum: ['last', 'first'], default: 'last' },
          after_send: { type: 'string', description: 'a duration, e.g. 7d' },
          after_open: { type: 'string', description: 'a duration after an open or click, e.g. 24h' },
          from: { type: 'string' },
          to: { type: 'string' },
        },
      }),
      responses: report(
        '{conversions, revenue, attributed, unattributed, campaigns[{campaign, name, channel, conversions, revenue}]}',
      ),
    },
  },
  '/api/v1/broadcasts/{id}/ab-test': {
    get: {
      summary:
        'An A/B broadcast: its variants, when the rest is sent the winner, the test results and the winner',
      parameters: [idParam],
      responses: {
        200: anyJson('{variants, metric, sendWinnerAt, winner, decidedAt, results}'),
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/broadcasts/{id}/send-winner': {
    post: {
      summary:
        'Send the rest of an A/B broadcast’s audience the winner (significant, else best observed, or the one named)',
      parameters: [idParam],
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: { variant: { type: 'string' } },
            },
          },
        },
      },
      responses: {
        200: anyJson('{journeyId, winner, how, released, version}'),
        400: error,
        ...auth,
        404: error,
        409: error,
      },
    },
  },
};
