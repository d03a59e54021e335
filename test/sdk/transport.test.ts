import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Timers } from '../../sdk/src/clock.js';
import { memoryKV, type KV } from '../../sdk/src/kv.js';
import { Transport, type Message, type TransportOptions } from '../../sdk/src/transport.js';

// The SDK's transport, run in Node against a real HTTP server on loopback that can be up, answer
// 503, drop connections or refuse bad batches. Time moves by hand (no sleeping): the server records
// at what (fake) time each request arrived.

class FakeTimers implements Timers {
  t = 1_000_000;
  private seq = 0;
  private tasks: { id: number; at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.tasks.push({ id, at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.tasks = this.tasks.filter((x) => x.id !== h);
  }
  /** Moves time forward, running each timer when its moment comes (and letting its request finish). */
  async advance(ms: number, transport: Transport): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = this.tasks.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.tasks = this.tasks.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
      await transport.idle();
    }
    this.t = end;
  }
}

type Mode = 'up' | 'down' | 'drop';
let server: Server;
let url: string;
let mode: Mode = 'up';
let clock: FakeTimers;
let received: Message[] = [];
let requests: { at: number; status: number; size: number; writeKey: unknown }[] = [];
const reject = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (mode === 'drop') {
        req.socket.destroy();
        requests.push({ at: clock.now(), status: 0, size: 0, writeKey: null });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        batch: Message[];
        writeKey: unknown;
      };
      const bad = body.batch.some((m) => reject.has(m.messageId));
      const status = mode === 'down' ? 503 : bad ? 400 : 200;
      requests.push({ at: clock.now(), status, size: body.batch.length, writeKey: body.writeKey });
      if (status === 200) received.push(...body.batch);
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/batch`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  mode = 'up';
  clock = new FakeTimers();
  received = [];
  requests = [];
  reject.clear();
});

const send = async (u: string, body: string) =>
  (await fetch(u, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })).status;

function transport(store: KV, warnings: string[] = [], extra: Partial<TransportOptions> = {}): Transport {
  return new Transport({
    url,
    writeKey: 'wk_test',
    send,
    timers: clock,
    store,
    enabled: true,
    flushAt: 20,
    flushInterval: 10_000,
    random: () => 1,
    warn: (kind, message) => warnings.push(`${kind}: ${message}`),
    ...extra,
  });
}

let n = 0;
const msg = (event = 'Viewed'): Message => ({
  type: 'track',
  messageId: `m-${++n}`,
  event,
  anonymousId: 'anon-1',
  properties: { n },
});

describe('SDK transport: batching', () => {
  it('sends a batch once flushAt messages are queued, with the write key in the body', async () => {
    const t = transport(memoryKV());
    for (let i = 0; i < 20; i++) t.enqueue(msg());
    await t.idle();
    expect(requests).toEqual([{ at: clock.t, status: 200, size: 20, writeKey: 'wk_test' }]);
    expect(t.size()).toBe(0);
  });

  it('sends fewer after flushInterval, counted from the first queued message', async () => {
    const t = transport(memoryKV());
    t.enqueue(msg());
    await clock.advance(5_000, t);
    t.enqueue(msg());
    await clock.advance(4_999, t);
    expect(requests).toHaveLength(0);
    await clock.advance(1, t);
    expect(requests.map((r) => r.size)).toEqual([2]);
  });
});

describe('SDK transport: a down server', () => {
  it('backs off exponentially (1 s, 2 s, 4 s … capped at 60 s) and loses nothing once it is back', async () => {
    const store = memoryKV();
    const t = transport(store);
    mode = 'down';
    const start = clock.t;
    const sent: Message[] = [];
    for (let i = 0; i < 45; i++) {
      const m = msg();
      sent.push(m);
      t.enqueue(m);
    }
    await t.idle();
    await clock.advance(200_000, t);
    const gaps = requests.slice(1).map((r, i) => r.at - requests[i]!.at);
    expect(gaps.slice(0, 8)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(requests[0]!.at).toBe(start);
    // Everything waits in the retry buffer in storage meanwhile.
    const key = store.keys().find((k) => k.startsWith('kz_q:'))!;
    expect((JSON.parse(store.get(key)!) as { q: Message[] }).q).toHaveLength(45);

    mode = 'up';
    await clock.advance(60_000, t);
    expect(received.map((m) => m.messageId)).toEqual(sent.map((m) => m.messageId));
    expect(t.size()).toBe(0);
    expect(store.keys().filter((k) => k.startsWith('kz_q:'))).toEqual([]);
  });

  it('treats dropped connections like a down server', async () => {
    const t = transport(memoryKV());
    mode = 'drop';
    for (let i = 0; i < 20; i++) t.enqueue(msg());
    await t.idle();
    await clock.advance(3_000, t);
    expect(requests.map((r) => r.status)).toEqual([0, 0, 0]);
    mode = 'up';
    await clock.advance(4_000, t);
    expect(received).toHaveLength(20);
  });

  it('a page closed while the server was down leaves its buffer to the next page, which sends it', async () => {
    const store = memoryKV();
    const first = transport(store, [], { id: 'page-1' });
    mode = 'down';
    const sent = Array.from({ length: 20 }, () => msg());
    for (const m of sent) first.enqueue(m);
    await first.idle();
    first.orphan(); // pagehide
    mode = 'up';
    const second = transport(store, [], { id: 'page-2' });
    second.enqueue(msg('Next Page'));
    await clock.advance(10_000, second);
    expect(received.map((m) => m.messageId)).toEqual([...sent.map((m) => m.messageId), `m-${n}`]);
  });

  it('bounds the retry buffer: past maxBuffer the oldest messages are dropped, and it says so', async () => {
    const warnings: string[] = [];
    const t = transport(memoryKV(), warnings, { maxBuffer: 10, flushAt: 100 });
    mode = 'down';
    const sent = Array.from({ length: 15 }, () => msg());
    t.enqueue(sent[0]!);
    await clock.advance(10_000, t); // the first send fails; a backoff starts
    for (const m of sent.slice(1)) t.enqueue(m);
    expect(t.size()).toBe(10);
    expect(t.dropped).toBe(5);
    expect(warnings.at(-1)).toBe(
      'buffer_full: the retry buffer holds 10 messages: dropped the oldest (5 so far)',
    );
    mode = 'up';
    await clock.advance(60_000, t);
    expect(received.map((m) => m.messageId)).toEqual(sent.slice(5).map((m) => m.messageId));
  });
});

describe('SDK transport: refused messages', () => {
  it('halves a refused batch until the bad message is alone, drops only it, and says so', async () => {
    const warnings: string[] = [];
    const t = transport(memoryKV(), warnings);
    const sent = Array.from({ length: 20 }, () => msg());
    reject.add(sent[13]!.messageId);
    for (const m of sent) t.enqueue(m);
    await t.idle();
    expect(received.map((m) => m.messageId).sort()).toEqual(
      sent
        .filter((_, i) => i !== 13)
        .map((m) => m.messageId)
        .sort(),
    );
    expect(warnings).toEqual(['rejected: the server refused a track message (HTTP 400): dropped']);
  });

  it('drops a message larger than the server takes, at once', () => {
    const warnings: string[] = [];
    const t = transport(memoryKV(), warnings);
    t.enqueue({ ...msg(), properties: { blob: 'x'.repeat(40_000) } });
    expect(t.size()).toBe(0);
    expect(warnings[0]).toMatch(/^too_large: a track message of \d+ bytes exceeds 32768: dropped$/);
  });
});

describe('SDK transport: consent and beacons', () => {
  it('holds messages in memory only while disabled, and sends them once enabled', async () => {
    const store = memoryKV();
    const t = transport(memoryKV(), [], { enabled: false });
    for (let i = 0; i < 25; i++) t.enqueue(msg());
    await clock.advance(60_000, t);
    expect(requests).toHaveLength(0);
    expect(store.keys()).toEqual([]);
    t.setEnabled(true, store);
    await t.idle();
    expect(received).toHaveLength(25);
  });

  it('hands the queue to the beacon in chunks under 64 KB; what it took leaves the buffer', () => {
    const beacons: { url: string; body: { writeKey: string; batch: Message[] } }[] = [];
    const t = transport(memoryKV(), [], {
      flushAt: 1000,
      beacon: (u, body) => {
        beacons.push({ url: u, body: JSON.parse(body) as { writeKey: string; batch: Message[] } });
        return true;
      },
    });
    for (let i = 0; i < 300; i++) t.enqueue({ ...msg(), properties: { pad: 'p'.repeat(500) } });
    t.beacon();
    expect(t.size()).toBe(0);
    expect(beacons.length).toBeGreaterThan(1);
    expect(beacons.every((b) => b.url === url && b.body.writeKey === 'wk_test')).toBe(true);
    expect(beacons.every((b) => Buffer.byteLength(JSON.stringify(b.body)) < 64 * 1024)).toBe(true);
    expect(beacons.flatMap((b) => b.body.batch)).toHaveLength(300);
  });

  it('keeps what the beacon refused', () => {
    const t = transport(memoryKV(), [], { flushAt: 1000, beacon: () => false });
    for (let i = 0; i < 3; i++) t.enqueue(msg());
    t.beacon();
    expect(t.size()).toBe(3);
  });
});
