import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TemplateService } from '../engine/delivery/templates.js';
import type { KeyAuth } from '../http/auth.js';
import type { TemplateRecord } from '../store/delivery-store.js';
import { isEmailAddress } from '../channels/email/smtp.js';
import { TRANSACTIONAL } from '../domain/subscriptions.js';
import type { Dispatcher } from '../engine/delivery/dispatcher.js';
import { ValidationError } from '../errors.js';
import { adminWorkspace, parse } from './params.js';

export interface TemplateApiDeps {
  auth: KeyAuth;
  templates: TemplateService;
  dispatcher: Dispatcher;
}

export function templateJsonOf(t: TemplateRecord) {
  return {
    ...(t.definition as Record<string, unknown>),
    version: t.version,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}

const previewBody = z.strictObject({
  profile_id: z.string({ error: 'required: the profile to render for' }).min(1),
  locale: z.string({ error: 'must be a string' }).min(2).max(35).optional(),
  template: z.unknown().optional(),
});

const testBody = z.strictObject({
  profile_id: z.string({ error: 'required: the profile to render for' }).min(1),
  to: z
    .string({ error: 'required: the address to send the test to' })
    .refine(isEmailAddress, { error: 'must be an e-mail address' }),
  locale: z.string({ error: 'must be a string' }).min(2).max(35).optional(),
});

type Name = { Params: { name: string } };

/** Message templates (docs/templates.md). */
export function registerTemplateRoutes(app: FastifyInstance, deps: TemplateApiDeps): void {
  const { templates } = deps;
  const workspace = (req: FastifyRequest) => adminWorkspace(deps.auth, req);

  app.get('/api/v1/templates', async (req) => {
    const ws = await workspace(req);
    return { templates: (await templates.list(ws)).map(templateJsonOf) };
  });

  app.post('/api/v1/templates', async (req, reply) => {
    const ws = await workspace(req);
    return reply.status(201).send(templateJsonOf(await templates.create(ws, req.body)));
  });

  /** Renders an unsaved template for a customer (the editor's preview before saving). */
  app.post('/api/v1/templates/preview', async (req) => {
    const ws = await workspace(req);
    const b = parse(previewBody.required({ template: true }), req.body);
    return templates.preview(ws, { draft: b.template, profileId: b.profile_id, locale: b.locale });
  });

  app.get<Name>('/api/v1/templates/:name', async (req) => {
    const ws = await workspace(req);
    return templateJsonOf(await templates.get(ws, req.params.name));
  });

  app.put<Name>('/api/v1/templates/:name', async (req) => {
    const ws = await workspace(req);
    return templateJsonOf(await templates.replace(ws, req.params.name, req.body));
  });

  app.delete<Name>('/api/v1/templates/:name', async (req, reply) => {
    const ws = await workspace(req);
    await templates.remove(ws, req.params.name);
    return reply.status(204).send();
  });

  app.post<Name>('/api/v1/templates/:name/preview', async (req) => {
    const ws = await workspace(req);
    const b = parse(previewBody.omit({ template: true }), req.body);
    return templates.preview(ws, { name: req.params.name, profileId: b.profile_id, locale: b.locale });
  });

  /**
   * A test send: the template rendered for a chosen customer, as the preview shows it, sent to a staff
   * address through the workspace's e-mail channel, marked "[Test]" and without unsubscribe headers.
   * Nothing is recorded for the customer. E-mail templates only.
   */
  app.post<Name>('/api/v1/templates/:name/test', async (req) => {
    const ws = await workspace(req);
    const b = parse(testBody, req.body);
    const template = await templates.get(ws, req.params.name);
    const channel = (template.definition as { channel?: string }).channel;
    if (channel !== 'email')
      throw new ValidationError([
        { field: 'name', rule: `test sends are for e-mail templates; ${req.params.name} is for ${channel}` },
      ]);
    const r = await templates.preview(ws, {
      name: req.params.name,
      profileId: b.profile_id,
      locale: b.locale,
    });
    if (!r.ok) return { ok: false, retryable: false, reason: `not rendered: ${r.reason}` };
    const subject = r.content['subject'] ?? '';
    return deps.dispatcher.testSend(ws, 'email', {
      to: b.to,
      topic: TRANSACTIONAL,
      content: { ...r.content, subject: `[Test] ${subject}` },
    });
  });
}
