import {
  ApiError,
  forgetCredentials,
  get,
  request,
  storedAdminKey,
  useAdminKey,
  useSessionCsrf,
} from './api.js';
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
  /** signed in with an admin API key rather than a staff account */
  viaKey: boolean;
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
    viaKey: false,
  };
}

const KEY_LOCALE = 'kizuna.locale';

interface Me {
  name: string;
  role?: string;
  scope?: string;
  workspace: { id: string; name: string };
  permissions: Permission[];
}

async function fromKey(key: string): Promise<Session> {
  useAdminKey(key);
  // GET /me proves the key and says what it may do (its scope's permissions).
  const me = await get<Me>('/me');
  const stored = localStorage.getItem(KEY_LOCALE);
  return {
    user: {
      id: 'key',
      email: '',
      name: me.name,
      role: me.scope === 'admin' ? 'admin' : (me.scope ?? 'admin'),
      locale: stored === 'ja' ? 'ja' : 'en',
    },
    workspace: me.workspace,
    permissions: new Set(me.permissions),
    viaKey: true,
  };
}

/** The session this tab already has (cookie or stored key), or null. */
export async function resume(): Promise<Session | null> {
  const key = storedAdminKey();
  if (key) {
    try {
      return await fromKey(key);
    } catch {
      forgetCredentials();
      return null;
    }
  }
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

export function signInWithKey(key: string): Promise<Session> {
  return fromKey(key.trim());
}

export async function signOut(s: Session): Promise<void> {
  if (!s.viaKey) await request('DELETE', '/session').catch(() => undefined);
  forgetCredentials();
}

export async function saveLocale(s: Session, locale: Locale): Promise<void> {
  if (s.viaKey) localStorage.setItem(KEY_LOCALE, locale);
  else await request('PATCH', '/session', { locale });
}
