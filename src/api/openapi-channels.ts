/**
 * The channels and messages part of the admin API's OpenAPI document; merged into openapi.ts.
 * test/http/delivery.test.ts calls every GET path listed here with real values.
 */
import { anyJson, auth, error, ok } from './openapi-parts.js';

const channelParam = {
  name: 'channel',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: ['webhook'] },
  description: 'the channel (more arrive with their providers: see docs/channels.md)',
};

export const channelPaths = {
  '/api/v1/channels': {
    get: {
      summary: "The workspace's configured channels (credentials are listed by name, never shown)",
      responses: { 200: anyJson('{channels: Channel[]}'), ...auth },
    },
  },
  '/api/v1/channels/{channel}': {
    get: {
      summary: "A channel's configuration",
      parameters: [channelParam],
      responses: { 200: ok('#/components/schemas/Channel'), ...auth, 404: error },
    },
    put: {
      summary: 'Configure a channel: its provider, settings and credentials (sealed with the server key)',
      description:
        'Credentials left out keep their stored values. A 400 names the field (`settings.rate_per_second`).',
      parameters: [channelParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['provider'],
              properties: {
                provider: { type: 'string', example: 'webhook' },
                settings: {
                  type: 'object',
                  properties: {
                    allow_private_network: {
                      type: 'boolean',
                      default: false,
                      description: 'webhook: allow private and loopback addresses',
                    },
                    rate_per_second: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 100000 },
                  },
                },
                secrets: {
                  type: 'object',
                  properties: { signing_secret: { type: 'string', minLength: 16 } },
                },
              },
            },
          },
        },
      },
      responses: { 200: ok('#/components/schemas/Channel'), 400: error, ...auth, 404: error },
    },
    delete: {
      summary: 'Remove a channel configuration',
      parameters: [channelParam],
      responses: { 204: { description: 'removed' }, ...auth, 404: error },
    },
  },
  '/api/v1/channels/webhook/signing-secret': {
    post: {
      summary: 'Rotate the webhook signing secret; the new one is answered once',
      responses: { 200: anyJson('{signingSecret}'), ...auth },
    },
  },
  '/api/v1/channels/{channel}/test': {
    post: {
      summary: "Send one test message now and answer with the provider's result",
      parameters: [channelParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['url'],
              properties: { url: { type: 'string' }, data: { description: 'the body `data` (any JSON)' } },
            },
          },
        },
      },
      responses: {
        200: anyJson('{ok: true, status} or {ok: false, retryable, reason}'),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/messages/{key}': {
    get: {
      summary: 'One message with its delivery state and every state it went through',
      parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: ok('#/components/schemas/Message'), ...auth, 404: error },
    },
  },
};

const dateTime = { type: 'string', format: 'date-time' };
const nullableDate = { type: ['string', 'null'], format: 'date-time' };

export const channelSchemas = {
  Channel: {
    type: 'object',
    properties: {
      channel: { type: 'string' },
      provider: { type: 'string' },
      settings: { type: 'object' },
      secrets: { type: 'array', items: { type: 'string' }, description: 'names of the credentials set' },
      updatedAt: dateTime,
    },
  },
  Message: {
    type: 'object',
    properties: {
      key: { type: 'string', description: 'the idempotency key (also X-Kizuna-Key on webhooks)' },
      journeyId: { type: 'string' },
      entryId: { type: 'string' },
      profileId: { type: 'string' },
      step: { type: 'string' },
      channel: { type: 'string' },
      template: { type: ['string', 'null'] },
      payload: { type: 'object' },
      status: {
        enum: [
          'queued',
          'sent',
          'delivered',
          'opened',
          'clicked',
          'bounced',
          'failed',
          'suppressed',
          'skipped',
          'recorded',
        ],
      },
      attempts: { type: 'integer' },
      nextAttemptAt: nullableDate,
      reason: {
        type: ['string', 'null'],
        description: 'why it failed, was suppressed or skipped, or the last retryable error',
      },
      createdAt: dateTime,
      updatedAt: dateTime,
      history: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            at: dateTime,
            status: { type: 'string' },
            attempt: { type: 'integer' },
            detail: { type: ['string', 'null'] },
          },
        },
      },
    },
  },
};
