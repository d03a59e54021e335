/**
 * Staff users, sessions, scoped API keys and the audit log (docs/access.md). Passwords, session
 * tokens and API keys reach the store only as hashes; the store never sees a plain secret.
 */
import type { Role, Scope } from '../domain/access.js';

export type Locale = 'en' | 'ja';

export interface StaffUser {
  readonly workspaceId: string;
  readonly id: string;
  /** lower-cased; unique within the workspace */
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly locale: Locale;
  readonly disabled: boolean;
  /** the scrypt string of src/access/password.ts */
  readonly passwordHash: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A change to a user: absent fields are left as they are. */
export interface StaffUserPatch {
  readonly name?: string;
  readonly role?: Role;
  readonly locale?: Locale;
  readonly disabled?: boolean;
  readonly passwordHash?: string;
}

export interface SessionRecord {
  readonly tokenHash: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly scope: Scope;
  /** who created it ("user:<id> <email>", "key:<id> <name>"); null for the workspace's first keys */
  readonly createdBy: string | null;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

export interface AuditEntry {
  readonly workspaceId: string;
  readonly at: number;
  readonly actorType: 'user' | 'key';
  readonly actorId: string;
  /** the user's e-mail or the key's name, copied so the log reads after either is gone */
  readonly actorName: string;
  /** method and route pattern, e.g. `PUT /api/v1/segments/:id` */
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  /** the HTTP status the call was answered with */
  readonly status: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
}

export interface AuditQuery {
  /** a user or key id */
  readonly actorId?: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
  /** inclusive lower and exclusive upper bound on `at` */
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
  /** the previous page's last id: the next page holds older rows */
  readonly before?: number;
}

export interface AccessStore {
  /** Adds a user (ConflictError when the e-mail is taken in the workspace). */
  createStaffUser(u: StaffUser): Promise<void>;
  getStaffUser(ws: string, id: string): Promise<StaffUser | null>;
  /** The users with this (lower-cased) e-mail in every workspace, oldest first. */
  findStaffUsersByEmail(email: string): Promise<StaffUser[]>;
  /** By e-mail. */
  listStaffUsers(ws: string): Promise<StaffUser[]>;
  /** Applies the patch; null when there is no such user. Disabling a user also ends their sessions. */
  updateStaffUser(ws: string, id: string, patch: StaffUserPatch, now: number): Promise<StaffUser | null>;

  createSession(s: SessionRecord): Promise<void>;
  findSession(tokenHash: string): Promise<SessionRecord | null>;
  /** Moves `lastSeenAt` forward (never back). */
  touchSession(tokenHash: string, now: number): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;

  /** Stores a new key by its hash (the scope decides its kind: ingest is a write key). */
  createApiKey(k: ApiKeyRecord, keyHash: string): Promise<void>;
  /** Every key of the workspace, revoked ones too, newest first. */
  listApiKeys(ws: string): Promise<ApiKeyRecord[]>;
  /** Stamps `revokedAt` (once); null when there is no such key. Returns the key as it now is. */
  revokeApiKey(ws: string, id: string, now: number): Promise<ApiKeyRecord | null>;
  /** Moves `lastUsedAt` forward (never back); callers limit how often they call it. */
  touchApiKey(ws: string, id: string, now: number): Promise<void>;

  /** Appends entries in one transaction. The table refuses UPDATE and DELETE. */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first, filtered, `limit` ≤ 1000. */
  /**
   * The audit-log retention sweep: deletes up to `limit` of the workspace's entries older than
   * `before`, and nothing else — the only DELETE the table's trigger lets through (the cut-off is
   * written, used and removed inside one transaction). How many.
   */
  purgeAudit(ws: string, before: number, limit: number): Promise<number>;
  listAudit(ws: string, q: AuditQuery): Promise<AuditRecord[]>;
}
