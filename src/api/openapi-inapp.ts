/**
 * The in-app messages, content cards and SDK settings part of the OpenAPI document (docs/in-app.md),
 * merged into openapi.ts; test/http/inapp.test.ts calls every GET path listed here with real values.
 * The SDK's own endpoints (/v1/messages, /v1/cards, ...) take the write key and are described in
 * docs/in-app.md#sdk-api.
 */
import { anyJson, auth, body, error, idParam, jsonBody, ok, resultsParams } from './openapi-parts.js';

const statusFilter = {
  name: 'status',
  in: 'query',
  schema: { enum: ['draft', 'active', 'paused', 'archived'] },
};
const statusBody = jsonBody({
  type: 'object',
  required: ['status'],
  properties: { status: { enum: ['draft', 'active', 'paused'] } },
});
const conflict = { 409: error };

/** The create/list/get/update/status/archive set of one kind of campaign. */
function campaign(base: string, schema: string, noun: string, list: string, extraFilters: unknown[] = []) {
  const one = { $ref: `#/components/schemas/${schema}` };
  return {
    [base]: {
      get: {
        summary: `The workspace's ${noun}s, newest first`,
        parameters: [statusFilter, ...extraFilters],
        responses: { 200: anyJson(`{${list}: ${schema}[]}`), 400: error, ...auth },
      },
      post: {
        summary: `Create a ${noun} (status draft unless the body says otherwise)`,
        requestBody: body(`#/components/schemas/${schema}`),
        responses: { 201: ok(one.$ref), 400: error, ...auth },
      },
    },
    [`${base}/{id}`]: {
      get: {
        summary: `A ${noun}`,
        parameters: [idParam],
        responses: { 200: ok(one.$ref), ...auth, 404: error },
      },
      put: {
        summary: `Replace a ${noun}'s definition (and status, when given); archived ones cannot change`,
        parameters: [idParam],
        requestBody: body(`#/components/schemas/${schema}`),
        responses: { 200: ok(one.$ref), 400: error, ...auth, 404: error, ...conflict },
      },
    },
    [`${base}/{id}/status`]: {
      post: {
        summary: `Set a ${noun}'s status: draft, active or paused`,
        parameters: [idParam],
        requestBody: statusBody,
        responses: { 200: ok(one.$ref), 400: error, ...auth, 404: error, ...conflict },
      },
    },
    [`${base}/{id}/archive`]: {
      post: {
        summary: `Archive a ${noun}: it stops showing and is kept for the record`,
        parameters: [idParam],
        responses: { 200: ok(one.$ref), ...auth, 404: error, ...conflict },
      },
    },
  };
}

const sdkSettings = { $ref: '#/components/schemas/SdkSettings' };

export const inAppPaths = {
  ...campaign('/api/v1/in-app-messages', 'InAppMessage', 'in-app message', 'messages'),
  ...campaign('/api/v1/content-cards', 'ContentCard', 'content card', 'cards', [
    {
      name: 'profileId',
      in: 'query',
      schema: { type: 'string' },
      description: 'only the cards posted to this profile',
    },
  ]),
  '/api/v1/in-app-messages/{id}/results': {
    get: {
      summary:
        'Results per variant and the control group: customers exposed, clicks, conversions to the goal within the window after first exposure, revenue; uplift over control and A/B comparison (docs/in-app.md#results)',
      parameters: [
        idParam,
        {
          name: 'goal',
          in: 'query',
          schema: { type: 'string', maxLength: 200, default: 'Order Completed' },
          description: 'the track event that counts as a conversion',
        },
        {
          name: 'within',
          in: 'query',
          schema: { type: 'string', pattern: '^\\d{1,6}[smhdw]$', default: '7d' },
          description: 'the conversion window after the first exposure',
        },
        ...resultsParams,
      ],
      responses: {
        200: anyJson(
          '{messageId, goal, withinMs, metric, groups[] (with clicks, clickRate), uplift: {conversion, revenue} | null, variants[], winner, verdict}',
        ),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/profiles/{id}/cards': {
    post: {
      summary: 'Post a card to one customer (active at once; targeting is ignored)',
      parameters: [idParam],
      requestBody: body('#/components/schemas/ContentCard'),
      responses: { 201: ok('#/components/schemas/ContentCard'), 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/sdk-settings': {
    get: { summary: "The browser SDK's settings", responses: { 200: ok(sdkSettings.$ref), ...auth } },
    put: {
      summary: 'Change the SDK settings; fields left out keep their values',
      requestBody: jsonBody({
        type: 'object',
        properties: {
          consentRequired: { type: 'boolean' },
          identitySecret: {
            type: ['string', 'null'],
            minLength: 32,
            maxLength: 256,
            description: 'null turns identity verification off; never shown again',
          },
        },
      }),
      responses: { 200: ok(sdkSettings.$ref), 400: error, ...auth },
    },
  },
  '/api/v1/sdk-settings/identity-secret': {
    post: {
      summary: 'Generate a new identity-verification secret (shown once) and turn verification on',
      responses: { 200: anyJson('{identitySecret: string}'), ...auth },
    },
  },
};

const targeting = {
  type: 'object',
  description: 'every listed kind must match, any entry of a kind will do; empty: everyone',
  properties: {
    segments: { type: 'array', items: { type: 'string' }, maxItems: 50 },
    stages: { type: 'array', items: { type: 'string' }, maxItems: 50 },
    journeySteps: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['journeyId', 'step'],
        properties: { journeyId: { type: 'string' }, step: { type: 'string' } },
      },
    },
  },
};
const liquid = (max: number) => ({
  type: 'string',
  maxLength: max,
  description: 'Liquid, rendered as plain text',
});
const url = { type: ['string', 'null'], format: 'uri', description: 'absolute http(s)' };
const time = { type: ['string', 'null'], format: 'date-time' };
const readOnly = {
  id: { type: 'string', readOnly: true },
  status: { enum: ['draft', 'active', 'paused', 'archived'] },
  createdAt: { type: 'string', format: 'date-time', readOnly: true },
  updatedAt: { type: 'string', format: 'date-time', readOnly: true },
};
const content = {
  type: 'object',
  properties: {
    title: liquid(500),
    body: liquid(5000),
    imageUrl: url,
    buttons: {
      type: 'array',
      maxItems: 3,
      items: {
        type: 'object',
        required: ['label'],
        properties: { label: liquid(100), url, action: { enum: ['click', 'dismiss'], default: 'click' } },
      },
    },
    html: {
      type: ['string', 'null'],
      maxLength: 65536,
      description: 'html type only: Liquid with HTML escaping, shown in a sandboxed iframe',
    },
  },
};

export const inAppSchemas = {
  InAppMessage: {
    type: 'object',
    required: ['name', 'type', 'trigger'],
    properties: {
      ...readOnly,
      name: { type: 'string', maxLength: 200 },
      type: { enum: ['modal', 'banner', 'slide_in', 'full_screen', 'html'] },
      trigger: {
        oneOf: [
          { type: 'object', properties: { kind: { const: 'event' }, event: { type: 'string' } } },
          { type: 'object', properties: { kind: { const: 'page' }, urlPattern: { type: 'string' } } },
          { type: 'object', properties: { kind: { const: 'delay' }, seconds: { type: 'integer' } } },
          { type: 'object', properties: { kind: { const: 'exit_intent' } } },
        ],
      },
      position: { enum: ['top', 'bottom', null], description: 'required for banner and slide_in' },
      priority: { type: 'integer', minimum: 0, maximum: 1000, default: 0 },
      targeting,
      frequency: {
        oneOf: [
          { type: 'object', properties: { kind: { const: 'once' } } },
          { type: 'object', properties: { kind: { const: 'times' }, max: { type: 'integer' } } },
          { type: 'object', properties: { kind: { const: 'every_visit' } } },
        ],
      },
      content: { ...content, description: 'one variant (a); or give variants' },
      variants: {
        type: 'array',
        maxItems: 8,
        items: {
          type: 'object',
          required: ['key', 'content'],
          properties: {
            key: { type: 'string', pattern: '^[a-z0-9_]{1,20}$' },
            weight: { type: 'integer' },
            content,
          },
        },
      },
      controlPercent: { type: 'number', minimum: 0, maximum: 50, default: 0 },
      startAt: time,
      endAt: time,
    },
  },
  ContentCard: {
    type: 'object',
    required: ['name', 'title'],
    properties: {
      ...readOnly,
      profileId: { type: ['string', 'null'], readOnly: true },
      name: { type: 'string', maxLength: 200 },
      title: liquid(500),
      body: liquid(5000),
      imageUrl: url,
      url,
      pinned: { type: 'boolean', default: false },
      targeting,
      startAt: time,
      expiresAt: time,
    },
  },
  SdkSettings: {
    type: 'object',
    properties: { consentRequired: { type: 'boolean' }, identityVerification: { type: 'boolean' } },
  },
};
