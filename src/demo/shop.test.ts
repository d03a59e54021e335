import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../domain/event.js';
import { normalizeMessage } from '../ingest/message.js';
import { generateShop, type SegmentMessage } from './shop.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 9, 30);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type History = SegmentMessage[];

const run = (customers: number, seed: number, days?: number): History[] => [
  ...generateShop({ customers, seed, now: NOW, ...(days !== undefined && { days }) }),
];

/** One shop big enough for the distribution checks, generated once for the whole file. */
const SHOP = run(2000, 42);
const ALL = SHOP.flat();

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const time = (m: SegmentMessage): number => Date.parse(m.timestamp);
const orders = (h: History): number => h.filter((m) => m['event'] === 'Order Completed').length;
const share = (pred: (h: History) => boolean): number => SHOP.filter(pred).length / SHOP.length;

describe('generateShop', () => {
  it('is deterministic: the same seed gives identical output, another seed different output', () => {
    const a = run(150, 7);
    expect(JSON.stringify(run(150, 7))).toBe(JSON.stringify(a));
    const b = run(150, 8);
    const idsA = new Set(a.flat().map((m) => m.messageId));
    expect(b.flat().filter((m) => idsA.has(m.messageId))).toEqual([]);
    expect(b.map((h) => h.length)).not.toEqual(a.map((h) => h.length));
  });

  it('gives customer i the same history whatever the number of customers asked for', () => {
    expect(JSON.stringify(run(40, 7))).toBe(JSON.stringify(run(150, 7).slice(0, 40)));
  });

  it('keeps messageIds stable when only `now` moves, so a re-run dedups against the first', () => {
    const first = [...generateShop({ customers: 50, seed: 3, now: NOW })].flat();
    const later = [...generateShop({ customers: 50, seed: 3, now: NOW + 7 * DAY })].flat();
    const ids = new Set(first.map((m) => m.messageId));
    const fresh = later.filter((m) => !ids.has(m.messageId));
    expect(fresh.length).toBeLessThan(later.length * 0.05);
  });

  it('yields one non-empty, time-ordered history per customer', () => {
    expect(SHOP).toHaveLength(2000);
    expect(SHOP.filter((h) => h.length === 0)).toEqual([]);
    const unordered = SHOP.filter((h) => h.some((m, i) => i > 0 && time(m) < time(h[i - 1]!)));
    expect(unordered.slice(0, 1)).toEqual([]);
  });

  it('emits well-formed Segment messages with timestamps inside the window', () => {
    const bad = ALL.map((m) => [shapeProblems(m, NOW - 180 * DAY), m] as const).filter(([p]) => p.length > 0);
    expect(bad.slice(0, 3)).toEqual([]);
    // The checker itself must catch what it is there to catch.
    const good = ALL.find((m) => m.type === 'identify')!;
    expect(shapeProblems(good, NOW - 180 * DAY)).toEqual([]);
    expect(shapeProblems({ ...good, userId: undefined }, NOW - 180 * DAY)).toContain(
      'identify without userId',
    );
    expect(shapeProblems({ ...good, timestamp: '2026-06-01' }, NOW - 180 * DAY)).toContain(
      'timestamp not ISO',
    );
    expect(shapeProblems({ ...good, type: 'track' }, NOW - 180 * DAY)).toContain('track without event');
  });

  it('passes ingestion validation unchanged, keeping its own timestamp', () => {
    const env = { receivedAt: NOW + 60_000, sentAt: null, context: null, ip: null };
    const refused: unknown[] = [];
    let accepted = 0;
    for (const m of SHOP.slice(0, 400).flat()) {
      const r = normalizeMessage(m, 'batch[0]', null, env);
      if (!r.ok) refused.push({ issues: r.issues, m });
      else if (r.event.messageId !== m.messageId || r.event.timestamp !== time(m))
        refused.push({ changed: m });
      else accepted++;
    }
    expect(refused.slice(0, 3)).toEqual([]);
    expect(accepted).toBeGreaterThan(5000);
  });

  it('attaches the context each SDK sends: browser fields on web, device/app/os on mobile', () => {
    const web = ALL.filter((m) => obj(m['context'])['page'] !== undefined);
    const mobile = ALL.filter((m) => obj(m['context'])['app'] !== undefined);
    expect(web.length).toBeGreaterThan(ALL.length / 2);
    expect(mobile.length).toBeGreaterThan(0);
    const webMissing = web.filter((m) => {
      const c = obj(m['context']);
      return ['ip', 'userAgent', 'locale', 'timezone'].some((k) => str(c[k]) === '');
    });
    expect(webMissing.slice(0, 3)).toEqual([]);
    const mobileMissing = mobile.filter((m) => {
      const c = obj(m['context']);
      const device = obj(c['device']);
      const app = obj(c['app']);
      return (
        ['type', 'manufacturer', 'model'].some((k) => str(device[k]) === '') ||
        ['name', 'version', 'build'].some((k) => str(app[k]) === '') ||
        !['iOS', 'Android'].includes(str(obj(c['os'])['name']))
      );
    });
    expect(mobileMissing.slice(0, 3)).toEqual([]);
    const firstVisitCampaigns = share((h) => obj(obj(h[0]!['context'])['campaign'])['source'] !== undefined);
    expect(firstVisitCampaigns).toBeGreaterThan(0.2);
    expect(firstVisitCampaigns).toBeLessThan(0.5);
    const locales = new Set(web.map((m) => str(obj(m['context'])['locale'])));
    expect(locales).toContain('ja-JP');
    expect(locales.size).toBeGreaterThan(3);
  });

  it('tells the anonymous-visitor-becomes-customer story: anonymous events, then identify with both ids', () => {
    const story = share((h) => {
      const i = h.findIndex((m) => m.type === 'identify');
      if (i < 0) return false;
      const anon = str(h[i]!['anonymousId']);
      return (
        anon !== '' &&
        str(h[i]!['userId']) !== '' &&
        h.slice(0, i).some((m) => m['anonymousId'] === anon && m['userId'] === undefined)
      );
    });
    expect(story).toBeGreaterThan(0.5);
  });

  it('links an app install (a second anonymousId) to the same userId by identify', () => {
    const linked = share((h) => {
      const install = h.find((m) => m['event'] === 'Application Installed');
      if (!install || install['userId'] !== undefined) return false;
      const device = str(install['anonymousId']);
      const webAnon = str(h[0]!['anonymousId']);
      const login = h.find((m) => m.type === 'identify' && m['anonymousId'] === device);
      const signUp = h.find((m) => m.type === 'identify' && m['anonymousId'] === webAnon);
      return device !== webAnon && login !== undefined && login['userId'] === signUp?.['userId'];
    });
    expect(linked).toBeGreaterThan(0.1);
  });

  it('leaves about a third of visitors anonymous for good', () => {
    const never = share((h) => h.every((m) => m.type !== 'identify' && m['userId'] === undefined));
    expect(never).toBeGreaterThan(0.2);
    expect(never).toBeLessThan(0.4);
  });

  it('spreads orders by a power law: the top 10% of customers hold over 40% of them', () => {
    const counts = SHOP.map(orders).sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0);
    const top = counts.slice(0, SHOP.length / 10).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(SHOP.length / 2);
    expect(top / total).toBeGreaterThan(0.4);
    expect(counts[0]).toBeGreaterThanOrEqual(15);
    expect(counts.filter((c) => c <= 1).length / SHOP.length).toBeGreaterThan(0.6);
  });

  it('has lapsed buyers (silent for the last 60 days) and recent newcomers', () => {
    const lapsed = share((h) => orders(h) > 0 && time(h[h.length - 1]!) < NOW - 60 * DAY);
    expect(lapsed).toBeGreaterThan(0.05);
    const newcomers = share((h) => time(h[0]!) > NOW - 14 * DAY);
    expect(newcomers).toBeGreaterThan(0.03);
  });

  it('averages 20-40 events per customer', () => {
    expect(ALL.length / SHOP.length).toBeGreaterThan(20);
    expect(ALL.length / SHOP.length).toBeLessThan(40);
  });

  it('never repeats a messageId, and never shares an identity between two customers', () => {
    expect(new Set(ALL.map((m) => m.messageId)).size).toBe(ALL.length);
    const owner = new Map<string, number>();
    const shared: string[] = [];
    SHOP.forEach((h, i) => {
      for (const m of h) {
        const traits = obj(m['traits']);
        const keys = [
          m['userId'],
          m['anonymousId'],
          m.type === 'identify' ? traits['email'] : undefined,
          m.type === 'identify' ? traits['phone'] : undefined,
        ];
        for (const k of keys) {
          if (typeof k !== 'string') continue;
          if ((owner.get(k) ?? i) !== i) shared.push(k);
          owner.set(k, i);
        }
      }
    });
    expect(shared).toEqual([]);
    expect(owner.size).toBeGreaterThan(SHOP.length);
  });

  it('records orders whose money adds up: yen as integers, dollars in cents', () => {
    const completed = ALL.filter((m) => m['event'] === 'Order Completed');
    const currencies = new Set(completed.map((m) => obj(m['properties'])['currency']));
    expect(currencies).toEqual(new Set(['JPY', 'USD']));
    for (const m of completed) {
      const p = obj(m['properties']);
      const products = p['products'] as { price: number; quantity: number; sku: string }[];
      expect(products.length).toBeGreaterThan(0);
      const goods = products.reduce((s, l) => s + l.price * l.quantity, 0);
      const total = Number(p['total']);
      expect(total).toBeCloseTo(goods - Number(p['discount']) + Number(p['shipping']), 2);
      expect(Number(p['revenue'])).toBeCloseTo(goods - Number(p['discount']) - Number(p['tax']), 2);
      expect(str(p['order_id'])).toMatch(/^ord_/);
      if (p['currency'] === 'JPY') expect(Number.isInteger(total)).toBe(true);
      else expect(Math.round(total * 100)).toBeCloseTo(total * 100, 6);
    }
    const orderIds = completed.map((m) => obj(m['properties'])['order_id']);
    expect(new Set(orderIds).size).toBe(orderIds.length);
    expect(ALL.some((m) => m['event'] === 'Order Refunded')).toBe(true);
    expect(ALL.some((m) => m['event'] === 'Coupon Applied')).toBe(true);
  });

  it('puts a few business customers in shared companies with group calls after they sign up', () => {
    const groups = ALL.filter((m) => m.type === 'group');
    expect(groups.length).toBeGreaterThan(20);
    expect(groups.length).toBeLessThan(SHOP.length * 0.15);
    for (const g of groups) expect(str(g['userId'])).not.toBe('');
    expect(new Set(groups.map((g) => g['groupId'])).size).toBeLessThan(groups.length);
  });

  it('honours a shorter window', () => {
    const short = run(200, 5, 30).flat();
    expect(short.length).toBeGreaterThan(1000);
    expect(short.filter((m) => shapeProblems(m, NOW - 30 * DAY).length > 0).slice(0, 3)).toEqual([]);
  });

  it('refuses bad options at the call', () => {
    expect(() => generateShop({ customers: -1, now: NOW })).toThrow(RangeError);
    expect(() => generateShop({ customers: 1.5, now: NOW })).toThrow(RangeError);
    expect(() => generateShop({ customers: 1, now: Number.NaN })).toThrow(RangeError);
    expect(() => generateShop({ customers: 1, now: NOW, days: 0 })).toThrow(RangeError);
    expect(() => generateShop({ customers: 1, now: NOW, seed: 0.5 })).toThrow(RangeError);
    expect([...generateShop({ customers: 0, now: NOW })]).toEqual([]);
  });
});

/** Everything wrong with one message's shape, as short phrases; empty when it is valid. */
function shapeProblems(m: SegmentMessage, from: number): string[] {
  const p: string[] = [];
  if (!(EVENT_TYPES as readonly string[]).includes(m.type)) p.push(`unknown type ${m.type}`);
  if (!/^\S{20,}$/.test(str(m.messageId))) p.push('messageId missing');
  if (!ISO.test(str(m.timestamp)) || new Date(time(m)).toISOString() !== m.timestamp)
    p.push('timestamp not ISO');
  else if (time(m) < from || time(m) > NOW) p.push('timestamp outside the window');
  if (str(m['userId']) === '' && str(m['anonymousId']) === '') p.push('no userId or anonymousId');
  const library = obj(obj(m['context'])['library']);
  if (str(library['name']) === '' || str(library['version']) === '') p.push('context.library missing');
  const hasProps = typeof m['properties'] === 'object' && m['properties'] !== null;
  switch (m.type) {
    case 'track':
      if (str(m['event']) === '') p.push('track without event');
      if (!hasProps) p.push('track without properties');
      break;
    case 'page':
    case 'screen':
      if (str(m['name']) === '' || !hasProps) p.push(`${m.type} without name or properties`);
      break;
    case 'identify':
      if (str(m['userId']) === '') p.push('identify without userId');
      if (Object.keys(obj(m['traits'])).length === 0) p.push('identify without traits');
      break;
    case 'group':
      if (str(m['groupId']) === '' || str(obj(m['traits'])['name']) === '')
        p.push('group without groupId or name');
      break;
    case 'alias':
      if (str(m['previousId']) === '' || str(m['userId']) === '') p.push('alias without both ids');
      break;
  }
  return p;
}
