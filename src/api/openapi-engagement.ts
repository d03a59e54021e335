/**
 * The engagement part of the admin API's OpenAPI document (segments, computed traits, stages,
 * explainer); merged into openapi.ts. test/http/engagement.test.ts calls every GET path listed here.
 */
import { allowUnknown, anyJson, auth, body, error, idParam, ok } from './openapi-parts.js';

export const engagementPaths = {
  '/api/v1/segments': {
    get: {
      summary: 'All segments with status, build progress and size',
      responses: { 200: ok('#/components/schemas/SegmentList'), ...auth },
    },
    post: {
      summary:
        'Create a segment; it is built over existing history in the background (status building → ready)',
      description: 'Rule language: docs/segments.md. A 400 names the place in the rule that is wrong.',
      parameters: [allowUnknown],
      requestBody: body('#/components/schemas/SegmentInput'),
      responses: { 201: ok('#/components/schemas/Segment'), 400: error, ...auth, 409: error },
    },
  },
  '/api/v1/segments/preview': {
    post: {
      summary: 'Count and sample the profiles a rule would hold, before saving it',
      description:
        'A large workspace is answered from a uniform random sample of about 2,000 profiles when an exact count would take more than 0.8 s (`estimated: true`); otherwise the count is exact. `exact: false` when the rule filters events on properties the facts do not keep yet (saving it rebuilds them).',
      parameters: [allowUnknown],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['rule'],
              properties: {
                rule: { type: 'object' },
                sample: { type: 'integer', maximum: 100, default: 10 },
              },
            },
          },
        },
      },
      responses: {
        200: anyJson('{count, estimated, exact, scanned, total, sample: profileIds}'),
        400: error,
        ...auth,
      },
    },
  },
  '/api/v1/segments/{id}': {
    get: {
      summary: 'A segment',
      parameters: [idParam],
      responses: { 200: ok('#/components/schemas/Segment'), ...auth, 404: error },
    },
    put: {
      summary: 'Change a segment (a new version, rebuilt in the background)',
      parameters: [idParam, allowUnknown],
      requestBody: body('#/components/schemas/SegmentInput'),
      responses: { 200: ok('#/components/schemas/Segment'), 400: error, ...auth, 404: error, 409: error },
    },
    delete: {
      summary: 'Delete a segment (refused while another segment refers to it)',
      parameters: [idParam],
      responses: { 204: { description: 'Deleted' }, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/segments/{id}/members': {
    get: {
      summary: 'Member profile ids, in id order',
      parameters: [
        idParam,
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the previous page’s `next`' },
      ],
      responses: { 200: anyJson('{segmentId, status, profileIds, next}'), 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/segments/{id}/sizes': {
    get: {
      summary: 'Size history (one point per sweep and per build)',
      parameters: [idParam, { name: 'days', in: 'query', schema: { type: 'integer', default: 90 } }],
      responses: { 200: anyJson('{segmentId, sizes: [{at, size}]}'), 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/computed-traits': {
    get: {
      summary: 'Built-in computed trait names and the workspace’s own definitions',
      responses: { 200: anyJson('{builtin: string[], custom: object[]}'), ...auth },
    },
  },
  '/api/v1/computed-traits/{name}': {
    put: {
      summary: 'Create or replace a computed trait',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }, allowUnknown],
      requestBody: body('#/components/schemas/ComputedTraitInput'),
      responses: { 200: anyJson('the stored definition'), 400: error, ...auth },
    },
    delete: {
      summary: 'Delete a computed trait (refused while a segment uses it)',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 204: { description: 'Deleted' }, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/stages': {
    get: {
      summary: 'The stage model with the number of profiles in each stage',
      responses: { 200: anyJson('{stages: [{name, label, description, rule, profiles}]}'), ...auth },
    },
    put: {
      summary: 'Replace the stage model (every profile is re-evaluated in the background)',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { 200: anyJson('the stored model'), 400: error, ...auth },
    },
    delete: {
      summary: 'Restore the default stage ladder',
      responses: { 200: anyJson('the default model'), ...auth },
    },
  },
  '/api/v1/engagement-events': {
    get: {
      summary: 'The engagement event stream: Stage Entered, Segment Entered, Segment Exited, in id order',
      description:
        'Follow it with `after` = the last id seen. On PostgreSQL ids are assigned at insert, not commit: a close follower should re-read a short window behind its cursor.',
      parameters: [
        { name: 'after', in: 'query', schema: { type: 'integer', default: 0 } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'profileId', in: 'query', schema: { type: 'string' } },
      ],
      responses: {
        200: anyJson('{events: [{id, profileId, at, type, subject, properties}], next}'),
        400: error,
        ...auth,
      },
    },
  },
  '/api/v1/settings/rfm': {
    get: {
      summary: 'The RFM score bands',
      responses: {
        200: anyJson('{recencyDays: number[4], frequency: number[4], monetary: number[4]}'),
        ...auth,
      },
    },
    put: {
      summary:
        'Replace the RFM score bands (four strictly ascending cut points each; every profile is re-evaluated)',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { 200: anyJson('the stored bands'), 400: error, ...auth },
    },
    delete: {
      summary: 'Restore the default RFM bands',
      responses: { 200: anyJson('the default bands'), ...auth },
    },
  },
  '/api/v1/profiles/{id}/computed': {
    get: {
      summary: 'A profile’s computed traits and per-event counts over 7/30/90/365 days',
      parameters: [idParam],
      responses: { 200: anyJson('{profileId, traits, eventCounts}'), ...auth, 404: error },
    },
  },
  '/api/v1/profiles/{id}/stages': {
    get: {
      summary: 'A profile’s current stage and its stage history with reasons',
      parameters: [idParam],
      responses: {
        200: anyJson('{profileId, stage, since, history: [{at, from, to, reason}]}'),
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/profiles/{id}/explain': {
    get: {
      summary: 'Why a profile is or is not in a segment (or in its stage): the evaluated rule tree',
      parameters: [
        idParam,
        { name: 'segment', in: 'query', schema: { type: 'string' } },
        {
          name: 'stage',
          in: 'query',
          schema: { type: 'string' },
          description: 'present (empty) to explain the stage',
        },
      ],
      responses: {
        200: anyJson('{profileId, segmentId, member, explanation} or {profileId, stage, stages}'),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
} as const;

export const engagementSchemas = {
  SegmentInput: {
    type: 'object',
    required: ['name', 'rule'],
    properties: {
      name: { type: 'string', maxLength: 100 },
      description: { type: 'string', maxLength: 1000 },
      rule: { type: 'object', description: 'see docs/segments.md' },
      requiresProfiling: {
        type: 'boolean',
        description:
          'a profiling segment: customers whose profiling consent is withdrawn are never members (docs/privacy.md#profiling); absent on a change keeps the current value, on a new segment false',
      },
    },
  },
  Segment: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      rule: { type: 'object' },
      version: { type: 'integer' },
      status: { enum: ['building', 'ready'] },
      requiresProfiling: { type: 'boolean' },
      build: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
      builtAt: { type: ['string', 'null'], format: 'date-time' },
      size: { type: 'integer' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  SegmentList: {
    type: 'object',
    properties: { segments: { type: 'array', items: { $ref: '#/components/schemas/Segment' } } },
  },
  ComputedTraitInput: {
    type: 'object',
    required: ['event', 'fn'],
    properties: {
      event: { type: 'string' },
      type: { enum: ['track', 'page', 'screen'] },
      where: { type: 'array', items: { type: 'object' } },
      fn: { enum: ['count', 'sum', 'avg', 'min', 'max', 'first', 'last'] },
      property: { type: 'string' },
      within: { type: 'object' },
    },
  },
} as const;

/** The lifetime-value model (docs/ltv.md); its GET answers 404 until a model is fitted (test/http/ltv.test.ts). */
export const ltvPaths = {
  '/api/v1/ltv': {
    get: {
      summary: 'The fitted LTV model: BG/NBD and Gamma-Gamma parameters, buyers fitted on, holdout report',
      responses: {
        200: anyJson('{fittedAt, customers, purchases, spend, holdout, traits}'),
        ...auth,
        404: error,
      },
    },
    delete: {
      summary: 'Forget the model; the predicted traits then have no value',
      responses: { 204: { description: 'forgotten' }, ...auth },
    },
  },
  '/api/v1/ltv/fit': {
    post: {
      summary:
        'Fit the model on every buyer’s purchase history (synchronous; about 20 s per million buyers) and re-evaluate everyone with the predicted traits',
      description:
        '`holdout_days` (0–365, default 90): the model is also fitted on the data before that many days ago and its forecast for those days compared with what happened. 409 when fewer than 20 customers have bought, or a fit is running.',
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                holdout_days: { type: 'integer', minimum: 0, maximum: 365 },
                refit_every_days: {
                  type: 'integer',
                  minimum: 0,
                  maximum: 365,
                  default: 7,
                  description: 'refit automatically this many days after each fit (0: only when asked)',
                },
              },
            },
          },
        },
      },
      responses: { 200: anyJson('the model, as GET /api/v1/ltv'), 400: error, ...auth, 409: error },
    },
  },
};
