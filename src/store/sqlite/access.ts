/** Staff users, sessions, API keys and the audit log on SQLite: writes in the writer, reads on the reader. */
import { ConflictError } from '../../errors.js';
import {
  API_KEY_COLUMNS,
  apiKeyRecord,
  auditRecord,
  kindOfScope,
  sessionRecord,
  staffUser,
  type ApiKeyRowDb,
  type AuditRowDb,
  type SessionRowDb,
  type StaffUserRowDb,
} from '../access-rows.js';
import type {
  ApiKeyRecord,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  SessionRecord,
  StaffUser,
  StaffUserPatch,
} from '../access-store.js';
import type { Prepare } from './statements.js';

/** The writes, by name: the writer (inline or on its thread) runs them in its own transaction. */
export const accessWrites = {
  createStaffUser(w: Prepare, u: StaffUser): void {
    const added = w(
      `INSERT OR IGNORE INTO staff_users (workspace_id, id, email, name, role, locale, disabled, password_hash,
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      u.workspaceId,
      u.id,
      u.email,
      u.name,
      u.role,
      u.locale,
      u.disabled ? 1 : 0,
      u.passwordHash,
      u.createdAt,
      u.updatedAt,
    );
    if (added.changes === 0) throw new ConflictError(`a user with e-mail ${u.email} already exists`);
  },

  updateStaffUser(w: Prepare, ws: string, id: string, patch: StaffUserPatch, now: number): StaffUser | null {
    const row = w('SELECT * FROM staff_users WHERE workspace_id = ? AND id = ?').get(ws, id) as
      StaffUserRowDb | undefined;
    if (!row) return null;
    const u = { ...staffUser(row), ...patch, updatedAt: now };
    w(
      `UPDATE staff_users SET name = ?, role = ?, locale = ?, disabled = ?, password_hash = ?, updated_at = ?
       WHERE workspace_id = ? AND id = ?`,
    ).run(u.name, u.role, u.locale, u.disabled ? 1 : 0, u.passwordHash, now, ws, id);
    if (u.disabled || patch.passwordHash !== undefined)
      w('DELETE FROM staff_sessions WHERE workspace_id = ? AND user_id = ?').run(ws, id);
    return u;
  },

  createSession(w: Prepare, s: SessionRecord): void {
    w(
      `INSERT INTO staff_sessions (token_hash, workspace_id, user_id, csrf_token, created_at, last_seen_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(s.tokenHash, s.workspaceId, s.userId, s.csrfToken, s.createdAt, s.lastSeenAt);
  },

  touchSession(w: Prepare, tokenHash: string, now: number): void {
    w('UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?').run(
      now,
      tokenHash,
      now,
    );
  },

  deleteSession(w: Prepare, tokenHash: string): void {
    w('DELETE FROM staff_sessions WHERE token_hash = ?').run(tokenHash);
  },

  createApiKey(w: Prepare, k: ApiKeyRecord, keyHash: string): void {
    w(
      `INSERT INTO api_keys (key_hash, workspace_id, kind, created_at, id, name, scope, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(keyHash, k.workspaceId, kindOfScope(k.scope), k.createdAt, k.id, k.name, k.scope, k.createdBy);
  },

  revokeApiKey(w: Prepare, ws: string, id: string, now: number): ApiKeyRecord | null {
    w('UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL').run(
      now,
      ws,
      id,
    );
    const row = w(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = ? AND id = ?`).get(ws, id) as
      ApiKeyRowDb | undefined;
    return row ? apiKeyRecord(row) : null;
  },

  touchApiKey(w: Prepare, ws: string, id: string, now: number): void {
    w(
      `UPDATE api_keys SET last_used_at = ? WHERE workspace_id = ? AND id = ?
       AND (last_used_at IS NULL OR last_used_at < ?)`,
    ).run(now, ws, id, now);
  },

  purgeAudit(w: Prepare, ws: string, before: number, limit: number): number {
    // The cut-off lives only inside this transaction: the trigger lets these rows, and only these, go.
    w('INSERT INTO audit_purge (workspace_id, before) VALUES (?, ?)').run(ws, before);
    const n = w(
      `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log INDEXED BY audit_log_by_at
         WHERE workspace_id = ? AND at < ? ORDER BY at LIMIT ?)`,
    ).run(ws, before, limit).changes;
    w('DELETE FROM audit_purge WHERE workspace_id = ?').run(ws);
    return n;
  },

  appendAudit(w: Prepare, entries: readonly AuditEntry[]): void {
    const put = w(
      `INSERT INTO audit_log (workspace_id, at, actor_type, actor_id, actor_name, action, resource_type,
         resource_id, status, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const e of entries)
      put.run(
        e.workspaceId,
        e.at,
        e.actorType,
        e.actorId,
        e.actorName,
        e.action,
        e.resourceType,
        e.resourceId,
        e.status,
        e.ip,
        e.userAgent,
      );
  },
};

export type AccessWrites = typeof accessWrites;
export type AccessWriteName = keyof AccessWrites;
/** The arguments of a write after the statement cache, and what it returns. */
export type AccessArgs<K extends AccessWriteName> = AccessWrites[K] extends (
  w: Prepare,
  ...a: infer A
) => unknown
  ? A
  : never;
export type AccessResult<K extends AccessWriteName> = ReturnType<AccessWrites[K]>;

export function getStaffUser(r: Prepare, ws: string, id: string): StaffUser | null {
  const row = r('SELECT * FROM staff_users WHERE workspace_id = ? AND id = ?').get(ws, id) as
    StaffUserRowDb | undefined;
  return row ? staffUser(row) : null;
}

export function findStaffUsersByEmail(r: Prepare, email: string): StaffUser[] {
  return (
    r('SELECT * FROM staff_users WHERE email = ? ORDER BY created_at, id').all(email) as StaffUserRowDb[]
  ).map(staffUser);
}

export function listStaffUsers(r: Prepare, ws: string): StaffUser[] {
  return (
    r('SELECT * FROM staff_users WHERE workspace_id = ? ORDER BY email').all(ws) as StaffUserRowDb[]
  ).map(staffUser);
}

export function findSession(r: Prepare, tokenHash: string): SessionRecord | null {
  const row = r('SELECT * FROM staff_sessions WHERE token_hash = ?').get(tokenHash) as
    SessionRowDb | undefined;
  return row ? sessionRecord(row) : null;
}

export function listApiKeys(r: Prepare, ws: string): ApiKeyRecord[] {
  return (
    r(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = ? ORDER BY created_at DESC, id DESC`).all(
      ws,
    ) as ApiKeyRowDb[]
  ).map(apiKeyRecord);
}

export function listAudit(r: Prepare, ws: string, q: AuditQuery): AuditRecord[] {
  const where = ['workspace_id = ?'];
  const args: unknown[] = [ws];
  const add = (clause: string, v: unknown) => {
    where.push(clause);
    args.push(v);
  };
  if (q.actorId !== undefined) add('actor_id = ?', q.actorId);
  if (q.resourceType !== undefined) add('resource_type = ?', q.resourceType);
  if (q.resourceId !== undefined) add('resource_id = ?', q.resourceId);
  if (q.from !== undefined) add('at >= ?', q.from);
  if (q.to !== undefined) add('at < ?', q.to);
  if (q.before !== undefined) add('id < ?', q.before);
  args.push(q.limit);
  return (
    r(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(
      ...args,
    ) as AuditRowDb[]
  ).map(auditRecord);
}
