import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journeyPaths } from '../../src/api/openapi-journeys.js';
import { basic, get, issuesOf, post, send, startTestServer, T0, type TestServer } from './harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let s: TestServer;
const api = (path: string) => get(`${s.url}/api/v1${path}`, s.ws.adminKey);
const admin = (method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
  send(method, `${s.url}/api/v1${path}`, s.ws.adminKey, body);
let seq = 0;
const track = (
  userId: string,
  event: string,
  properties: Record<string, unknown> = {},
  traits?: Record<string, unknown>,
) => ({
  type: 'track',
  userId,
  event,
  messageId: `m-${++seq}`,
  properties,
  ...(traits && { context: { traits } }),
  timestamp: new Date(s.clock.now()).toISOString(),
});
const identify = (userId: string, traits: Record<string, unknown>) => ({
  type: 'identify',
  userId,
  traits,
  messageId: `m-${++seq}`,
  timestamp: new Date(s.clock.now()).toISOString(),
});
const ingest = async (batch: unknown[]) => {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.ws.writeKey) });
  expect(r.status).toBe(200);
};
const profileId = async (userId: string) =>
  ((await api(`/profiles/lookup?userId=${encodeURIComponent(userId)}`)).body as { id: string }).id;
type Entry = { step: string; state: string; waiting: boolean; history: { step: string; outcome: string }[] };
const entriesOf = async (userId: string) =>
  (await api(`/profiles/${await profileId(userId)}/journeys`)).body['entries'] as Entry[];
const messagesOf = async (userId: string) =>
  (await api(`/profiles/${await profileId(userId)}/messages`)).body['messages'] as {
    step: string;
    template: string;
  }[];

const welcome = {
  name: 'First purchase',
  trigger: { event: 'Order Completed', where: [{ property: 'revenue', op: 'gte', value: 10 }] },
  entry: { limit: 'once' },
  start: 'thanks',
  steps: {
    thanks: { type: 'send', channel: 'email', template: 'thank-you', next: 'wait_app' },
    wait_app: {
      type: 'wait_for_event',
      event: 'Application Installed',
      timeout: '7d',
      next: 'morning',
      timeout_next: 'nudge',
    },
    morning: { type: 'delay', at_local_time: '10:00', next: 'recommend' },
    recommend: { type: 'send', channel: 'push', template: 'recommendations', next: 'tag' },
    tag: { type: 'update_profile', traits: { app_journey: 'done' }, next: 'vip_list' },
    vip_list: { type: 'add_to_list', list: 'app-users', next: 'done' },
    nudge: { type: 'send', channel: 'email', template: 'get-the-app', next: 'done' },
    done: { type: 'exit' },
  },
  goal: { event: 'Order Completed', within: '30d' },
};

beforeAll(async () => {
  s = await startTestServer();
  // The templates the journeys send must exist in the workspace.
  for (const [name, channel] of [
    ['thank-you', 'email'],
    ['thank-you-v2', 'email'],
    ['get-the-app', 'email'],
    ['digest', 'email'],
    ['sale', 'email'],
    ['recommendations', 'push'],
    ['news', 'push'],
  ]) {
    const fields =
      channel === 'email'
        ? { subject: name, text: 'Hi {{ profile.first_name | default: "there" }}' }
        : { title: name, body: 'For you' };
    const t = await admin('POST', '/templates', { name, channel, variants: { en: fields } });
    expect(t.status).toBe(201);
  }
  // The events and traits the journeys name must exist in the workspace.
  await ingest([
    track('seed', 'Order Completed', { revenue: 1 }),
    track('seed', 'Application Installed'),
    identify('seed', { timezone: 'UTC' }),
  ]);
});
afterAll(() => s.close());

describe('journeys over the admin API', () => {
  let id: string;

  it('rejects a bad graph naming the step, and saves a good one as a draft', async () => {
    const bad = structuredClone(welcome) as Record<string, unknown>;
    const steps = bad['steps'] as Record<string, Record<string, unknown>>;
    steps['thanks']!['next'] = 'nowhere';
    steps['orphan'] = { type: 'exit' };
    const r = await admin('POST', '/journeys', bad);
    expect(r.status).toBe(400);
    expect(issuesOf(r.body)).toEqual(
      expect.arrayContaining([
        'steps.thanks.next: names no step ("nowhere")',
        expect.stringMatching(/^steps\.orphan: is unreachable/),
      ]),
    );
    const loop = await admin('POST', '/journeys?allow_unknown=true', {
      ...welcome,
      steps: {
        ...welcome.steps,
        done: {
          type: 'condition',
          rule: { trait: 'vip', op: 'eq', value: true },
          then: 'nudge',
          else: 'nudge',
        },
      },
    });
    expect(loop.status).toBe(400);
    expect(issuesOf(loop.body).join('\n')).toMatch(/loop with no delay or wait_for_event step/);
    expect((await api('/journeys')).body['journeys']).toEqual([]);

    const ok = await admin('POST', '/journeys', welcome);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ status: 'draft', version: 0 });
    id = ok.body['id'] as string;
  });

  it('takes no customer while a draft, then enters on the trigger once published', async () => {
    await ingest([track('ann', 'Order Completed', { revenue: 50 }, { timezone: 'Asia/Tokyo' })]);
    expect(await entriesOf('ann')).toEqual([]);
    const p = await admin('POST', `/journeys/${id}/publish`);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'published', version: 1 });

    await ingest([
      identify('ann', { timezone: 'Asia/Tokyo' }),
      identify('bob', { timezone: 'America/New_York' }),
    ]);
    await ingest([
      track('ann', 'Order Completed', { revenue: 50 }),
      track('bob', 'Order Completed', { revenue: 30 }),
      track('cat', 'Order Completed', { revenue: 5 }),
    ]);
    expect(await entriesOf('cat')).toEqual([]); // below the trigger's revenue filter
    expect(await s.runner.runDue()).toBe(2);
    for (const u of ['ann', 'bob']) {
      const [e] = await entriesOf(u);
      expect(e).toMatchObject({ step: 'wait_app', state: 'active', waiting: true });
      expect((await messagesOf(u)).map((m) => m.template)).toEqual(['thank-you']);
    }
    // Once ever: a second order does not enter again.
    await ingest([track('ann', 'Order Completed', { revenue: 70 })]);
    expect(await entriesOf('ann')).toHaveLength(1);
  });

  it("wakes on the awaited event, then sends at 10:00 in each customer's own time zone", async () => {
    s.clock.set(T0 + 1 * HOUR); // 2026-11-01T10:00Z
    await ingest([track('ann', 'Application Installed'), track('bob', 'Application Installed')]);
    await s.runner.runDue();
    const dueOf = async (u: string) =>
      ((await api(`/profiles/${await profileId(u)}/journeys`)).body['entries'] as { dueAt: string }[])[0]!
        .dueAt;
    // Tokyo is UTC+9: its next 10:00 is 01:00Z on the 2nd. New York (EST, UTC-5 in November) is 15:00Z on the 1st.
    expect(await dueOf('ann')).toBe('2026-11-02T01:00:00.000Z');
    expect(await dueOf('bob')).toBe('2026-11-01T15:00:00.000Z');

    s.clock.set(Date.parse('2026-11-01T15:00:00Z'));
    await s.runner.runDue();
    expect((await messagesOf('bob')).map((m) => m.template)).toEqual(['thank-you', 'recommendations']);
    expect((await messagesOf('ann')).map((m) => m.template)).toEqual(['thank-you']);
    s.clock.set(Date.parse('2026-11-02T01:00:00Z'));
    await s.runner.runDue();
    expect((await messagesOf('ann')).map((m) => m.template)).toEqual(['thank-you', 'recommendations']);
    const [e] = await entriesOf('ann');
    expect(e!.state).toBe('completed');
    expect(e!.history.map((h) => h.step)).toEqual([
      'thanks',
      'thanks',
      'wait_app',
      'wait_app',
      'morning',
      'recommend',
      'tag',
      'vip_list',
      'done',
    ]);
    // The profile update went through ingestion: the trait is on the profile.
    const ann = (await api(`/profiles/${await profileId('ann')}`)).body as {
      traits: Record<string, unknown>;
    };
    expect(ann.traits['app_journey']).toBe('done');
    expect((await api('/lists/app-users/members')).body['profileIds']).toHaveLength(2);
  });

  it('takes the timeout exit when the event never comes, and counts conversions', async () => {
    await ingest([track('dan', 'Order Completed', { revenue: 20 })]);
    await s.runner.runDue();
    s.clock.advance(7 * DAY + 1);
    await s.runner.runDue();
    expect((await messagesOf('dan')).map((m) => m.template)).toEqual(['thank-you', 'get-the-app']);
    await ingest([track('dan', 'Order Completed', { revenue: 20 })]);
    const stats = (await api(`/journeys/${id}/stats`)).body;
    expect(stats).toMatchObject({ entered: 3, completed: 3, active: 0 });
    // Ann's second order (above) and Dan's: both within 30 days of entering. The orders that let
    // them in are not conversions.
    expect(stats['converted']).toBe(2);
  });

  it('explains why a customer did not enter', async () => {
    const x = (await api(`/journeys/${id}/explain/${await profileId('cat')}`)).body as {
      entered: boolean;
      checks: { check: string; ok: boolean; detail: string }[];
    };
    expect(x.entered).toBe(false);
    expect(x.checks.find((c) => c.check === 'trigger')).toMatchObject({ ok: true });
    expect(x.checks.find((c) => c.check === 'entry_limit')).toMatchObject({ ok: true });
    const ann = (await api(`/journeys/${id}/explain/${await profileId('ann')}`)).body as {
      entered: boolean;
      checks: { check: string; ok: boolean; detail: string }[];
    };
    expect(ann.entered).toBe(true);
    expect(ann.checks.find((c) => c.check === 'entry_limit')).toMatchObject({
      ok: false,
      detail: 'once ever; already entered',
    });
  });

  it('keeps published versions frozen: edits go to the draft until published', async () => {
    const edited = {
      ...welcome,
      steps: { ...welcome.steps, thanks: { ...welcome.steps.thanks, template: 'thank-you-v2' } },
    };
    expect((await admin('PUT', `/journeys/${id}`, edited)).status).toBe(200);
    expect((await api(`/journeys/${id}`)).body).toMatchObject({ version: 1, status: 'published' });
    const v1 = (await api(`/journeys/${id}/versions/1`)).body['definition'] as typeof welcome;
    expect(v1.steps.thanks.template).toBe('thank-you');
    const p = await admin('POST', `/journeys/${id}/publish`);
    expect(p.body).toMatchObject({ version: 2 });
    expect(
      ((await api(`/journeys/${id}/versions/2`)).body['definition'] as typeof welcome).steps.thanks.template,
    ).toBe('thank-you-v2');
  });

  it('pauses (no entries, no steps), resumes and archives', async () => {
    expect((await admin('POST', `/journeys/${id}/pause`)).body).toMatchObject({ status: 'paused' });
    await ingest([track('eve', 'Order Completed', { revenue: 99 })]);
    expect(await entriesOf('eve')).toEqual([]);
    expect((await admin('POST', `/journeys/${id}/pause`)).status).toBe(409);
    expect((await admin('POST', `/journeys/${id}/resume`)).body).toMatchObject({ status: 'published' });
    await ingest([track('eve', 'Order Completed', { revenue: 99 })]);
    await s.runner.runDue();
    expect(await entriesOf('eve')).toMatchObject([{ step: 'wait_app', state: 'active' }]);
    expect((await admin('POST', `/journeys/${id}/archive`)).body).toMatchObject({ status: 'archived' });
    expect(await entriesOf('eve')).toMatchObject([{ state: 'exited' }]);
    expect((await admin('PUT', `/journeys/${id}`, welcome)).status).toBe(409);
  });

  it('answers every documented GET path with real ids', async () => {
    const ann = await profileId('ann');
    for (const [path, ops] of Object.entries(journeyPaths)) {
      if (!('get' in ops)) continue;
      const concrete = path
        .replace('/journeys/{id}', `/journeys/${id}`)
        .replace('{id}', ann)
        .replace('{version}', '1')
        .replace('{profileId}', ann)
        .replace('{list}', 'app-users');
      const r = await get(`${s.url}${concrete}`, s.ws.adminKey);
      expect(r.status, concrete).toBe(200);
    }
  });

  it('answers 404 for an unknown journey and 401 without the admin key', async () => {
    expect((await api('/journeys/jr_nope')).status).toBe(404);
    expect((await get(`${s.url}/api/v1/journeys`)).status).toBe(401);
    expect((await admin('POST', '/journeys', 'not json object')).status).toBe(400);
  });
});

describe('broadcasts and scheduled journeys', () => {
  let vip: string;
  const users = Array.from({ length: 40 }, (_, i) => `vip${i}`);

  it('sends a broadcast to a segment at its time, throttled, keeping a control group', async () => {
    await ingest(
      users.map((u, i) => identify(u, { tier: 'vip', timezone: i % 2 ? 'Asia/Tokyo' : 'America/New_York' })),
    );
    const seg = await admin('POST', '/segments', {
      name: 'VIPs',
      rule: { trait: 'tier', op: 'eq', value: 'vip' },
    });
    expect(seg.status).toBe(201);
    vip = seg.body['id'] as string;
    await s.builder.idle();
    const start = s.clock.now() + HOUR;
    const bad = await admin('POST', '/broadcasts', {
      name: 'x',
      segment: vip,
      channel: 'email',
      template: 't',
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)[0]).toMatch(/^send_at: required/);
    const unknown = await admin('POST', '/broadcasts', {
      name: 'x',
      segment: 'seg_nope',
      channel: 'fax',
      template: 't',
      send_at: 'now',
    });
    expect(unknown.status).toBe(400);
    expect(issuesOf(unknown.body)).toEqual([
      'segment: names no segment of the workspace ("seg_nope")',
      expect.stringMatching(/^channel: must be one of: email/),
      'template: names no template of the workspace ("t")',
    ]);
    const r = await admin('POST', '/broadcasts', {
      name: 'December sale',
      segment: vip,
      channel: 'email',
      template: 'sale',
      send_at: new Date(start).toISOString(),
      throttle_per_minute: 20,
      control_percent: 25,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'published', version: 1 });
    const id = r.body['id'] as string;
    expect(await s.runner.runDue()).toBe(0); // not yet
    s.clock.set(start);
    await s.runner.runDue();
    const sent = async () =>
      ((await api(`/journeys/${id}/messages?limit=1000`)).body['messages'] as unknown[]).length;
    const stats = async () =>
      (await api(`/journeys/${id}/stats`)).body as { entered: number; completed: number };
    expect((await stats()).entered).toBe(users.length);
    // 20 a minute: at the start only the first one is due.
    expect(await sent()).toBeLessThanOrEqual(1);
    s.clock.advance(2 * 60_000);
    await s.runner.runDue();
    const afterTwoMinutes = await sent();
    expect(afterTwoMinutes).toBeGreaterThan(1);
    expect(afterTwoMinutes).toBeLessThan(users.length);
    s.clock.advance(5 * 60_000);
    await s.runner.runDue();
    const treated = await sent();
    expect((await stats()).completed).toBe(users.length);
    // The control group (25 %) got nothing; each entry drew its branch once.
    expect(treated).toBeGreaterThan(users.length * 0.5);
    expect(treated).toBeLessThan(users.length);
    // A one-off: nothing runs again.
    s.clock.advance(30 * DAY);
    await s.runner.runDue();
    expect((await stats()).entered).toBe(users.length);
  });

  it("sends at 10:00 on a date in each customer's own time zone", async () => {
    s.clock.set(Date.parse('2026-12-09T12:00:00Z'));
    const r = await admin('POST', '/broadcasts', {
      name: 'Morning news',
      segment: vip,
      channel: 'push',
      template: 'news',
      date: '2026-12-10',
      local_time: '10:00',
    });
    expect(r.status).toBe(201);
    const id = r.body['id'] as string;
    // The run starts a minute before 10:00 first happens anywhere (UTC+14), so every zone's next 10:00
    // is on the 10th.
    s.clock.set(Date.parse('2026-12-09T19:58:00Z'));
    expect(await s.runner.runDue()).toBe(0);
    s.clock.set(Date.parse('2026-12-09T19:59:00Z'));
    await s.runner.runDue();
    const due = (
      (await api(`/profiles/${await profileId('vip0')}/journeys`)).body['entries'] as {
        journeyId: string;
        dueAt: string;
      }[]
    )
      .filter((e) => e.journeyId === id)
      .map((e) => e.dueAt);
    expect(due).toEqual(['2026-12-10T15:00:00.000Z']); // New York, EST
    const tokyo = (
      (await api(`/profiles/${await profileId('vip1')}/journeys`)).body['entries'] as {
        journeyId: string;
        dueAt: string;
      }[]
    )
      .filter((e) => e.journeyId === id)
      .map((e) => e.dueAt);
    expect(tokyo).toEqual(['2026-12-10T01:00:00.000Z']);
  });

  it('enters the segment again on every run of a recurring schedule', async () => {
    const start = Date.parse('2026-12-20T09:00:00+09:00');
    const c = await admin('POST', '/journeys', {
      name: 'Weekly digest',
      trigger: { schedule: { segment: vip, at: new Date(start).toISOString(), every_days: 7 } },
      entry: { limit: 'every_time' },
      start: 'send',
      steps: {
        send: { type: 'send', channel: 'email', template: 'digest', next: 'done' },
        done: { type: 'exit' },
      },
    });
    expect(c.status).toBe(201);
    const id = c.body['id'] as string;
    expect((await admin('POST', `/journeys/${id}/publish`)).status).toBe(200);
    const entered = async () => ((await api(`/journeys/${id}/stats`)).body as { entered: number }).entered;
    s.clock.set(start);
    await s.runner.runDue();
    expect(await entered()).toBe(users.length);
    s.clock.set(start + 7 * DAY - 1);
    await s.runner.runDue();
    expect(await entered()).toBe(users.length);
    s.clock.set(start + 7 * DAY);
    await s.runner.runDue();
    expect(await entered()).toBe(2 * users.length);
    // The segment is the audience of journeys that are not archived: it cannot be deleted.
    const del = await admin('DELETE', `/segments/${vip}`);
    expect(del.status).toBe(400);
    expect(issuesOf(del.body)[0]).toMatch(new RegExp(`^id: segment ${vip} is used by journey .*${id}`));
    const x = (await api(`/journeys/${id}/explain/${await profileId('vip3')}`)).body as {
      checks: { check: string; detail: string }[];
    };
    expect(x.checks.find((k) => k.check === 'trigger')?.detail).toMatch(/every 7 days/);
  });
});
