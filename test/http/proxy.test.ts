import { afterAll, beforeAll, expect, it } from 'vitest';
import { basic, get, post, startTestServer, type TestServer } from './harness.js';

let plain: TestServer;
let proxied: TestServer;
beforeAll(async () => {
  [plain, proxied] = await Promise.all([startTestServer(), startTestServer({ trustProxy: true })]);
});
afterAll(async () => {
  await Promise.all([plain.close(), proxied.close()]);
});

async function storedIp(s: TestServer): Promise<unknown> {
  const headers = { authorization: basic(s.ws.writeKey), 'x-forwarded-for': '198.51.100.23, 10.0.0.1' };
  expect((await post(`${s.url}/v1/track`, { userId: 'ip', event: 'E' }, headers)).status).toBe(200);
  const p = await get(`${s.url}/api/v1/profiles/lookup?userId=ip`, s.ws.adminKey);
  const evs = await get(`${s.url}/api/v1/profiles/${p.body['id'] as string}/events`, s.ws.adminKey);
  return (evs.body['events'] as { message: { context: { ip?: unknown } } }[])[0]!.message.context.ip;
}

it('records the socket address as context.ip, or the forwarded client address when told to trust the proxy', async () => {
  expect(await storedIp(plain)).toBe('127.0.0.1');
  expect(await storedIp(proxied)).toBe('198.51.100.23');
});
