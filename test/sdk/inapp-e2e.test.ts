import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, client, get, post, startTestServer, type TestServer } from '../http/harness.js';
import { chromiumUnavailable, launchChromium, type PageGlobals } from '../support/browser.js';

// End to end in real Chromium against the real server: a message and a card targeted at a segment
// appear for a customer in it and not for one outside; the click and the dismissal are recorded on
// the customer's profile as events.

const unavailable = chromiumUnavailable('the in-app end-to-end suite');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'shop');

async function eventually<T>(check: () => Promise<T | null | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await check();
    if (v !== null && v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(unavailable !== null)('in-app messages and cards, SDK and server together', () => {
  let s: TestServer;
  let browser: Browser;
  let shop: Server;
  let shopUrl: string;
  const { admin, ingest, identify, api } = client(() => s);

  beforeAll(async () => {
    s = await startTestServer();
    shop = createServer((req, res) => {
      const name = (req.url ?? '/').split('?')[0] === '/other.html' ? 'other.html' : 'index.html';
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(readFileSync(join(FIXTURES, name)));
    });
    await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
    shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    await ingest([
      identify('ann', { tier: 'gold', first_name: 'Ann' }),
      identify('bob', { tier: 'tin', first_name: 'Bob' }),
    ]);
    const seg = await admin('POST', '/segments', {
      name: 'Gold',
      rule: { trait: 'tier', op: 'eq', value: 'gold' },
    });
    await s.builder.idle();
    const targeting = { segments: [seg.body['id']], stages: [], journeySteps: [] };
    const m = await admin('POST', '/in-app-messages', {
      name: 'Gold welcome',
      type: 'modal',
      priority: 5,
      status: 'active',
      trigger: { kind: 'event', event: 'Product Added' },
      targeting,
      frequency: { kind: 'every_visit' },
      content: {
        title: 'Hello {{ profile.first_name }}',
        body: 'Members save 10% today.',
        buttons: [{ label: 'Shop now', url: `${shopUrl}/other.html`, action: 'click' }],
      },
    });
    expect(m.status, JSON.stringify(m.body)).toBe(201);
    const c = await admin('POST', '/content-cards', {
      name: 'Gold perk',
      title: 'Your gold perk',
      body: 'Free gift wrapping',
      targeting,
      status: 'active',
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => shop.close(() => r()));
    await s.close();
  });

  async function openAs(userId: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    const q = new URLSearchParams({
      host: s.url,
      init: JSON.stringify({ writeKey: s.ws.writeKey, flushAt: 1 }),
    });
    await page.goto(`${shopUrl}/?${q.toString()}`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).kizuna?.loaded);
    const answered = page.waitForResponse(
      (r) => r.url().includes('/v1/messages?') && r.url().includes(`userId=${userId}`),
    );
    await page.evaluate((u) => (globalThis as unknown as PageGlobals).kizuna.identify(u), userId);
    await answered;
    return page;
  }
  const eventsOf = async (userId: string) => {
    const p = await api(`/profiles/lookup?userId=${userId}`);
    return (await get(`${s.url}/api/v1/profiles/${p.body['id'] as string}/events`, s.ws.adminKey)).body[
      'events'
    ] as { name: string | null; message: { properties: Record<string, unknown> } }[];
  };

  it('shows the message to a customer in the segment, personalised, and records the click', async () => {
    const page = await openAs('ann');
    await page.evaluate(() => (globalThis as unknown as PageGlobals).kizuna.track('Product Added'));
    const title = page.locator('[data-kizuna-message] h2');
    await title.waitFor();
    expect(await title.textContent()).toBe('Hello Ann');
    await page.locator('[data-kizuna-message] button', { hasText: 'Shop now' }).click();
    await page.waitForURL(`${shopUrl}/other.html`);
    const clicked = await eventually(
      async () => (await eventsOf('ann')).find((e) => e.name === 'In-App Message Clicked'),
      'the click on the profile',
    );
    expect(clicked.message.properties).toMatchObject({
      message_id: expect.any(String) as unknown,
      type: 'modal',
    });
    expect((await eventsOf('ann')).some((e) => e.name === 'In-App Message Viewed')).toBe(true);
    await page.context().close();
  });

  it('shows nothing to a customer outside the segment', async () => {
    const page = await openAs('bob');
    await page.evaluate(() => (globalThis as unknown as PageGlobals).kizuna.track('Product Added'));
    await page.waitForTimeout(500);
    expect(await page.locator('[data-kizuna-message]').count()).toBe(0);
    expect((await eventsOf('bob')).some((e) => e.name === 'In-App Message Viewed')).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).kizuna.cards.list())).toEqual([]);
    await page.context().close();
  });

  it('shows the card in the feed and dismisses it for good', async () => {
    const page = await openAs('ann');
    const count = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).kizuna.cards.render(
        (globalThis as unknown as PageGlobals).document.getElementById('feed'),
      ),
    );
    expect(count).toBe(1);
    const card = page.locator('#feed [data-kizuna-cards] article');
    expect(await card.locator('h3, h2, strong').first().textContent()).toBe('Your gold perk');
    await card.locator('button.x').click();
    await eventually(
      async () => (await eventsOf('ann')).find((e) => e.name === 'Content Card Dismissed'),
      'the dismissal on the profile',
    );
    // Gone from the server's answer too, on any device.
    const again = await get(`${s.url}/v1/cards?writeKey=${s.ws.writeKey}&userId=ann`);
    expect(again.body['cards']).toEqual([]);
    await page.context().close();
    // And a write to another customer's card is refused without touching it.
    const r = await post(
      `${s.url}/v1/cards/nope/dismiss`,
      { userId: 'bob' },
      { authorization: basic(s.ws.writeKey) },
    );
    expect(r.status).toBe(404);
  });
});
