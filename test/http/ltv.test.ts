import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded, simulateCustomers } from '../../src/domain/ltv/simulate.js';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

const DAY = 86_400_000;
let s: TestServer;
const { api, admin, ingest } = client(() => s);

/**
 * 300 buyers drawn from the models themselves, observed for 200–349 days, each purchase an
 * `Order Completed` with its revenue; and 50 customers who never bought.
 */
beforeAll(async () => {
  s = await startTestServer();
  const now = s.clock.now();
  const customers = simulateCustomers(
    seeded(3),
    300,
    { bgnbd: { r: 0.8, alpha: 20, a: 0.8, b: 2.5 }, spend: { p: 6, q: 4, gamma: 15 } },
    { T: (i) => 200 + (i % 150), horizon: 0 },
  );
  const events: Record<string, unknown>[] = [];
  customers.forEach((c, i) => {
    const start = now - c.T * DAY;
    // The first purchase, then the repeat purchases, the last of them at t_x.
    const times = [start, ...c.values.map((_, k) => start + ((k + 1) / c.x) * c.tx * DAY)];
    const values = [30, ...c.values];
    times.forEach((t, k) =>
      events.push({
        type: 'track',
        userId: `u${i}`,
        event: 'Order Completed',
        messageId: `u${i}-o${k}`,
        properties: { revenue: Math.round(values[k]! * 100) / 100 },
        timestamp: new Date(t).toISOString(),
      }),
    );
  });
  for (let i = 0; i < 50; i++)
    events.push({ type: 'identify', userId: `v${i}`, messageId: `v${i}`, traits: { plan: 'free' } });
  for (let i = 0; i < events.length; i += 400) await ingest(events.slice(i, i + 400));
});
afterAll(() => s.close());

const computedOf = async (userId: string) => {
  const p = await api(`/profiles/lookup?userId=${userId}`);
  const c = await api(`/profiles/${p.body['id'] as string}/computed`);
  return c.body['traits'] as Record<string, unknown>;
};

describe('the lifetime-value model over the admin API', () => {
  it('has no model until one is fitted, and no predicted traits', async () => {
    expect((await api('/ltv')).status).toBe(404);
    expect(await computedOf('u1')).not.toHaveProperty('predicted_ltv_365d');
  });

  it('refuses bad fit options, naming the field', async () => {
    for (const bad of [
      { holdout_days: 'ninety' },
      { holdout_days: 400 },
      { holdout_days: 1.5 },
      { refit_every_days: 400 },
      { refit_every_days: -1 },
      { extra: 1 },
    ]) {
      const r = await admin('POST', '/ltv/fit', bad);
      expect(r.status).toBe(400);
      expect(issuesOf(r.body).join()).toMatch(/holdout_days|refit_every_days|extra/);
    }
    expect((await api('/ltv')).status).toBe(404);
  });

  it('fits on every buyer, reports the holdout, and gives every buyer predicted traits segments can use', async () => {
    const r = await admin('POST', '/ltv/fit', { holdout_days: 60 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      customers: 300,
      purchases: { model: 'BG/NBD' },
      spend: { model: 'Gamma-Gamma' },
    });
    const holdout = r.body['holdout'] as {
      days: number;
      customers: number;
      predicted: number;
      actual: number;
    };
    expect(holdout.days).toBe(60);
    expect(holdout.customers).toBeGreaterThan(250);
    expect(holdout.customers).toBeLessThanOrEqual(300);
    expect(holdout.predicted).toBeGreaterThan(0);
    expect((await api('/ltv')).body).toEqual(r.body);

    await s.builder.idle();
    const buyer = await computedOf('u7');
    expect(buyer['probability_alive']).toBeGreaterThan(0);
    expect(buyer['probability_alive']).toBeLessThanOrEqual(1);
    expect(buyer['predicted_purchases_365d']).toBeGreaterThan(0);
    expect(buyer['predicted_ltv_365d']).toBeGreaterThan(0);
    expect(await computedOf('v1')).not.toHaveProperty('predicted_ltv_365d');

    // A segment on the predicted value: exactly the buyers whose prediction passes.
    const seg = await admin('POST', '/segments', {
      name: 'High predicted value',
      rule: { computed: 'predicted_ltv_365d', op: 'gte', value: 50 },
    });
    expect(seg.status).toBe(201);
    await s.builder.idle();
    const members = new Set<string>();
    let after: string | null = null;
    do {
      const page = await api(
        `/segments/${seg.body['id'] as string}/members?limit=1000${after ? `&after=${after}` : ''}`,
      );
      for (const id of page.body['profileIds'] as string[]) members.add(id);
      after = page.body['next'] as string | null;
    } while (after);
    let expected = 0;
    for (let i = 0; i < 300; i += 1) {
      const c = await computedOf(`u${i}`);
      if ((c['predicted_ltv_365d'] as number) >= 50) expected++;
    }
    expect(members.size).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(300);
  });

  it('refits on its schedule, with the same holdout, and not before', async () => {
    const quiet = pino({ level: 'silent' });
    const fit = await admin('POST', '/ltv/fit', { holdout_days: 30, refit_every_days: 7 });
    expect(fit.status).toBe(200);
    const fittedAt = Date.parse(fit.body['fittedAt'] as string);
    expect(fit.body['refitEveryDays']).toBe(7);
    expect(Date.parse(fit.body['nextFitAt'] as string)).toBe(fittedAt + 7 * DAY);
    s.clock.advance(7 * DAY - 1);
    expect(await s.ltv.refitDue(quiet)).toBe(0);
    expect((await api('/ltv')).body['fittedAt']).toBe(fit.body['fittedAt']);
    s.clock.advance(1);
    expect(await s.ltv.refitDue(quiet)).toBe(1);
    const again = (await api('/ltv')).body;
    expect(Date.parse(again['fittedAt'] as string)).toBe(fittedAt + 7 * DAY);
    expect((again['holdout'] as { days: number }).days).toBe(30);
    expect(Date.parse(again['nextFitAt'] as string)).toBe(fittedAt + 14 * DAY);
    // The other workspace (no model) is left alone; a model fitted with 0 is never refitted.
    const manual = await admin('POST', '/ltv/fit', { refit_every_days: 0 });
    expect(manual.body['nextFitAt']).toBeNull();
    s.clock.advance(400 * DAY);
    expect(await s.ltv.refitDue(quiet)).toBe(0);
    expect((await api('/ltv')).body['fittedAt']).toBe(manual.body['fittedAt']);
  });

  it('forgets the model, and the traits go with it', async () => {
    expect((await admin('DELETE', '/ltv')).status).toBe(204);
    expect((await api('/ltv')).status).toBe(404);
    await s.builder.idle();
    expect(await computedOf('u7')).not.toHaveProperty('predicted_ltv_365d');
  });

  it('refuses to fit a workspace with too few buyers', async () => {
    const r = await admin('POST', '/ltv/fit', {});
    expect(r.status).toBe(200);
    // The other workspace has no buyer at all.
    const other = await fetch(`${s.url}/api/v1/ltv/fit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.other.adminKey}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { message: string } }).error.message).toMatch(
      /at least 20 buyers/,
    );
  });
});
