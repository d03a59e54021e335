import { mkdtempSync, rmSync } from 'node:fs';
import { LtvService } from '../../src/engine/ltv.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../../src/domain/clock.js';
import { buildServer } from '../../src/http/server.js';
import { apiRoutesOf, type ApiRoute } from '../../src/http/access.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { createWorkspace, type NewWorkspace } from '../../src/workspace.js';
import { SegmentBuilder } from '../../src/engine/builder.js';
import { EngagementService } from '../../src/engine/engagement.js';
import { Sweeper } from '../../src/engine/sweeper.js';
import { JourneyRunner } from '../../src/engine/journeys/runner.js';
import { JourneyService } from '../../src/engine/journeys/service.js';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/channels/secret-box.js';
import { ChannelService } from '../../src/engine/delivery/channels.js';
import { Dispatcher } from '../../src/engine/delivery/dispatcher.js';
import { emailDriver, lineDriver, smsDriver, webhookDriver } from '../../src/engine/delivery/drivers.js';
import { pushDriver, webPushDriver } from '../../src/engine/delivery/push-drivers.js';
import { LinkSigner } from '../../src/channels/links.js';
import { TemplateService } from '../../src/engine/delivery/templates.js';
import { AbWinnerService } from '../../src/engine/journeys/ab-winner.js';

export const T0 = Date.UTC(2026, 10, 1, 9);

export interface TestServer {
  url: string;
  store: Store;
  clock: ManualClock;
  ws: NewWorkspace;
  other: NewWorkspace;
  /** segment builds run in the background: await `builder.idle()` before reading their results */
  builder: SegmentBuilder;
  /** time-based re-evaluation, driven by hand: `await sweeper.sweep(ws.id)` after moving the clock */
  sweeper: Sweeper;
  /** the journey runner, driven by hand: `await runner.runDue()` after moving the clock */
  runner: JourneyRunner;
  /** scheduled LTV refits, driven by hand: `await ltv.refitDue(logger)` after moving the clock */
  ltv: LtvService;
  /** A/B broadcasts' automatic winners, driven by hand: `await winners.runDue()` after moving the clock */
  winners: AbWinnerService;
  /** the dispatcher, driven by hand: `await dispatcher.runDue()` (retry jitter draws 0.5) */
  dispatcher: Dispatcher;
  channels: ChannelService;
  /** the SQLite file, for suites that check what is stored with a second, read-only connection */
  dbPath: string;
  /** every /api/v1 route the server registered (method and pattern), for the access suites */
  routes: readonly ApiRoute[];
  close(): Promise<void>;
}

/** A real Kizuna HTTP server on an ephemeral port over a real SQLite file, with two workspaces. */
export async function startTestServer(
  opts: {
    trustProxy?: boolean;
    secureCookies?: boolean;
    keyRateLimit?: { perSecond: number; burst: number };
  } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-http-'));
  const clock = new ManualClock(T0);
  const store = SqliteStore.open({ path: join(dir, 'kizuna.db'), clock });
  await store.migrate();
  const ws = await createWorkspace(store, 'shop');
  const other = await createWorkspace(store, 'other');
  const logger = pino({ level: 'silent' });
  const builder = new SegmentBuilder(store, clock, logger);
  const engagement = new EngagementService(store, clock, builder);
  const sweeper = new Sweeper(store, clock, logger, 60 * 60_000);
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const channels = new ChannelService(store, clock, box);
  // Links point at the server, whose address is known once it listens.
  let address = '';
  const links = new LinkSigner(key, () => address);
  const templates = new TemplateService(store, clock, links);
  const journeys = new JourneyService(store, clock, engagement, templates);
  const runner = new JourneyRunner(store, clock, logger, { worker: 'test', templates });
  const dispatcher = new Dispatcher(store, clock, logger, channels, {
    worker: 'test',
    drivers: {
      webhook: webhookDriver({ timeoutMs: 2000 }),
      email: emailDriver(links),
      sms: smsDriver(),
      line: lineDriver(),
      push: pushDriver(store),
      web_push: webPushDriver(store),
    },
    draw: () => 0.5,
  });
  const winners = new AbWinnerService(store, clock);
  const ltv = new LtvService(store, clock, engagement);
  const server = buildServer({
    store,
    clock,
    logger,
    winners,
    engagement,
    ltv,
    journeys,
    channels,
    dispatcher,
    templates,
    links,
    box,
    trustProxy: opts.trustProxy ?? false,
    secureCookies: opts.secureCookies ?? false,
    keyRateLimit: opts.keyRateLimit ?? null,
  });
  address = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    store,
    clock,
    ws,
    other,
    builder,
    sweeper,
    runner,
    ltv,
    winners,
    dispatcher,
    channels,
    dbPath: join(dir, 'kizuna.db'),
    routes: apiRoutesOf(server),
    async close() {
      await server.close();
      await dispatcher.stop();
      await builder.idle();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** POSTs JSON (or raw bytes) and returns status and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const raw = Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function get(
  url: string,
  adminKey?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers: adminKey ? { authorization: `Bearer ${adminKey}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The `issues` of an error response, as "field: rule" strings. */
export function issuesOf(body: Record<string, unknown>): string[] {
  const e = body['error'] as { issues?: { field: string; rule: string }[] } | undefined;
  return (e?.issues ?? []).map((i) => `${i.field}: ${i.rule}`);
}

/** Sends a JSON body with any method and the admin key; returns status and parsed body (null when empty). */
export async function send(
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET',
  url: string,
  adminKey: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/**
 * The calls most HTTP tests make, against the server `server()` returns (read at each call, so a
 * test file can bind it before `beforeAll` starts the server): admin GETs and writes with the first
 * workspace's admin key, batch ingestion with its write key, and Segment calls stamped with the
 * server's clock and fresh messageIds.
 */
export function client(server: () => TestServer) {
  let seq = 0;
  const at = () => new Date(server().clock.now()).toISOString();
  return {
    api: (path: string) => get(`${server().url}/api/v1${path}`, server().ws.adminKey),
    admin: (method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
      send(method, `${server().url}/api/v1${path}`, server().ws.adminKey, body),
    ingest: async (batch: unknown[]): Promise<void> => {
      const s = server();
      const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.ws.writeKey) });
      if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${JSON.stringify(r.body)}`);
    },
    identify: (userId: string, traits: Record<string, unknown>) => ({
      type: 'identify',
      userId,
      traits,
      messageId: `m-${++seq}`,
      timestamp: at(),
    }),
    track: (userId: string, event: string, properties: Record<string, unknown> = {}) => ({
      type: 'track',
      userId,
      event,
      properties,
      messageId: `m-${++seq}`,
      timestamp: at(),
    }),
    /** POSTs a raw body (a mail report, a CSV upload) with the admin key; returns status and parsed body. */
    postRaw: async (path: string, contentType: string, body: string) => {
      const s = server();
      const r = await fetch(`${s.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.ws.adminKey}`, 'content-type': contentType },
        body,
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
    /** Creates templates, failing the test on any refusal. */
    createTemplates: async (...templates: Record<string, unknown>[]): Promise<void> => {
      const s = server();
      for (const t of templates) {
        const r = await send('POST', `${s.url}/api/v1/templates`, s.ws.adminKey, t);
        if (r.status !== 201) throw new Error(`template ${String(t['name'])}: ${JSON.stringify(r.body)}`);
      }
    },
    /** Creates and publishes a journey that sends `template` on `channel` every time `event` happens. */
    sendJourney: async (
      j: { name: string; event: string; channel: string; template: string },
      step: Record<string, unknown> = {},
    ): Promise<string> => {
      const s = server();
      const created = await send('POST', `${s.url}/api/v1/journeys`, s.ws.adminKey, {
        name: j.name,
        trigger: { event: j.event },
        entry: { limit: 'every_time' },
        start: 'send',
        steps: {
          send: { type: 'send', channel: j.channel, template: j.template, next: 'done', ...step },
          done: { type: 'exit' },
        },
      });
      if (created.status !== 201) throw new Error(`journey: ${JSON.stringify(created.body)}`);
      const id = created.body['id'] as string;
      const published = await send('POST', `${s.url}/api/v1/journeys/${id}/publish`, s.ws.adminKey);
      if (published.status !== 200) throw new Error(`publish: ${JSON.stringify(published.body)}`);
      return id;
    },
    /** A customer's messages in time order (the newest last). */
    messagesOf: async (userId: string) => {
      const s = server();
      const lookup = await get(
        `${s.url}/api/v1/profiles/lookup?userId=${encodeURIComponent(userId)}`,
        s.ws.adminKey,
      );
      const id = (lookup.body as { id: string }).id;
      const r = await get(`${s.url}/api/v1/profiles/${id}/messages?limit=1000`, s.ws.adminKey);
      return r.body['messages'] as {
        key: string;
        template: string;
        channel: string;
        status: string;
        reason: string | null;
        attempts: number;
        nextAttemptAt: string | null;
        payload: unknown;
      }[];
    },
    profileId: async (userId: string): Promise<string> => {
      const r = await get(
        `${server().url}/api/v1/profiles/lookup?userId=${encodeURIComponent(userId)}`,
        server().ws.adminKey,
      );
      return (r.body as { id: string }).id;
    },
  };
}
