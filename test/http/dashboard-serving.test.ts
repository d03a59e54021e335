import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_SECTIONS } from '../../src/http/dashboard.js';
import { get, startTestServer, type TestServer } from './harness.js';

// The dashboard as the server ships it: index.html at / and at every client route, hashed assets
// cached for a year, and no existing prefix shadowed. Reads the real build (`npm run build`, which
// `npm test` runs first).
const ASSETS = fileURLToPath(new URL('../../dist/web/assets/', import.meta.url));

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('the dashboard at /', () => {
  it('serves index.html at / and at every client route, revalidated and locked down', async () => {
    for (const path of [
      '/',
      '/sign-in',
      '/customers/p_123',
      '/segments/new',
      '/journeys/jr_1',
      '/messaging',
      '/reports/funnel',
      '/settings',
    ]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const html = await res.text();
      expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    }
    expect(DASHBOARD_SECTIONS).toContain('customers');
  });

  it('answers a matching ETag with 304', async () => {
    const first = await fetch(`${s.url}/`);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const again = await fetch(`${s.url}/customers`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves hashed assets with their type, a year of immutable cache and gzip', async () => {
    const files = readdirSync(ASSETS);
    const js = files.find((f) => f.endsWith('.js'));
    const css = files.find((f) => f.endsWith('.css'));
    expect(js && css).toBeTruthy();
    for (const [file, type] of [
      [js, 'text/javascript; charset=utf-8'],
      [css, 'text/css; charset=utf-8'],
    ] as const) {
      const res = await fetch(`${s.url}/assets/${file}`, { headers: { 'accept-encoding': 'identity' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const plain = Buffer.from(await res.arrayBuffer());
      // fetch decodes gzip itself; ask through a raw request to see the encoded bytes.
      const { request } = await import('node:http');
      const gz = await new Promise<Buffer>((resolve, reject) => {
        request(`${s.url}/assets/${file}`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          expect(r.headers['content-encoding']).toBe('gzip');
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve(Buffer.concat(chunks)));
        })
          .on('error', reject)
          .end();
      });
      expect(gunzipSync(gz).equals(plain)).toBe(true);
    }
  });

  it('answers unknown assets and paths outside the dashboard with the JSON 404', async () => {
    for (const path of ['/assets/nope.js', '/assets/..%2F..%2Fpackage.json', '/customersx', '/nope']) {
      const res = await get(`${s.url}${path}`);
      expect(res.status, path).toBe(404);
      expect((res.body['error'] as { code: string }).code).toBe('not_found');
    }
  });

  it('leaves the API, SDK, health and link prefixes to their own routes', async () => {
    expect((await get(`${s.url}/healthz`)).body).toEqual({ ok: true });
    expect((await get(`${s.url}/api/v1/profiles`)).status).toBe(401);
    expect((await get(`${s.url}/api/v1/no-such-route`)).status).toBe(404);
    const sdk = await fetch(`${s.url}/sdk/kizuna.js`);
    expect(sdk.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(sdk.headers.get('cache-control')).toBe('public, max-age=300');
    // Signed link pages answer for themselves (a bad token is their 4xx, not the dashboard).
    for (const path of ['/u/bad-token', '/s/bad-token', '/p/bad-token', '/c/bad-token']) {
      const res = await fetch(`${s.url}${path}`);
      expect(await res.text(), path).not.toContain('<div id="app">');
    }
  });
});
