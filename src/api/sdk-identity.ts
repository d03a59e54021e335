import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { InAppDelivery } from '../engine/inapp/delivery.js';
import { verifyIdentity, type SdkSettingsService } from '../engine/inapp/sdk-settings.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../domain/clock.js';
import { normalizeMessage } from '../ingest/message.js';
import { writeKeyOf } from '../ingest/request.js';
import { LIMITS } from '../ingest/limits.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { PrivacyService } from '../engine/privacy.js';
import { parseIsoDate } from '../ingest/message.js';
import type { ProfileView } from '../store/store.js';

/** What the SDK-facing endpoints share: the write key, the store and the identity rules. */
export interface SdkDeps {
  store: Store;
  auth: KeyAuth;
  clock: Clock;
  delivery: InAppDelivery;
  settings: SdkSettingsService;
  onJourneyWork?: (() => void) | undefined;
  /** the profiling rule (docs/privacy.md#profiling); without it everyone may be personalised */
  privacy?: PrivacyService | undefined;
}

const optionalId = z
  .string({ error: 'must be a string' })
  .max(LIMITS.idChars, { error: `must be at most ${LIMITS.idChars} characters` })
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));

/** The identity fields of every SDK request (query for GET, body for POST/DELETE). */
export const identityFields = {
  writeKey: z.string({ error: 'must be a string' }).optional(),
  anonymousId: optionalId,
  userId: optionalId,
  userHash: z
    .string({ error: 'must be a string' })
    .max(128, { error: 'must be at most 128 characters' })
    .optional()
    .transform((v) => v ?? null),
};

export const isoTimestamp = z
  .string({ error: 'must be an ISO 8601 date-time string' })
  .refine((v) => parseIsoDate(v) !== null, { error: 'must be an ISO 8601 date-time string' });

export interface Identity {
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly userHash: string | null;
}

/**
 * The workspace of a request's write key (Basic user name, `writeKey` in the query or the body), with
 * its identity checked: a userId needs its userHash when the workspace verifies identities.
 */
export async function sdkWorkspace(
  deps: SdkDeps,
  req: FastifyRequest,
  ids: Identity & { writeKey?: string | undefined },
) {
  const ws = await deps.auth.workspaceOf(writeKeyOf(req.headers.authorization, ids), 'write');
  verifyIdentity(await deps.settings.get(ws), ids.userId, ids.userHash);
  return ws;
}

/** A request that must say who it is for. */
export function requireIdentity(ids: Identity): void {
  if (ids.userId === null && ids.anonymousId === null)
    throw new ValidationError([{ field: 'anonymousId', rule: 'give an anonymousId or a userId' }]);
}

/**
 * Appends a track event for the customer through the normal ingestion path (same validation, identity
 * resolution, timeline, segments and journey triggers as /v1/track) and returns the customer's
 * profile, which the event creates for a visitor seen for the first time.
 */
export async function trackFor(
  deps: SdkDeps,
  ws: string,
  req: FastifyRequest,
  ids: Identity,
  e: {
    event: string;
    properties: Record<string, unknown>;
    timestamp?: string | undefined;
    /** the client's id for this report: a retried report is stored once (and `fresh` is false) */
    messageId?: string | undefined;
  },
): Promise<ProfileView & { fresh: boolean }> {
  const raw = {
    type: 'track',
    event: e.event,
    ...(e.messageId !== undefined && { messageId: e.messageId }),
    userId: ids.userId,
    anonymousId: ids.anonymousId,
    properties: e.properties,
    ...(e.timestamp !== undefined && { timestamp: e.timestamp }),
  };
  const n = normalizeMessage(raw, '', 'track', {
    receivedAt: deps.clock.now(),
    sentAt: null,
    context: null,
    ip: req.ip,
  });
  if (!n.ok) throw new ValidationError(n.issues);
  const result = await deps.store.ingest(ws, [n.event]);
  if (result.journeyWork > 0) deps.onJourneyWork?.();
  // An erased customer's identities are tombstoned: the event was dropped, and nothing is kept for them.
  if (result.discarded > 0) throw new NotFoundError('this customer was erased');
  const profile = await deps.delivery.findProfile(ws, ids.userId, ids.anonymousId);
  // The event just stored made or found the profile; only a concurrent erasure could remove it.
  if (!profile) throw new Error('the profile of an event just stored was not found');
  return { ...profile, fresh: result.stored > 0 };
}
