/** Row shapes of the access tables and their conversion, shared by both adapters. */
import type { Role, Scope } from '../domain/access.js';
import type { ApiKeyRecord, AuditRecord, Locale, SessionRecord, StaffUser } from './access-store.js';
import { num, numOrNull, type Num } from './rows.js';

export interface StaffUserRowDb {
  workspace_id: string;
  id: string;
  email: string;
  name: string;
  role: string;
  locale: string;
  /** 0/1 on SQLite, boolean on PostgreSQL */
  disabled: number | boolean;
  password_hash: string;
  created_at: Num;
  updated_at: Num;
}

export function staffUser(r: StaffUserRowDb): StaffUser {
  return {
    workspaceId: r.workspace_id,
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role as Role,
    locale: r.locale as Locale,
    disabled: r.disabled === true || r.disabled === 1,
    passwordHash: r.password_hash,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export interface SessionRowDb {
  token_hash: string;
  workspace_id: string;
  user_id: string;
  csrf_token: string;
  created_at: Num;
  last_seen_at: Num;
}

export function sessionRecord(r: SessionRowDb): SessionRecord {
  return {
    tokenHash: r.token_hash,
    workspaceId: r.workspace_id,
    userId: r.user_id,
    csrfToken: r.csrf_token,
    createdAt: num(r.created_at),
    lastSeenAt: num(r.last_seen_at),
  };
}

export interface ApiKeyRowDb {
  id: string;
  workspace_id: string;
  name: string;
  scope: string;
  created_by: string | null;
  created_at: Num;
  last_used_at: Num | null;
  revoked_at: Num | null;
}

export const API_KEY_COLUMNS =
  'id, workspace_id, name, scope, created_by, created_at, last_used_at, revoked_at';

export function apiKeyRecord(r: ApiKeyRowDb): ApiKeyRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    scope: r.scope as Scope,
    createdBy: r.created_by,
    createdAt: num(r.created_at),
    lastUsedAt: numOrNull(r.last_used_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

/** The legacy `kind` column a scope implies: ingestion asks for a write key. */
export const kindOfScope = (scope: Scope): 'write' | 'admin' => (scope === 'ingest' ? 'write' : 'admin');

export interface AuditRowDb {
  id: Num;
  workspace_id: string;
  at: Num;
  actor_type: string;
  actor_id: string;
  actor_name: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  status: Num;
  ip: string | null;
  user_agent: string | null;
}

export function auditRecord(r: AuditRowDb): AuditRecord {
  return {
    id: num(r.id),
    workspaceId: r.workspace_id,
    at: num(r.at),
    actorType: r.actor_type as 'user' | 'key',
    actorId: r.actor_id,
    actorName: r.actor_name,
    action: r.action,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    status: num(r.status),
    ip: r.ip,
    userAgent: r.user_agent,
  };
}
