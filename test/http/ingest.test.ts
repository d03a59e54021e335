import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, get, issuesOf, post, startTestServer, T0, type TestServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

const track = (extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'u-1',
  ...extra,
});
const lookup = (q: string) => get(`${s.url}/api/v1/profiles/lookup?${q}`, s.ws.adminKey);
const eventCount = async (q: string) => ((await lookup(q)).body['eventCount'] as number | undefined) ?? 0;

describe('Segment-compatible ingestion over HTTP', () => {
  it('accepts every call type with the write key as Basic user name, and the profile reads back', async () => {
    const h = { authorization: basic(s.ws.writeKey) };
    const calls: [string, Record<string, unknown>][] = [
      ['identify', { userId: 'alice', traits: { email: 'Alice@Example.com', name: 'Alice' } }],
      ['track', { userId: 'alice', event: 'Signed Up', properties: { plan: 'pro' } }],
      ['page', { userId: 'alice', name: 'Pricing', properties: { path: '/pricing' } }],
      ['screen', { userId: 'alice', name: 'Home' }],
      ['group', { userId: 'alice', groupId: 'acme', traits: { name: 'Acme Inc' } }],
      ['alias', { userId: 'alice', previousId: 'alice-old' }],
    ];
    for (const [type, body] of calls) {
      const r = await post(`${s.url}/v1/${type}`, body, h);
      expect(r, type).toMatchObject({ status: 200, body: { success: true, stored: 1 } });
    }
    const p = await lookup('email=alice@example.com');
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({
      userId: 'alice',
      eventCount: 6,
      traits: { email: 'Alice@Example.com', name: 'Alice' },
      groups: ['acme'],
    });
    expect(await get(`${s.url}/api/v1/groups/acme`, s.ws.adminKey)).toMatchObject({
      status: 200,
      body: { memberCount: 1, traits: { name: 'Acme Inc' } },
    });
  });

  it('accepts the write key in the body and never stores it', async () => {
    const r = await post(
      `${s.url}/v1/track`,
      track({ userId: 'bodykey', writeKey: s.ws.writeKey, messageId: 'bk-1' }),
    );
    expect(r.status).toBe(200);
    const p = await lookup('userId=bodykey');
    const evs = await get(`${s.url}/api/v1/profiles/${p.body['id'] as string}/events`, s.ws.adminKey);
    const msg = (evs.body['events'] as { message: Record<string, unknown> }[])[0]!.message;
    expect(msg['messageId']).toBe('bk-1');
    expect(msg).not.toHaveProperty('writeKey');
  });

  it('merges an anonymous visitor into the customer when a batch identifies them', async () => {
    const r = await post(
      `${s.url}/v1/batch`,
      {
        batch: [
          { type: 'page', anonymousId: 'anon-7', name: 'Home' },
          { type: 'track', anonymousId: 'anon-7', event: 'Product Viewed', properties: { sku: 'X1' } },
          { type: 'identify', anonymousId: 'anon-7', userId: 'bob', traits: { plan: 'free' } },
          { type: 'track', userId: 'bob', event: 'Order Completed', properties: { revenue: 1200 } },
        ],
      },
      { authorization: basic(s.ws.writeKey) },
    );
    expect(r).toMatchObject({ status: 200, body: { stored: 4 } });
    const byAnon = await lookup('anonymousId=anon-7');
    expect(byAnon.body).toMatchObject({ userId: 'bob', eventCount: 4 });
    expect((await lookup('userId=bob')).body['id']).toBe(byAnon.body['id']);
  });

  it('stores nothing twice when a batch is retried (messageId de-duplication)', async () => {
    const body = { batch: [1, 2, 3].map((i) => track({ userId: 'retry', messageId: `retry-${i}` })) };
    const h = { authorization: basic(s.ws.writeKey) };
    expect((await post(`${s.url}/v1/batch`, body, h)).body).toMatchObject({ stored: 3, duplicates: 0 });
    expect((await post(`${s.url}/v1/batch`, body, h)).body).toMatchObject({ stored: 0, duplicates: 3 });
    expect(await eventCount('userId=retry')).toBe(3);
  });

  it('accepts gzip bodies and refuses a gzip bomb with a 400', async () => {
    const h = { authorization: basic(s.ws.writeKey), 'content-encoding': 'gzip' };
    const ok = await post(
      `${s.url}/v1/batch`,
      gzipSync(JSON.stringify({ batch: [track({ userId: 'gz' })] })),
      h,
    );
    expect(ok.status).toBe(200);
    expect(await eventCount('userId=gz')).toBe(1);
    const bomb = gzipSync(
      JSON.stringify({ batch: [track({ userId: 'gz', properties: { pad: 'a'.repeat(2_000_000) } })] }),
    );
    expect(bomb.length).toBeLessThan(10_000);
    const r = await post(`${s.url}/v1/batch`, bomb, h);
    expect(r.status).toBe(400);
    expect(issuesOf(r.body)[0]).toMatch(/^body: must be at most 500 KB/);
    const junk = await post(`${s.url}/v1/batch`, Buffer.from('not gzip at all'), h);
    expect(junk.status).toBe(400);
    expect(issuesOf(junk.body)[0]).toMatch(/^body: is not valid gzip/);
    expect(await eventCount('userId=gz')).toBe(1);
  });

  it('corrects a device clock from sentAt and originalTimestamp, and trusts an explicit timestamp', async () => {
    // The device clock is 1 hour fast; it made the call 10 s before it sent it.
    const devNow = T0 + 3_600_000;
    await post(
      `${s.url}/v1/batch`,
      {
        sentAt: new Date(devNow).toISOString(),
        batch: [
          track({
            userId: 'skew',
            messageId: 'skew-1',
            originalTimestamp: new Date(devNow - 10_000).toISOString(),
          }),
          track({ userId: 'skew', messageId: 'skew-2', timestamp: '2026-10-01T00:00:00+09:00' }),
        ],
        context: { library: { name: 'batch-lib' } },
        integrations: { All: false, Mixpanel: true },
      },
      { authorization: basic(s.ws.writeKey) },
    );
    const p = await lookup('userId=skew');
    const evs = (await get(`${s.url}/api/v1/profiles/${p.body['id'] as string}/events`, s.ws.adminKey)).body[
      'events'
    ] as {
      messageId: string;
      timestamp: string;
      receivedAt: string;
      message: { context: Record<string, unknown> };
    }[];
    const byId = Object.fromEntries(evs.map((e) => [e.messageId, e]));
    expect(byId['skew-1']!.timestamp).toBe(new Date(T0 - 10_000).toISOString());
    expect(byId['skew-1']!.receivedAt).toBe(new Date(T0).toISOString());
    expect(byId['skew-2']!.timestamp).toBe('2026-09-30T15:00:00.000Z');
    expect(byId['skew-1']!.message.context).toMatchObject({
      library: { name: 'batch-lib' },
      ip: '127.0.0.1',
    });
  });

  it('keeps unicode intact', async () => {
    const traits = { name: '山田 太郎', emoji: '🍣🎌', rtl: 'مرحبا', combining: 'é' };
    expect(
      (
        await post(
          `${s.url}/v1/identify`,
          { userId: 'ユーザー1', traits },
          { authorization: basic(s.ws.writeKey) },
        )
      ).status,
    ).toBe(200);
    expect((await lookup(`userId=${encodeURIComponent('ユーザー1')}`)).body['traits']).toEqual(traits);
  });
});

describe('authentication', () => {
  it('refuses a missing, unknown or admin key for ingestion, and a write key for the admin API', async () => {
    const missing = await post(`${s.url}/v1/track`, track());
    expect(missing.status).toBe(401);
    expect((missing.body['error'] as { message: string }).message).toMatch(/missing write key/);
    expect((await post(`${s.url}/v1/track`, track(), { authorization: basic('wk_nope') })).status).toBe(401);
    const admin = await post(`${s.url}/v1/track`, track(), { authorization: basic(s.ws.adminKey) });
    expect(admin.status).toBe(401);
    expect((admin.body['error'] as { message: string }).message).toMatch(
      /needs a write key, not an admin key/,
    );
    expect((await get(`${s.url}/api/v1/profiles/lookup?userId=alice`, s.ws.writeKey)).status).toBe(401);
    expect((await get(`${s.url}/api/v1/profiles/lookup?userId=alice`)).status).toBe(401);
  });

  it('keeps workspaces apart', async () => {
    await post(`${s.url}/v1/track`, track({ userId: 'shared-id', messageId: 'iso-1' }), {
      authorization: basic(s.other.writeKey),
    });
    const mine = await lookup('userId=shared-id');
    expect(mine.status).toBe(404);
    const theirs = await get(`${s.url}/api/v1/profiles/lookup?userId=shared-id`, s.other.adminKey);
    expect(theirs.body).toMatchObject({ eventCount: 1 });
    expect((await get(`${s.url}/api/v1/profiles/${theirs.body['id'] as string}`, s.ws.adminKey)).status).toBe(
      404,
    );
  });
});

describe('bad input: a 400 naming the field and the rule, nothing stored, the server keeps serving', () => {
  const h = () => ({ authorization: basic(s.ws.writeKey) });
  const cases: [string, string, unknown, RegExp][] = [
    ['malformed JSON', 'track', '{"userId": "x", ', /^body: is not valid JSON/],
    ['a JSON array body', 'track', [1, 2], /^body: must be a JSON object/],
    [
      'userId of the wrong type',
      'track',
      { userId: { a: 1 }, event: 'E' },
      /^userId: must be a string or a number/,
    ],
    [
      'no userId or anonymousId',
      'track',
      { event: 'E' },
      /^userId: a message needs a userId or an anonymousId/,
    ],
    ['track without an event name', 'track', { userId: 'x' }, /^event: is required for track/],
    [
      'properties that are not an object',
      'track',
      { userId: 'x', event: 'E', properties: 'big' },
      /^properties: must be a JSON object/,
    ],
    ['group without groupId', 'group', { userId: 'x' }, /^groupId: is required for group/],
    ['alias without previousId', 'alias', { userId: 'x' }, /^previousId: is required for alias/],
    [
      'an invalid date',
      'track',
      { userId: 'x', event: 'E', timestamp: 'yesterday' },
      /^timestamp: must be an ISO 8601/,
    ],
    [
      'an impossible date',
      'track',
      { userId: 'x', event: 'E', timestamp: '2026-02-30T10:00:00Z' },
      /^timestamp: must be an ISO 8601/,
    ],
    [
      'a NUL byte in a property',
      'track',
      { userId: 'x', event: 'E', properties: { note: 'a\u0000b' } },
      /^body\.properties\.note: must not contain a NUL/,
    ],
    [
      'a lone surrogate',
      'identify',
      { userId: 'x', traits: { name: 'bad \ud800' } },
      /^body\.traits\.name: must be valid Unicode/,
    ],
    [
      'a NUL byte in a key',
      'track',
      { userId: 'x', event: 'E', properties: { 'a\u0000': 1 } },
      /^body\.properties\.a.: key must not contain a NUL/,
    ],
    ['an empty batch', 'batch', { batch: [] }, /^batch: must contain at least one message/],
    [
      'a batch that is not an array',
      'batch',
      { batch: { type: 'track' } },
      /^batch: is required and must be an array/,
    ],
    ['an empty body', 'track', '', /^body: must not be empty/],
  ];
  for (const [what, endpoint, body, rule] of cases) {
    it(`refuses ${what}`, async () => {
      const r = await post(`${s.url}/v1/${endpoint}`, body, h());
      expect(r.status).toBe(400);
      expect(r.body['error']).toMatchObject({ code: 'invalid_request' });
      expect(
        issuesOf(r.body).some((i) => rule.test(i)),
        issuesOf(r.body).join(' | '),
      ).toBe(true);
    });
  }

  it('refuses properties nested deeper than 32 levels', async () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const r = await post(`${s.url}/v1/track`, { userId: 'x', event: 'E', properties: deep }, h());
    expect(r.status).toBe(400);
    expect(issuesOf(r.body)[0]).toMatch(/nests deeper than 32 levels/);
  });

  it('rejects a whole batch with one unknown type and stores none of it', async () => {
    const r = await post(
      `${s.url}/v1/batch`,
      {
        batch: [
          track({ userId: 'half', messageId: 'half-1' }),
          { type: 'purchase', userId: 'half' },
          track({ userId: 'half', messageId: 'half-3' }),
        ],
      },
      h(),
    );
    expect(r.status).toBe(400);
    expect(issuesOf(r.body)[0]).toMatch(
      /^batch\[1\]\.type: must be one of identify, track, page, screen, group, alias/,
    );
    expect((await lookup('userId=half')).status).toBe(404);
  });

  it('refuses a message over 32 KB and a batch over 500 KB, naming the limit', async () => {
    const big = await post(
      `${s.url}/v1/track`,
      track({ userId: 'big', properties: { pad: 'x'.repeat(33 * 1024) } }),
      h(),
    );
    expect(big.status).toBe(400);
    expect(issuesOf(big.body)[0]).toMatch(/^body: a message must be at most 32 KB/);
    const inBatch = await post(
      `${s.url}/v1/batch`,
      {
        batch: [
          track({ userId: 'big' }),
          track({ userId: 'big', properties: { pad: 'x'.repeat(33 * 1024) } }),
        ],
      },
      h(),
    );
    expect(issuesOf(inBatch.body)[0]).toMatch(/^batch\[1\]: a message must be at most 32 KB/);
    const batch = Array.from({ length: 30 }, () =>
      track({ userId: 'big', properties: { pad: 'x'.repeat(20 * 1024) } }),
    );
    const huge = await post(`${s.url}/v1/batch`, { batch }, h());
    expect(huge.status).toBe(400);
    expect(issuesOf(huge.body)[0]).toMatch(/^body: must be at most 500 KB/);
    const enormous = await post(
      `${s.url}/v1/batch`,
      { batch: [track({ properties: { pad: 'x'.repeat(6 * 1024 * 1024) } })] },
      h(),
    );
    expect(enormous.status).toBe(400);
    expect((await lookup('userId=big')).status).toBe(404);
  });

  it('is still serving after all of that', async () => {
    expect(await get(`${s.url}/healthz`)).toEqual({ status: 200, body: { ok: true } });
    expect((await post(`${s.url}/v1/track`, track({ userId: 'after' }), h())).status).toBe(200);
  });
});
