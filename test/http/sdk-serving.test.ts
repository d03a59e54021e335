import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startTestServer, type TestServer } from './harness.js';

// The browser's side of the HTTP surface: CORS on /v1, a sendBeacon body, and the SDK files under /sdk
// (built by `npm run build`, which `npm test` runs first).
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('/v1 from a browser on another origin', () => {
  it('answers a preflight for every /v1 path with the methods and the headers asked for', async () => {
    for (const path of ['/v1/batch', '/v1/track', '/v1/messages/msg_1/events', '/v1/push/subscriptions']) {
      const res = await fetch(`${s.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-methods')).toContain('DELETE');
      expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    }
  });

  it('takes a sendBeacon body: text/plain JSON with the write key in it, no Authorization', async () => {
    const res = await fetch(`${s.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://shop.example' },
      body: JSON.stringify({
        writeKey: s.ws.writeKey,
        batch: [{ type: 'track', event: 'Beaconed', anonymousId: 'anon-beacon', messageId: 'm-beacon-1' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const p = await get(`${s.url}/api/v1/profiles/lookup?anonymousId=anon-beacon`, s.ws.adminKey);
    expect(p.body).toMatchObject({ eventCount: 1 });
  });

  it('sends the CORS header with errors too, so the SDK can read a 401', async () => {
    const res = await fetch(`${s.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ writeKey: 'nope', batch: [{ type: 'track', event: 'X', anonymousId: 'a' }] }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('does not open the admin API to other origins', async () => {
    const res = await fetch(`${s.url}/api/v1/profiles`, {
      method: 'OPTIONS',
      headers: { origin: 'http://shop.example', 'access-control-request-method': 'GET' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('/sdk files', () => {
  it('serves the script-tag bundle, the ES module and the service worker with types and caching', async () => {
    for (const [file, cache] of [
      ['kizuna.js', 'public, max-age=300'],
      ['kizuna.mjs', 'public, max-age=300'],
      ['kizuna-sw.js', 'no-cache'],
    ] as const) {
      const res = await fetch(`${s.url}/sdk/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe(cache);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const etag = res.headers.get('etag');
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect((await res.text()).length).toBeGreaterThan(100);
      const again = await fetch(`${s.url}/sdk/${file}`, { headers: { 'if-none-match': etag! } });
      expect(again.status).toBe(304);
    }
    const mjs = await (await fetch(`${s.url}/sdk/kizuna.mjs`)).text();
    expect(mjs).toMatch(/export\s*\{/);
  });

  it('sends gzip to clients that take it', async () => {
    const { request } = await import('node:http');
    const body = await new Promise<{ encoding: string | undefined; bytes: Buffer }>((resolve, reject) => {
      request(`${s.url}/sdk/kizuna.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ encoding: res.headers['content-encoding'], bytes: Buffer.concat(chunks) }),
        );
      })
        .on('error', reject)
        .end();
    });
    expect(body.encoding).toBe('gzip');
    expect(gunzipSync(body.bytes).toString('utf8')).toContain('kizuna.js');
  });

  it('answers 404 for any other name', async () => {
    expect((await fetch(`${s.url}/sdk/other.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/sdk/..%2Fpackage.json`)).status).toBe(404);
  });
});
