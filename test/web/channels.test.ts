import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../support/browser.js';
import { startSmtpSink } from '../http/smtp-sink.js';
import { seed, STAFF, type Seeded } from './seed.js';

// Channel settings (a form per provider, test sends) and the broadcast form (A/B variants, every_days)
// in real headless Chromium against a real `kizuna start` over a small demo workspace.
const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const skip = chromiumUnavailable('channel and broadcast dashboard tests');

let s: Seeded;
let browser: Browser;
let page: Page;

/** A local endpoint for the webhook channel: answers each request with the next scripted status. */
let hook: Server;
let hookUrl = '';
const received: string[] = [];
const paths: string[] = [];
let script: number[] = [];

async function signIn(): Promise<void> {
  await page.goto(`${s.server.url}/`);
  await page.getByLabel('E-mail address').fill(STAFF.admin.email);
  await page.getByLabel('Password').fill(STAFF.admin.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
}

const nav = (name: string) =>
  page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name }).click();

describe.skipIf(skip !== null)('channel settings and broadcasts in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await seed(80);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(body);
        paths.push(req.url ?? '');
        res.writeHead(script.shift() ?? 200).end('{}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/kizuna`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    page.setDefaultTimeout(15_000);
    await signIn();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => hook?.close(r));
    s?.server.child.kill();
    await s?.server.exited;
    if (s) rmSync(s.dir, { recursive: true, force: true });
  });

  it('configures SMTP with its own labelled fields, keeps credentials write-only and sends a test', async () => {
    const sink = await startSmtpSink();
    try {
      await nav('Settings');
      const form = page.getByTestId('channel-form');
      expect(await form.getAttribute('data-provider')).toBe('smtp');
      // Required fields are marked and required; numbers and switches have their own inputs.
      const host = form.getByLabel('SMTP server host');
      expect(await host.getAttribute('required')).not.toBeNull();
      expect(await form.locator('.field:has(input[name=host]) .required').textContent()).toContain('*');
      expect(await form.getByLabel('Port', { exact: true }).getAttribute('type')).toBe('number');
      expect(await form.getByLabel('Track opens').isChecked()).toBe(true);
      expect(await form.getByLabel('SMTP password').getAttribute('type')).toBe('password');
      await host.fill('127.0.0.1');
      await form.getByLabel('Port', { exact: true }).fill(String(sink.port));
      await form.getByLabel('From address').fill('news at the shop');
      await form.getByLabel('Connections at once').fill('3');
      await form.getByLabel('SMTP user name').fill('kizuna');
      await form.getByLabel('SMTP password').fill('wrong-password');
      await form.getByRole('button', { name: 'Save the email channel' }).click();
      // The server's rule, under the field it names; nothing stored.
      await form
        .locator('.field-error[data-field="settings.from"]')
        .getByText('must be an address')
        .waitFor();
      expect(await s.api<{ channels: unknown[] }>('GET', '/channels')).toEqual({ channels: [] });
      await form.getByLabel('From address').fill('Shop <news@shop.example>');
      await form.getByLabel('Track clicks').uncheck();
      await form.getByRole('button', { name: 'Save the email channel' }).click();
      await form.getByText('The email channel is saved.').waitFor();
      const stored = await s.api<{ settings: Record<string, unknown>; secrets: string[] }>(
        'GET',
        '/channels/email',
      );
      expect(stored.settings).toMatchObject({
        host: '127.0.0.1',
        port: sink.port,
        from: 'Shop <news@shop.example>',
        pool_size: 3,
        track_opens: true,
        track_clicks: false,
        rate_per_second: null,
      });
      expect([...stored.secrets].sort()).toEqual(['password', 'username']);
      // Credentials read "set — Replace"; their values are nowhere on the page.
      await form.locator('[data-secret=password]').getByText('set', { exact: true }).waitFor();
      expect(await page.content()).not.toContain('wrong-password');

      // Test send: a bad address named under its field; the wrong password reported in words.
      const test = page.getByTestId('channel-test');
      await test.getByLabel('E-mail address to send the test to').fill('not an address');
      await test.getByRole('button', { name: 'Send test' }).click();
      await test.locator('.field-error[data-field="to"]').getByText('must be an e-mail address').waitFor();
      await test.getByLabel('E-mail address to send the test to').fill('qa@shop.example');
      await test.getByRole('button', { name: 'Send test' }).click();
      const failed = test.getByTestId('channel-test-failed');
      await failed.waitFor();
      expect(await failed.textContent()).toMatch(/^Not sent: the SMTP server answered 535/);
      expect(sink.inbox.filter((m) => m.subject === 'Kizuna test message')).toHaveLength(0);
      // Replace the password (only it: the user name stays as stored), then the test goes through.
      await form.getByRole('button', { name: 'Replace SMTP password' }).click();
      await form.getByLabel('SMTP password').fill('right');
      await form.getByRole('button', { name: 'Save the email channel' }).click();
      await form.locator('[data-secret=password]').getByText('set', { exact: true }).waitFor();
      await test.getByRole('button', { name: 'Send test' }).click();
      await test.getByText('Sent: the provider accepted the test message.').waitFor();
      // (The demo journey's own e-mails may arrive too, now that the channel works.)
      const tests = sink.inbox.filter((m) => m.subject === 'Kizuna test message');
      expect(tests.map((m) => (m.to && 'text' in m.to ? m.to.text : ''))).toEqual(['qa@shop.example']);
      await page
        .locator('.card', { has: page.getByTestId('channel-form') })
        .screenshot({ path: `${SHOTS}channel-settings.png` });
    } finally {
      await sink.close();
    }
  });

  it('shows each provider its own fields, with the server’s rules under them, and test-sends a webhook', async () => {
    await page.getByLabel('Channel to configure').selectOption('push');
    const form = page.getByTestId('channel-form');
    await form.getByLabel('Provider').selectOption('apns');
    await form.getByLabel('Team id').fill('abc');
    await form.getByLabel('Key id').fill('KEY1234567');
    await form.getByLabel('App bundle id').fill('com.shop.app');
    await form.getByLabel('Private key').fill('not a key');
    await form.getByRole('button', { name: 'Save the push channel' }).click();
    await form.locator('.field-error[data-field="settings.team_id"]').getByText('10 upper-case').waitFor();
    await form.getByLabel('Team id').fill('ABCDE12345');
    await form.getByRole('button', { name: 'Save the push channel' }).click();
    await form.locator('.field-error[data-field="secrets.private_key"]').getByText('.p8').waitFor();
    expect((await s.api<{ channels: unknown[] }>('GET', '/channels')).channels).toHaveLength(1);
    // FCM asks for other things.
    await form.getByLabel('Provider').selectOption('fcm');
    await form.getByLabel('Firebase project id').waitFor();
    expect(await form.getByLabel('Service account e-mail (client_email)').getAttribute('type')).toBe('email');
    expect(await form.getByLabel('Team id').count()).toBe(0);

    // The webhook: its signing secret made by the server, shown only as set; a test posted to a URL.
    await page.getByLabel('Channel to configure').selectOption('webhook');
    await form.getByLabel('Allow endpoints on a private network').check();
    await form.getByRole('button', { name: 'Save the webhook channel' }).click();
    await form.locator('[data-secret=signing_secret]').getByText('set', { exact: true }).waitFor();
    const test = page.getByTestId('channel-test');
    await test.getByLabel('URL the test is posted to').fill(hookUrl);
    script = [503];
    await test.getByRole('button', { name: 'Send test' }).click();
    await test.getByText('Not sent: the endpoint answered 503. Trying again later may work.').waitFor();
    await test.getByRole('button', { name: 'Send test' }).click();
    await test.getByText('Sent: the provider accepted the test message (HTTP 200).').waitFor();
    expect(received).toHaveLength(2);
    expect(JSON.parse(received[1]!)).toMatchObject({ data: { test: true } });

    // SMS through a Twilio-compatible API (the same local server): a bad number named, then sent.
    await page.getByLabel('Channel to configure').selectOption('sms');
    await form.getByLabel('Account SID').fill('AC123');
    await form.getByLabel('Sender', { exact: true }).fill('+15017122661');
    await form.getByLabel('API origin').fill(new URL(hookUrl).origin);
    await form.getByLabel('Auth token').fill('sms-token');
    await form.getByRole('button', { name: 'Save the sms channel' }).click();
    await form.getByText('The sms channel is saved.').waitFor();
    await test.getByLabel('Phone number (E.164) to send the test to').fill('09012345678');
    await test.getByRole('button', { name: 'Send test' }).click();
    await test.locator('.field-error[data-field="to"]').getByText('E.164').waitFor();
    await test.getByLabel('Phone number (E.164) to send the test to').fill('+819012345678');
    script = [201];
    await test.getByRole('button', { name: 'Send test' }).click();
    await test.getByText('Sent: the provider accepted the test message (HTTP 201).').waitFor();
    expect(paths.at(-1)).toBe('/2010-04-01/Accounts/AC123/Messages.json');
    expect(new URLSearchParams(received.at(-1)).get('To')).toBe('+819012345678');

    // LINE: the channel access token is the credential; a test push to a user id.
    await page.getByLabel('Channel to configure').selectOption('line');
    await form.getByLabel('API origin').fill(new URL(hookUrl).origin);
    await form.getByLabel('Channel access token').fill('line-token');
    await form.getByRole('button', { name: 'Save the line channel' }).click();
    await form.locator('[data-secret=channel_access_token]').getByText('set', { exact: true }).waitFor();
    const lineUser = `U${'0123456789abcdef'.repeat(2)}`;
    await test.getByLabel('LINE user id to send the test to').fill(lineUser);
    await test.getByRole('button', { name: 'Send test' }).click();
    await test.getByText('Sent: the provider accepted the test message (HTTP 200).').waitFor();
    expect(paths.at(-1)).toBe('/v2/bot/message/push');
    expect(JSON.parse(received.at(-1)!)).toMatchObject({ to: lineUser });

    // Web push: saved with its contact only, the server makes the key pair; the public key is shown.
    await page.getByLabel('Channel to configure').selectOption('web_push');
    await form.getByLabel('Contact (mailto: or https:)').fill('mailto:ops@shop.example');
    await form.getByRole('button', { name: 'Save the web_push channel' }).click();
    await form.locator('[data-secret=private_key]').getByText('set', { exact: true }).waitFor();
    const vapid = await s.api<{ settings: { public_key: string } }>('GET', '/channels/web_push');
    await page.getByLabel('Channel to configure').selectOption('email');
    await page.getByLabel('Channel to configure').selectOption('web_push');
    expect(await form.getByLabel('Public key (browsers subscribe with it)').inputValue()).toBe(
      vapid.settings.public_key,
    );

    // In Japanese, the same form.
    await page.getByTestId('locale-ja').click();
    await page.getByLabel('設定するチャネル').selectOption('email');
    await form.getByLabel('SMTP サーバーのホスト').waitFor();
    await form.getByText('設定済み').first().waitFor();
    await page.getByTestId('locale-en').click();
    await form.getByLabel('SMTP server host').waitFor();
  });

  it('makes an A/B broadcast with its split and winner settings, and a broadcast every so many days', async () => {
    await s.api('POST', '/templates', {
      name: 'welcome-b',
      channel: 'email',
      default_locale: 'en',
      variants: { en: { subject: 'Hello again, {{ profile.firstName }}', text: 'Hi' } },
    });
    await s.api('POST', '/segments', {
      name: 'Repeat buyers',
      rule: { and: [{ computed: 'purchase_count', op: 'gte', value: 2 }, { has: 'email' }] },
    });
    await nav('Messaging');
    const form = page.getByTestId('new-broadcast');
    await form.getByLabel('Name', { exact: true }).fill('Spring offer');
    await form.getByLabel('Audience (segment)').selectOption({ label: 'Repeat buyers' });
    await form.getByLabel('A/B test of templates').check();
    const ab = form.getByTestId('ab-test');
    await ab.getByLabel('Variant 1 template').selectOption('welcome');
    await ab.getByLabel('Variant 2 template').selectOption('welcome-b');
    await ab.getByRole('button', { name: 'Add a variant' }).click();
    await ab.getByLabel('Variant 3 name').fill('rest');
    await ab.getByLabel('Variant 3 template').selectOption('welcome');
    await ab.getByLabel('Test share (%)').fill('95');
    await ab.getByLabel('Winner by').selectOption('revenue');
    await ab.getByLabel('Send the winner after').fill('4h');
    await form.getByLabel('Date and time (your time zone)').fill('2030-04-01T09:00');
    await form.getByLabel('Control group (%)').fill('10');
    await form.getByLabel('Goal event').fill('Order Completed');
    await form.getByLabel('Goal within').fill('2d');
    // Local time is not offered for an A/B broadcast, nor repeating.
    expect(await form.locator('option[value=local]').isDisabled()).toBe(true);
    expect(await form.getByRole('checkbox', { name: 'Repeat' }).count()).toBe(0);
    await form.getByRole('button', { name: 'Schedule broadcast' }).click();
    await ab.locator('.field-error[data-field="variants[2].name"]').getByText('rest and control').waitFor();
    await ab.getByRole('button', { name: 'Remove variant 3' }).click();
    await form.getByRole('button', { name: 'Schedule broadcast' }).click();
    await ab.locator('.field-error[data-field=test_percent]').getByText('leave some').waitFor();
    await ab.getByLabel('Test share (%)').fill('30');
    await form.getByRole('button', { name: 'Schedule broadcast' }).click();
    await form.getByText('“Spring offer” is scheduled.').waitFor();
    type J = { id: string; name: string; draft: Record<string, unknown> };
    const find = async (name: string) =>
      (await s.api<{ journeys: J[] }>('GET', '/journeys')).journeys.find((j) => j.name === name);
    const spring = (await find('Spring offer'))!;
    expect(spring.draft['ab_test']).toMatchObject({
      variants: { A: 'welcome', B: 'welcome-b' },
      metric: 'revenue',
      decide_after_ms: 4 * 3_600_000,
    });
    expect(spring.draft['goal']).toEqual({ event: 'Order Completed', within: '2d' });
    const row = page.locator('[data-broadcast="Spring offer"]');
    await row.getByText('A/B test of A / B').waitFor();
    // Sending the winner before anyone was tested: the server's refusal in words.
    await row.getByRole('button', { name: 'Send the winner…' }).click();
    await row.getByRole('button', { name: 'Send the rest the winner now' }).click();
    const refusal = page.getByTestId('form-error').first();
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/^Something went wrong: .*has been tested yet/);

    // Every 7 days, at most 100 a minute: a bad interval named on its field first.
    await form.getByLabel('A/B test of templates').uncheck();
    await form.getByLabel('Name', { exact: true }).fill('Weekly picks');
    await form.getByRole('combobox', { name: /^Template/ }).selectOption('welcome');
    await form.getByRole('checkbox', { name: 'Repeat' }).check();
    await form.getByLabel('Every (days)').fill('400');
    await form.getByLabel('At most per minute').fill('100');
    await form.getByLabel('Control group (%)').fill('');
    await form.getByLabel('Goal event').fill('');
    await form.getByRole('button', { name: 'Schedule broadcast' }).click();
    await form.locator('.field-error[data-field=every_days]').getByText('1 to 365').waitFor();
    await form.getByLabel('Every (days)').fill('7');
    await form.getByRole('button', { name: 'Schedule broadcast' }).click();
    await form.getByText('“Weekly picks” is scheduled.').waitFor();
    const weekly = (await find('Weekly picks'))!;
    expect(weekly.draft['trigger']).toMatchObject({ schedule: { every_days: 7 } });
    await page.locator('[data-broadcast="Weekly picks"]').getByText('every 7 days').waitFor();
    expect(weekly.draft['throttle']).toEqual({ per_minute: 100 });
  });
});
