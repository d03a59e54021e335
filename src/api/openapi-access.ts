/**
 * The access part of the OpenAPI document (docs/access.md): sessions, the caller, staff users, scoped
 * keys and the audit log. Merged into openapi.ts; test/http/sessions.test.ts, access.test.ts and
 * authz.test.ts call these paths.
 */
import { anyJson, auth, error, idParam, jsonBody, ok } from './openapi-parts.js';

const forbidden = { 403: error };
const session = ok('#/components/schemas/Session');
const csrfHeader = {
  name: 'X-CSRF-Token',
  in: 'header',
  schema: { type: 'string' },
  description: 'the csrfToken of the session: required on every change made with the session cookie',
};
const user = ok('#/components/schemas/StaffUser');
const key = ok('#/components/schemas/ApiKey');

export const accessPaths = {
  '/api/v1/session': {
    post: {
      summary: 'Sign in: opens a session and sets the kizuna_session cookie (HttpOnly, SameSite=Lax)',
      description:
        '`workspace` (id or name) is needed only when the e-mail works in several workspaces. Every failed sign-in gets the same 401, whichever part was wrong.',
      security: [],
      requestBody: jsonBody({
        type: 'object',
        required: ['email', 'password'],
        properties: {
          email: { type: 'string' },
          password: { type: 'string' },
          workspace: { type: 'string', description: 'workspace id or name' },
        },
      }),
      responses: { 200: session, 400: error, 401: error },
    },
    get: {
      summary: 'The signed-in user, workspace and CSRF token of the session cookie',
      security: [{ session: [] }],
      responses: { 200: session, ...auth },
    },
    patch: {
      summary: 'Change the signed-in user’s UI language',
      security: [{ session: [] }],
      parameters: [csrfHeader],
      requestBody: jsonBody({
        type: 'object',
        required: ['locale'],
        properties: { locale: { enum: ['en', 'ja'] } },
      }),
      responses: { 200: session, 400: error, ...auth, ...forbidden },
    },
    delete: {
      summary: 'Sign out: the session ends and the cookie is cleared',
      security: [{ session: [] }],
      parameters: [csrfHeader],
      responses: { 204: { description: 'Signed out' }, ...auth, ...forbidden },
    },
  },
  '/api/v1/me': {
    get: {
      summary: 'Who the caller is (a user or a key) and its permissions',
      security: [{ adminKey: [] }, { session: [] }],
      responses: {
        200: anyJson(
          '{type: "user"|"key", id, name, email?, role?, scope?, workspace: {id, name}, permissions: string[]}',
        ),
        ...auth,
      },
    },
  },
  '/api/v1/users': {
    get: {
      summary: 'The staff users of the workspace',
      responses: { 200: anyJson('{users: StaffUser[]}'), ...auth, ...forbidden },
    },
    post: {
      summary: 'Add a staff user',
      requestBody: jsonBody({
        type: 'object',
        required: ['email', 'role', 'password'],
        properties: {
          email: { type: 'string' },
          name: { type: 'string' },
          role: { enum: ['admin', 'marketer', 'analyst', 'support'] },
          locale: { enum: ['en', 'ja'], default: 'en' },
          password: { type: 'string', minLength: 10 },
        },
      }),
      responses: { 201: user, 400: error, ...auth, ...forbidden, 409: error },
    },
  },
  '/api/v1/users/{id}': {
    get: {
      summary: 'A staff user',
      parameters: [idParam],
      responses: { 200: user, ...auth, ...forbidden, 404: error },
    },
    patch: {
      summary:
        'Change a user’s name, role, language or password, or disable them (which ends their sessions)',
      parameters: [idParam],
      requestBody: jsonBody({
        type: 'object',
        properties: {
          name: { type: 'string' },
          role: { enum: ['admin', 'marketer', 'analyst', 'support'] },
          locale: { enum: ['en', 'ja'] },
          disabled: { type: 'boolean' },
          password: { type: 'string', minLength: 10 },
        },
      }),
      responses: { 200: user, 400: error, ...auth, ...forbidden, 404: error },
    },
  },
  '/api/v1/keys': {
    get: {
      summary: 'Every API key of the workspace, revoked ones too (never the key itself)',
      responses: { 200: anyJson('{keys: ApiKey[]}'), ...auth, ...forbidden },
    },
    post: {
      summary: 'Create a scoped key; the answer is the only time the key itself is shown',
      requestBody: jsonBody({
        type: 'object',
        required: ['name', 'scope'],
        properties: {
          name: { type: 'string', maxLength: 100 },
          scope: { enum: ['ingest', 'profiles.read', 'campaigns', 'reports', 'admin'] },
        },
      }),
      responses: { 201: anyJson('ApiKey and `key`, the plain key'), 400: error, ...auth, ...forbidden },
    },
  },
  '/api/v1/keys/{id}': {
    delete: {
      summary: 'Revoke a key: refused at once by this process, within 5 s by others',
      parameters: [idParam],
      responses: { 200: key, ...auth, ...forbidden, 404: error },
    },
  },
  '/api/v1/audit': {
    get: {
      summary: 'The audit log, newest first: who changed what, and who read which customer',
      parameters: [
        { name: 'actor', in: 'query', schema: { type: 'string' }, description: 'a user or key id' },
        {
          name: 'resource',
          in: 'query',
          schema: { type: 'string' },
          description: 'a resource type: profile, segment, journey, template, key, user, setting, ...',
        },
        { name: 'resourceId', in: 'query', schema: { type: 'string' } },
        {
          name: 'from',
          in: 'query',
          schema: { type: 'string', format: 'date-time' },
          description: 'inclusive',
        },
        {
          name: 'to',
          in: 'query',
          schema: { type: 'string', format: 'date-time' },
          description: 'exclusive',
        },
        {
          name: 'before',
          in: 'query',
          schema: { type: 'integer' },
          description: 'the `next` of the previous page',
        },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } },
      ],
      responses: {
        200: {
          description: 'OK',
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/AuditPage' } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        400: error,
        ...auth,
        ...forbidden,
      },
    },
  },
};

export const accessSchemas = {
  Session: {
    type: 'object',
    required: ['user', 'workspace', 'csrfToken'],
    properties: {
      user: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          email: { type: 'string' },
          name: { type: 'string' },
          role: { enum: ['admin', 'marketer', 'analyst', 'support'] },
          locale: { enum: ['en', 'ja'] },
        },
      },
      workspace: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
      csrfToken: { type: 'string' },
    },
  },
  StaffUser: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { enum: ['admin', 'marketer', 'analyst', 'support'] },
      locale: { enum: ['en', 'ja'] },
      disabled: { type: 'boolean' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  ApiKey: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      scope: { enum: ['ingest', 'profiles.read', 'campaigns', 'reports', 'admin'] },
      permissions: { type: 'array', items: { type: 'string' } },
      createdBy: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  AuditPage: {
    type: 'object',
    properties: {
      entries: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
            actor: {
              type: 'object',
              properties: {
                type: { enum: ['user', 'key'] },
                id: { type: 'string' },
                name: { type: 'string' },
              },
            },
            action: { type: 'string', description: 'method and route, e.g. PUT /api/v1/segments/:id' },
            resource: {
              type: 'object',
              properties: { type: { type: 'string' }, id: { type: ['string', 'null'] } },
            },
            status: { type: 'integer' },
            ip: { type: ['string', 'null'] },
            userAgent: { type: ['string', 'null'] },
          },
        },
      },
      next: { type: ['integer', 'null'] },
    },
  },
};
