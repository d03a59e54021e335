/**
 * The templates, channels and messages part of the admin API's OpenAPI document; merged into openapi.ts.
 * test/http/delivery.test.ts calls every GET path listed here with real values.
 */
import { anyJson, auth, error, jsonBody, ok } from './openapi-parts.js';

const channelParam = {
  name: 'channel',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: ['webhook', 'email', 'sms', 'line', 'push', 'web_push'] },
  description: 'the channel (in_app arrives with the browser SDK: see docs/channels.md)',
};

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const templateBody = {
  required: true,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Template' } } },
};
const previewBody = (withTemplate: boolean) => ({
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['profile_id', ...(withTemplate ? ['template'] : [])],
        properties: {
          profile_id: { type: 'string' },
          locale: { type: 'string', description: "render this variant instead of the customer's" },
          ...(withTemplate && { template: { $ref: '#/components/schemas/Template' } }),
        },
      },
    },
  },
});
const previewAnswer = anyJson(
  '{ok: true, locale, content} or {ok: false, reason}; with template, version, profileId',
);

export const channelPaths = {
  '/api/v1/templates': {
    get: {
      summary: 'All templates, by name',
      responses: { 200: anyJson('{templates: Template[]}'), ...auth },
    },
    post: {
      summary: 'Create a template (validated, Liquid syntax included)',
      description: 'A 400 names the field, line and column: `variants.en.html: line 2, column 3: …`.',
      requestBody: templateBody,
      responses: { 201: ok('#/components/schemas/Template'), 400: error, ...auth, 409: error },
    },
  },
  '/api/v1/templates/preview': {
    post: {
      summary: 'Render an unsaved template for a customer',
      requestBody: previewBody(true),
      responses: { 200: previewAnswer, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/templates/{name}': {
    get: {
      summary: 'A template',
      parameters: [nameParam],
      responses: { 200: ok('#/components/schemas/Template'), ...auth, 404: error },
    },
    put: {
      summary: 'Replace a template (its version grows by one)',
      parameters: [nameParam],
      requestBody: templateBody,
      responses: { 200: ok('#/components/schemas/Template'), 400: error, ...auth, 404: error },
    },
    delete: {
      summary: 'Delete a template no live journey sends',
      parameters: [nameParam],
      responses: { 204: { description: 'deleted' }, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/templates/{name}/preview': {
    post: {
      summary: 'Render a template for a customer as a send would now',
      parameters: [nameParam],
      requestBody: previewBody(false),
      responses: { 200: previewAnswer, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/templates/{name}/test': {
    post: {
      summary:
        'Send an e-mail template, rendered for a chosen customer, to a staff address through the e-mail channel ("[Test]" subject, no unsubscribe headers, nothing recorded for the customer)',
      parameters: [nameParam],
      requestBody: jsonBody({
        type: 'object',
        required: ['profile_id', 'to'],
        additionalProperties: false,
        properties: {
          profile_id: { type: 'string' },
          to: { type: 'string', format: 'email' },
          locale: { type: 'string', minLength: 2, maxLength: 35 },
        },
      }),
      responses: {
        200: anyJson('{ok: true} or {ok: false, retryable, reason}'),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
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
                provider: {
                  enum: ['webhook', 'smtp', 'twilio', 'messaging-api', 'fcm', 'apns', 'vapid'],
                  description:
                    'webhook for webhook, smtp for email, twilio (or a compatible API) for sms, messaging-api for line, fcm or apns for push, vapid for web_push',
                },
                settings: {
                  type: 'object',
                  description: 'per provider; unknown keys are refused',
                  properties: {
                    allow_private_network: {
                      type: 'boolean',
                      default: false,
                      description: 'webhook: allow private and loopback addresses',
                    },
                    host: { type: 'string', description: 'smtp' },
                    port: { type: 'integer', default: 587, description: 'smtp' },
                    secure: {
                      type: 'boolean',
                      default: false,
                      description: 'smtp: TLS from the start (465)',
                    },
                    require_tls: {
                      type: 'boolean',
                      default: false,
                      description: 'smtp: refuse without STARTTLS',
                    },
                    from: { type: 'string', example: 'Shop <news@shop.example>', description: 'smtp' },
                    reply_to: { type: ['string', 'null'], description: 'smtp' },
                    pool_size: {
                      type: 'integer',
                      minimum: 1,
                      maximum: 50,
                      default: 5,
                      description: 'smtp: connections kept open',
                    },
                    timeout_ms: {
                      type: 'integer',
                      minimum: 1000,
                      maximum: 120000,
                      default: 30000,
                      description: 'smtp',
                    },
                    track_opens: { type: 'boolean', default: true, description: 'smtp: add the open pixel' },
                    track_clicks: {
                      type: 'boolean',
                      default: true,
                      description: 'smtp: rewrite http(s) links to tracked redirects',
                    },
                    base_url: {
                      type: 'string',
                      description: 'twilio, messaging-api, fcm, apns: the API origin (tests, sandboxes)',
                    },
                    account_sid: { type: 'string', description: 'twilio' },
                    project_id: { type: 'string', description: 'fcm' },
                    client_email: { type: 'string', description: "fcm: the service account's client_email" },
                    token_uri: { type: 'string', description: "fcm: the service account's token_uri" },
                    team_id: { type: 'string', description: 'apns: 10 characters' },
                    key_id: { type: 'string', description: 'apns: the .p8 key id, 10 characters' },
                    bundle_id: { type: 'string', description: 'apns: the apns-topic' },
                    subject: { type: 'string', description: 'vapid: a mailto: or https: URL' },
                    ttl_seconds: { type: 'integer', default: 86400, description: 'vapid' },
                    public_key: {
                      type: 'string',
                      readOnly: true,
                      description: 'vapid: derived from the private key; browsers subscribe with it',
                    },
                    allow_insecure: {
                      type: 'boolean',
                      default: false,
                      description: 'vapid: allow http and private push endpoints',
                    },
                    rate_per_second: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 100000 },
                  },
                },
                secrets: {
                  type: 'object',
                  description: 'sealed at rest; left-out keys keep their stored values',
                  properties: {
                    signing_secret: { type: 'string', minLength: 16, description: 'webhook' },
                    username: { type: 'string', description: 'smtp' },
                    password: { type: 'string', description: 'smtp' },
                    auth_token: { type: 'string', description: 'twilio' },
                    channel_access_token: { type: 'string', description: 'messaging-api (LINE)' },
                    private_key: {
                      type: 'string',
                      description:
                        'fcm: the service account key (PEM); apns: the .p8 key (PEM); vapid: base64url, generated when absent',
                    },
                  },
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
              oneOf: [
                {
                  type: 'object',
                  title: 'webhook',
                  required: ['url'],
                  properties: {
                    url: { type: 'string' },
                    data: { description: 'the body `data` (any JSON)' },
                  },
                },
                {
                  type: 'object',
                  title: 'email',
                  required: ['to'],
                  properties: { to: { type: 'string', format: 'email' } },
                },
                {
                  type: 'object',
                  title: 'line',
                  required: ['to'],
                  properties: { to: { type: 'string', description: 'a LINE user id' } },
                },
                {
                  type: 'object',
                  title: 'sms',
                  required: ['to'],
                  properties: { to: { type: 'string', description: 'E.164' } },
                },
                {
                  type: 'object',
                  title: 'push (one of profile_id and token), web_push (profile_id)',
                  properties: {
                    profile_id: { type: 'string', description: 'whose devices get the test' },
                    token: { type: 'string', description: 'push only: one FCM or APNs device token' },
                  },
                },
              ],
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
  '/api/v1/delivery-settings': {
    get: {
      summary: "The workspace's quiet hours, frequency caps and global holdout share",
      responses: { 200: ok('#/components/schemas/DeliverySettings'), ...auth },
    },
    put: {
      summary: 'Replace the quiet hours and frequency caps (a 400 names the field)',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/DeliverySettings' } } },
      },
      responses: { 200: ok('#/components/schemas/DeliverySettings'), 400: error, ...auth },
    },
  },
  '/api/v1/holdout/results': {
    get: {
      summary:
        'The global holdout against everyone else: customers who performed the goal event in the last `days` days, revenue for Order Completed, uplift with CI and p-value',
      description: 'Reads every profile’s facts: tens of seconds at a million profiles. `days` ≤ 400.',
      parameters: [
        {
          name: 'event',
          in: 'query',
          required: true,
          schema: { type: 'string' },
          example: 'Order Completed',
        },
        { name: 'days', in: 'query', schema: { type: 'integer', maximum: 400, default: 30 } },
      ],
      responses: {
        200: anyJson('{holdoutPercent, goal, holdout, marketed, uplift: {conversion, revenue} | null}'),
        400: error,
        ...auth,
      },
    },
  },
  '/api/v1/subscriptions': {
    get: {
      summary: "A contact point's subscription states, per topic",
      parameters: [
        { name: 'channel', in: 'query', required: true, schema: { type: 'string' }, example: 'email' },
        {
          name: 'address',
          in: 'query',
          required: true,
          schema: { type: 'string' },
          example: 'ann@example.com',
        },
      ],
      responses: {
        200: anyJson('{subscriptions: [{channel, address, topic, status, source, at}]}'),
        400: error,
        ...auth,
      },
    },
    put: {
      summary: 'Record an opt-in or opt-out for a contact point and topic (* = everything but transactional)',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['channel', 'address', 'topic', 'status'],
              properties: {
                channel: { type: 'string' },
                address: { type: 'string' },
                topic: { type: 'string', example: 'marketing' },
                status: {
                  enum: ['subscribed', 'unsubscribed'],
                  description: 'reading answers `pending` too: a double opt-in not yet confirmed',
                },
                source: { type: 'string', default: 'api' },
              },
            },
          },
        },
      },
      responses: { 200: anyJson('the state recorded'), 400: error, ...auth },
    },
  },
  '/api/v1/subscription-topics': {
    get: {
      summary: 'The workspace’s declared subscription topics (an empty list when none are declared)',
      responses: {
        200: anyJson('{topics: [{id, requires_opt_in, labels: {<locale>: {name, description}}}]}'),
        ...auth,
      },
    },
    put: {
      summary: 'Declare the workspace’s subscription topics, replacing the list',
      description:
        'Names and descriptions per locale are what the preference centre shows (en and ja pages). A topic with ' +
        '`requires_opt_in: true` gets messages only to contact points that subscribed to it. A 400 names the field: ' +
        '`topics.0.id: must be 1–50 lower-case letters, digits, _ or -`.',
      requestBody: jsonBody({
        type: 'object',
        required: ['topics'],
        properties: {
          topics: {
            type: 'array',
            maxItems: 100,
            items: {
              type: 'object',
              required: ['id', 'labels'],
              properties: {
                id: { type: 'string', pattern: '^[a-z0-9_-]{1,50}$', example: 'newsletter' },
                requires_opt_in: { type: 'boolean', default: false },
                labels: {
                  type: 'object',
                  additionalProperties: {
                    type: 'object',
                    required: ['name'],
                    properties: {
                      name: { type: 'string', maxLength: 100 },
                      description: { type: 'string', maxLength: 500 },
                    },
                  },
                  example: {
                    en: { name: 'Newsletter', description: 'Once a week' },
                    ja: { name: 'ニュースレター', description: '毎週一回' },
                  },
                },
              },
            },
          },
        },
      }),
      responses: { 200: anyJson('the topics as stored'), 400: error, ...auth },
    },
  },
  '/api/v1/subscriptions/double-opt-in': {
    post: {
      summary: 'Ask an e-mail address to confirm a subscription (double opt-in)',
      description:
        'Sends a transactional confirmation e-mail at once through the workspace’s e-mail channel (the ' +
        '`double_opt_in` template when the workspace has one, else a built-in en/ja message) with a signed link ' +
        'that works for 7 days, and records the topic as `pending` (an already confirmed subscription is kept, ' +
        'and nothing is sent). Confirming the link records `subscribed` with source `double-opt-in`. ' +
        '409 when the address is suppressed; 502 when the e-mail could not be sent (nothing is recorded).',
      requestBody: jsonBody({
        type: 'object',
        required: ['address', 'topic'],
        properties: {
          address: { type: 'string', example: 'ann@example.com' },
          topic: { type: 'string', description: 'a declared topic', example: 'newsletter' },
          source: { type: 'string', default: 'api', example: 'signup-form' },
          locale: { type: 'string', description: 'the confirmation’s language', example: 'ja' },
        },
      }),
      responses: {
        200: anyJson('{address, topic, status: pending | subscribed | unsubscribed, confirmation_sent}'),
        400: error,
        ...auth,
        409: error,
        502: error,
      },
    },
  },
  '/api/v1/suppressions': {
    get: {
      summary: 'The suppression list, paged in (channel, address) order, or one address looked up',
      parameters: [
        { name: 'channel', in: 'query', schema: { type: 'string' }, description: 'required with address' },
        { name: 'address', in: 'query', schema: { type: 'string' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        {
          name: 'after',
          in: 'query',
          schema: { type: 'string' },
          description: 'the `next` of the page before',
        },
      ],
      responses: {
        200: anyJson('{suppressions: [{channel, address, reason, detail, source, at}], next}'),
        400: error,
        ...auth,
      },
    },
    put: {
      summary: 'Suppress a contact point: no message reaches it, transactional ones included',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['channel', 'address'],
              properties: {
                channel: { type: 'string' },
                address: { type: 'string' },
                reason: { enum: ['manual', 'hard_bounce', 'complaint'], default: 'manual' },
                detail: { type: ['string', 'null'], maxLength: 1000 },
                source: { type: 'string', default: 'api' },
              },
            },
          },
        },
      },
      responses: { 200: anyJson('the suppression recorded'), 400: error, ...auth },
    },
    delete: {
      summary: 'Lift a suppression',
      parameters: [
        { name: 'channel', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'address', in: 'query', required: true, schema: { type: 'string' } },
      ],
      responses: { 204: { description: 'lifted' }, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/email/feedback': {
    post: {
      summary: 'Take a bounce or complaint: a raw DSN (RFC 3464) or ARF report (RFC 5965), or JSON',
      description:
        'A hard bounce or a complaint suppresses the address and is recorded on the message its returned X-Kizuna-Key names; a complaint also unsubscribes the address from everything; a soft bounce changes nothing. Raw reports up to 4 MB.',
      requestBody: {
        required: true,
        content: {
          'message/rfc822': { schema: { type: 'string', format: 'binary' } },
          'multipart/report': { schema: { type: 'string', format: 'binary' } },
          'application/json': {
            schema: {
              type: 'object',
              required: ['type', 'address'],
              properties: {
                type: { enum: ['bounce', 'complaint'] },
                address: { type: 'string', format: 'email' },
                hard: { type: 'boolean', default: true },
                message_key: { type: ['string', 'null'] },
                detail: { type: ['string', 'null'] },
                source: { type: 'string', default: 'api' },
              },
            },
          },
        },
      },
      responses: {
        200: anyJson('{kind, recipients: [{address, kind, hard, suppressed, message}]}'),
        400: error,
        ...auth,
      },
    },
  },
  '/api/v1/profiles/{id}/devices': {
    get: {
      summary: "A customer's push devices: mobile tokens and web push subscriptions, newest first",
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: anyJson('{devices: [{token, kind, subscription?, createdAt, updatedAt}]}'),
        ...auth,
        404: error,
      },
    },
    post: {
      summary: 'Register a device for a customer (mobile tokens also arrive in context.device.token)',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: [
                {
                  type: 'object',
                  title: 'mobile',
                  required: ['kind', 'token'],
                  properties: { kind: { enum: ['ios', 'android'] }, token: { type: 'string' } },
                },
                {
                  type: 'object',
                  title: 'web',
                  required: ['kind', 'subscription'],
                  properties: {
                    kind: { const: 'web' },
                    subscription: {
                      type: 'object',
                      description: 'PushSubscription.toJSON(): {endpoint, keys: {p256dh, auth}}',
                    },
                    allow_insecure: { type: 'boolean', default: false },
                  },
                },
              ],
            },
          },
        },
      },
      responses: { 201: anyJson('the device'), 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/devices': {
    delete: {
      summary: 'Remove a device by its token (or web push endpoint)',
      parameters: [{ name: 'token', in: 'query', required: true, schema: { type: 'string' } }],
      responses: { 204: { description: 'removed' }, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/coupon-pools': {
    get: {
      summary: 'Coupon pools with their counts (total, assigned, redeemed, available)',
      responses: { 200: anyJson('{pools: CouponPool[]}'), ...auth },
    },
  },
  '/api/v1/coupon-pools/{name}': {
    get: {
      summary: 'A coupon pool with its counts',
      parameters: [nameParam],
      responses: { 200: anyJson('CouponPool'), ...auth, 404: error },
    },
    put: {
      summary: 'Create a pool (201) or change its description (200); names are 1–50 of a-z, 0-9, _',
      parameters: [nameParam],
      requestBody: {
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { description: { type: ['string', 'null'], maxLength: 500 } },
            },
          },
        },
      },
      responses: { 200: anyJson('CouponPool'), 201: anyJson('CouponPool'), 400: error, ...auth },
    },
    delete: {
      summary: 'Remove a pool and its codes (?force=true when codes were given to customers)',
      parameters: [nameParam, { name: 'force', in: 'query', schema: { type: 'boolean' } }],
      responses: { 204: { description: 'removed' }, ...auth, 404: error, 409: error },
    },
  },
  '/api/v1/coupon-pools/{name}/codes': {
    post: {
      summary: 'Upload codes, all or nothing: a JSON array, or text/csv with one code per line',
      parameters: [nameParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['codes'],
              properties: {
                codes: { type: 'array', maxItems: 100000, items: { type: 'string', maxLength: 64 } },
              },
            },
          },
          'text/csv': {
            schema: { type: 'string', description: 'the first column; a `code` header is skipped' },
          },
        },
      },
      responses: { 200: anyJson('{added, duplicates, pool}'), 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/coupon-pools/{name}/codes/{code}': {
    get: {
      summary: 'Who got a code, in which message, and whether it was redeemed',
      parameters: [nameParam, { name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: anyJson('{pool, code, addedAt, messageKey, profileId, assignedAt, redeemedAt}'),
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/profiles/{id}/timeline': {
    get: {
      summary: "A customer's events and every state of every message sent to them, newest first",
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        {
          name: 'before',
          in: 'query',
          schema: { type: 'string', format: 'date-time' },
          description: "the previous page's `next` (exclusive)",
        },
      ],
      responses: {
        200: anyJson('{profileId, items: [{at, kind: event|message, ...}], next}'),
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
  DeliverySettings: {
    type: 'object',
    description: 'see docs/channels.md#respect-rules',
    properties: {
      global_holdout_percent: {
        type: 'number',
        minimum: 0,
        maximum: 50,
        default: 0,
        description:
          'the share of customers (a stable draw per profile) who get no marketing; see docs/channels.md#global-holdout',
      },
      quiet_hours: {
        type: ['object', 'null'],
        required: ['start', 'end', 'timezone'],
        properties: {
          start: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
          end: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
          timezone: { type: 'string', description: 'for customers with no timezone trait' },
          channels: {
            type: 'array',
            items: { type: 'string' },
            default: ['push', 'web_push', 'sms', 'line'],
          },
        },
      },
      frequency_caps: {
        type: 'array',
        items: {
          type: 'object',
          required: ['max', 'window'],
          properties: {
            channel: { type: 'string', description: 'absent: every channel together' },
            max: { type: 'integer', minimum: 1, maximum: 1000 },
            window: { type: 'string', example: '7d' },
          },
        },
      },
    },
  },
  Template: {
    type: 'object',
    required: ['name', 'channel', 'variants'],
    description: 'see docs/templates.md',
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
      channel: { enum: ['email', 'push', 'web_push', 'sms', 'line', 'in_app'] },
      default_locale: { type: 'string', description: 'defaults to the first locale in variants' },
      variants: {
        type: 'object',
        description: 'locale → field → Liquid source; e-mail: subject and html and/or text (preheader)',
        additionalProperties: { type: 'object', additionalProperties: { type: 'string', maxLength: 100000 } },
      },
      defaults: {
        type: 'object',
        description: 'variable path (profile.first_name) → value used when the customer has none',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      },
      version: { type: 'integer', readOnly: true },
      createdAt: { ...dateTime, readOnly: true },
      updatedAt: { ...dateTime, readOnly: true },
    },
  },
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
