import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startTestServer, type TestServer } from '../http/harness.js';
import { chromiumUnavailable, launchChromium, type PageGlobals } from '../support/browser.js';

// The browser SDK in real headless Chromium: a static shop page, served from its own origin on
// loopback, loads the SDK with the documented snippet from the Kizuna server (another origin, so CORS
// is exercised) and what it sends is read back through the admin API.

const unavailable = chromiumUnavailable('the browser SDK suite');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'shop');

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<[Server, string]> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}
const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));

/** Polls `check` until it returns a value (or gives up after ten seconds). */
async function eventually<T>(check: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await check();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(unavailable !== null)('browser SDK in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let shop: Server;
  let shopUrl: string;

  beforeAll(async () => {
    s = await startTestServer();
    [shop, shopUrl] = await listen((req, res) => {
      const name = (req.url ?? '/').split('?')[0] === '/other.html' ? 'other.html' : 'index.html';
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(readFileSync(join(FIXTURES, name)));
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close(shop);
    await s.close();
  });

  /** Opens the shop page with the SDK pointed at `host`; records every request the page makes. */
  async function openShop(
    init: Record<string, unknown>,
    host = s.url,
  ): Promise<{ page: Page; requests: string[]; console: string[] }> {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const requests: string[] = [];
    const logs: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on('console', (m) => logs.push(m.text()));
    const q = new URLSearchParams({ host, init: JSON.stringify({ writeKey: s.ws.writeKey, ...init }) });
    await page.goto(`${shopUrl}/?${q.toString()}`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).kizuna?.loaded);
    return { page, requests, console: logs };
  }

  const anonymousIdOf = (page: Page) =>
    page.evaluate(() => (globalThis as unknown as PageGlobals).kizuna.anonymousId());

  const profile = async (query: string) => {
    const r = await get(`${s.url}/api/v1/profiles/lookup?${query}`, s.ws.adminKey);
    return r.status === 200 ? r.body : null;
  };
  const eventsOf = async (id: string) =>
    (await get(`${s.url}/api/v1/profiles/${id}/events`, s.ws.adminKey)).body['events'] as {
      type: string;
      name: string | null;
      message: { properties: Record<string, unknown>; context: Record<string, unknown> };
    }[];

  it('sends the page view and track calls of the shop page into the profile, with analytics.js context', async () => {
    const { page } = await openShop({ flushAt: 1 });
    await page.evaluate(() => {
      const k = (globalThis as unknown as PageGlobals).kizuna;
      k.track('Product Viewed', { sku: 'TEA-500', price: 1200 });
    });
    const anon = await anonymousIdOf(page);
    const p = await eventually(async () => {
      const b = await profile(`anonymousId=${anon}`);
      return b && (b['eventCount'] as number) >= 2 ? b : null;
    }, 'two events');
    const events = await eventsOf(p['id'] as string);
    const track = events.find((e) => e.type === 'track')!;
    expect(track).toMatchObject({
      name: 'Product Viewed',
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      message: { properties: { sku: 'TEA-500', price: 1200 } },
    });
    expect(track.message.context).toMatchObject({
      library: { name: 'kizuna.js' },
      page: { path: '/', title: 'Test Shop' },
    });
    expect(track.message.context['userAgent']).toMatch(/Chrome/);
    expect(events.find((e) => e.type === 'page')?.message.properties).toMatchObject({
      path: '/',
      title: 'Test Shop',
    });
    // The first-party anonymous id is in localStorage.
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem('kz_anon')),
    ).toBe(anon);
    await page.context().close();
  });

  it('identify joins the anonymous visitor and the known customer into one profile', async () => {
    const { page } = await openShop({ flushAt: 1 });
    const anon = await anonymousIdOf(page);
    await page.evaluate(() => {
      const k = (globalThis as unknown as PageGlobals).kizuna;
      k.track('Cart Viewed');
      k.identify('shopper-42', { email: 'shopper42@example.com' });
      k.track('Order Completed');
    });
    const known = await eventually(async () => {
      const b = await profile('userId=shopper-42');
      return b && (b['eventCount'] as number) >= 4 ? b : null;
    }, 'the known profile with all four events');
    expect(known).toMatchObject({ userId: 'shopper-42', traits: { email: 'shopper42@example.com' } });
    expect((await profile(`anonymousId=${anon}`))?.['id']).toBe(known['id']);
    // Persisted across page loads.
    await page.reload();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).kizuna?.loaded);
    expect(await anonymousIdOf(page)).toBe(anon);
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem('kz_user')),
    ).toBe('shopper-42');
    await page.context().close();
  });

  it('consent mode sends and stores nothing until consent(true), then sends what was held and what follows', async () => {
    const { page, requests } = await openShop({ flushAt: 1, consentRequired: true });
    const anon = await anonymousIdOf(page);
    await page.evaluate(() => {
      const k = (globalThis as unknown as PageGlobals).kizuna;
      k.track('Before Consent');
      k.identify('careful-customer');
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await profile(`anonymousId=${anon}`)).toBeNull();
    expect(await profile('userId=careful-customer')).toBeNull();
    const toKizuna = requests.filter((r) => r.includes(s.url));
    expect(toKizuna.filter((r) => !r.includes('/sdk/kizuna.js') && !r.includes('/v1/sdk/config'))).toEqual(
      [],
    );
    expect(
      await page.evaluate(() =>
        Object.keys((globalThis as unknown as PageGlobals).localStorage).filter((k) => k.startsWith('kz_')),
      ),
    ).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).toBe('');

    await page.evaluate(() => {
      const k = (globalThis as unknown as PageGlobals).kizuna;
      k.consent(true);
      k.track('After Consent');
    });
    const p = await eventually(async () => {
      const b = await profile('userId=careful-customer');
      return b && (b['eventCount'] as number) >= 4 ? b : null;
    }, 'the held and the later events');
    const names = (await eventsOf(p['id'] as string)).map((e) => `${e.type}:${e.name ?? ''}`).sort();
    expect(names).toEqual(['identify:', 'page:', 'track:After Consent', 'track:Before Consent']);
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem('kz_anon')),
    ).toBe(anon);
    await page.context().close();
  });

  it('records the banner choices per purpose in the consent ledger, before and with the tracking answer', async () => {
    const { page } = await openShop({ flushAt: 1, consentRequired: true });
    const anon = await anonymousIdOf(page);
    // A refusal is on record even though the visitor has not (yet) allowed tracking.
    const first = await page.evaluate(
      () =>
        (globalThis as unknown as PageGlobals).kizuna.consent({
          purposes: { profiling: false, email_marketing: true },
          textVersion: 'banner-v3',
        }) as Promise<boolean>,
    );
    expect(first).toBe(true);
    const p = (await profile(`anonymousId=${anon}`))!;
    const ledger = async () =>
      (await get(`${s.url}/api/v1/profiles/${p['id'] as string}/consents`, s.ws.adminKey)).body;
    expect((await ledger())['history']).toEqual([
      expect.objectContaining({
        purpose: 'profiling',
        status: 'withdrawn',
        source: 'sdk',
        method: 'banner',
        text_version: 'banner-v3',
      }),
      expect.objectContaining({
        purpose: 'email_marketing',
        status: 'granted',
        source: 'sdk',
        text_version: 'banner-v3',
      }),
    ]);
    expect(await eventsOf(p['id'] as string)).toHaveLength(1); // the Consent Updated record, nothing tracked

    // Changing one's mind, with the tracking answer: the ledger gets the grant, the held page view goes.
    const second = await page.evaluate(
      () =>
        (globalThis as unknown as PageGlobals).kizuna.consent({
          purposes: { profiling: true },
          tracking: true,
        }) as Promise<boolean>,
    );
    expect(second).toBe(true);
    const consents = (await ledger())['consents'] as { purpose: string; status: string | null }[];
    expect(consents.find((c) => c.purpose === 'profiling')?.status).toBe('granted');
    await eventually(async () => {
      const names = (await eventsOf(p['id'] as string)).map((e) => `${e.type}:${e.name ?? ''}`);
      return names.includes('page:') ? names : null;
    }, 'the held page view');
    // Wrong shapes are refused in the page, never thrown.
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as PageGlobals).kizuna.consent({
            purposes: { profiling: 'yes' },
          }) as Promise<boolean>,
      ),
    ).toBe(false);
    await page.context().close();
  });

  it('hands queued events to sendBeacon when the page is left, writeKey in the body', async () => {
    const { page } = await openShop({ flushAt: 100, flushInterval: 600_000 });
    const anon = await anonymousIdOf(page);
    // The page view, held until the workspace's config answered, is sent then; this one waits.
    await eventually(() => profile(`anonymousId=${anon}`), 'the page view');
    await page.evaluate(() => {
      const k = (globalThis as unknown as PageGlobals).kizuna;
      k.track('Left The Page');
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await profile(`anonymousId=${anon}`))?.['eventCount']).toBe(1);
    await page.goto(`${shopUrl}/other.html`);
    const p = await eventually(async () => {
      const b = await profile(`anonymousId=${anon}`);
      return b && (b['eventCount'] as number) >= 2 ? b : null;
    }, 'the beaconed events');
    const names = (await eventsOf(p['id'] as string)).map((e) => e.name);
    expect(names).toContain('Left The Page');
    await page.context().close();
  });

  it('never throws into the page: wrong arguments are reported once per kind', async () => {
    const { page, console: logs } = await openShop({ flushAt: 1 });
    const threw = await page.evaluate(() => {
      const k = (globalThis as unknown as PageGlobals).kizuna as unknown as Record<
        string,
        (...a: unknown[]) => unknown
      >;
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      try {
        k['track']!();
        k['track']!(42);
        k['track']!('Ok', cyclic);
        k['identify']!({ nested: cyclic });
        k['page']!(1, 2, 3);
        k['consent']!('yes');
        k['alias']!(null);
        return false;
      } catch {
        return true;
      }
    });
    expect(threw).toBe(false);
    const warned = logs.filter((l) => l.startsWith('[kizuna]'));
    expect(warned.filter((l) => l.includes('track(event, properties): event must be'))).toHaveLength(1);
    expect(warned.some((l) => l.includes('JSON-serialisable'))).toBe(true);
    expect(warned.some((l) => l.includes('consent takes true or false'))).toBe(true);
    await page.context().close();
  });
});
