/**
 * Who may do what (docs/access.md): the permissions the admin API checks, the staff roles and API key
 * scopes, and the permission set each grants. Pure data: the route table that names one permission
 * per route lives in src/api/route-permissions.ts.
 */
export const PERMISSIONS = [
  'profiles.read',
  'profiles.export',
  'profiles.write',
  'campaigns.read',
  'campaigns.write',
  'reports.read',
  'settings.admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'marketer', 'analyst', 'support'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['ingest', 'profiles.read', 'campaigns', 'reports', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const all = new Set<Permission>(PERMISSIONS);

/**
 * Roles, from the dashboard brief: an admin does everything; a marketer everything but settings;
 * an analyst reads reports and the campaigns they are about, but no customer-level data (no profile
 * reads: aggregates answer an analyst's questions, and fewer people reading customers is the point of
 * roles); support reads and annotates customers but exports nothing and touches no settings.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: all,
  marketer: new Set(PERMISSIONS.filter((p) => p !== 'settings.admin')),
  analyst: new Set<Permission>(['campaigns.read', 'reports.read']),
  support: new Set<Permission>(['profiles.read', 'profiles.write']),
};

/**
 * Key scopes, for programs rather than people. `ingest` grants nothing on the admin API: it is the
 * write key of the Segment-compatible /v1 endpoints. `campaigns` manages campaigns and reads their
 * results; `reports` reads results and the campaigns behind them.
 */
export const SCOPE_PERMISSIONS: Readonly<Record<Scope, ReadonlySet<Permission>>> = {
  ingest: new Set<Permission>(),
  'profiles.read': new Set<Permission>(['profiles.read']),
  campaigns: new Set<Permission>(['campaigns.read', 'campaigns.write', 'reports.read']),
  reports: new Set<Permission>(['campaigns.read', 'reports.read']),
  admin: all,
};

/**
 * What a route needs: a permission, `public` (no credentials: the OpenAPI document, signing in) or
 * `signed-in` (any valid credentials: the caller's own session and identity).
 */
export type RouteRule = Permission | 'public' | 'signed-in';
