import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../src/channels/network.js';
import { WebhookProvider, type WebhookMessage } from '../../src/channels/webhook/webhook.js';
import { retryDelay } from '../../src/domain/delivery.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP endpoint on loopback whose answer each test chooses. */
let server: Server;
let base: string;
const received: Received[] = [];
let answer: (res: ServerResponse) => void = (res) => res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const NOW = Date.UTC(2026, 10, 30, 12);
const message = (over: Partial<WebhookMessage> = {}): WebhookMessage => ({
  url: `${base}/hooks/kizuna`,
  body: { event: 'journey.step', customer: 'p_1', text: 'こんにちは' },
  key: 'je_1:call:3',
  secret: 'whsec_test',
  allowPrivateNetwork: true,
  now: NOW,
  ...over,
});

describe('webhook provider against a real HTTP server', () => {
  it('delivers the JSON body with an idempotency key and a signature the receiver can verify', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(204).end();
    expect(await new WebhookProvider().send(message())).toEqual({ ok: true, status: 204 });
    const [r] = received;
    expect(JSON.parse(r!.body)).toEqual({ event: 'journey.step', customer: 'p_1', text: 'こんにちは' });
    expect(r!.headers['x-kizuna-key']).toBe('je_1:call:3');
    const ts = r!.headers['x-kizuna-timestamp'] as string;
    expect(ts).toBe(String(NOW / 1000));
    const expected = createHmac('sha256', 'whsec_test').update(`${ts}.${r!.body}`).digest('hex');
    expect(r!.headers['x-kizuna-signature']).toBe(`v1=${expected}`);
  });

  it('refuses private and loopback addresses unless the workspace allows them, sending nothing', async () => {
    received.length = 0;
    const r = await new WebhookProvider().send(message({ allowPrivateNetwork: false }));
    expect(r).toEqual({
      ok: false,
      retryable: false,
      reason: expect.stringMatching(
        /^blocked: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a private or loopback address/,
      ) as string,
    });
    // A public-looking name that resolves inside is refused too (checked after resolution).
    const sneaky = new WebhookProvider({
      resolve: () => Promise.resolve([{ address: '10.1.2.3', family: 4 }]),
    });
    expect(
      await sneaky.send(message({ url: 'http://hooks.example.com/x', allowPrivateNetwork: false })),
    ).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(received).toEqual([]);
  });

  it('connects to the address it checked, whatever the name resolves to later', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(200).end('ok');
    // "hooks.example.com" is resolved once, to loopback here; the request goes there and carries the name.
    const p = new WebhookProvider({ resolve: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) });
    const port = new URL(base).port;
    expect(await p.send(message({ url: `http://hooks.example.com:${port}/x` }))).toEqual({
      ok: true,
      status: 200,
    });
    expect(received[0]!.headers.host).toBe(`hooks.example.com:${port}`);
  });

  it('tells retryable failures (5xx, 429, timeouts, refused connections) from final ones (4xx, bad URLs)', async () => {
    const p = new WebhookProvider({ timeoutMs: 200 });
    answer = (res) => res.writeHead(503).end();
    expect(await p.send(message())).toEqual({
      ok: false,
      retryable: true,
      reason: 'the endpoint answered 503',
    });
    answer = (res) => res.writeHead(429).end();
    expect(await p.send(message())).toMatchObject({ ok: false, retryable: true });
    answer = (res) => res.writeHead(410).end();
    expect(await p.send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: 'the endpoint answered 410',
    });
    answer = () => undefined; // never answers
    expect(await p.send(message())).toEqual({
      ok: false,
      retryable: true,
      reason: 'no answer within 200 ms',
    });
    expect(await p.send(message({ url: 'http://127.0.0.1:1/' }))).toMatchObject({
      ok: false,
      retryable: true,
    });
    expect(await p.send(message({ url: 'ftp://example.com/x' }))).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(await p.send(message({ url: 'not a url' }))).toMatchObject({ ok: false, retryable: false });
  });
});

describe('outbound address policy', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.0.0.5', true],
    ['172.16.9.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['2606:4700:4700::1111', false],
    ['not-an-ip', true],
  ])('%s is private: %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe('retry backoff', () => {
  it('grows exponentially under its cap, with jitter, and gives up after the last attempt', () => {
    const b = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 10 };
    expect(retryDelay(1, 0.999999, b)).toBe(29_999);
    expect(retryDelay(3, 0.5, b)).toBe(60_000);
    expect(retryDelay(9, 0.999999, b)).toBe(3_599_996);
    expect(retryDelay(2, 0, b)).toBe(1000);
    expect(retryDelay(10, 0.5, b)).toBeNull();
  });
});
