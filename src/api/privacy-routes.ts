/**
 * The admin API of the customer's data rights (docs/privacy.md): consent state and history, privacy
 * settings, export, erasure and its log. Guarded by the workspace's admin key like every /api/v1 route.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import {
  CONSENT_METHODS,
  CONSENT_SOURCES,
  currentConsents,
  parsePrivacySettings,
  privacySettingsJson,
  purposesOf,
  type ConsentEntry,
  type PrivacySettings,
} from '../domain/consent.js';
import { compileDefinitions } from '../domain/engagement/definitions.js';
import { computedTraitsOf } from '../domain/engagement/evaluate.js';
import type { EngagementService } from '../engine/engagement.js';
import type { PrivacyService } from '../engine/privacy.js';
import { normalizeEmail, normalizePhone, type IdentityKey } from '../domain/identity.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { jsonExport, tarExport } from './export-stream.js';
import { adminWorkspace, limit, parse } from './params.js';
import { identityFields, requireIdentity, sdkWorkspace, trackFor, type SdkDeps } from './sdk-identity.js';

export interface PrivacyDeps {
  store: Store;
  auth: KeyAuth;
  clock: Clock;
  privacy: PrivacyService;
  /** re-evaluates everyone when the profiling rule changes (profiling segments) */
  engagement: Pick<EngagementService, 'reevaluateEveryone'>;
}

const iso = (t: number) => new Date(t).toISOString();

export const consentJson = (e: ConsentEntry) => ({
  purpose: e.purpose,
  status: e.status,
  source: e.source,
  method: e.method,
  text_version: e.textVersion,
  ...(e.topic !== null && { topic: e.topic }),
  at: iso(e.at),
});

/** Every purpose of the workspace with its current state (null: never asked). */
export function consentState(settings: PrivacySettings, history: readonly ConsentEntry[]) {
  const current = currentConsents(history);
  return purposesOf(settings).map((purpose) => {
    const c = current.get(purpose);
    return c ? consentJson(c) : { purpose, status: null };
  });
}

/** The body of a consent change; `purposes` is checked against the workspace's list. */
export const consentBody = (sources: readonly string[]) =>
  z.strictObject({
    purpose: z.string({ error: 'required: a purpose' }),
    status: z.enum(['granted', 'withdrawn'], { error: 'must be granted or withdrawn' }),
    source: z
      .enum(sources as [string, ...string[]], { error: `must be one of: ${sources.join(', ')}` })
      .default('api'),
    method: z
      .enum(CONSENT_METHODS, { error: `must be one of: ${CONSENT_METHODS.join(', ')}` })
      .default('other'),
    text_version: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(100, { error: 'must be at most 100 characters' })
      .nullable()
      .default(null),
  });

export function checkPurpose(settings: PrivacySettings, purpose: string, field = 'purpose'): void {
  const all = purposesOf(settings);
  if (!all.includes(purpose))
    throw new ValidationError([{ field, rule: `must be one of: ${all.join(', ')}` }]);
}

/** Streams a customer's export (JSON, or a tar of CSV files with `csv`). */
export async function sendExport(
  deps: { store: Store; clock: Clock },
  reply: FastifyReply,
  ws: string,
  profileId: string,
  format: 'json' | 'csv',
) {
  const now = deps.clock.now();
  const state = await deps.store.getProfileState(ws, profileId);
  const computed = state
    ? computedTraitsOf(state, compileDefinitions(await deps.store.getDefinitions(ws)), now).all()
    : {};
  const header = { workspaceId: ws, profileId, exportedAt: now, computedTraits: computed };
  const pages = deps.store.exportProfile(ws, profileId);
  const name = `kizuna-export-${profileId}`;
  if (format === 'csv') {
    void reply
      .header('content-type', 'application/x-tar')
      .header('content-disposition', `attachment; filename="${name}.tar"`);
    return reply.send(Readable.from(tarExport(header, pages)));
  }
  void reply
    .header('content-type', 'application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.json"`);
  return reply.send(Readable.from(jsonExport(header, pages)));
}

export function registerPrivacyRoutes(app: FastifyInstance, deps: PrivacyDeps): void {
  const profileOf = async (ws: string, id: string) => {
    const p = await deps.store.getProfile(ws, id);
    if (!p) throw new NotFoundError(`profile ${id} not found`);
    return p;
  };

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/consents', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const p = await profileOf(ws, req.params.id);
    const history = await deps.store.listConsents(ws, p.id);
    return {
      profile_id: p.id,
      consents: consentState(await deps.privacy.settingsOf(ws), history),
      history: history.map(consentJson),
    };
  });

  app.post<{ Params: { id: string } }>('/api/v1/profiles/:id/consents', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const b = parse(
      consentBody(CONSENT_SOURCES.filter((s) => s !== 'sdk' && s !== 'subscription')),
      req.body,
    );
    const settings = await deps.privacy.settingsOf(ws);
    checkPurpose(settings, b.purpose);
    const p = await profileOf(ws, req.params.id);
    await deps.privacy.record(ws, p, [
      {
        purpose: b.purpose,
        status: b.status,
        source: b.source,
        method: b.method,
        textVersion: b.text_version,
      },
    ]);
    const history = await deps.store.listConsents(ws, p.id);
    return reply.status(201).send({ profile_id: p.id, consents: consentState(settings, history) });
  });

  app.get('/api/v1/privacy/settings', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    return privacySettingsJson(await deps.privacy.settingsOf(ws));
  });

  app.put('/api/v1/privacy/settings', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const p = parsePrivacySettings(req.body);
    if (!p.ok) throw new ValidationError(p.issues);
    const json = privacySettingsJson(p.settings);
    const before = await deps.privacy.settingsOf(ws);
    await deps.privacy.putSettings(ws, json, p.settings);
    // Who may be profiled changed: profiling segments are re-evaluated for everyone (in the background).
    if (before.profilingRequired !== p.settings.profilingRequired) deps.engagement.reevaluateEveryone(ws);
    return json;
  });

  app.post('/api/v1/tombstones/lift', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const identities = parse(liftBody, req.body);
    const lifted = await deps.store.liftTombstones(ws, identities);
    // The answer names kinds only: the audit entry of this call holds no identifier either.
    return { lifted: lifted.map((i) => i.kind), not_tombstoned: identities.length - lifted.length };
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/export', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(
      z.object({ format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json') }),
      req.query ?? {},
    );
    const p = await profileOf(ws, req.params.id);
    return sendExport(deps, reply, ws, p.id, q.format);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/profiles/:id', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const r = await deps.privacy.erase(ws, req.params.id, 'api');
    if (r.status === 'not_found') throw new NotFoundError(`profile ${req.params.id} not found`);
    if (r.status === 'already_erased') return { status: 'already_erased' };
    return { status: 'erased', erasure: erasureJson(r.record) };
  });

  app.get('/api/v1/erasures', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(z.object({ limit: limit(1000, 100) }), req.query ?? {});
    return {
      erasures: (await deps.store.listErasures(ws, q.limit)).map(erasureJson),
      discarded_events: await deps.store.tombstoneHits(ws),
    };
  });
}

const optionalId = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .optional();

/**
 * The identities a returning customer asks to be known by again, normalised as ingestion does (an
 * e-mail lower-cased, a phone number in E.164), at least one.
 */
const liftBody = z
  .strictObject(
    {
      userId: optionalId(256),
      anonymousId: optionalId(256),
      email: optionalId(320),
      phone: optionalId(40),
    },
    { error: 'the body must be a JSON object' },
  )
  .transform((b, ctx): IdentityKey[] => {
    const out: IdentityKey[] = [];
    if (b.userId !== undefined) out.push({ kind: 'user_id', value: b.userId });
    if (b.anonymousId !== undefined) out.push({ kind: 'anonymous_id', value: b.anonymousId });
    if (b.email !== undefined) {
      const v = normalizeEmail(b.email);
      if (v === null) ctx.addIssue({ code: 'custom', path: ['email'], message: 'must be an e-mail address' });
      else out.push({ kind: 'email', value: v });
    }
    if (b.phone !== undefined) {
      const v = normalizePhone(b.phone);
      if (v === null) ctx.addIssue({ code: 'custom', path: ['phone'], message: 'must be a phone number' });
      else out.push({ kind: 'phone', value: v });
    }
    if (out.length === 0 && b.email === undefined && b.phone === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: 'required: one of userId, anonymousId, email, phone',
      });
    return out;
  });

const erasureJson = (r: {
  id: string;
  erasedAt: number;
  requestedBy: string;
  counts: Record<string, number>;
}) => ({
  id: r.id,
  erased_at: iso(r.erasedAt),
  requested_by: r.requestedBy,
  removed: r.counts,
});

const sdkConsentBody = z.strictObject({
  ...identityFields,
  /** purpose → true (granted) or false (withdrawn) */
  consents: z.record(z.string(), z.boolean({ error: 'must be true or false' }), {
    error: 'required: an object of purpose → true or false',
  }),
  method: z
    .enum(CONSENT_METHODS, { error: `must be one of: ${CONSENT_METHODS.join(', ')}` })
    .default('banner'),
  textVersion: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(100, { error: 'must be at most 100 characters' })
    .nullable()
    .default(null),
});

/**
 * `POST /v1/consent` (write key): the browser SDK records the visitor's choices. The visitor's
 * profile is made or found through ingestion (a `Consent Updated` event on the timeline), then each
 * purpose is recorded with source `sdk`; a withdrawal applies to the next send.
 */
export function registerSdkConsentRoute(
  app: FastifyInstance,
  deps: SdkDeps & { privacy: PrivacyService },
): void {
  app.post('/v1/consent', async (req, reply) => {
    const b = parse(sdkConsentBody, req.body);
    const ws = await sdkWorkspace(deps, req, b);
    requireIdentity(b);
    const settings = await deps.privacy.settingsOf(ws);
    const purposes = Object.keys(b.consents);
    if (purposes.length === 0 || purposes.length > 20)
      throw new ValidationError([{ field: 'consents', rule: 'must name 1–20 purposes' }]);
    for (const p of purposes) checkPurpose(settings, p, `consents.${p}`);
    const profile = await trackFor(deps, ws, req, b, {
      event: 'Consent Updated',
      properties: {
        ...b.consents,
        method: b.method,
        ...(b.textVersion !== null && { text_version: b.textVersion }),
      },
    });
    await deps.privacy.record(
      ws,
      profile,
      purposes.map((purpose) => ({
        purpose,
        status: b.consents[purpose] ? 'granted' : 'withdrawn',
        source: 'sdk',
        method: b.method,
        textVersion: b.textVersion,
      })),
    );
    return reply.status(202).send({ ok: true });
  });
}
