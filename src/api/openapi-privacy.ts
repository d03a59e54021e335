/**
 * The data-rights part of the OpenAPI document (docs/privacy.md): consent, privacy settings, export
 * and erasure; merged into openapi.ts. test/http/privacy.test.ts calls every GET path listed here with
 * real ids. The SDK's `POST /v1/consent` (write key) and the customer's `/t/…` pages are described in
 * docs/privacy.md.
 */
import { anyJson, auth, error, idParam, jsonBody, ok } from './openapi-parts.js';

const consents = ok('#/components/schemas/ConsentState');

/** `DELETE /api/v1/profiles/{id}`, merged into that path's entry in openapi.ts. */
export const eraseProfileOperation = {
  summary: 'Erase a customer everywhere (and the profiles merged into it); idempotent',
  description:
    'Answers `{status: "erased", erasure}` with the rows removed per kind, or `{status: "already_erased"}`. The customer’s identities are tombstoned: later events naming them are accepted and dropped.',
  parameters: [idParam],
  responses: { 200: anyJson('{status, erasure?: Erasure}'), ...auth, 404: error },
};

export const privacyPaths = {
  '/api/v1/profiles/{id}/consents': {
    get: {
      summary:
        'A customer’s current consent per purpose (null: never asked) and the full ledger, oldest first',
      parameters: [idParam],
      responses: { 200: consents, ...auth, 404: error },
    },
    post: {
      summary:
        'Record a grant or withdrawal of one purpose (appended to the ledger; takes effect at the next send)',
      description:
        'For `email_marketing` and `sms` the `*` subscription of each of the customer’s addresses changes too, so the preference centre shows the same state.',
      parameters: [idParam],
      requestBody: jsonBody({
        type: 'object',
        required: ['purpose', 'status'],
        additionalProperties: false,
        properties: {
          purpose: { type: 'string', description: 'a base purpose or one the workspace added' },
          status: { enum: ['granted', 'withdrawn'] },
          source: { enum: ['api', 'preference_centre', 'import', 'staff'], default: 'api' },
          method: {
            enum: [
              'checkbox',
              'double_opt_in',
              'verbal',
              'written',
              'banner',
              'one_click',
              'subscription',
              'other',
            ],
            default: 'other',
          },
          text_version: {
            type: ['string', 'null'],
            maxLength: 100,
            description: 'the wording the customer saw',
          },
        },
      }),
      responses: { 201: consents, 400: error, ...auth, 404: error },
    },
  },
  '/api/v1/privacy/settings': {
    get: {
      summary: 'The workspace’s privacy settings',
      responses: { 200: ok('#/components/schemas/PrivacySettings'), ...auth },
    },
    put: {
      summary: 'Replace the privacy settings: retention of raw events, extra purposes, the profiling rule',
      requestBody: jsonBody({ $ref: '#/components/schemas/PrivacySettings' }),
      responses: { 200: ok('#/components/schemas/PrivacySettings'), 400: error, ...auth },
    },
  },
  '/api/v1/profiles/{id}/export': {
    get: {
      summary: 'Everything held about one customer (data subject access), streamed',
      description:
        '`format=json` (default): `{format, workspace_id, profile_id, exported_at, computed_traits, sections: {name: rows[]}}`. `format=csv`: a tar archive of `manifest.json`, one CSV per section and the events as `events-00001.csv`, … (1,000 rows each).',
      parameters: [
        idParam,
        { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } },
      ],
      responses: {
        200: {
          description: 'The export',
          content: { 'application/json': { schema: { type: 'object' } }, 'application/x-tar': {} },
        },
        400: error,
        ...auth,
        404: error,
      },
    },
  },
  '/api/v1/erasures': {
    get: {
      summary: 'The erasure log (no personal data) and how many events tombstones dropped',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      ],
      responses: { 200: anyJson('{erasures: Erasure[], discarded_events: number}'), 400: error, ...auth },
    },
  },
  '/api/v1/tombstones/lift': {
    post: {
      summary: 'Let an erased customer’s identities be stored again (they came back and asked to be known)',
      description:
        'Lifts the tombstones of the identities given (normalised as ingestion does). From then on events naming them create a new profile; the erased data stays erased. Answers the kinds lifted and how many named identities had no tombstone. The call is audited; the answer and the audit entry hold no identifier.',
      requestBody: jsonBody({
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          userId: { type: 'string', minLength: 1, maxLength: 256 },
          anonymousId: { type: 'string', minLength: 1, maxLength: 256 },
          email: { type: 'string', minLength: 1, maxLength: 320 },
          phone: { type: 'string', minLength: 1, maxLength: 40 },
        },
      }),
      responses: { 200: anyJson('{lifted: string[], not_tombstoned: number}'), 400: error, ...auth },
    },
  },
};

const consent = {
  type: 'object',
  required: ['purpose', 'status'],
  properties: {
    purpose: { type: 'string' },
    status: { enum: ['granted', 'withdrawn', null] },
    source: { type: 'string' },
    method: { type: 'string' },
    text_version: { type: ['string', 'null'] },
    topic: { type: 'string', description: 'set on a subscription change of one topic (history only)' },
    at: { type: 'string', format: 'date-time' },
  },
};

export const privacySchemas = {
  ConsentState: {
    type: 'object',
    required: ['profile_id', 'consents'],
    properties: {
      profile_id: { type: 'string' },
      consents: { type: 'array', items: consent },
      history: { type: 'array', items: consent },
    },
  },
  PrivacySettings: {
    type: 'object',
    additionalProperties: false,
    properties: {
      retention_months: { type: ['integer', 'null'], minimum: 1, maximum: 240 },
      purposes: { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,39}$' } },
      profiling_required: { type: 'boolean' },
      audit_retention_days: { type: 'integer', minimum: 30, maximum: 3650, default: 400 },
    },
  },
};
