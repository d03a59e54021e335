import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { surveyPaths } from '../../src/api/openapi-surveys.js';
import { addUser, signIn, withCookie } from './access-support.js';
import { client, get, issuesOf, startTestServer, type TestServer } from './harness.js';

/**
 * The voice-of-the-customer board (docs/surveys.md#voice-of-the-customer): support notes and what
 * staff heard, next to survey comments; tagged, filtered and searched; each linked to its profile.
 */
let s: TestServer;
const { api, admin, ingest, identify, profileId } = client(() => s);

type Entry = {
  id: string;
  text: string;
  source: string;
  sentiment: string | null;
  topics: string[];
  profileId: string | null;
};
const board = async (query = '') =>
  ((await api(`/feedback${query}`)).body['feedback'] as Entry[]).map((f) => f.text);

beforeAll(async () => {
  s = await startTestServer();
  await ingest([identify('ann', { email: 'ann@example.com' }), identify('bo', { email: 'bo@example.com' })]);
});
afterAll(() => s.close());

describe('voice of the customer', () => {
  it('posts support notes and staff feedback on profiles, tags, filters and searches them', async () => {
    const ann = await profileId('ann');
    const note = await admin('POST', '/feedback', {
      text: 'Called about a late parcel; very upset',
      source: 'support',
      author: 'Kim (support)',
      profile_id: ann,
      sentiment: 'awful',
      topics: ['Delivery', 'delivery', 'parcel'],
    });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({
      source: 'support',
      profileId: ann,
      sentiment: 'awful',
      topics: ['delivery', 'parcel'],
    });
    s.clock.advance(1000);
    const heard = await admin('POST', '/feedback', {
      text: 'Said the new ＳＩＺＥ guide helped her choose',
      source: 'employee',
      author: 'Store staff, Shibuya',
      profile_id: await profileId('bo'),
    });
    expect(heard.status).toBe(201);
    s.clock.advance(1000);
    await admin('POST', '/feedback', { text: 'Customers keep asking for gift wrapping', source: 'employee' });

    expect(await board()).toEqual([
      'Customers keep asking for gift wrapping',
      'Said the new ＳＩＺＥ guide helped her choose',
      'Called about a late parcel; very upset',
    ]);
    expect(await board('?q=size%20guide')).toEqual(['Said the new ＳＩＺＥ guide helped her choose']);
    expect(await board('?q=LATE')).toEqual(['Called about a late parcel; very upset']);
    expect(await board('?q=%25')).toEqual([]);
    expect(await board(`?profile_id=${ann}`)).toEqual(['Called about a late parcel; very upset']);
    expect(await board('?source=employee&limit=1')).toEqual(['Customers keep asking for gift wrapping']);
    expect(await board('?topic=Delivery')).toEqual(['Called about a late parcel; very upset']);

    const id = heard.body['id'] as string;
    const tagged = await admin('PUT', `/feedback/${id}/tags`, { sentiment: 'good', topics: ['size guide'] });
    expect(tagged.body).toMatchObject({ sentiment: 'good', topics: ['size guide'] });
    expect(await board('?sentiment=good')).toEqual(['Said the new ＳＩＺＥ guide helped her choose']);
    expect((await admin('PUT', `/feedback/${id}/tags`, { sentiment: null })).body).toMatchObject({
      sentiment: null,
      topics: ['size guide'],
    });
    expect((await api(`/feedback/${id}`)).body).toMatchObject({ author: 'Store staff, Shibuya' });
    expect((await api('/feedback/fb_nope')).status).toBe(404);
    expect((await admin('PUT', '/feedback/fb_nope/tags', { sentiment: 'bad' })).status).toBe(404);

    const page = await api('/feedback?limit=2');
    const rest = await api(`/feedback?limit=2&before=${page.body['next'] as string}`);
    expect((rest.body['feedback'] as Entry[]).map((f) => f.text)).toEqual([
      'Called about a late parcel; very upset',
    ]);
  });

  it('lets support read one customer’s notes (profiles.read, audited) but not the board', async () => {
    const bo = await profileId('bo');
    await addUser(s, s.ws.id, 'desk@example.jp', 'support');
    const desk = await signIn(s, 'desk@example.jp');
    const mine = await withCookie(s, 'GET', `/api/v1/profiles/${bo}/feedback`, desk.cookie);
    expect(mine.status).toBe(200);
    const texts = (mine.body['feedback'] as Entry[]).map((f) => f.text);
    expect(texts).toEqual(await board(`?profile_id=${bo}`));
    expect(texts).toContain('Said the new ＳＩＺＥ guide helped her choose');
    expect((mine.body['feedback'] as Entry[]).every((f) => f.profileId === bo)).toBe(true);
    expect((await withCookie(s, 'GET', '/api/v1/feedback', desk.cookie)).status).toBe(403);
    // Paged like the board, and an unknown customer is a 404, a bad limit a 400 naming the field.
    const first = await api(`/profiles/${bo}/feedback?limit=1`);
    expect((first.body['feedback'] as Entry[]).length).toBe(1);
    expect((await api('/profiles/p_nope/feedback')).status).toBe(404);
    expect(issuesOf((await api(`/profiles/${bo}/feedback?limit=0`)).body)).toEqual([
      'limit: must be at least 1',
    ]);
    const audit = await api('/audit?limit=50');
    const entries = audit.body['entries'] as { action: string; resource?: string | null }[];
    expect(entries.some((e) => e.action.includes('/profiles/:id/feedback'))).toBe(true);
  });

  it('refuses bad feedback by field and stores nothing', async () => {
    const before = await board();
    const bad = async (body: unknown, issues: string[]) => {
      const r = await admin('POST', '/feedback', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(issuesOf(r.body)).toEqual(issues);
    };
    await bad({ text: 'x', source: 'survey' }, [
      'source: must be support or employee (survey feedback comes from answers)',
    ]);
    await bad({ text: 'x'.repeat(2001), source: 'support' }, ['text: must be at most 2000 characters']);
    await bad({ text: '  ', source: 'support' }, ['text: must not be empty']);
    await bad({ text: 'a\u0000b', source: 'support' }, ['text: must not contain a NUL character (\\u0000)']);
    await bad({ text: 'ok', source: 'support', sentiment: 'meh' }, [
      'sentiment: must be one of good, bad, awful',
    ]);
    await bad({ text: 'ok', source: 'support', topics: ['!!'] }, [
      'topics[0]: must be 1–40 letters, digits, spaces, _ or -',
    ]);
    await bad({ text: 'ok', source: 'support', profile_id: 'p_nope' }, ['profile_id: no profile p_nope']);
    await bad({ text: 'ok', source: 'support', color: 'red' }, ['query: Unrecognized key: "color"']);
    expect(await board()).toEqual(before);
    expect(issuesOf((await admin('PUT', '/feedback/x/tags', {})).body)).toEqual([
      'sentiment: give sentiment, topics or both',
    ]);
    expect(issuesOf((await api('/feedback?source=nope&limit=0')).body)).toEqual([
      'source: must be one of survey, support, employee',
      'limit: must be at least 1',
    ]);
  });

  it('answers every documented survey and feedback GET path with real ids', async () => {
    const survey = (await admin('POST', '/surveys', { from_template: 'nps_programme' })).body['id'] as string;
    await admin('POST', `/surveys/${survey}/responses`, {
      userId: 'ann',
      answers: [{ question: 'nps', value: 9, comment: 'Lovely' }],
    });
    const [entry] = (await api(`/feedback?survey_id=${survey}`)).body['feedback'] as Entry[];
    expect(entry).toMatchObject({ text: 'Lovely', source: 'survey', profileId: await profileId('ann') });
    for (const [path, item] of Object.entries(surveyPaths)) {
      if (!('get' in item)) continue;
      const id = path.startsWith('/api/v1/feedback')
        ? entry!.id
        : path.startsWith('/api/v1/profiles')
          ? await profileId('ann')
          : survey;
      const concrete = path.replace('{id}', id);
      const r = await get(`${s.url}${concrete}`, s.ws.adminKey);
      expect(r.status, concrete).toBe(200);
    }
  });
});
