import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/http/auth.js';
import { ABSOLUTE_MS, IDLE_MS } from '../../src/access/sessions.js';
import { get, send, startTestServer, type TestServer } from './harness.js';
import { addUser, PASSWORD, signIn, withCookie } from './access-support.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  await addUser(s, s.ws.id, 'aiko@example.jp', 'admin', { name: 'Aiko', locale: 'ja' });
  await addUser(s, s.ws.id, 'ken@example.jp', 'support');
  // The same person in two workspaces, with a different password in each.
  await addUser(s, s.ws.id, 'mika@example.jp', 'marketer');
  await addUser(s, s.other.id, 'mika@example.jp', 'analyst');
});
afterAll(() => s.close());

const HOUR = 60 * 60_000;

describe('staff sessions', () => {
  it('signs in with the contract body and an HttpOnly, SameSite=Lax cookie; GET reads it back', async () => {
    const r = await signIn(s, 'Aiko@Example.jp');
    expect(r.status).toBe(200);
    const user = r.body['user'] as { id: string };
    expect(user.id).toMatch(/^usr_/);
    expect(typeof r.body['csrfToken']).toBe('string');
    expect(r.body).toEqual({
      user: {
        id: user.id,
        email: 'aiko@example.jp',
        name: 'Aiko',
        role: 'admin',
        locale: 'ja',
      },
      workspace: { id: s.ws.id, name: 'shop' },
      csrfToken: r.body['csrfToken'],
    });
    expect(r.setCookie).toMatch(
      /^kizuna_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/,
    );
    const again = await withCookie(s, 'GET', '/api/v1/session', r.cookie);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r.body);
    // The session row holds a hash, not the token.
    const token = r.cookie.split('=')[1]!;
    expect(await s.store.findSession(token)).toBeNull();
    expect((await s.store.findSession(hashKey(token)))?.workspaceId).toBe(s.ws.id);
  });

  it('answers 401 without a session, and one message for a wrong password and an unknown e-mail', async () => {
    expect((await get(`${s.url}/api/v1/session`)).status).toBe(401);
    const wrong = await signIn(s, 'aiko@example.jp', 'not the password');
    const unknown = await signIn(s, 'nobody@example.jp', PASSWORD);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.setCookie).toBeNull();
    expect((wrong.body['error'] as { message: string }).message).toBe(
      'the e-mail or password is wrong, or the account is disabled',
    );
  });

  it('records a refused sign-in in the audit log of each workspace the e-mail belongs to, without the password', async () => {
    const secret = 'wrong-but-private-passphrase';
    expect((await signIn(s, 'mika@example.jp', secret)).status).toBe(401);
    expect((await signIn(s, 'nobody@example.jp', secret)).status).toBe(401);
    for (const ws of [s.ws, s.other]) {
      const csv = await (
        await fetch(`${s.url}/api/v1/audit?resource=session&format=csv`, {
          headers: { authorization: `Bearer ${ws.adminKey}` },
        })
      ).text();
      const r = await get(`${s.url}/api/v1/audit?resource=session`, ws.adminKey);
      const refused = (r.body['entries'] as Record<string, unknown>[]).filter(
        (e) => e['status'] === 401 && JSON.stringify(e).includes('mika@'),
      );
      expect(refused).toEqual([
        expect.objectContaining({
          actor: expect.objectContaining({ type: 'user', name: 'mika@example.jp' }) as unknown,
          action: 'POST /api/v1/session',
        }),
      ]);
      expect(csv).toContain('POST /api/v1/session');
      expect(JSON.stringify(r.body) + csv).not.toContain(secret);
      expect(JSON.stringify(r.body)).not.toContain('nobody@example.jp');
    }
  });

  it('refuses a body without e-mail or password, naming the field', async () => {
    const r = await send('POST', `${s.url}/api/v1/session`, '', { email: 'aiko@example.jp' });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('password');
  });

  it('picks the workspace by id or name when one e-mail works in several', async () => {
    const none = await signIn(s, 'mika@example.jp');
    expect(none.status).toBe(400);
    expect(JSON.stringify(none.body)).toContain('workspace');
    const byName = await signIn(s, 'mika@example.jp', PASSWORD, 'other');
    expect(byName.status).toBe(200);
    expect(byName.body['workspace']).toEqual({ id: s.other.id, name: 'other' });
    expect((byName.body['user'] as { role: string }).role).toBe('analyst');
    const byId = await signIn(s, 'mika@example.jp', PASSWORD, s.ws.id);
    expect((byId.body['user'] as { role: string }).role).toBe('marketer');
  });

  it('needs the CSRF token for changes made with the cookie, and changes the UI language', async () => {
    const r = await signIn(s, 'aiko@example.jp');
    const bare = await withCookie(s, 'PATCH', '/api/v1/session', r.cookie, { body: { locale: 'en' } });
    expect(bare.status).toBe(403);
    expect((bare.body['error'] as { code: string }).code).toBe('csrf');
    const forged = await withCookie(s, 'PATCH', '/api/v1/session', r.cookie, {
      csrf: 'guess',
      body: { locale: 'en' },
    });
    expect(forged.status).toBe(403);
    const ok = await withCookie(s, 'PATCH', '/api/v1/session', r.cookie, {
      csrf: r.csrf,
      body: { locale: 'en' },
    });
    expect(ok.status).toBe(200);
    expect((ok.body['user'] as { locale: string }).locale).toBe('en');
    expect(
      ((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).body['user'] as { locale: string }).locale,
    ).toBe('en');
    const bad = await withCookie(s, 'PATCH', '/api/v1/session', r.cookie, {
      csrf: r.csrf,
      body: { locale: 'fr' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('locale: must be en or ja');
    // A change to another route with the cookie needs it as well; a read does not.
    const seg = { name: 'csrf probe', rule: { trait: 'plan', op: 'eq', value: 'pro' } };
    expect((await withCookie(s, 'POST', '/api/v1/segments', r.cookie, { body: seg })).status).toBe(403);
    expect((await withCookie(s, 'GET', '/api/v1/segments', r.cookie)).status).toBe(200);
  });

  it('works on every admin route in place of the key: the same answer for the same workspace', async () => {
    const r = await signIn(s, 'aiko@example.jp');
    const byCookie = await withCookie(s, 'GET', '/api/v1/stages', r.cookie);
    const byKey = await get(`${s.url}/api/v1/stages`, s.ws.adminKey);
    expect(byCookie.status).toBe(200);
    expect(byCookie.body).toEqual(byKey.body);
  });

  it('signs out: 204, the cookie cleared, the session row gone', async () => {
    const r = await signIn(s, 'ken@example.jp');
    const out = await withCookie(s, 'DELETE', '/api/v1/session', r.cookie, { csrf: r.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(
      /^kizuna_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/,
    );
    expect((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).status).toBe(401);
  });

  it('ends a session 12 hours after its last use', async () => {
    const r = await signIn(s, 'ken@example.jp');
    s.clock.advance(IDLE_MS - HOUR);
    expect((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).status).toBe(200);
    s.clock.advance(IDLE_MS - HOUR);
    expect((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).status).toBe(200);
    s.clock.advance(IDLE_MS);
    const ended = await withCookie(s, 'GET', '/api/v1/session', r.cookie);
    expect(ended.status).toBe(401);
    expect(JSON.stringify(ended.body)).toContain('sign in again');
  });

  it('ends a session 7 days after sign-in however busy it is', async () => {
    const r = await signIn(s, 'ken@example.jp');
    let used = 0;
    while (used + 11 * HOUR < ABSOLUTE_MS) {
      s.clock.advance(11 * HOUR);
      used += 11 * HOUR;
      expect((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).status).toBe(200);
    }
    s.clock.advance(ABSOLUTE_MS - used);
    expect((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).status).toBe(401);
  });

  it('ends the sessions of a user who is disabled, and refuses their sign-in', async () => {
    const r = await signIn(s, 'ken@example.jp');
    const id = (r.body['user'] as { id: string }).id;
    const off = await s.store.updateStaffUser(s.ws.id, id, { disabled: true }, s.clock.now());
    expect(off?.disabled).toBe(true);
    expect((await withCookie(s, 'GET', '/api/v1/session', r.cookie)).status).toBe(401);
    const again = await signIn(s, 'ken@example.jp');
    expect(again.status).toBe(401);
    expect(again.body).toEqual((await signIn(s, 'nobody@example.jp')).body);
    await s.store.updateStaffUser(s.ws.id, id, { disabled: false }, s.clock.now());
  });
});

describe('the session cookie behind https', () => {
  it('is marked Secure when the public URL is https', async () => {
    const secure = await startTestServer({ secureCookies: true });
    try {
      await addUser(secure, secure.ws.id, 'aiko@example.jp', 'admin');
      const r = await signIn(secure, 'aiko@example.jp');
      expect(r.setCookie).toMatch(/; Secure$/);
    } finally {
      await secure.close();
    }
  });
});
