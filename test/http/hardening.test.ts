import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { DEFAULT_HTML_CSP, registerSecurityHeaders } from '../../src/http/security-headers.js';
import { basic, get, post, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ keyRateLimit: { perSecond: 2, burst: 5 } });
});
afterAll(() => s.close());

describe('per-key rate limits', () => {
  it('lets a key burst, then answers 429 with Retry-After until the clock refills its bucket', async () => {
    for (let i = 0; i < 5; i++)
      expect((await get(`${s.url}/api/v1/segments`, s.ws.adminKey)).status).toBe(200);
    const res = await fetch(`${s.url}/api/v1/segments`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    // Another key has its own bucket.
    expect((await get(`${s.url}/api/v1/segments`, s.other.adminKey)).status).toBe(200);
    s.clock.advance(500);
    expect((await get(`${s.url}/api/v1/segments`, s.ws.adminKey)).status).toBe(200);
    expect((await get(`${s.url}/api/v1/segments`, s.ws.adminKey)).status).toBe(429);
    s.clock.advance(10_000);
    for (let i = 0; i < 5; i++)
      expect((await get(`${s.url}/api/v1/segments`, s.ws.adminKey)).status).toBe(200);
  });

  it('leaves ingestion alone', async () => {
    for (let i = 0; i < 8; i++) {
      const r = await post(
        `${s.url}/v1/track`,
        { userId: 'u', event: 'E' },
        { authorization: basic(s.ws.writeKey) },
      );
      expect(r.status).toBe(200);
    }
  });
});

describe('security headers', () => {
  it('sends nosniff and a referrer policy on API, ingestion and SDK answers, keeping CORS on /v1 and /sdk', async () => {
    s.clock.advance(60_000);
    const api = await fetch(`${s.url}/api/v1/segments`, {
      headers: { authorization: `Bearer ${s.other.adminKey}` },
    });
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    const preflight = await fetch(`${s.url}/v1/track`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).not.toBeNull();
    expect(preflight.headers.get('x-content-type-options')).toBe('nosniff');
    const missing = await fetch(`${s.url}/nothing`);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps the stricter policy and referrer rule of pages that set their own', async () => {
    // An unsubscribe link answers with its own page even when the token is bad.
    const page = await fetch(`${s.url}/u/not-a-valid-token`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    );
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('gives HTML pages without a policy of their own the default one', async () => {
    const app = Fastify();
    registerSecurityHeaders(app);
    app.get('/page', (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><p>hi</p>'),
    );
    app.get('/data', () => ({ ok: true }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await fetch(`${url}/page`)).headers.get('content-security-policy')).toBe(DEFAULT_HTML_CSP);
      expect((await fetch(`${url}/data`)).headers.get('content-security-policy')).toBeNull();
    } finally {
      await app.close();
    }
  });
});
