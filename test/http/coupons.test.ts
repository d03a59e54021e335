import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

/**
 * Coupon code pools end to end: codes are uploaded (JSON or CSV, all or nothing), each e-mail that
 * draws from a pool carries its own code to a real SMTP server, a pool that runs out skips the send
 * with a reason, and the customer's order reporting the code marks it redeemed.
 */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf, profileId, createTemplates, postRaw } =
  client(() => s);
let sink: SmtpSink;

const uploadCsv = (pool: string, text: string) => postRaw(`/coupon-pools/${pool}/codes`, 'text/csv', text);

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
  await ingest([
    identify('ann', { email: 'ann@example.com', first_name: 'Ann' }),
    identify('bo', { email: 'bo@example.com', first_name: 'Bo' }),
    identify('cy', { email: 'cy@example.com', first_name: 'Cy' }),
    identify('nameless', { email: 'nameless@example.com' }),
    track('seed', 'Lapsed'),
    track('seed', 'Autumn'),
  ]);
  await admin('PUT', '/channels/email', {
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>' },
  });
});
afterAll(async () => {
  await s.close();
  await sink.close();
});

describe('coupon pools', () => {
  it('creates pools and takes uploads all or nothing, naming each bad code', async () => {
    expect((await admin('PUT', '/coupon-pools/Spring!', {})).status).toBe(400);
    const created = await admin('PUT', '/coupon-pools/spring', { description: '10% off, spring 2026' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'spring', total: 0, available: 0 });
    expect((await admin('PUT', '/coupon-pools/spring', { description: '10% off' })).status).toBe(200);

    const bad = await admin('POST', '/coupon-pools/spring/codes', { codes: ['OK-1', 'has space', ''] });
    expect(issuesOf(bad.body)).toEqual([
      'codes[1]: must be 1–64 printable characters without spaces',
      'codes[2]: must be 1–64 printable characters without spaces',
    ]);
    expect((await api('/coupon-pools/spring')).body).toMatchObject({ total: 0 });

    const csv = await uploadCsv(
      'spring',
      '\uFEFFcode,note\r\nSPRING-A,first\r\n"SPRING-B",second\r\nSPRING-A,again\r\n',
    );
    expect(csv.body).toMatchObject({ added: 2, duplicates: 0, pool: { total: 2, available: 2 } });
    const again = await admin('POST', '/coupon-pools/spring/codes', { codes: ['SPRING-B', 'SPRING-C'] });
    expect(again.body).toMatchObject({ added: 1, duplicates: 1, pool: { total: 3 } });
    expect((await uploadCsv('nope', 'X1\n')).status).toBe(404);
  });

  it('gives each customer their own code, skips the send when the pool runs out, and records the redemption', async () => {
    await createTemplates({
      name: 'come-back',
      channel: 'email',
      variants: {
        en: { subject: 'We miss you, {{ profile.first_name }}', text: 'Your code: {{ coupon.spring }}' },
      },
    });
    await sendJourney({ name: 'Win back', event: 'Lapsed', channel: 'email', template: 'come-back' });

    const preview = await admin('POST', '/templates/come-back/preview', {
      profile_id: await profileId('ann'),
    });
    expect(preview.body).toMatchObject({ ok: true, content: { text: 'Your code: SPRING-PREVIEW' } });

    s.clock.advance(1000);
    // "nameless" cannot render (no first name): that send takes no code.
    await ingest([track('nameless', 'Lapsed'), track('ann', 'Lapsed'), track('bo', 'Lapsed')]);
    await s.runner.runDue();
    await s.dispatcher.runDue();
    // The first line is the template's; the transparency footer follows (docs/privacy.md#the-link).
    const got = new Map(
      sink.inbox.map((m) => [String((m.to as { text: string }).text), m.text?.trim().split('\n')[0]]),
    );
    expect([...got.keys()].sort()).toEqual(['ann@example.com', 'bo@example.com']);
    expect([...got.values()].sort()).toEqual(['Your code: SPRING-A', 'Your code: SPRING-B']);
    const bosCode = got.get('bo@example.com')!.replace('Your code: ', '');
    expect((await messagesOf('nameless')).at(-1)?.status).toBe('skipped');
    const [annMessage] = await messagesOf('ann');
    expect(annMessage?.payload).toMatchObject({
      coupons: { spring: got.get('ann@example.com')!.replace('Your code: ', '') },
    });

    // One code left: Cy takes it; Ann's second message takes none and is skipped with the reason.
    s.clock.advance(1000);
    await ingest([track('cy', 'Lapsed')]);
    await s.runner.runDue();
    s.clock.advance(1000);
    await ingest([track('ann', 'Lapsed')]);
    await s.runner.runDue();
    await s.dispatcher.runDue();
    expect((await messagesOf('ann')).at(-1)).toMatchObject({
      status: 'skipped',
      reason: 'coupon pool "spring" has no free code left',
    });
    expect((await api('/coupon-pools/spring')).body).toMatchObject({ total: 3, assigned: 3, available: 0 });

    await ingest([track('bo', 'Order Completed', { order_id: 'o-1', revenue: 5000, coupon: bosCode })]);
    const code = await api(`/coupon-pools/spring/codes/${bosCode}`);
    expect(code.body).toMatchObject({
      code: bosCode,
      profileId: await profileId('bo'),
      redeemedAt: new Date(s.clock.now()).toISOString(),
    });
    expect((await api('/coupon-pools')).body['pools']).toMatchObject([{ name: 'spring', redeemed: 1 }]);

    expect((await admin('DELETE', '/coupon-pools/spring')).status).toBe(409);
    expect((await admin('DELETE', '/coupon-pools/spring?force=true')).status).toBe(204);
    expect((await api('/coupon-pools/spring')).status).toBe(404);
  });

  it('gives no code to a message a frequency cap stops', async () => {
    await admin('PUT', '/coupon-pools/autumn', {});
    await admin('POST', '/coupon-pools/autumn/codes', { codes: ['AUT-1', 'AUT-2', 'AUT-3'] });
    await createTemplates({
      name: 'autumn-offer',
      channel: 'email',
      variants: { en: { subject: 'Autumn', text: '{{ coupon.autumn }}' } },
    });
    await sendJourney({ name: 'Autumn', event: 'Autumn', channel: 'email', template: 'autumn-offer' });
    expect(
      (await admin('PUT', '/delivery-settings', { frequency_caps: [{ max: 1, window: '1d' }] })).status,
    ).toBe(200);
    s.clock.advance(60_000);
    await ingest([identify('dee', { email: 'dee@example.com' }), track('dee', 'Autumn')]);
    await s.runner.runDue();
    s.clock.advance(60_000);
    await ingest([track('dee', 'Autumn')]);
    await s.runner.runDue();
    const statuses = (await messagesOf('dee')).map((m) => m.status).sort();
    expect(statuses).toEqual(['queued', 'suppressed']);
    expect((await api('/coupon-pools/autumn')).body).toMatchObject({ assigned: 1, available: 2 });
  });
});
