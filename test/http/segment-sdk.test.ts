import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

it('works unchanged with the official Segment Node.js SDK pointed at Kizuna', async () => {
  const analytics = new Analytics({ writeKey: s.ws.writeKey, host: s.url, flushAt: 3, maxRetries: 1 });
  const errors: unknown[] = [];
  analytics.on('error', (e) => errors.push(e));
  analytics.track({
    anonymousId: 'sdk-anon',
    event: 'Product Viewed',
    properties: { sku: 'A-1', price: 1980 },
  });
  analytics.page({ anonymousId: 'sdk-anon', name: 'Checkout', properties: { path: '/checkout' } });
  analytics.identify({
    anonymousId: 'sdk-anon',
    userId: 'sdk-user',
    traits: { email: 'sdk@example.com', plan: 'pro' },
  });
  analytics.track({
    userId: 'sdk-user',
    event: 'Order Completed',
    properties: { revenue: 1980, currency: 'JPY' },
  });
  analytics.group({ userId: 'sdk-user', groupId: 'sdk-co', traits: { name: 'SDK Co' } });
  analytics.alias({ userId: 'sdk-user', previousId: 'sdk-legacy-id' });
  await analytics.closeAndFlush({ timeout: 10_000 });
  expect(errors).toEqual([]);

  const p = await get(`${s.url}/api/v1/profiles/lookup?email=sdk@example.com`, s.ws.adminKey);
  expect(p.body).toMatchObject({
    userId: 'sdk-user',
    eventCount: 6,
    traits: { plan: 'pro' },
    groups: ['sdk-co'],
  });
  const byAnon = await get(`${s.url}/api/v1/profiles/lookup?anonymousId=sdk-anon`, s.ws.adminKey);
  expect(byAnon.body['id']).toBe(p.body['id']);
  const evs = await get(`${s.url}/api/v1/profiles/${p.body['id'] as string}/events`, s.ws.adminKey);
  const msgs = (evs.body['events'] as { message: { context?: { library?: { name?: string } } } }[]).map(
    (e) => e.message,
  );
  // The SDK's own context (library name) arrived and was kept.
  expect(msgs.every((m) => m.context?.library?.name === '@segment/analytics-node')).toBe(true);
});
