import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium, type PageGlobals } from '../support/browser.js';

// The SDK's renderer in real Chromium, fed hostile answers the real server would never produce (script
// in custom HTML, markup in text fields, javascript: links, hostile host CSS) by a fixture server that
// answers /v1/messages and /v1/cards with exactly those. The server-side path, targeting and
// recording, runs end to end in inapp-e2e.test.ts.

const unavailable = chromiumUnavailable('the in-app message rendering suite');
const ROOT = join(import.meta.dirname, '..', '..');

/** The service-worker API the page side of the push test uses (the root tsconfig has no DOM lib). */
interface SwGlobals {
  navigator: {
    serviceWorker: {
      register(path: string): Promise<unknown>;
      ready: Promise<{ getNotifications(): Promise<{ title: string; body: string; tag: string }[]> }>;
    };
  };
}

interface Recorded {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
}

describe.skipIf(unavailable !== null)('in-app rendering in Chromium, against hostile answers', () => {
  let browser: Browser;
  let standIn: Server;
  let host: string;
  let shop: Server;
  let shopUrl: string;
  let answer: { messages: unknown[]; cards: unknown[] };
  let recorded: Recorded[];

  beforeAll(async () => {
    standIn = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0]!;
        const text = Buffer.concat(chunks).toString('utf8');
        recorded.push({
          method: req.method ?? '',
          path,
          body: text ? (JSON.parse(text) as Recorded['body']) : null,
        });
        const json = (status: number, body: unknown) =>
          res
            .writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
            .end(JSON.stringify(body));
        if (path === '/sdk/kizuna.js') {
          res
            .writeHead(200, { 'content-type': 'text/javascript' })
            .end(readFileSync(join(ROOT, 'dist', 'sdk', 'kizuna.js')));
        } else if (path === '/v1/sdk/config')
          json(200, { consentRequired: false, vapidPublicKey: null, identityVerification: false });
        else if (path === '/v1/messages') json(200, answer);
        else if (path === '/v1/cards') json(200, { cards: answer.cards });
        else if (path === '/v1/batch') json(200, { success: true });
        else json(202, { ok: true });
      });
    });
    await new Promise<void>((r) => standIn.listen(0, '127.0.0.1', r));
    host = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
    shop = createServer((req, res) => {
      // The service worker must come from the site's own origin, as a site would copy it there.
      if ((req.url ?? '/').startsWith('/kizuna-sw.js')) {
        res
          .writeHead(200, { 'content-type': 'text/javascript' })
          .end(readFileSync(join(ROOT, 'dist', 'sdk', 'kizuna-sw.js')));
        return;
      }
      const name = (req.url ?? '/').startsWith('/other.html') ? 'other.html' : 'index.html';
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(readFileSync(join(ROOT, 'test', 'fixtures', 'shop', name)));
    });
    await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
    shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => standIn.close(() => r()));
    await new Promise<void>((r) => shop.close(() => r()));
  });
  beforeEach(() => {
    recorded = [];
    answer = { messages: [], cards: [] };
  });

  /** The shop page with the SDK; `clock` installs Playwright's fake timers first, moved by the test. */
  async function open(opts: { clock?: boolean } = {}): Promise<{ page: Page; logs: string[] }> {
    const page = await (await browser.newContext()).newPage();
    if (opts.clock) await page.clock.install({ time: Date.UTC(2026, 11, 1, 9) });
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    const q = new URLSearchParams({ host, init: JSON.stringify({ writeKey: 'wk_standin', flushAt: 1 }) });
    await page.goto(`${shopUrl}/?${q.toString()}`);
    return { page, logs };
  }
  const events = (type: string) =>
    recorded.filter(
      (r) => r.method === 'POST' && r.path.startsWith('/v1/messages/') && r.body?.['type'] === type,
    );
  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  }

  it('custom HTML runs in a sandboxed iframe and cannot run script in the host page', async () => {
    answer.messages = [
      {
        id: 'msg_html',
        variant: 'a',
        type: 'html',
        priority: 1,
        trigger: { kind: 'page', urlPattern: '/*' },
        position: null,
        content: {
          title: 'Offer',
          html:
            '<p id="hello">Hello from HTML</p>' +
            '<script>top.pwned = 1; parent.document.title = "pwned";</script>' +
            '<img src="x" onerror="top.pwned = 2">',
        },
      },
    ];
    const { page, logs } = await open();
    const frame = page.locator('[data-kizuna-message] iframe');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('allow-popups allow-popups-to-escape-sandbox');
    expect(await frame.getAttribute('srcdoc')).toMatch(
      /^<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src https: data:; style-src 'unsafe-inline'">/,
    );
    // The frame's document loads after the iframe element appears; the frame locator waits for it.
    const hello = page.frameLocator('[data-kizuna-message] iframe').locator('#hello');
    expect(await hello.textContent()).toBe('Hello from HTML');
    await until(
      () => logs.some((l) => /Blocked script execution in 'about:srcdoc'/.test(l)),
      'the blocked-script report',
    );
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).pwned)).toBeUndefined();
    expect(await page.title()).toBe('Test Shop');
    await until(() => events('impression').length === 1, 'the impression');
    expect(events('impression')[0]).toMatchObject({
      path: '/v1/messages/msg_html/events',
      body: {
        writeKey: 'wk_standin',
        variant: 'a',
        type: 'impression',
        sessionId: expect.any(String) as unknown,
      },
    });
    // The close button dismisses it.
    await page.locator('[data-kizuna-message] button.x').click();
    await until(() => events('dismiss').length === 1, 'the dismissal');
    expect(await page.locator('[data-kizuna-message]').count()).toBe(0);
    await page.context().close();
  });

  it('shows only the highest-priority message of those one event triggers, as text, and records the click', async () => {
    const modal = (id: string, priority: number, title: string) => ({
      id,
      variant: 'b',
      type: 'modal',
      priority,
      trigger: { kind: 'event', event: 'Product Added' },
      position: null,
      content: {
        title,
        body: 'Free shipping today.',
        imageUrl: null,
        buttons: [
          { label: 'Shop now', url: `${shopUrl}/other.html`, action: 'click' },
          { label: 'Later', url: null, action: 'dismiss' },
        ],
        html: null,
      },
    });
    answer.messages = [modal('msg_low', 1, 'Low'), modal('msg_high', 5, '<b>High</b> & mighty')];
    const { page } = await open();
    await until(() => recorded.some((r) => r.path === '/v1/messages'), 'the message list');
    await page.waitForTimeout(200);
    expect(await page.locator('[data-kizuna-message]').count()).toBe(0);
    await page.evaluate(() => (globalThis as unknown as PageGlobals).kizuna.track('Product Added'));
    const title = page.locator('[data-kizuna-message] h2');
    await title.waitFor();
    expect(await page.locator('[data-kizuna-message]').count()).toBe(1);
    expect(await title.textContent()).toBe('<b>High</b> & mighty');
    expect(await page.locator('[data-kizuna-message] b').count()).toBe(0);
    // The host page's `* { color: red !important }` does not reach into the shadow root.
    expect(
      await title.evaluate((e) => (globalThis as unknown as PageGlobals).getComputedStyle(e).color),
    ).toBe('rgb(26, 26, 26)');
    await until(() => events('impression').length === 1, 'the impression');
    expect(events('impression')[0]?.path).toBe('/v1/messages/msg_high/events');
    await page.locator('[data-kizuna-message] button', { hasText: 'Shop now' }).click();
    await page.waitForURL(`${shopUrl}/other.html`);
    await until(() => events('click').length === 1, 'the click');
    expect(events('click')[0]).toMatchObject({
      path: '/v1/messages/msg_high/events',
      body: { type: 'click', variant: 'b', url: `${shopUrl}/other.html` },
    });
    await page.context().close();
  });

  it('renders the card feed with unread marks, marks shown cards read and dismisses one', async () => {
    answer.cards = [
      {
        id: 'card_1',
        title: 'Spring sale',
        body: '20% off green tea',
        imageUrl: null,
        url: 'javascript:alert(1)',
        createdAt: '2026-11-01T09:00:00Z',
        expiresAt: null,
        read: false,
        pinned: true,
      },
      {
        id: 'card_2',
        title: 'Welcome',
        body: 'Thanks for joining',
        imageUrl: null,
        url: `${shopUrl}/other.html`,
        createdAt: '2026-10-01T09:00:00Z',
        expiresAt: null,
        read: true,
        pinned: false,
      },
    ];
    const { page } = await open();
    const count = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).kizuna.cards.render(
        (globalThis as unknown as PageGlobals).document.getElementById('feed'),
      ),
    );
    expect(count).toBe(2);
    const cards = page.locator('#feed [data-kizuna-cards] article');
    expect(await cards.count()).toBe(2);
    expect(await page.locator('#feed article.unread').count()).toBe(1);
    expect(await page.locator('#feed article[data-id="card_1"] a').count()).toBe(0); // javascript: URL refused
    expect(await page.locator('#feed article[data-id="card_2"] a').getAttribute('href')).toBe(
      `${shopUrl}/other.html`,
    );
    await until(() => recorded.some((r) => r.path === '/v1/cards/card_1/read'), 'the read mark');
    expect(recorded.some((r) => r.path === '/v1/cards/card_2/read')).toBe(false);
    await page.locator('#feed article[data-id="card_1"] button.x').click();
    await until(() => recorded.some((r) => r.path === '/v1/cards/card_1/dismiss'), 'the dismissal');
    expect(await cards.count()).toBe(1);
    // Every call was a simple CORS request: no preflight reached the server.
    expect(recorded.filter((r) => r.method === 'OPTIONS')).toEqual([]);
    await page.context().close();
  });
  const triggered = (id: string, trigger: Record<string, unknown>) => ({
    id,
    variant: 'a',
    type: 'banner',
    priority: 1,
    trigger,
    position: 'top',
    content: { title: `Title ${id}`, body: 'Body', imageUrl: null, buttons: [], html: null },
  });

  it('shows a delayed message only once its seconds on the page have passed', async () => {
    answer.messages = [triggered('msg_delay', { kind: 'delay', seconds: 30 })];
    const { page } = await open({ clock: true });
    await until(() => recorded.some((r) => r.path === '/v1/messages'), 'the message list');
    await page.clock.runFor(29_000);
    expect(await page.locator('[data-kizuna-message]').count()).toBe(0);
    await page.clock.runFor(1_500);
    await page.locator('[data-kizuna-message] h2').waitFor();
    expect(await page.locator('[data-kizuna-message] h2').textContent()).toBe('Title msg_delay');
    await until(() => events('impression').length === 1, 'the impression');
    await page.context().close();
  });

  it('shows nothing for a control-group message that wins the trigger, reports its exposure, and hides it from messages.list()', async () => {
    // The control entry outranks a shown message on the same event: the customer sees nothing there,
    // exactly as they would without the campaign, and the SDK reports the control exposure.
    answer.messages = [
      { ...triggered('msg_shown', { kind: 'event', event: 'Product Added' }), priority: 1 },
      {
        id: 'msg_held',
        variant: 'control',
        control: true,
        type: 'modal',
        priority: 9,
        trigger: { kind: 'event', event: 'Product Added' },
        position: null,
        content: {},
      },
    ];
    const { page } = await open();
    await until(() => recorded.some((r) => r.path === '/v1/messages'), 'the message list');
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { kizuna: { messages: { list(): { id: string }[] } } }).kizuna.messages
          .list()
          .map((m) => m.id),
      ),
    ).toEqual(['msg_shown']);
    await page.evaluate(() => (globalThis as unknown as PageGlobals).kizuna.track('Product Added'));
    await until(() => events('control').length === 1, 'the control exposure');
    expect(events('control')[0]).toMatchObject({
      path: '/v1/messages/msg_held/events',
      body: { type: 'control', variant: 'control' },
    });
    await page.waitForTimeout(200);
    expect(await page.locator('[data-kizuna-message]').count()).toBe(0);
    expect(events('impression')).toHaveLength(0);
    await page.context().close();
  });

  it('shows an exit-intent message when the pointer leaves through the top edge, not before', async () => {
    answer.messages = [triggered('msg_exit', { kind: 'exit_intent' })];
    const { page } = await open();
    await until(() => recorded.some((r) => r.path === '/v1/messages'), 'the message list');
    await page.mouse.move(300, 300);
    await page.mouse.move(300, 20);
    await page.waitForTimeout(200);
    expect(await page.locator('[data-kizuna-message]').count()).toBe(0);
    // Leaving the window upwards: Chromium fires mouseout with no related target and clientY <= 0.
    await page.mouse.move(300, -5);
    await page.locator('[data-kizuna-message] h2').waitFor();
    expect(await page.locator('[data-kizuna-message] h2').textContent()).toBe('Title msg_exit');
    await page.context().close();
  });

  it('the service worker shows a pushed notification with the channel’s title, body and tag', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: shopUrl });
    const page = await context.newPage();
    await page.goto(`${shopUrl}/`);
    const cdp = await context.newCDPSession(page);
    const registered = new Promise<string>((resolve) => {
      cdp.on(
        'ServiceWorker.workerRegistrationUpdated',
        (e: { registrations: { registrationId: string }[] }) => {
          const r = e.registrations[0];
          if (r) resolve(r.registrationId);
        },
      );
    });
    await cdp.send('ServiceWorker.enable');
    await page.evaluate(async () => {
      const nav = (globalThis as unknown as SwGlobals).navigator.serviceWorker;
      await nav.register('/kizuna-sw.js');
      await nav.ready;
    });
    const registrationId = await registered;
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: shopUrl,
      registrationId,
      data: JSON.stringify({ title: 'お知らせ', body: 'Sale ends tonight', url: '/sale', key: 'sale-1' }),
    });
    let shown: { title: string; body: string; tag: string }[] = [];
    for (let i = 0; i < 50 && shown.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shown = await page.evaluate(async () => {
        const reg = await (globalThis as unknown as SwGlobals).navigator.serviceWorker.ready;
        return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
      });
    }
    expect(shown).toEqual([{ title: 'お知らせ', body: 'Sale ends tonight', tag: 'sale-1' }]);
    await context.close();
  });
});
