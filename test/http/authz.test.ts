import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.js';
import { ROUTE_PERMISSIONS, ruleOf } from '../../src/api/route-permissions.js';
import {
  ROLE_PERMISSIONS,
  ROLES,
  SCOPE_PERMISSIONS,
  SCOPES,
  type Permission,
} from '../../src/domain/access.js';
import { send, startTestServer, type TestServer } from './harness.js';
import { addUser, signIn } from './access-support.js';

/**
 * The authorisation matrix: every registered /api/v1 route (collected as the server registered it,
 * not listed by hand) × every staff role and every key scope, over real HTTP. Allowed means any
 * answer but 401 and 403 (ids are made up, so 404 and 400 are common); denied means 403 naming the
 * missing permission.
 */
let s: TestServer;
type Caller =
  | { kind: 'role'; name: string; permissions: ReadonlySet<Permission>; email: string }
  | { kind: 'scope'; name: string; permissions: ReadonlySet<Permission>; key: string };
const callers: Caller[] = [];

beforeAll(async () => {
  s = await startTestServer();
  for (const role of ROLES) {
    const email = `${role}@example.jp`;
    await addUser(s, s.ws.id, email, role);
    callers.push({ kind: 'role', name: role, permissions: ROLE_PERMISSIONS[role], email });
  }
  for (const scope of SCOPES) {
    const made = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, {
      name: `matrix ${scope}`,
      scope,
    });
    expect(made.status).toBe(201);
    callers.push({
      kind: 'scope',
      name: scope,
      permissions: SCOPE_PERMISSIONS[scope],
      key: made.body['key'] as string,
    });
  }
});
afterAll(() => s.close());

const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'zz-missing');
const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('the permission table', () => {
  it('lists every registered /api/v1 route, and nothing that is not registered', () => {
    const registered = s.routes.map((r) => `${r.method} ${r.url}`);
    expect(registered.length).toBeGreaterThan(100);
    expect(registered.filter((r) => ROUTE_PERMISSIONS[r] === undefined)).toEqual([]);
    expect(Object.keys(ROUTE_PERMISSIONS).filter((r) => !registered.includes(r))).toEqual([]);
  });

  it('every registered /api/v1 route is described in the OpenAPI document', () => {
    const paths = openApiDocument.paths as Record<string, Record<string, unknown>>;
    const missing = s.routes
      .filter((r) => paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });
});

describe('the authorisation matrix', () => {
  it('allows and denies every route for every role and key scope as the table says', async () => {
    const wrong: string[] = [];
    let calls = 0;
    await Promise.all(
      callers.map(async (caller) => {
        let session = caller.kind === 'role' ? await signIn(s, caller.email) : null;
        for (const r of s.routes) {
          const rule = ruleOf(r.method, r.url)!;
          const headers: Record<string, string> = {};
          if (caller.kind === 'scope') headers['authorization'] = `Bearer ${caller.key}`;
          else {
            // Signing out ends the session the rest of the walk uses: that call gets a session of its own.
            const own =
              r.method === 'DELETE' && r.url === '/api/v1/session' ? await signIn(s, caller.email) : session!;
            headers['cookie'] = own.cookie;
            headers['x-csrf-token'] = own.csrf;
          }
          const hasBody = r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH';
          const res = await fetch(`${s.url}${concrete(r.url)}`, {
            method: r.method,
            headers: { ...headers, ...(hasBody && { 'content-type': 'application/json' }) },
            ...(hasBody && { body: '{}' }),
          });
          calls++;
          const text = await res.text();
          let expected: 'allow' | 'deny' | 'unauthenticated';
          if (rule === 'public') expected = 'allow';
          else if (caller.kind === 'scope' && caller.name === 'ingest') expected = 'unauthenticated';
          else if (rule === 'signed-in')
            expected = caller.kind === 'scope' && r.url === '/api/v1/session' ? 'unauthenticated' : 'allow';
          else expected = caller.permissions.has(rule) ? 'allow' : 'deny';
          const where = `${caller.kind} ${caller.name}: ${r.method} ${r.url} answered ${res.status} ${text.slice(0, 120)}`;
          if (expected === 'allow' && (res.status === 401 || res.status === 403))
            wrong.push(`expected allow; ${where}`);
          if (expected === 'unauthenticated' && res.status !== 401) wrong.push(`expected 401; ${where}`);
          if (expected === 'deny') {
            const permission =
              res.status === 403
                ? (JSON.parse(text) as { error: { permission?: string } }).error.permission
                : null;
            if (permission !== rule) wrong.push(`expected 403 naming ${rule}; ${where}`);
          }
        }
        session = null;
      }),
    );
    expect(wrong).toEqual([]);
    expect(calls).toBe(callers.length * s.routes.length);
  });
});
