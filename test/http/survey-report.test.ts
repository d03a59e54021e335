import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/**
 * The NPS report and the revenue simulation on a small synthetic population, every figure computed
 * again here from the data the test planted (orders, answers) and from the profiles the API shows.
 */
let s: TestServer;
const { api, admin, ingest, profileId } = client(() => s);
const DAY = 86_400_000;

interface Customer {
  readonly user: string;
  readonly score: number;
  /** days before now the answer was given */
  readonly answered: number;
  /** [days before now, revenue] */
  readonly orders: readonly (readonly [number, number])[];
  readonly referrals?: number;
}

const people: Customer[] = [
  {
    user: 'c0',
    score: 10,
    answered: 60,
    orders: [
      [100, 50],
      [50, 120],
    ],
    referrals: 3,
  },
  { user: 'c1', score: 9, answered: 60, orders: [[20, 80]], referrals: 1 },
  {
    user: 'c2',
    score: 10,
    answered: 20,
    orders: [
      [10, 200],
      [5, 100],
    ],
  },
  { user: 'c3', score: 9, answered: 60, orders: [], referrals: 0 },
  { user: 'c4', score: 9, answered: 20, orders: [[300, 40]] },
  {
    user: 'c5',
    score: 8,
    answered: 60,
    orders: [
      [61, 70],
      [45, 30],
    ],
  },
  { user: 'c6', score: 7, answered: 20, orders: [[200, 10]], referrals: 5 },
  { user: 'c7', score: 6, answered: 60, orders: [[90, 25]] },
  { user: 'c8', score: 3, answered: 60, orders: [[59, 15]] },
  { user: 'c9', score: 0, answered: 20, orders: [[400, 500]] },
];

const group = (score: number) => (score >= 9 ? 'promoters' : score >= 7 ? 'passives' : 'detractors');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const inYear = (c: Customer) => c.orders.filter(([ago]) => ago <= 364);
const spend = (c: Customer) => inYear(c).reduce((a, [, r]) => a + r, 0);
const nps = (scores: number[]) =>
  (100 * (scores.filter((x) => x >= 9).length - scores.filter((x) => x <= 6).length)) / scores.length;

let survey: string;

beforeAll(async () => {
  s = await startTestServer();
  const now = s.clock.now();
  const at = (ago: number) => new Date(now - ago * DAY).toISOString();
  let n = 0;
  await ingest(
    people.flatMap((c) => [
      {
        type: 'identify',
        userId: c.user,
        traits: { name: c.user },
        messageId: `i-${c.user}`,
        timestamp: at(500),
      },
      ...c.orders.map(([ago, revenue]) => ({
        type: 'track',
        userId: c.user,
        event: 'Order Completed',
        properties: { revenue },
        messageId: `o-${++n}`,
        timestamp: at(ago),
      })),
    ]),
  );
  const seg = await admin('POST', '/segments', {
    name: 'Bought this month',
    rule: { event: 'Order Completed', within: { days: 30 } },
  });
  expect(seg.status).toBe(201);
  await s.builder.idle();
  survey = (await admin('POST', '/surveys', { from_template: 'nps_programme' })).body['id'] as string;
  for (const c of people) {
    const r = await admin('POST', `/surveys/${survey}/responses`, {
      userId: c.user,
      timestamp: at(c.answered),
      answers: [
        { question: 'nps', value: c.score },
        ...(c.referrals !== undefined ? [{ question: 'referrals', value: c.referrals }] : []),
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
});
afterAll(() => s.close());

type Counts = { respondents: number; promoters: number; passives: number; detractors: number; nps: number };

describe('NPS report', () => {
  it('splits the respondents and gives each group its spend, purchases, retention and referrals', async () => {
    const r = await api(`/surveys/${survey}/report?retention_days=30`);
    expect(r.status).toBe(200);
    const body = r.body as unknown as Counts & {
      question: string;
      groups: Record<
        string,
        {
          count: number;
          share: number;
          averageSpend: number;
          averagePurchases: number;
          retention: { eligible: number; retained: number; rate: number | null };
          referrals: { answered: number; total: number; average: number | null };
        }
      >;
      overTime: (Counts & { period: string })[];
      byStage: (Counts & { stage: string | null })[];
      bySegment: (Counts & { segment: string })[];
    };
    expect(body.question).toBe('nps');
    expect(body.respondents).toBe(10);
    expect(body.nps).toBeCloseTo(nps(people.map((c) => c.score)), 9);
    for (const g of ['promoters', 'passives', 'detractors']) {
      const mine = people.filter((c) => group(c.score) === g);
      const eligible = mine.filter((c) => c.answered >= 30);
      // bought on a later day, at most 30 days after answering
      const retained = eligible.filter((c) =>
        c.orders.some(([ago]) => ago < c.answered && ago >= c.answered - 30),
      );
      const referrals = mine.flatMap((c) => (c.referrals === undefined ? [] : [c.referrals]));
      const f = body.groups[g]!;
      expect(f.count, g).toBe(mine.length);
      expect(f.share, g).toBeCloseTo(mine.length / people.length, 12);
      expect(f.averageSpend, g).toBeCloseTo(mean(mine.map(spend)), 9);
      expect(f.averagePurchases, g).toBeCloseTo(mean(mine.map((c) => inYear(c).length)), 9);
      expect(f.retention, g).toMatchObject({
        eligible: eligible.length,
        retained: retained.length,
        rate: eligible.length ? retained.length / eligible.length : null,
      });
      expect(f.referrals, g).toEqual({
        answered: referrals.length,
        total: referrals.reduce((a, b) => a + b, 0),
        average: referrals.length ? mean(referrals) : null,
      });
    }
    // Hand-checked anchors: promoters spent (170 + 80 + 300 + 0 + 40) / 5; c9's order is 400 days old.
    expect(body.groups['promoters']!.averageSpend).toBeCloseTo(118, 9);
    expect(body.groups['detractors']!.averageSpend).toBeCloseTo(40 / 3, 9);

    const month = (ago: number) => new Date(s.clock.now() - ago * DAY).toISOString().slice(0, 7);
    const periods = [...new Set(people.map((c) => month(c.answered)))].sort();
    expect(body.overTime.map((p) => [p.period, p.respondents, p.nps])).toEqual(
      periods.map((p) => {
        const scores = people.filter((c) => month(c.answered) === p).map((c) => c.score);
        return [p, scores.length, nps(scores)];
      }),
    );

    const profiles = new Map<string, { stage: string | null; segments: string[] }>();
    for (const c of people) {
      const p = await api(`/profiles/${await profileId(c.user)}`);
      profiles.set(c.user, p.body as { stage: string | null; segments: string[] });
    }
    const stages = [...new Set(people.map((c) => profiles.get(c.user)!.stage))];
    expect(body.byStage.map((x) => [x.stage, x.respondents, x.nps]).sort()).toEqual(
      stages
        .map((st) => {
          const scores = people.filter((c) => profiles.get(c.user)!.stage === st).map((c) => c.score);
          return [st, scores.length, nps(scores)];
        })
        .sort(),
    );
    const [segment] = (await api('/segments')).body['segments'] as { id: string }[];
    const members = people.filter((c) => profiles.get(c.user)!.segments.includes(segment!.id));
    expect(members.map((c) => c.user)).toEqual(['c1', 'c2']);
    expect(body.bySegment).toMatchObject([{ segment: segment!.id, respondents: 2, nps: 100 }]);
  });

  it('exports the report as CSV', async () => {
    const r = await fetch(`${s.url}/api/v1/surveys/${survey}/report?format=csv&period=week`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await r.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'section,key,respondents,promoters,passives,detractors,nps,average_spend_365d,average_purchases_365d,retention_eligible,retained,retention_rate,referrals_answered,referrals_total',
    );
    expect(lines[1]).toBe('survey,all,10,5,2,3,20,,,,,,,');
    expect(lines[2]).toMatch(/^group,promoters,5,5,0,0,,118,/);
    expect(lines.filter((l) => l.startsWith('period,'))).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('segment,Bought this month,2,'))).toBe(true);
    const bad = await api(`/surveys/${survey}/report?period=day&retention_days=0`);
    expect(issuesOf(bad.body)).toEqual(['period: must be week or month', 'retention_days: must be 1 to 365']);
  });

  it('simulates revenue from the groups’ spend, with the assumptions', async () => {
    const avg = (g: string) => mean(people.filter((c) => group(c.score) === g).map(spend));
    const share = (g: string) => people.filter((c) => group(c.score) === g).length / people.length;
    const perCustomer = (p: number, a: number, d: number) =>
      p * avg('promoters') + a * avg('passives') + d * avg('detractors');
    const r = await admin('POST', `/surveys/${survey}/simulate`, {
      promoters_up: 10,
      detractors_down: 20,
      customers: 5000,
    });
    expect(r.status).toBe(200);
    const body = r.body as {
      change: { revenue: number; npsPoints: number; relative: number };
      current: { revenue: number };
      scenario: { passives: number; revenue: number };
      assumptions: string[];
    };
    const before = perCustomer(share('promoters'), share('passives'), share('detractors')) * 5000;
    const after =
      perCustomer(share('promoters') + 0.1, share('passives') + 0.1, share('detractors') - 0.2) * 5000;
    expect(body.current.revenue).toBeCloseTo(before, 6);
    expect(body.scenario.revenue).toBeCloseTo(after, 6);
    expect(body.change.revenue).toBeCloseTo(after - before, 6);
    expect(body.change.relative).toBeCloseTo(after / before - 1, 12);
    expect(body.change.npsPoints).toBeCloseTo(30, 9);
    expect(body.scenario.passives).toBeCloseTo(0.3, 12);
    expect(body.assumptions.length).toBeGreaterThan(3);
    expect(body.assumptions[0]).toBe(
      'The 10 respondents stand for 5000 customers: the group shares apply to all of them.',
    );

    // Default population: the respondents themselves.
    const own = await admin('POST', `/surveys/${survey}/simulate`, { promoters_up: 5 });
    expect((own.body as { customers: number }).customers).toBe(10);
    const tooMany = await admin('POST', `/surveys/${survey}/simulate`, { detractors_down: 40 });
    expect(issuesOf(tooMany.body)).toEqual([
      'detractors_down: would put detractors at -10%; must stay 0–100%',
    ]);
    expect(
      issuesOf((await admin('POST', `/surveys/${survey}/simulate`, { promoters_up: 'lots' })).body),
    ).toEqual(['promoters_up: must be a number of percentage points']);
  });

  it('lists the answers with each respondent’s 12-month spend and purchases, paging by cursor', async () => {
    const first = await api(`/surveys/${survey}/responses?limit=3`);
    const page = first.body['responses'] as {
      profileId: string;
      question: string;
      revenue_365d: number;
      purchases_365d: number;
    }[];
    expect(page).toHaveLength(3);
    const all = [...page];
    let next = first.body['next'] as string | null;
    while (next) {
      const r = await api(`/surveys/${survey}/responses?limit=3&after=${next}`);
      all.push(...(r.body['responses'] as typeof page));
      next = r.body['next'] as string | null;
    }
    expect(all).toHaveLength(10 + people.filter((c) => c.referrals !== undefined).length);
    for (const c of people) {
      const id = await profileId(c.user);
      const mine = all.find((a) => a.profileId === id && a.question === 'nps')!;
      expect(mine, c.user).toMatchObject({ revenue_365d: spend(c), purchases_365d: inYear(c).length });
    }
    expect(issuesOf((await api(`/surveys/${survey}/responses?after=zzz`)).body)).toEqual([
      'after: must be a cursor returned as `next` by a previous page',
    ]);
    expect((await api('/surveys/sv_nope/report')).status).toBe(404);
  });
});
