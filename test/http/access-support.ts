import { createStaffUser } from '../../src/access/users.js';
import type { Role } from '../../src/domain/access.js';
import type { TestServer } from './harness.js';

export const PASSWORD = 'a long enough secret';

/** A staff user of the workspace, made through the same code as the CLI and the users API. */
export async function addUser(
  s: TestServer,
  ws: string,
  email: string,
  role: Role,
  extra: { locale?: 'en' | 'ja'; name?: string } = {},
) {
  return createStaffUser(s.store, s.clock, ws, { email, role, password: PASSWORD, ...extra });
}

export interface Signed {
  status: number;
  body: Record<string, unknown>;
  setCookie: string | null;
  /** `kizuna_session=<token>`, for the Cookie header */
  cookie: string;
  csrf: string;
}

export async function signIn(
  s: TestServer,
  email: string,
  password = PASSWORD,
  workspace?: string,
): Promise<Signed> {
  const res = await fetch(`${s.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, ...(workspace !== undefined && { workspace }) }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  const setCookie = res.headers.get('set-cookie');
  return {
    status: res.status,
    body,
    setCookie,
    cookie: setCookie?.split(';')[0] ?? '',
    csrf: typeof body['csrfToken'] === 'string' ? body['csrfToken'] : '',
  };
}

/** A call with the session cookie (and, when given, the CSRF header); status and parsed body. */
export async function withCookie(
  s: TestServer,
  method: string,
  path: string,
  cookie: string,
  opts: { csrf?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: {
      cookie,
      ...(opts.csrf !== undefined && { 'x-csrf-token': opts.csrf }),
      ...(opts.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    headers: res.headers,
  };
}
