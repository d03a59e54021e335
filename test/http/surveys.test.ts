import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basic, client, issuesOf, post, startTestServer, type TestServer } from './harness.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

/**
 * Surveys end to end (docs/surveys.md): an NPS e-mail goes out through the real SMTP sink with one
 * signed link per score; fetching a link records that score on the right profile (and as an event
 * on its timeline); a forged or edited link records nothing; answering again replaces the answer;
 * bad answers are refused by field with nothing stored.
 */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, createTemplates, profileId } = client(() => s);
let sink: SmtpSink;
let survey: string;

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
  await ingest([
    identify('ann', { email: 'ann@example.com', first_name: 'Ann' }),
    identify('bo', { email: 'bo@example.com', first_name: 'Bo' }),
    track('seed', 'Survey Invite'),
  ]);
  const created = await admin('POST', '/surveys', { from_template: 'nps_programme' });
  expect(created.status).toBe(201);
  survey = created.body['id'] as string;
  await createTemplates({
    name: 'nps-mail',
    channel: 'email',
    variants: {
      en: {
        subject: 'How did we do, {{ profile.first_name }}?',
        html: `<p>{{ surveys.${survey}.question }}</p><p>{% for l in surveys.${survey}.links %}<a href="{{ l.url }}">{{ l.value }}</a> {% endfor %}</p>`,
        text: `{% for l in surveys.${survey}.links %}{{ l.value }}: {{ l.url }}\n{% endfor %}`,
      },
    },
  });
  await sendJourney({ name: 'NPS', event: 'Survey Invite', channel: 'email', template: 'nps-mail' });
  await admin('PUT', '/channels/email', {
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>', pool_size: 1 },
    secrets: { username: 'kizuna', password: 'right' },
  });
});
afterAll(async () => {
  await s.close();
  await sink.close();
});
beforeEach(() => {
  sink.inbox = [];
});

type Answer = {
  question: string;
  profileId: string;
  value: unknown;
  comment: string | null;
  journeyId: string | null;
};
const answers = async (): Promise<Answer[]> =>
  (await api(`/surveys/${survey}/responses`)).body['responses'] as Answer[];
const timeline = async (userId: string) =>
  (
    (await api(`/profiles/${await profileId(userId)}/events?limit=100`)).body['events'] as {
      name: string | null;
      message: { properties?: Record<string, unknown> };
    }[]
  )
    .filter((e) => e.name === 'Survey Answered')
    .map((e) => ({ properties: e.message.properties }));

/** Sends the NPS mail to the customers and returns each one's score → link, from the text part. */
async function invite(...users: string[]): Promise<Map<string, Map<string, string>>> {
  s.clock.advance(1000);
  await ingest(users.map((u) => track(u, 'Survey Invite')));
  await s.runner.runDue();
  await s.dispatcher.runDue();
  const out = new Map<string, Map<string, string>>();
  for (const m of sink.inbox) {
    const to = (m.to as { text: string }).text;
    const links = new Map([...(m.text ?? '').matchAll(/^(\d+): (\S+)$/gm)].map((x) => [x[1]!, x[2]!]));
    out.set(to, links);
  }
  return out;
}

describe('surveys', () => {
  it('makes the programme survey from its template, and validates written-out surveys by field', async () => {
    const got = await api(`/surveys/${survey}`);
    expect(got.body).toMatchObject({ name: 'NPS programme', template: 'nps_programme', status: 'active' });
    expect((got.body['questions'] as { id: string; kind: string }[]).map((q) => [q.id, q.kind])).toEqual([
      ['nps', 'nps'],
      ['two_years', 'choice'],
      ['referrals', 'number'],
    ]);
    const bad = await admin('POST', '/surveys', {
      name: 'Bad',
      questions: [
        { id: 'q', kind: 'nps', text: 'Recommend?', max: 5 },
        { id: 'q', kind: 'scale', text: 'How?' },
        { id: 'c', kind: 'choice', text: 'Which?' },
        { id: '9x', kind: 'text', text: '' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'questions[0].max: nps is always 0 to 10',
      'questions[1].min: is required for a scale',
      'questions[2].options: is required for a choice',
      'questions[3].id: must be 1–40 of a-z, 0-9 and _, starting with a letter',
      'questions[3].text: must not be empty',
      'questions[1].id: repeats question "q"',
    ]);
    expect(issuesOf((await admin('POST', '/surveys', { from_template: 'nope' })).body)).toEqual([
      'from_template: must be one of nps_programme',
    ]);
    expect((await admin('POST', '/surveys', { from_template: 'nps_programme' })).status).toBe(409);

    const csat = await admin('POST', '/surveys', {
      name: 'After delivery',
      questions: [
        { id: 'csat', kind: 'csat', text: 'How satisfied are you?' },
        { id: 'effort', kind: 'ces', text: 'How easy was it?' },
      ],
    });
    expect(csat.status).toBe(201);
    const id = csat.body['id'] as string;
    expect((csat.body['questions'] as { min: number; max: number }[]).map((q) => [q.min, q.max])).toEqual([
      [1, 5],
      [1, 7],
    ]);
    const changed = await admin('PUT', `/surveys/${id}`, {
      name: 'After delivery',
      questions: [{ id: 'csat', kind: 'scale', text: 'How satisfied?', min: 1, max: 10 }],
    });
    expect(issuesOf(changed.body)).toEqual([
      'questions[0].kind: question "csat" is csat; its kind cannot change',
    ]);
    expect((await admin('POST', `/surveys/${id}/archive`)).body).toMatchObject({ status: 'archived' });
    const closed = await admin('POST', `/surveys/${id}/responses`, {
      userId: 'ann',
      answers: [{ question: 'csat', value: 5 }],
    });
    expect(closed.status).toBe(409);
    expect(((await api('/surveys')).body['surveys'] as unknown[]).length).toBe(2);
  });

  it('mails each customer 0–10 links; a click records that score on that profile, and on its timeline', async () => {
    const mails = await invite('ann', 'bo');
    expect([...mails.keys()].sort()).toEqual(['ann@example.com', 'bo@example.com']);
    const ann = mails.get('ann@example.com')!;
    expect([...ann.keys()]).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(ann.get('9')!.startsWith(`${s.url}/s/`)).toBe(true);
    expect(ann.get('9')).not.toBe(mails.get('bo@example.com')!.get('9'));
    expect(sink.inbox[0]!.html).toContain('How likely are you to recommend us');

    // A link checker's HEAD records nothing.
    expect((await fetch(ann.get('9')!, { method: 'HEAD' })).status).toBe(200);
    expect(await answers()).toEqual([]);

    const page = await fetch(ann.get('9')!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<textarea name="comment"');
    const annId = await profileId('ann');
    const [a] = await answers();
    expect(a).toMatchObject({ question: 'nps', profileId: annId, value: 9, comment: null });
    expect(a!.journeyId).toEqual(expect.any(String));
    const events = await timeline('ann');
    expect(events).toHaveLength(1);
    expect(events[0]!.properties).toMatchObject({
      survey_id: survey,
      question_id: 'nps',
      score: 9,
      nps_group: 'promoter',
      source: 'link',
    });
    expect(await timeline('bo')).toEqual([]);
  });

  it('refuses a forged or edited link and records nothing', async () => {
    const mails = await invite('bo');
    const link = mails.get('bo@example.com')!.get('10')!;
    const token = link.slice(link.lastIndexOf('/') + 1);
    const [bodyPart, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(bodyPart, 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(JSON.stringify({ ...claims, p: await profileId('ann'), v: 0 })).toString(
      'base64url',
    );
    const before = await answers();
    // The signature with its last character changed (to one it is not already).
    const bent = `${mac.slice(0, -1)}${mac.endsWith('x') ? 'y' : 'x'}`;
    for (const forged of [`${edited}.${mac}`, `${bodyPart}.${bent}`, `${bodyPart}`, 'nothing']) {
      const r = await fetch(`${s.url}/s/${forged}`);
      expect(r.status, forged).toBe(404);
      expect((await fetch(`${s.url}/s/${forged}`, { method: 'POST', body: 'comment=hi' })).status).toBe(404);
    }
    expect(await answers()).toEqual(before);
  });

  it('replaces an answer given again; the comment form adds a comment to the board', async () => {
    const mails = await invite('ann');
    const ann = mails.get('ann@example.com')!;
    await fetch(ann.get('3')!);
    const annId = await profileId('ann');
    let mine = (await answers()).filter((a) => a.profileId === annId);
    expect(mine.map((a) => [a.question, a.value])).toEqual([['nps', 3]]);

    const form = await fetch(ann.get('4')!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ comment: '  Delivery took two weeks  ' }).toString(),
    });
    expect(form.status).toBe(200);
    mine = (await answers()).filter((a) => a.profileId === annId);
    expect(mine.map((a) => [a.value, a.comment])).toEqual([[4, 'Delivery took two weeks']]);
    expect((await timeline('ann')).map((e) => e.properties?.['score'])).toEqual([4, 3, 9]);
    const board = await api(`/feedback?survey_id=${survey}`);
    expect(board.body['feedback']).toMatchObject([
      {
        source: 'survey',
        text: 'Delivery took two weeks',
        profileId: await profileId('ann'),
        question: 'nps',
      },
    ]);
    expect((board.body['feedback'] as { journeyId: string | null }[])[0]!.journeyId).toEqual(
      expect.any(String),
    );

    const long = await fetch(ann.get('4')!, { method: 'POST', body: `comment=${'x'.repeat(2001)}` });
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('comment: must be at most 2000 characters');
    mine = (await answers()).filter((a) => a.profileId === annId);
    expect(mine.map((a) => [a.value, a.comment])).toEqual([[4, 'Delivery took two weeks']]);
  });

  it('takes server-side answers by profile or identifier, refusing bad ones by field with nothing stored', async () => {
    const bad = async (body: unknown, issues: string[]) => {
      const r = await admin('POST', `/surveys/${survey}/responses`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(issuesOf(r.body)).toEqual(issues);
    };
    const before = await answers();
    await bad({ userId: 'cy', answers: [{ question: 'nps', value: 11 }] }, [
      'answers[0].value: must be 0 to 10',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'nps', value: '7' }] }, [
      'answers[0].value: must be a whole number',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'nps', value: true }] }, [
      'answers[0].value: must be a number or a string',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'nope', value: 1 }] }, [
      'answers[0].question: must be a question of the survey: nps, two_years, referrals',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'two_years', value: 'maybe' }] }, [
      'answers[0].value: must be one of "yes", "no", "unsure"',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'nps', value: 8, comment: 'x'.repeat(2001) }] }, [
      'answers[0].comment: must be at most 2000 characters',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'nps', value: 8, comment: 'a\u0000b' }] }, [
      'answers[0].comment: must not contain a NUL character (\\u0000)',
    ]);
    await bad({ userId: 'cy', answers: [{ question: 'nps', value: 8, comment: 'a\ud800b' }] }, [
      'answers[0].comment: must be valid Unicode (it contains a lone surrogate)',
    ]);
    await bad(
      {
        userId: 'cy',
        answers: [
          { question: 'nps', value: 8 },
          { question: 'nps', value: 9 },
        ],
      },
      ['answers[1].question: answers "nps" twice'],
    );
    await bad({ answers: [{ question: 'nps', value: 8 }] }, [
      'profile_id: give exactly one of profile_id, userId, anonymousId',
    ]);
    await bad({ userId: 'cy', answers: [] }, ['answers: must hold at least one answer']);
    expect(await answers()).toEqual(before);
    expect((await api('/profiles/lookup?userId=cy')).status).toBe(404);

    const ok = await admin('POST', `/surveys/${survey}/responses`, {
      userId: 'cy',
      answers: [
        { question: 'nps', value: 6, comment: 'Too pricey' },
        { question: 'two_years', value: 'unsure' },
        { question: 'referrals', value: 2 },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body['profileId']).toBe(await profileId('cy'));
    const byId = await admin('POST', `/surveys/${survey}/responses`, {
      profile_id: await profileId('bo'),
      answers: [{ question: 'nps', value: 10 }],
    });
    expect(byId.status).toBe(200);
    expect((await timeline('bo')).map((e) => e.properties?.['score'])).toEqual([10]);
    expect(
      (
        await admin('POST', `/surveys/sv_nope/responses`, {
          userId: 'cy',
          answers: [{ question: 'nps', value: 1 }],
        })
      ).status,
    ).toBe(404);
  });

  it('takes the browser SDK’s answers with the write key, identified like /v1/track', async () => {
    const url = `${s.url}/v1/surveys/${survey}/responses`;
    const body = { anonymousId: 'anon-7', answers: [{ question: 'nps', value: 8 }] };
    expect((await post(url, body)).status).toBe(401);
    expect((await post(url, body, { authorization: basic(s.ws.adminKey) })).status).toBe(401);
    const r = await post(url, body, { authorization: basic(s.ws.writeKey) });
    expect(r).toEqual({ status: 200, body: { success: true, answers: 1 } });
    const bad = await post(
      url,
      { answers: [{ question: 'nps', value: 8 }] },
      { authorization: basic(s.ws.writeKey) },
    );
    expect(issuesOf(bad.body)).toEqual(['userId: an answer needs a userId or an anonymousId']);
    const anon = await api('/profiles/lookup?anonymousId=anon-7');
    const mine = (await answers()).filter((a) => a.profileId === anon.body['id']);
    expect(mine).toMatchObject([{ question: 'nps', value: 8 }]);
  });
});
