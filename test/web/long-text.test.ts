import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../support/browser.js';
import { seed, STAFF, type Seeded } from './seed.js';

// The overview and a customer's page with long Japanese text everywhere it can come from (stage
// labels, traits, notes, a journey's name), in Japanese at laptop and tablet widths, and what they
// show when the API answers with an error. Real headless Chromium against a real `kizuna start`.
const skip = chromiumUnavailable('long Japanese text dashboard tests');

let s: Seeded;
let browser: Browser;
let page: Page;

const LONG_LABEL = 'ロイヤルカスタマー（直近九十日間に三回以上購入し、メールマガジンを購読している顧客）';
const LONG_NAME = '長谷川・フォン・アーデルハイト・ミヤコノジョウ・クリスティーナ・エリザベス';
const LONG_TEXT =
  '東京都渋谷区神宮前六丁目の店舗で、ギフト包装と名入れ刺繍とのし紙と配送日時指定を同時にご希望されましたが、' +
  'システム上は一つしか選べなかったため、スタッフが手作業で対応しました。次回以降もご案内が必要です。' +
  'https://shop.example/orders/000000000000000000000000000000000000000000000000000000000000';

/** Every part of the screen has its data (nothing marked busy), so the layout checks see the whole page. */
const settled = async (): Promise<void> => {
  await page.waitForFunction(`document.querySelector('main [aria-busy="true"]') === null`);
};

/** No horizontal scroll bar on the page. */
const fitsWidth = (): Promise<boolean> =>
  page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth');

/** Every card's content stays inside its card (nothing spills out sideways). */
const cardsContain = (): Promise<string[]> =>
  page.evaluate(`[...document.querySelectorAll('main .card')]
    .filter((c) => c.scrollWidth > c.clientWidth + 1)
    .map((c) => (c.querySelector('h2') || c).textContent.slice(0, 40))`);

describe.skipIf(skip !== null)(
  'long Japanese text and errors in words, in Chromium',
  { timeout: 60_000 },
  () => {
    beforeAll(async () => {
      s = await seed(60);
      const { stages } = await s.api<{ stages: Record<string, unknown>[] }>('GET', '/stages');
      await s.api('PUT', '/stages', {
        stages: stages.map(({ profiles: _, ...st }, i) => ({
          ...st,
          label: i === 0 ? LONG_LABEL : `${String(st['label'])}（${LONG_LABEL.slice(0, 20)}）`,
          description: LONG_TEXT,
        })),
      });
      const res = await fetch(`${s.server.url}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${s.writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          batch: [
            {
              type: 'identify',
              userId: s.customer.userId,
              traits: { name: LONG_NAME, lastName: LONG_NAME, address: LONG_TEXT, memo: LONG_TEXT },
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
      await s.api('POST', '/feedback', {
        source: 'employee',
        author: `${LONG_NAME}（渋谷店）`,
        profile_id: s.customer.id,
        text: LONG_TEXT,
        sentiment: 'bad',
        topics: ['ギフト包装と名入れ刺繍の同時指定'],
      });
      await s.api('PUT', `/journeys/${s.journeyId}`, {
        ...(await s.api<{ draft: Record<string, unknown> }>('GET', `/journeys/${s.journeyId}`)).draft,
        name: `ご注文ありがとうございますメール（${LONG_LABEL}）`,
      });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
      page.setDefaultTimeout(15_000);
      await page.goto(`${s.server.url}/`);
      await page.getByLabel('メールアドレス').fill(STAFF.admin.email);
      await page.getByLabel('パスワード').fill(STAFF.admin.password);
      await page.getByRole('button', { name: 'サインイン', exact: true }).click();
      await page.getByRole('navigation').first().waitFor();
      await page.getByTestId('locale-ja').click();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      s?.server.child.kill();
      await s?.server.exited;
      if (s) rmSync(s.dir, { recursive: true, force: true });
    });

    it('keeps the overview and the customer page inside the screen with long Japanese text', async () => {
      for (const width of [1280, 768]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${s.server.url}/`);
        await page.locator('[data-testid=stat-nps] .stat-value:not(:has-text("…"))').waitFor();
        // The stage labels are in the chart's table, as the server has them.
        await page.locator('main').getByText(LONG_LABEL).first().waitFor({ state: 'attached' });
        await settled();
        expect(await fitsWidth(), `overview at ${width}px`).toBe(true);
        expect(await cardsContain(), `overview cards at ${width}px`).toEqual([]);

        await page.goto(`${s.server.url}/customers/${s.customer.id}`);
        await page.getByTestId('customer-name').getByText(LONG_NAME).first().waitFor();
        await page.getByTestId('notes').getByText('ギフト包装と名入れ刺繍').first().waitFor();
        await page.locator('main').getByText('ご注文ありがとうございますメール').first().waitFor();
        await settled();
        expect(await fitsWidth(), `customer at ${width}px`).toBe(true);
        expect(await cardsContain(), `customer cards at ${width}px`).toEqual([]);
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    it('says in words what went wrong: a customer that does not exist, a figure the server could not give', async () => {
      await page.goto(`${s.server.url}/customers/p_does_not_exist`);
      const alert = page.getByRole('alert').first();
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/^エラーが発生しました：.*p_does_not_exist.*not found/);

      // The active-customer count fails on the server's side (a 503 with the server's error shape):
      // the figure says it is not available and the reason is shown in words, the rest still loads.
      await page.route('**/api/v1/segments/preview', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'unavailable', message: 'the database is busy; try again in a minute' },
          }),
        }),
      );
      await page.goto(`${s.server.url}/`);
      const problem = page.getByRole('alert').filter({ hasText: 'the database is busy' });
      await problem.waitFor();
      expect(await problem.textContent()).toBe(
        'エラーが発生しました： the database is busy; try again in a minute',
      );
      expect(await page.getByTestId('stat-active').textContent()).toContain('取得できません');
      await page.locator('[data-testid=stat-nps] .stat-value:not(:has-text("…"))').waitFor();
      await page.unroute('**/api/v1/segments/preview');
    });
  },
);
