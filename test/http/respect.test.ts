import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/** Quiet hours and frequency caps applied when journeys queue messages, over the real HTTP API. */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf } = client(() => s);
const journey = (name: string, event: string, template: string, step: Record<string, unknown> = {}) =>
  sendJourney({ name, event, channel: 'email', template }, step);

beforeAll(async () => {
  s = await startTestServer();
  await ingest([
    ...['Viewed', 'Sale', 'Receipt', 'Night'].map((e) => track('seed', e)),
    identify('ann', { email: 'ann@example.com', timezone: 'Asia/Tokyo' }),
    identify('ben', { email: 'ben@example.com', timezone: 'America/New_York' }),
    identify('cho', { email: 'cho@example.com', timezone: 'Asia/Tokyo' }),
  ]);
  for (const [name, topic] of [
    ['promo', 'marketing'],
    ['low', 'marketing'],
    ['high', 'marketing'],
    ['receipt', 'transactional'],
  ]) {
    const t = await admin('POST', '/templates', {
      name,
      channel: 'email',
      topic,
      variants: { en: { subject: name, text: name } },
    });
    expect(t.status).toBe(201);
  }
  await journey('Viewed promo', 'Viewed', 'promo');
  await journey('Sale low', 'Sale', 'low', { priority: 'low' });
  await journey('Sale high', 'Sale', 'high', { priority: 'high' });
  await journey('Receipt', 'Receipt', 'receipt');
});
afterAll(() => s.close());

describe('delivery settings API', () => {
  it('validates by field and stores what the rules run on', async () => {
    const bad = await admin('PUT', '/delivery-settings', {
      quiet_hours: { start: '9pm', end: '08:00', timezone: 'Asia/Tokyo' },
      frequency_caps: [{ max: 2 }],
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'quiet_hours.start: required: a local time HH:MM',
      'frequency_caps[0].window: required: a duration such as 1d or 7d',
    ]);
    expect((await api('/delivery-settings')).body).toEqual({
      quiet_hours: null,
      global_holdout_percent: 0,
      frequency_caps: [],
    });
    const ok = await admin('PUT', '/delivery-settings', { frequency_caps: [{ max: 2, window: '7d' }] });
    expect(ok.body).toEqual({
      quiet_hours: null,
      global_holdout_percent: 0,
      frequency_caps: [{ max: 2, window: '7d' }],
    });
    expect((await api('/delivery-settings')).body).toEqual(ok.body);
  });
});

describe('frequency caps', () => {
  it('suppress marketing messages over the cap with the reason, never transactional ones', async () => {
    await admin('PUT', '/delivery-settings', { frequency_caps: [{ max: 2, window: '7d' }] });
    for (let i = 0; i < 3; i++) {
      s.clock.advance(60_000);
      await ingest([track('ann', 'Viewed'), track('ann', 'Receipt')]);
      await s.runner.runDue();
    }
    const msgs = await messagesOf('ann');
    const promo = msgs.filter((m) => m.template === 'promo').map((m) => [m.status, m.reason]);
    expect(promo).toEqual([
      ['queued', null],
      ['queued', null],
      ['suppressed', 'frequency cap: at most 2 marketing messages in 7d'],
    ]);
    expect(msgs.filter((m) => m.template === 'receipt').map((m) => m.status)).toEqual([
      'queued',
      'queued',
      'queued',
    ]);
    // A week later the window has room again.
    s.clock.advance(7 * 86_400_000);
    await ingest([track('ann', 'Viewed')]);
    await s.runner.runDue();
    expect((await messagesOf('ann')).at(-1)).toMatchObject({ template: 'promo', status: 'queued' });
  });

  it('let the higher-priority message win when only one fits', async () => {
    await admin('PUT', '/delivery-settings', { frequency_caps: [{ max: 1, window: '1d' }] });
    s.clock.advance(60_000);
    await ingest([track('ben', 'Sale')]);
    await s.runner.runDue();
    const sale = (await messagesOf('ben')).map((m) => [m.template, m.status]).sort();
    expect(sale).toEqual([
      ['high', 'queued'],
      ['low', 'suppressed'],
    ]);
  });
});

describe('quiet hours', () => {
  it("hold a message until the window ends in the customer's own zone, or drop it when the step says so", async () => {
    await admin('PUT', '/delivery-settings', {
      quiet_hours: { start: '21:00', end: '08:00', timezone: 'UTC', channels: ['email'] },
    });
    await journey('Night hold', 'Night', 'promo');
    await journey('Night drop', 'Night', 'high', { quiet_hours: 'drop' });
    // 14:30 UTC: 23:30 in Tokyo (quiet), 09:30 in New York (not).
    s.clock.set(Date.UTC(2026, 11, 1, 14, 30));
    await ingest([track('cho', 'Night'), track('ben', 'Night')]);
    await s.runner.runDue();
    const cho = await messagesOf('cho');
    const held = cho.find((m) => m.template === 'promo')!;
    expect(held).toMatchObject({
      status: 'queued',
      nextAttemptAt: '2026-12-01T23:00:00.000Z',
      reason: 'held for quiet hours 21:00–08:00 Asia/Tokyo until 2026-12-01T23:00:00.000Z',
    });
    expect(cho.find((m) => m.template === 'high')).toMatchObject({
      status: 'suppressed',
      reason: 'quiet hours 21:00–08:00 Asia/Tokyo (dropped)',
    });
    const ben = (await messagesOf('ben')).filter((m) => m.template === 'promo' || m.template === 'high');
    expect(ben.slice(-2).every((m) => m.status === 'queued' && m.reason === null)).toBe(true);

    // The dispatcher leaves the held message alone until 08:00 in Tokyo.
    await s.dispatcher.runDue();
    expect((await messagesOf('cho')).find((m) => m.template === 'promo')?.status).toBe('queued');
    s.clock.set(Date.UTC(2026, 11, 1, 23, 0));
    await s.dispatcher.runDue();
    // It is attempted now (this workspace has no e-mail channel configured, so the attempt fails).
    expect((await messagesOf('cho')).find((m) => m.template === 'promo')).toMatchObject({
      status: 'failed',
      reason: 'the workspace has not configured its email channel',
    });
  });
});
