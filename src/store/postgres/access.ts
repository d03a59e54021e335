/**
 * Staff users, sessions, API keys and the audit log on PostgreSQL. Each function is one statement
 * (or one transaction, when the caller passes a transaction's Sql), so concurrent writers meet at the
 * unique indexes and row locks.
 */
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
import type { Sql } from './pg-driver.js';

export async function createStaffUser(sql: Sql, u: StaffUser): Promise<void> {
  const rows = await sql.query(
    `INSERT INTO staff_users (workspace_id, id, email, name, role, locale, disabled, password_hash, created_at,
       updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id`,
    [
      u.workspaceId,
      u.id,
      u.email,
      u.name,
      u.role,
      u.locale,
      u.disabled,
      u.passwordHash,
      u.createdAt,
      u.updatedAt,
    ],
  );
  if (rows.length === 0) throw new ConflictError(`a user with e-mail ${u.email} already exists`);
}

export async function getStaffUser(sql: Sql, ws: string, id: string): Promise<StaffUser | null> {
  const [row] = await sql.query<StaffUserRowDb>(
    'SELECT * FROM staff_users WHERE workspace_id = $1 AND id = $2',
    [ws, id],
  );
  return row ? staffUser(row) : null;
}

export async function findStaffUsersByEmail(sql: Sql, email: string): Promise<StaffUser[]> {
  const rows = await sql.query<StaffUserRowDb>(
    'SELECT * FROM staff_users WHERE email = $1 ORDER BY created_at, id',
    [email],
  );
  return rows.map(staffUser);
}

export async function listStaffUsers(sql: Sql, ws: string): Promise<StaffUser[]> {
  const rows = await sql.query<StaffUserRowDb>(
    'SELECT * FROM staff_users WHERE workspace_id = $1 ORDER BY email',
    [ws],
  );
  return rows.map(staffUser);
}

/** Call inside a transaction: the row is locked while the patch is applied. */
export async function updateStaffUser(
  sql: Sql,
  ws: string,
  id: string,
  patch: StaffUserPatch,
  now: number,
): Promise<StaffUser | null> {
  const [row] = await sql.query<StaffUserRowDb>(
    'SELECT * FROM staff_users WHERE workspace_id = $1 AND id = $2 FOR UPDATE',
    [ws, id],
  );
  if (!row) return null;
  const u = { ...staffUser(row), ...patch, updatedAt: now };
  await sql.query(
    `UPDATE staff_users SET name = $3, role = $4, locale = $5, disabled = $6, password_hash = $7, updated_at = $8
     WHERE workspace_id = $1 AND id = $2`,
    [ws, id, u.name, u.role, u.locale, u.disabled, u.passwordHash, now],
  );
  if (u.disabled || patch.passwordHash !== undefined)
    await sql.query('DELETE FROM staff_sessions WHERE workspace_id = $1 AND user_id = $2', [ws, id]);
  return u;
}

export async function createSession(sql: Sql, s: SessionRecord): Promise<void> {
  await sql.query(
    `INSERT INTO staff_sessions (token_hash, workspace_id, user_id, csrf_token, created_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [s.tokenHash, s.workspaceId, s.userId, s.csrfToken, s.createdAt, s.lastSeenAt],
  );
}

export async function findSession(sql: Sql, tokenHash: string): Promise<SessionRecord | null> {
  const [row] = await sql.query<SessionRowDb>('SELECT * FROM staff_sessions WHERE token_hash = $1', [
    tokenHash,
  ]);
  return row ? sessionRecord(row) : null;
}

export async function touchSession(sql: Sql, tokenHash: string, now: number): Promise<void> {
  await sql.query('UPDATE staff_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2', [
    tokenHash,
    now,
  ]);
}

export async function deleteSession(sql: Sql, tokenHash: string): Promise<void> {
  await sql.query('DELETE FROM staff_sessions WHERE token_hash = $1', [tokenHash]);
}

export async function createApiKey(sql: Sql, k: ApiKeyRecord, keyHash: string): Promise<void> {
  await sql.query(
    `INSERT INTO api_keys (key_hash, workspace_id, kind, created_at, id, name, scope, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [keyHash, k.workspaceId, kindOfScope(k.scope), k.createdAt, k.id, k.name, k.scope, k.createdBy],
  );
}

export async function listApiKeys(sql: Sql, ws: string): Promise<ApiKeyRecord[]> {
  const rows = await sql.query<ApiKeyRowDb>(
    `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC`,
    [ws],
  );
  return rows.map(apiKeyRecord);
}

export async function revokeApiKey(
  sql: Sql,
  ws: string,
  id: string,
  now: number,
): Promise<ApiKeyRecord | null> {
  await sql.query(
    'UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL',
    [ws, id, now],
  );
  const [row] = await sql.query<ApiKeyRowDb>(
    `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 AND id = $2`,
    [ws, id],
  );
  return row ? apiKeyRecord(row) : null;
}

export async function touchApiKey(sql: Sql, ws: string, id: string, now: number): Promise<void> {
  await sql.query(
    `UPDATE api_keys SET last_used_at = $3 WHERE workspace_id = $1 AND id = $2
     AND (last_used_at IS NULL OR last_used_at < $3)`,
    [ws, id, now],
  );
}

/**
 * The retention sweep's delete, in the caller's transaction: the cut-off row is never committed, so
 * no other transaction sees it and the trigger refuses every other DELETE.
 */
export async function purgeAudit(sql: Sql, ws: string, before: number, limit: number): Promise<number> {
  await sql.query('INSERT INTO audit_purge (workspace_id, before) VALUES ($1, $2)', [ws, before]);
  const rows = await sql.query<{ n: string }>(
    `WITH d AS (DELETE FROM audit_log WHERE id IN
       (SELECT id FROM audit_log WHERE workspace_id = $1 AND at < $2 ORDER BY at LIMIT $3) RETURNING 1)
     SELECT count(*) AS n FROM d`,
    [ws, before, limit],
  );
  await sql.query('DELETE FROM audit_purge WHERE workspace_id = $1', [ws]);
  return Number(rows[0]?.n ?? 0);
}

/** One multi-row INSERT (one statement, so all or nothing). */
export async function appendAudit(sql: Sql, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values: unknown[] = [];
  const tuples = entries.map((e) => {
    const at = values.length;
    values.push(
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
    return `(${Array.from({ length: 11 }, (_, i) => `$${at + i + 1}`).join(', ')})`;
  });
  await sql.query(
    `INSERT INTO audit_log (workspace_id, at, actor_type, actor_id, actor_name, action, resource_type,
       resource_id, status, ip, user_agent) VALUES ${tuples.join(', ')}`,
    values,
  );
}

export async function listAudit(sql: Sql, ws: string, q: AuditQuery): Promise<AuditRecord[]> {
  const where = ['workspace_id = $1'];
  const args: unknown[] = [ws];
  const add = (clause: string, v: unknown) => {
    args.push(v);
    where.push(clause.replace('?', `$${args.length}`));
  };
  if (q.actorId !== undefined) add('actor_id = ?', q.actorId);
  if (q.resourceType !== undefined) add('resource_type = ?', q.resourceType);
  if (q.resourceId !== undefined) add('resource_id = ?', q.resourceId);
  if (q.from !== undefined) add('at >= ?', q.from);
  if (q.to !== undefined) add('at < ?', q.to);
  if (q.before !== undefined) add('id < ?', q.before);
  args.push(q.limit);
  const rows = await sql.query<AuditRowDb>(
    `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${args.length}`,
    args,
  );
  return rows.map(auditRecord);
}
