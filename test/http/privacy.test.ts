import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privacyPaths } from '../../src/api/openapi-privacy.js';
import { basic, client, get, issuesOf, post, startTestServer, type TestServer } from './harness.js';

/** Consent, export, erasure and retention over the real HTTP API (docs/privacy.md). */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf, profileId, createTemplates } = client(
  () => s,
);

beforeAll(async () => {
  s = await startTestServer();
  await ingest([track('seed', 'Viewed'), track('seed', 'Bought')]);
  await createTemplates(
    { name: 'promo', channel: 'email', topic: 'marketing', variants: { en: { subject: 'Hi', text: 'Hi' } } },
    {
      name: 'news',
      channel: 'email',
      topic: 'marketing',
      variants: { en: { subject: 'News', text: 'Your data: {{ transparency_url }}' } },
    },
    {
      name: 'receipt',
      channel: 'email',
      topic: 'transactional',
      variants: { en: { subject: 'R', text: 'R' } },
    },
  );
  await sendJourney({ name: 'Promo', event: 'Viewed', channel: 'email', template: 'promo' });
  await sendJourney({ name: 'Receipt', event: 'Bought', channel: 'email', template: 'receipt' });
});
afterAll(() => s.close());

const sdk = (body: Record<string, unknown>) =>
  post(`${s.url}/v1/consent`, body, { authorization: basic(s.ws.writeKey) });

describe('consent ledger', () => {
  it('records consent through the admin API, validates by field, and shows state and history', async () => {
    await ingest([identify('ann', { email: 'ann@example.com' })]);
    const id = await profileId('ann');
    const bad = await admin('POST', `/profiles/${id}/consents`, { purpose: 'telepathy', status: 'maybe' });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual(['status: must be granted or withdrawn']);
    const unknown = await admin('POST', `/profiles/${id}/consents`, {
      purpose: 'telepathy',
      status: 'granted',
    });
    expect(issuesOf(unknown.body)).toEqual([
      'purpose: must be one of: email_marketing, push, sms, profiling, sharing',
    ]);
    expect(
      (await admin('POST', '/profiles/p_nobody/consents', { purpose: 'push', status: 'granted' })).status,
    ).toBe(404);
    const ok = await admin('POST', `/profiles/${id}/consents`, {
      purpose: 'profiling',
      status: 'granted',
      source: 'staff',
      method: 'written',
      text_version: 'form-2026-11',
    });
    expect(ok.status).toBe(201);
    const r = await api(`/profiles/${id}/consents`);
    expect(r.body['consents']).toContainEqual({
      purpose: 'profiling',
      status: 'granted',
      source: 'staff',
      method: 'written',
      text_version: 'form-2026-11',
      at: new Date(s.clock.now()).toISOString(),
    });
    expect(r.body['consents']).toContainEqual({ purpose: 'push', status: null });
  });

  it('withdrawing e-mail marketing unsubscribes the address and suppresses the next marketing send, not receipts', async () => {
    await ingest([identify('ben', { email: 'ben@example.com' })]);
    const id = await profileId('ben');
    s.clock.advance(1000);
    await admin('POST', `/profiles/${id}/consents`, {
      purpose: 'email_marketing',
      status: 'withdrawn',
      method: 'checkbox',
    });
    const subs = await api('/subscriptions?channel=email&address=ben@example.com');
    expect(subs.body['subscriptions']).toMatchObject([{ topic: '*', status: 'unsubscribed', source: 'api' }]);
    const history = (await api(`/profiles/${id}/consents`)).body['history'];
    expect(history).toEqual([
      {
        purpose: 'email_marketing',
        status: 'withdrawn',
        source: 'api',
        method: 'checkbox',
        text_version: null,
        at: new Date(s.clock.now()).toISOString(),
      },
    ]);
    await ingest([track('ben', 'Viewed'), track('ben', 'Bought')]);
    await s.runner.runDue();
    // The dispatcher checks subscriptions as the message goes out.
    await s.dispatcher.runDue();
    const msgs = await messagesOf('ben');
    expect(msgs.find((m) => m.template === 'promo')).toMatchObject({
      status: 'suppressed',
      // The subscription is e-mail's one opt-in state; the consent API changed it.
      reason: `unsubscribed from everything (api, ${new Date(s.clock.now()).toISOString()})`,
    });
    expect(msgs.find((m) => m.template === 'receipt')?.status).not.toBe('suppressed');
  });

  it('a push withdrawal through the SDK suppresses the next marketing push with the reason', async () => {
    await ingest([track('seed', 'Pinged')]);
    await createTemplates({
      name: 'ping',
      channel: 'push',
      topic: 'marketing',
      variants: { en: { title: 'Hi', body: 'News', url: 'https://shop.example/' } },
    });
    await sendJourney({ name: 'Ping', event: 'Pinged', channel: 'push', template: 'ping' });
    await ingest([identify('jon', { name: 'Jon' }), identify('kim', { name: 'Kim' })]);
    s.clock.advance(1000);
    expect((await sdk({ userId: 'jon', consents: { push: false } })).status).toBe(202);
    await ingest([track('jon', 'Pinged'), track('kim', 'Pinged')]);
    await s.runner.runDue();
    expect((await messagesOf('jon')).find((m) => m.template === 'ping')).toMatchObject({
      status: 'suppressed',
      reason: `consent withdrawn: push (sdk, ${new Date(s.clock.now()).toISOString()})`,
    });
    expect((await messagesOf('kim')).find((m) => m.template === 'ping')?.status).not.toBe('suppressed');
  });

  it('a one-click unsubscribe and a preference-centre change appear in the ledger', async () => {
    await ingest([identify('cho', { email: 'cho@example.com' })]);
    const id = await profileId('cho');
    await admin('PUT', '/subscriptions', {
      channel: 'email',
      address: 'cho@example.com',
      topic: 'news',
      status: 'unsubscribed',
      source: 'preference-centre',
    });
    const h = (await api(`/profiles/${id}/consents`)).body['history'] as Record<string, unknown>[];
    expect(h).toMatchObject([
      { purpose: 'email_marketing', status: 'withdrawn', topic: 'news', source: 'preference-centre' },
    ]);
  });

  it('the SDK records choices with the write key, creating the visitor; unknown purposes are refused', async () => {
    const bad = await sdk({ anonymousId: 'v1', consents: { mind_reading: true } });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'consents.mind_reading: must be one of: email_marketing, push, sms, profiling, sharing',
    ]);
    expect((await sdk({ consents: { push: true } })).status).toBe(400);
    const ok = await sdk({
      anonymousId: 'v1',
      consents: { push: false, profiling: true },
      textVersion: 'banner-3',
    });
    expect(ok.status).toBe(202);
    const lookup = await get(`${s.url}/api/v1/profiles/lookup?anonymousId=v1`, s.ws.adminKey);
    const id = lookup.body['id'] as string;
    const r = await api(`/profiles/${id}/consents`);
    expect(r.body['history']).toMatchObject([
      { purpose: 'push', status: 'withdrawn', source: 'sdk', method: 'banner', text_version: 'banner-3' },
      { purpose: 'profiling', status: 'granted', source: 'sdk' },
    ]);
    const events = await api(`/profiles/${id}/events`);
    expect(JSON.stringify(events.body)).toContain('Consent Updated');
  });

  it('a workspace adds its own purposes in the privacy settings', async () => {
    const bad = await admin('PUT', '/privacy/settings', {
      retention_months: 0,
      purposes: ['Bad Name'],
      x: 1,
    });
    expect(issuesOf(bad.body)).toEqual([
      'x: is not a privacy setting',
      'retention_months: must be a whole number of months, 1–240, or null to keep events',
      'purposes[0]: must be 1–40 lower-case letters, digits or _, starting with a letter',
    ]);
    const ok = await admin('PUT', '/privacy/settings', { purposes: ['research'] });
    expect(ok.body).toEqual({
      retention_months: null,
      purposes: ['research'],
      profiling_required: false,
      audit_retention_days: 400,
    });
    expect((await api('/privacy/settings')).body).toEqual(ok.body);
    expect((await sdk({ anonymousId: 'v2', consents: { research: true } })).status).toBe(202);
  });
});

/** Reads a ustar archive into file name → text. */
function untar(buf: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  let at = 0;
  while (at + 512 <= buf.length) {
    const h = buf.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('ascii').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    let sum = 0;
    h.forEach((b, i) => (sum += i >= 148 && i < 156 ? 32 : b));
    expect(parseInt(h.subarray(148, 156).toString('ascii'), 8)).toBe(sum);
    files.set(name, buf.subarray(at + 512, at + 512 + size).toString('utf8'));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('export', () => {
  it('gives one JSON document and a tar of CSV files of everything about the customer', async () => {
    await ingest([
      identify('dan', { email: 'dan@example.com', name: 'Dan' }),
      ...Array.from({ length: 1500 }, (_, i) => track('dan', 'Viewed', { n: i })),
    ]);
    await s.runner.runDue();
    await s.dispatcher.runDue();
    const id = await profileId('dan');
    const res = await fetch(`${s.url}/api/v1/profiles/${id}/export`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`kizuna-export-${id}.json`);
    const doc = (await res.json()) as {
      format: string;
      profile_id: string;
      sections: Record<string, unknown[]>;
    };
    expect(doc.format).toBe('kizuna-export/1');
    expect(doc.profile_id).toBe(id);
    expect(doc.sections['events']!.length).toBe(1501);
    expect(doc.sections['identities']).toContainEqual(
      expect.objectContaining({ kind: 'email', value: 'dan@example.com' }),
    );
    expect(doc.sections['journey_messages']!.length).toBeGreaterThan(0);
    expect(doc.sections['message_events']!.length).toBeGreaterThan(0);
    expect(JSON.stringify(doc)).not.toContain('ann@example.com');

    const tar = await fetch(`${s.url}/api/v1/profiles/${id}/export?format=csv`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    const files = untar(Buffer.from(await tar.arrayBuffer()));
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'manifest.json',
        'profile.csv',
        'identities.csv',
        'events-00001.csv',
        'events-00002.csv',
      ]),
    );
    expect(files.get('events-00001.csv')!.split('\r\n').length).toBe(1002);
    expect(files.get('profile.csv')).toContain('dan@example.com');
    expect(JSON.parse(files.get('manifest.json')!)).toMatchObject({ profile_id: id });

    const other = await get(`${s.url}/api/v1/profiles/${id}/export`, s.other.adminKey);
    expect(other.status).toBe(404);
    expect((await api(`/profiles/${id}/export?format=xml`)).status).toBe(400);
  });
});

describe('erasure', () => {
  it('erases once, says so again, logs counts only, and drops replayed events', async () => {
    const replay = [identify('eve', { email: 'eve@example.com' }), track('eve', 'Viewed')];
    await ingest(replay);
    await s.runner.runDue();
    const id = await profileId('eve');
    const r = await admin('DELETE', `/profiles/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'erased', erasure: { requested_by: 'api' } });
    expect((r.body['erasure'] as { removed: Record<string, number> }).removed).toMatchObject({
      profiles: 1,
      events: 2,
      journey_messages: 1,
    });
    expect((await admin('DELETE', `/profiles/${id}`)).body).toEqual({ status: 'already_erased' });
    expect((await admin('DELETE', '/profiles/p_never')).status).toBe(404);
    expect((await api(`/profiles/${id}`)).status).toBe(404);

    const again = await post(`${s.url}/v1/batch`, { batch: replay }, { authorization: basic(s.ws.writeKey) });
    expect(again.body).toEqual({ success: true, stored: 0, duplicates: 0, discarded: 2 });
    const late = await post(
      `${s.url}/v1/track`,
      { userId: 'eve', event: 'Viewed', messageId: 'late-1' },
      { authorization: basic(s.ws.writeKey) },
    );
    expect(late.body).toMatchObject({ stored: 0, discarded: 1 });
    expect((await get(`${s.url}/api/v1/profiles/lookup?userId=eve`, s.ws.adminKey)).status).toBe(404);
    const log = await api('/erasures');
    expect(log.body['discarded_events']).toBe(3);
    for (const personal of [id, 'eve@example.com', '"eve"'])
      expect(JSON.stringify(log.body)).not.toContain(personal);
  });
});

describe('retention', () => {
  it('the sweeper deletes raw events older than the retention, keeping the profile and its aggregates', async () => {
    await ingest([identify('fay', { email: 'fay@example.com' }), track('fay', 'Viewed')]);
    const id = await profileId('fay');
    const before = (await api(`/profiles/${id}`)).body;
    await admin('PUT', '/privacy/settings', { retention_months: 2 });
    s.clock.advance(45 * 24 * 3600_000);
    await ingest([track('fay', 'Bought')]);
    await s.sweeper.sweep(s.ws.id);
    expect(((await api(`/profiles/${id}/events`)).body['events'] as unknown[]).length).toBe(3);
    s.clock.advance(30 * 24 * 3600_000);
    await s.sweeper.sweep(s.ws.id);
    const left = (await api(`/profiles/${id}/events`)).body['events'] as { event?: string }[];
    expect(left.length).toBe(1);
    const after = (await api(`/profiles/${id}`)).body;
    expect(after['eventCount']).toBe(3);
    expect(after['traits']).toEqual(before['traits']);
  });
});

describe('OpenAPI', () => {
  it('every documented GET path of this part answers with a real customer', async () => {
    await ingest([identify('gus', { email: 'gus@example.com' })]);
    const id = await profileId('gus');
    const gets = Object.entries(privacyPaths).filter(([, ops]) => 'get' in ops);
    expect(gets.length).toBe(4);
    for (const [path] of gets) {
      const r = await get(`${s.url}${path.replace('{id}', id)}`, s.ws.adminKey);
      expect([path, r.status]).toEqual([path, 200]);
    }
  });
});

describe('profiling consent', () => {
  const inApp = async (userId: string) => {
    const r = await fetch(`${s.url}/v1/messages?userId=${userId}&writeKey=${s.ws.writeKey}`);
    expect(r.status).toBe(200);
    return JSON.stringify(await r.json());
  };

  it('a customer who may not be profiled gets in-app content as an anonymous visitor', async () => {
    await ingest([identify('hana', { name: 'Hana' }), identify('ivo', { name: 'Ivo' })]);
    const created = await admin('POST', '/in-app-messages', {
      name: 'Hello',
      type: 'modal',
      status: 'active',
      trigger: { kind: 'delay', seconds: 0 },
      content: { title: 'Hi', body: 'Hello {{ profile.name | default: "there" }}' },
    });
    expect(created.status).toBe(201);
    expect(await inApp('hana')).toContain('Hello Hana');
    const hana = await profileId('hana');
    await admin('POST', `/profiles/${hana}/consents`, { purpose: 'profiling', status: 'withdrawn' });
    expect(await inApp('hana')).toContain('Hello there');
    expect(await inApp('ivo')).toContain('Hello Ivo');
    // Where the workspace requires it, only a granted consent allows it.
    await admin('PUT', '/privacy/settings', { profiling_required: true });
    s.clock.advance(1000);
    expect(await inApp('ivo')).toContain('Hello there');
    await admin('POST', `/profiles/${await profileId('ivo')}/consents`, {
      purpose: 'profiling',
      status: 'granted',
    });
    expect(await inApp('ivo')).toContain('Hello Ivo');
    await admin('PUT', '/privacy/settings', {});
  });
});

describe('profiling segments', () => {
  it('a withdrawal through the SDK takes the customer out at once, the explainer says why, a grant brings them back', async () => {
    const seg = await admin('POST', '/segments', {
      name: 'Viewers (profiled)',
      rule: { event: 'Viewed' },
      requiresProfiling: true,
    });
    expect(seg.status).toBe(201);
    expect(seg.body['requiresProfiling']).toBe(true);
    const segId = seg.body['id'] as string;
    await s.builder.idle();
    await ingest([track('jun', 'Viewed')]);
    const jun = await profileId('jun');
    const isMember = async () =>
      ((await api(`/profiles/${jun}`)).body['segments'] as string[]).includes(segId);
    expect(await isMember()).toBe(true);

    expect((await sdk({ userId: 'jun', consents: { profiling: false } })).status).toBe(202);
    expect(await isMember()).toBe(false);
    const why = await api(`/profiles/${jun}/explain?segment=${segId}`);
    expect(why.body).toMatchObject({
      member: false,
      explanation: {
        pass: false,
        children: [
          { kind: 'consent', pass: false, actual: 'consent withdrawn' },
          { pass: true, kind: 'event_count' },
        ],
      },
    });
    // New events, a sweep and a rename (which keeps the flag) do not bring them back.
    await ingest([track('jun', 'Viewed')]);
    await s.sweeper.sweep(s.ws.id);
    const renamed = await admin('PUT', `/segments/${segId}`, { name: 'Viewers', rule: { event: 'Viewed' } });
    expect(renamed.body['requiresProfiling']).toBe(true);
    await s.builder.idle();
    expect(await isMember()).toBe(false);
    expect(
      issuesOf((await admin('POST', '/segments', { name: 'x', rule: {}, requiresProfiling: 'yes' })).body),
    ).toContain('requiresProfiling: must be true or false');

    s.clock.advance(1000);
    await sdk({ userId: 'jun', consents: { profiling: true } });
    expect(await isMember()).toBe(true);
    expect((await api(`/profiles/${jun}/explain?segment=${segId}`)).body).toMatchObject({
      member: true,
      explanation: { pass: true },
    });
  });

  it('where the workspace requires profiling consent, only customers who granted it are members', async () => {
    const seg = await admin('POST', '/segments', {
      name: 'Buyers (profiled)',
      rule: { event: 'Bought' },
      requiresProfiling: true,
    });
    const segId = seg.body['id'] as string;
    await ingest([track('kei', 'Bought'), track('lin', 'Bought')]);
    await s.builder.idle();
    const [kei, lin] = [await profileId('kei'), await profileId('lin')];
    await admin('POST', `/profiles/${lin}/consents`, { purpose: 'profiling', status: 'granted' });
    const members = async () =>
      ((await api(`/segments/${segId}/members`)).body['profileIds'] as string[]).filter((id) =>
        [kei, lin].includes(id),
      );
    expect((await members()).sort()).toEqual([kei, lin].sort());
    await admin('PUT', '/privacy/settings', { profiling_required: true });
    await s.builder.idle();
    expect(await members()).toEqual([lin]);
    await admin('PUT', '/privacy/settings', {});
    await s.builder.idle();
    expect((await members()).sort()).toEqual([kei, lin].sort());
  });
});

describe('lifting a tombstone', () => {
  it('refuses the erased identity until an admin lifts it, then stores it as a new customer; audited without the identity', async () => {
    const send = (messageId: string) =>
      post(
        `${s.url}/v1/track`,
        { userId: 'mio', event: 'Viewed', messageId },
        { authorization: basic(s.ws.writeKey) },
      );
    await ingest([identify('mio', { email: 'Mio@Example.com' })]);
    const old = await profileId('mio');
    await admin('DELETE', `/profiles/${old}`);
    expect((await send('mio-1')).body).toMatchObject({ stored: 0, discarded: 1 });

    const bad = await admin('POST', '/tombstones/lift', { email: 'not an address', age: 3 });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toContain('email: must be an e-mail address');
    expect(issuesOf((await admin('POST', '/tombstones/lift', {})).body)).toEqual([
      'body: required: one of userId, anonymousId, email, phone',
    ]);
    const lifted = await admin('POST', '/tombstones/lift', { userId: 'mio', email: ' MIO@example.com' });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toEqual({ lifted: ['user_id', 'email'], not_tombstoned: 0 });

    expect((await send('mio-2')).body).toMatchObject({ stored: 1, duplicates: 0 });
    const back = await profileId('mio');
    expect(back).not.toBe(old);
    expect((await api(`/profiles/${back}/events`)).body['events']).toHaveLength(1);
    expect((await admin('POST', '/tombstones/lift', { userId: 'mio' })).body).toEqual({
      lifted: [],
      not_tombstoned: 1,
    });
    const audit = await api('/audit?resource=tombstone');
    const entries = audit.body['entries'] as Record<string, unknown>[];
    expect(entries.filter((e) => e['status'] === 200).map((e) => e['action'])).toEqual([
      'POST /api/v1/tombstones/lift',
      'POST /api/v1/tombstones/lift',
    ]);
    expect(JSON.stringify(entries).toLowerCase()).not.toContain('mio');
  });
});

describe('audit-log retention', () => {
  it('the sweeper deletes audit entries older than the workspace retention and keeps the rest', async () => {
    const entries = async () => (await api('/audit?limit=1000')).body['entries'] as { at: string }[];
    const bad = await admin('PUT', '/privacy/settings', { audit_retention_days: 7 });
    expect(issuesOf(bad.body)).toEqual(['audit_retention_days: must be a whole number of days, 30–3650']);
    await admin('PUT', '/privacy/settings', { audit_retention_days: 30 });
    const before = await entries();
    expect(before.length).toBeGreaterThan(5);
    const cutoff = s.clock.now();
    s.clock.advance(31 * 24 * 3600_000);
    await api(`/profiles/${await profileId('seed')}`);
    await s.sweeper.sweep(s.ws.id);
    const after = await entries();
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => Date.parse(e.at) > cutoff)).toBe(true);
    // The other workspace's log is its own business.
    expect(after.length).toBeLessThan(before.length);
  });
});
