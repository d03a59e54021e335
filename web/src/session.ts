import { ApiError, forgetCredentials, get, request, useSessionCsrf } from './api.js';
import type { Locale } from './i18n.js';

/** The permissions the admin API checks (docs/access.md); each screen names the one it needs. */
export type Permission =
  | 'profiles.read'
  | 'profiles.export'
  | 'profiles.write'
  | 'campaigns.read'
  | 'campaigns.write'
  | 'reports.read'
  | 'settings.admin';

const ALL: Permission[] = [
  'profiles.read',
  'profiles.export',
  'profiles.write',
  'campaigns.read',
  'campaigns.write',
  'reports.read',
  'settings.admin',
];

/**
 * What each role may do, used only when the server does not say (GET /api/v1/me answers the real
 * set). The server enforces every permission anyway: hiding a screen is a courtesy, not the guard.
 */
const ROLE_PERMISSIONS: Record<string, Permission[]> = {
  admin: ALL,
  marketer: ALL.filter((p) => p !== 'settings.admin'),
  analyst: ['campaigns.read', 'reports.read'],
  support: ['profiles.read', 'profiles.write'],
};

export interface Session {
  user: { id: string; email: string; name: string; role: string; locale: Locale };
  workspace: { id: string; name: string };
  permissions: Set<Permission>;
}

interface SessionBody {
  user: Session['user'];
  workspace: Session['workspace'];
  csrfToken: string;
}

async function permissionsFor(role: string): Promise<Set<Permission>> {
  try {
    const me = await get<{ permissions?: string[] }>('/me');
    if (Array.isArray(me.permissions)) return new Set(me.permissions as Permission[]);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  return new Set(ROLE_PERMISSIONS[role] ?? []);
}

async function fromBody(body: SessionBody): Promise<Session> {
  useSessionCsrf(body.csrfToken);
  return {
    user: body.user,
    workspace: body.workspace,
    permissions: await permissionsFor(body.user.role),
  };
}

/** The session this tab already has (its cookie), or null. */
export async function resume(): Promise<Session | null> {
  // Earlier dashboards could keep an admin API key in this tab: drop it, it is never used again.
  sessionStorage.removeItem('kizuna.adminKey');
  try {
    return await fromBody(await get<SessionBody>('/session'));
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 404)) return null;
    throw e;
  }
}

export async function signIn(email: string, password: string, workspace?: string): Promise<Session> {
  const body = await request<SessionBody>('POST', '/session', {
    email,
    password,
    ...(workspace ? { workspace } : {}),
  });
  return fromBody(body);
}

export async function signOut(): Promise<void> {
  await request('DELETE', '/session').catch(() => undefined);
  forgetCredentials();
}

export async function saveLocale(locale: Locale): Promise<void> {
  await request('PATCH', '/session', { locale });
}
