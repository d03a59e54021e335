import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionService } from '../../src/access/sessions.js';
import { registerAccessHook } from '../../src/http/access.js';
import { KEY_CACHE_MS, KeyAuth } from '../../src/http/auth.js';
import { errorHandler } from '../../src/http/errors.js';
import { basic, client, get, post, send, startTestServer, type TestServer } from './harness.js';
import { addUser, signIn, withCookie } from './access-support.js';

let s: TestServer;
const c = client(() => s);
beforeAll(async () => {
  s = await startTestServer();
  await c.ingest([c.identify('carol', { email: 'carol@example.jp', plan: 'pro' })]);
});
afterAll(() => s.close());

const errorOf = (body: Record<string, unknown>) =>
  body['error'] as { code: string; message: string; permission?: string };

describe('scoped API keys', () => {
  it('lists the workspace keys it was created with: the write key as ingest, the admin key as admin', async () => {
    const r = await get(`${s.url}/api/v1/keys`, s.ws.adminKey);
    expect(r.status).toBe(200);
    const keys = r.body['keys'] as { name: string; scope: string; revokedAt: string | null }[];
    expect(keys.map((k) => [k.name, k.scope, k.revokedAt]).sort()).toEqual([
      ['admin key', 'admin', null],
      ['write key', 'ingest', null],
    ]);
    expect(JSON.stringify(r.body)).not.toContain(s.ws.adminKey);
  });

  it('shows a new key once, stores it hashed, and gives it exactly its scope', async () => {
    const made = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, {
      name: 'BI tool',
      scope: 'reports',
    });
    expect(made.status).toBe(201);
    const key = made.body['key'] as string;
    expect(key).toMatch(/^ak_/);
    expect(made.body).toMatchObject({
      name: 'BI tool',
      scope: 'reports',
      permissions: ['campaigns.read', 'reports.read'],
    });
    expect(made.body['createdBy']).toMatch(/^key:key_\S+ admin key$/);
    const listed = await get(`${s.url}/api/v1/keys`, s.ws.adminKey);
    expect(JSON.stringify(listed.body)).not.toContain(key);

    const me = await get(`${s.url}/api/v1/me`, key);
    expect(me.body).toEqual({
      type: 'key',
      id: made.body['id'],
      name: 'BI tool',
      scope: 'reports',
      workspace: { id: s.ws.id, name: 'shop' },
      permissions: ['campaigns.read', 'reports.read'],
    });
    expect((await get(`${s.url}/api/v1/segments`, key)).status).toBe(200);
    const denied = await get(`${s.url}/api/v1/profiles`, key);
    expect(denied.status).toBe(403);
    expect(errorOf(denied.body)).toMatchObject({ code: 'forbidden', permission: 'profiles.read' });
    expect(errorOf(denied.body).message).toContain('needs permission profiles.read');
  });

  it('refuses a revoked key at once, and answers 404 for a key of another workspace', async () => {
    const made = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, {
      name: 'tmp',
      scope: 'profiles.read',
    });
    const key = made.body['key'] as string;
    expect((await get(`${s.url}/api/v1/profiles`, key)).status).toBe(200);
    expect(
      (await send('DELETE', `${s.url}/api/v1/keys/${made.body['id'] as string}`, s.other.adminKey)).status,
    ).toBe(404);
    expect((await get(`${s.url}/api/v1/profiles`, key)).status).toBe(200);
    const revoked = await send('DELETE', `${s.url}/api/v1/keys/${made.body['id'] as string}`, s.ws.adminKey);
    expect(revoked.status).toBe(200);
    expect(revoked.body['revokedAt']).toBe(new Date(s.clock.now()).toISOString());
    const after = await get(`${s.url}/api/v1/profiles`, key);
    expect(after.status).toBe(401);
  });

  it('a revocation reaches another process sharing the database within 5 seconds', async () => {
    const made = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, { name: 'far', scope: 'reports' });
    const key = made.body['key'] as string;
    // Another process: its own key cache over the same database, on the same clock.
    const elsewhere = new KeyAuth(s.store, s.clock);
    expect((await elsewhere.keyOf(key)).name).toBe('far');
    await send('DELETE', `${s.url}/api/v1/keys/${made.body['id'] as string}`, s.ws.adminKey);
    s.clock.advance(KEY_CACHE_MS - 1);
    expect((await elsewhere.keyOf(key)).name).toBe('far'); // still trusted from its cache
    s.clock.advance(2);
    await expect(elsewhere.keyOf(key)).rejects.toMatchObject({ name: 'AuthenticationError' });
  });

  it('records when a key was last used, at most once a minute', async () => {
    const made = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, {
      name: 'last-used',
      scope: 'reports',
    });
    const key = made.body['key'] as string;
    const lastUsed = async () => {
      const keys = (await get(`${s.url}/api/v1/keys`, s.ws.adminKey)).body['keys'] as {
        id: string;
        lastUsedAt: string | null;
      }[];
      return keys.find((k) => k.id === made.body['id'])?.lastUsedAt;
    };
    expect(await lastUsed()).toBeNull();
    const first = s.clock.now();
    await get(`${s.url}/api/v1/segments`, key);
    await expect.poll(lastUsed).toBe(new Date(first).toISOString());
    s.clock.advance(30_000);
    await get(`${s.url}/api/v1/segments`, key);
    s.clock.advance(31_000);
    await get(`${s.url}/api/v1/segments`, key);
    await expect.poll(lastUsed).toBe(new Date(first + 61_000).toISOString());
  });

  it('makes ingest keys that ingest and are no credential for the admin API', async () => {
    const made = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, { name: 'web', scope: 'ingest' });
    const key = made.body['key'] as string;
    expect(key).toMatch(/^wk_/);
    const r = await post(
      `${s.url}/v1/track`,
      { userId: 'dave', event: 'Signed Up' },
      { authorization: basic(key) },
    );
    expect(r.status).toBe(200);
    expect((await get(`${s.url}/api/v1/segments`, key)).status).toBe(401);
  });

  it('refuses a bad key request naming the field, and stores nothing', async () => {
    const before = ((await get(`${s.url}/api/v1/keys`, s.ws.adminKey)).body['keys'] as unknown[]).length;
    const r = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, { name: 'x', scope: 'everything' });
    expect(r.status).toBe(400);
    expect(errorOf(r.body).message).toBe(
      'scope: must be one of ingest, profiles.read, campaigns, reports, admin',
    );
    const noName = await send('POST', `${s.url}/api/v1/keys`, s.ws.adminKey, { scope: 'admin' });
    expect(errorOf(noName.body).message).toMatch(/^name: /);
    expect(((await get(`${s.url}/api/v1/keys`, s.ws.adminKey)).body['keys'] as unknown[]).length).toBe(
      before,
    );
  });
});

describe('staff users over the API', () => {
  it('adds, reads and changes users; refuses a taken e-mail and a bad role; shows no password hash', async () => {
    const made = await send('POST', `${s.url}/api/v1/users`, s.ws.adminKey, {
      email: 'Yuki@Example.jp',
      role: 'marketer',
      password: 'a long enough secret',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      email: 'yuki@example.jp',
      name: 'yuki',
      role: 'marketer',
      locale: 'en',
      disabled: false,
    });
    expect(JSON.stringify(made.body)).not.toMatch(/scrypt|password/);
    const id = made.body['id'] as string;
    expect(
      (
        await send('POST', `${s.url}/api/v1/users`, s.ws.adminKey, {
          email: 'yuki@example.jp',
          role: 'support',
          password: 'a long enough secret',
        })
      ).status,
    ).toBe(409);
    const bad = await send('POST', `${s.url}/api/v1/users`, s.ws.adminKey, {
      email: 'x@example.jp',
      role: 'owner',
      password: 'short',
    });
    expect(bad.status).toBe(400);
    expect((bad.body['error'] as { issues: { field: string; rule: string }[] }).issues).toEqual([
      { field: 'role', rule: 'must be one of admin, marketer, analyst, support' },
      { field: 'password', rule: 'must be at least 10 characters' },
    ]);
    const list = (await get(`${s.url}/api/v1/users`, s.ws.adminKey)).body['users'] as { email: string }[];
    expect(list.map((u) => u.email)).toEqual(['yuki@example.jp']);

    const signed = await signIn(s, 'yuki@example.jp');
    expect(signed.status).toBe(200);
    const patched = await send('PATCH', `${s.url}/api/v1/users/${id}`, s.ws.adminKey, {
      role: 'support',
    });
    expect(patched.status).toBe(200);
    expect(patched.body['role']).toBe('support');
    // The role is read per request, so the open session has the new role at once.
    const denied = await withCookie(s, 'GET', '/api/v1/segments', signed.cookie);
    expect(denied.status).toBe(403);
    expect(errorOf(denied.body).message).toContain('role support');
    const off = await send('PATCH', `${s.url}/api/v1/users/${id}`, s.ws.adminKey, {
      disabled: true,
    });
    expect(off.body['disabled']).toBe(true);
    expect((await withCookie(s, 'GET', '/api/v1/session', signed.cookie)).status).toBe(401);
    expect((await get(`${s.url}/api/v1/users/${id}`, s.other.adminKey)).status).toBe(404);
  });

  it('tells a signed-in user who they are and what they may do', async () => {
    await addUser(s, s.ws.id, 'ana@example.jp', 'analyst');
    const r = await signIn(s, 'ana@example.jp');
    const me = await withCookie(s, 'GET', '/api/v1/me', r.cookie);
    expect(me.body).toMatchObject({
      type: 'user',
      email: 'ana@example.jp',
      role: 'analyst',
      permissions: ['campaigns.read', 'reports.read'],
    });
  });
});

describe('the permission table', () => {
  it('refuses a route that is not in the table, whoever calls it', async () => {
    const app = Fastify();
    app.setErrorHandler(errorHandler);
    registerAccessHook(app, {
      auth: new KeyAuth(s.store, s.clock),
      sessions: new SessionService(s.store, s.clock),
    });
    app.get('/api/v1/unlisted', () => ({ secret: 'should not be seen' }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const r = await get(`${url}/api/v1/unlisted`, s.ws.adminKey);
      expect(r.status).toBe(403);
      expect(errorOf(r.body).message).toBe(
        'GET /api/v1/unlisted is not in the permission table, so nobody may call it',
      );
    } finally {
      await app.close();
    }
  });
});

describe('the audit log', () => {
  it('records a change and a customer read with who, what, outcome, address and user agent', async () => {
    const profileId = await c.profileId('carol');
    const since = new Date(s.clock.now()).toISOString();
    const seg = await send('POST', `${s.url}/api/v1/segments`, s.ws.adminKey, {
      name: 'Pro',
      rule: { trait: 'plan', op: 'eq', value: 'pro' },
    });
    expect(seg.status).toBe(201);
    await addUser(s, s.ws.id, 'sue@example.jp', 'support');
    const sue = await signIn(s, 'sue@example.jp');
    const res = await fetch(`${s.url}/api/v1/profiles/${profileId}`, {
      headers: { cookie: sue.cookie, 'user-agent': 'kizuna-dashboard/1' },
    });
    expect(res.status).toBe(200);
    const denied = await withCookie(s, 'DELETE', `/api/v1/segments/${seg.body['id'] as string}`, sue.cookie, {
      csrf: sue.csrf,
    });
    expect(denied.status).toBe(403);

    const log = await get(`${s.url}/api/v1/audit?from=${since}`, s.ws.adminKey);
    expect(log.status).toBe(200);
    const entries = log.body['entries'] as {
      actor: { type: string; id: string; name: string };
      action: string;
      resource: { type: string; id: string | null };
      status: number;
      ip: string;
      userAgent: string | null;
    }[];
    const created = entries.find((e) => e.action === 'POST /api/v1/segments');
    expect(created).toMatchObject({
      actor: { type: 'key', name: 'admin key' },
      resource: { type: 'segment', id: seg.body['id'] },
      status: 201,
      ip: '127.0.0.1',
    });
    const read = entries.find((e) => e.action === 'GET /api/v1/profiles/:id');
    expect(read).toMatchObject({
      actor: { type: 'user', name: 'sue@example.jp' },
      resource: { type: 'profile', id: profileId },
      status: 200,
      userAgent: 'kizuna-dashboard/1',
    });
    expect(entries.find((e) => e.action === 'DELETE /api/v1/segments/:id')).toMatchObject({
      status: 403,
      actor: { name: 'sue@example.jp' },
    });
    // Plain reads of campaign data are not logged.
    expect(entries.some((e) => e.action === 'GET /api/v1/segments')).toBe(false);

    const byActor = await get(`${s.url}/api/v1/audit?actor=${read!.actor.id}`, s.ws.adminKey);
    expect(
      (byActor.body['entries'] as { actor: { name: string } }[]).every(
        (e) => e.actor.name === 'sue@example.jp',
      ),
    ).toBe(true);
    const profileReads = await get(
      `${s.url}/api/v1/audit?resource=profile&resourceId=${profileId}`,
      s.ws.adminKey,
    );
    expect((profileReads.body['entries'] as unknown[]).length).toBeGreaterThanOrEqual(1);
    // The other workspace's log holds none of it.
    const theirs = JSON.stringify((await get(`${s.url}/api/v1/audit`, s.other.adminKey)).body);
    for (const mark of ['sue@example.jp', profileId, seg.body['id'] as string])
      expect(theirs).not.toContain(mark);
  });

  it('pages with next and exports CSV', async () => {
    const first = await get(`${s.url}/api/v1/audit?limit=2`, s.ws.adminKey);
    const next = first.body['next'] as number;
    expect(typeof next).toBe('number');
    const second = await get(`${s.url}/api/v1/audit?limit=2&before=${next}`, s.ws.adminKey);
    const ids = [
      ...(first.body['entries'] as { id: number }[]),
      ...(second.body['entries'] as { id: number }[]),
    ].map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(4);
    const csv = await fetch(`${s.url}/api/v1/audit?format=csv&resource=segment`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,at,actor_type,actor_id,actor_name,action,resource_type,resource_id,status,ip,user_agent',
    );
    expect(lines.slice(1).some((l) => l.includes('POST /api/v1/segments'))).toBe(true);
    const bad = await get(`${s.url}/api/v1/audit?from=yesterday`, s.ws.adminKey);
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body).message).toMatch(/^from: must be an ISO 8601 time/);
  });

  it('is for admins only', async () => {
    await addUser(s, s.ws.id, 'mark@example.jp', 'marketer');
    const m = await signIn(s, 'mark@example.jp');
    const r = await withCookie(s, 'GET', '/api/v1/audit', m.cookie);
    expect(r.status).toBe(403);
    expect(errorOf(r.body).permission).toBe('settings.admin');
  });
});
