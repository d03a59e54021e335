import { randomBytes } from 'node:crypto';
import { ROLE_PERMISSIONS } from '../domain/access.js';
import type { Clock } from '../domain/clock.js';
import { AuthenticationError, ValidationError } from '../errors.js';
import { hashKey } from '../http/auth.js';
import type { SessionRecord, StaffUser } from '../store/access-store.js';
import type { Store, Workspace } from '../store/store.js';
import { decoyHash, verifyPassword } from './password.js';
import type { Principal } from './principal.js';

export const SESSION_COOKIE = 'kizuna_session';
/** A session ends 12 hours after its last use, and 7 days after sign-in whatever the use. */
export const IDLE_MS = 12 * 60 * 60_000;
export const ABSOLUTE_MS = 7 * 24 * 60 * 60_000;
/** `last seen` is written at most once a minute per session (idle expiry needs no finer grain). */
const TOUCH_MS = 60_000;

/** The one answer to every failed sign-in: it does not say whether the e-mail or the password was wrong. */
const REFUSED = 'the e-mail or password is wrong, or the account is disabled';

export interface SignedIn {
  readonly token: string;
  readonly principal: Extract<Principal, { type: 'user' }>;
  readonly workspace: Workspace;
}

/** Sign-in, session lookup and sign-out for staff users (docs/access.md). */
export class SessionService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Checks the password and opens a session. `workspace` (id or name) picks among several accounts
   * with the same e-mail; without it, the one account whose password matches is used. An unknown
   * e-mail costs one scrypt run like a wrong password, so timing tells nothing either.
   */
  /** The accounts a sign-in with this e-mail (and workspace, when named) tries. */
  async accountsFor(input: { email: string; workspace?: string | undefined }): Promise<StaffUser[]> {
    const candidates = await this.store.findStaffUsersByEmail(input.email.trim().toLowerCase());
    if (input.workspace === undefined) return candidates;
    const named = await this.store.findWorkspaceByName(input.workspace);
    return candidates.filter((u) => u.workspaceId === input.workspace || u.workspaceId === named?.id);
  }

  async signIn(input: { email: string; password: string; workspace?: string }): Promise<SignedIn> {
    const candidates = await this.accountsFor(input);
    if (candidates.length === 0) {
      await verifyPassword(input.password, await decoyHash());
      throw new AuthenticationError(REFUSED);
    }
    const matching: StaffUser[] = [];
    for (const u of candidates) if (await verifyPassword(input.password, u.passwordHash)) matching.push(u);
    const live = matching.filter((u) => !u.disabled);
    if (live.length > 1)
      throw new ValidationError([
        {
          field: 'workspace',
          rule: 'is required: this e-mail signs in to several workspaces (give its id or name)',
        },
      ]);
    const user = live[0];
    if (!user) throw new AuthenticationError(REFUSED);
    const now = this.clock.now();
    const token = randomBytes(32).toString('base64url');
    const session: SessionRecord = {
      tokenHash: hashKey(token),
      workspaceId: user.workspaceId,
      userId: user.id,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
    };
    await this.store.createSession(session);
    return {
      token,
      principal: userPrincipal(user, session),
      workspace: await this.workspace(user.workspaceId),
    };
  }

  /** The signed-in user of a session token; null when unknown, expired (then deleted) or disabled. */
  async resume(token: string): Promise<Extract<Principal, { type: 'user' }> | null> {
    const tokenHash = hashKey(token);
    const session = await this.store.findSession(tokenHash);
    if (!session) return null;
    const now = this.clock.now();
    if (now - session.lastSeenAt >= IDLE_MS || now - session.createdAt >= ABSOLUTE_MS) {
      await this.store.deleteSession(tokenHash);
      return null;
    }
    const user = await this.store.getStaffUser(session.workspaceId, session.userId);
    if (!user || user.disabled) return null;
    if (now - session.lastSeenAt >= TOUCH_MS) await this.store.touchSession(tokenHash, now);
    return userPrincipal(user, session);
  }

  signOut(session: SessionRecord): Promise<void> {
    return this.store.deleteSession(session.tokenHash);
  }

  async workspace(id: string): Promise<Workspace> {
    // Workspaces are few (one per brand or environment); no index is needed to find one by id.
    const ws = (await this.store.listWorkspaces()).find((w) => w.id === id);
    if (!ws) throw new AuthenticationError('the workspace of this session no longer exists');
    return ws;
  }
}

export function userPrincipal(u: StaffUser, session: SessionRecord): Extract<Principal, { type: 'user' }> {
  return {
    type: 'user',
    workspaceId: u.workspaceId,
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    locale: u.locale,
    permissions: ROLE_PERMISSIONS[u.role],
    session,
  };
}
