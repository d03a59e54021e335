/**
 * The OpenAPI 3.1 description of the admin API, served at /api/v1/openapi.json. Written by hand next
 * to the routes; test/http/api.test.ts checks that every route it lists answers as described.
 */
import { engagementPaths, engagementSchemas, ltvPaths } from './openapi-engagement.js';
import { journeyPaths, journeySchemas } from './openapi-journeys.js';
import { channelPaths, channelSchemas } from './openapi-channels.js';
import { catalogPaths, catalogSchemas } from './openapi-catalog.js';
import { inAppPaths, inAppSchemas } from './openapi-inapp.js';
import { surveyPaths, surveySchemas } from './openapi-surveys.js';
import { accessPaths, accessSchemas } from './openapi-access.js';
import { reportPaths } from './openapi-reports.js';
import { eraseProfileOperation, privacyPaths, privacySchemas } from './openapi-privacy.js';
import { auth, error, idParam, ok } from './openapi-parts.js';

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Kizuna admin API',
    version: '1',
    description:
      'Read unified customer profiles, their event timelines, groups and the event names of a workspace; define computed traits, engagement stages and segments, and ask why a customer is (not) in one. Authenticate with `Authorization: Bearer <key>` (the admin key or a scoped key) or a staff session cookie (changes made with the cookie carry `X-CSRF-Token`); each route needs one permission (docs/access.md), and a refusal names it. Ingestion uses the Segment-compatible /v1 endpoints with a write key instead (see docs/ingestion.md).',
  },
  security: [{ adminKey: [] }],
  paths: {
    '/api/v1/profiles/lookup': {
      get: {
        summary: 'Find the profile that owns an identifier',
        description:
          'Give exactly one of the parameters. An identifier of a profile merged into another resolves to the survivor.',
        parameters: ['userId', 'anonymousId', 'email', 'phone'].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        responses: { 200: ok('#/components/schemas/Profile'), 400: error, ...auth, 404: error },
      },
    },
    '/api/v1/profiles/{id}': {
      get: {
        summary: 'A profile by id (a merged-away id returns the surviving profile)',
        parameters: [idParam],
        responses: { 200: ok('#/components/schemas/Profile'), ...auth, 404: error },
      },
      delete: eraseProfileOperation,
    },
    '/api/v1/profiles/{id}/events': {
      get: {
        summary: "A profile's events, newest first, with cursor paging",
        parameters: [
          idParam,
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
          {
            name: 'before',
            in: 'query',
            description: '`next` of the previous page',
            schema: { type: 'string' },
          },
        ],
        responses: { 200: ok('#/components/schemas/EventPage'), 400: error, ...auth, 404: error },
      },
    },
    '/api/v1/profiles': {
      get: {
        summary: 'List profiles, filtered by trait values',
        description:
          'Each `trait.<name>=<value>` filter must match (repeat one to match any of several values). A value that spells a number, true, false or null also matches that JSON value. Ordered by profile id.',
        parameters: [
          { name: 'trait.*', in: 'query', description: 'e.g. trait.plan=pro', schema: { type: 'string' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
          {
            name: 'after',
            in: 'query',
            description: '`next` of the previous page',
            schema: { type: 'string' },
          },
        ],
        responses: { 200: ok('#/components/schemas/ProfilePage'), 400: error, ...auth },
      },
    },
    '/api/v1/event-names': {
      get: {
        summary: 'Every event name seen in the workspace, with counts, most frequent first',
        responses: { 200: ok('#/components/schemas/EventNames'), ...auth },
      },
    },
    '/api/v1/groups/{id}': {
      get: {
        summary: 'A group (account) with its traits and member count',
        parameters: [idParam],
        responses: { 200: ok('#/components/schemas/Group'), ...auth, 404: error },
      },
    },
    '/api/v1/openapi.json': {
      get: { summary: 'This document', security: [], responses: { 200: { description: 'OK' } } },
    },
    '/healthz': {
      get: {
        summary: 'Liveness and store reachability',
        security: [],
        responses: { 200: { description: 'OK' }, 503: error },
      },
    },
    ...engagementPaths,
    ...ltvPaths,
    ...journeyPaths,
    ...channelPaths,
    ...catalogPaths,
    ...inAppPaths,
    ...surveyPaths,
    ...accessPaths,
    ...reportPaths,
    ...privacyPaths,
  },
  components: {
    securitySchemes: {
      adminKey: { type: 'http', scheme: 'bearer' },
      session: { type: 'apiKey', in: 'cookie', name: 'kizuna_session' },
    },
    responses: {
      Error: {
        description: 'The request was refused',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Unauthorized: {
        description: 'Missing, unknown or wrong kind of key',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
    schemas: {
      ...engagementSchemas,
      ...journeySchemas,
      ...channelSchemas,
      ...catalogSchemas,
      ...inAppSchemas,
      ...surveySchemas,
      ...accessSchemas,
      ...privacySchemas,
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              issues: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { field: { type: 'string' }, rule: { type: 'string' } },
                },
              },
            },
          },
        },
      },
      Profile: {
        type: 'object',
        required: ['id', 'identities', 'traits', 'eventCount'],
        properties: {
          id: { type: 'string' },
          userId: { type: ['string', 'null'] },
          identities: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                type: { enum: ['userId', 'anonymousId', 'email', 'phone'] },
                value: { type: 'string' },
              },
            },
          },
          traits: { type: 'object', description: 'latest value of each trait (latest by event timestamp)' },
          firstSeenAt: { type: ['string', 'null'], format: 'date-time' },
          lastSeenAt: { type: ['string', 'null'], format: 'date-time' },
          eventCount: { type: 'integer' },
          groups: { type: 'array', items: { type: 'string' } },
          stage: { type: ['string', 'null'], description: 'engagement stage (docs/segments.md)' },
          stageSince: { type: ['string', 'null'], format: 'date-time' },
          segments: {
            type: 'array',
            items: { type: 'string' },
            description: 'ids of the segments the profile is in',
          },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      Event: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          messageId: { type: 'string' },
          type: { enum: ['identify', 'track', 'page', 'screen', 'group', 'alias'] },
          name: { type: ['string', 'null'] },
          userId: { type: ['string', 'null'] },
          anonymousId: { type: ['string', 'null'] },
          timestamp: { type: 'string', format: 'date-time' },
          receivedAt: { type: 'string', format: 'date-time' },
          message: { type: 'object', description: 'the message as received, normalised' },
        },
      },
      EventPage: {
        type: 'object',
        properties: {
          profileId: { type: 'string' },
          events: { type: 'array', items: { $ref: '#/components/schemas/Event' } },
          next: { type: ['string', 'null'] },
        },
      },
      ProfilePage: {
        type: 'object',
        properties: {
          profiles: { type: 'array', items: { $ref: '#/components/schemas/Profile' } },
          next: { type: ['string', 'null'] },
        },
      },
      EventNames: {
        type: 'object',
        properties: {
          eventNames: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                type: { type: 'string' },
                name: { type: ['string', 'null'] },
                count: { type: 'integer' },
                lastSeenAt: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
      },
      Group: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          traits: { type: 'object' },
          memberCount: { type: 'integer' },
          createdAt: { type: 'string' },
          updatedAt: { type: 'string' },
        },
      },
    },
  },
} as const;
