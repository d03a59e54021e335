import { describe, expect, it } from 'vitest';
import type { CatalogItem, Interaction } from '../store/catalog-store.js';
import {
  boughtItems,
  CoOccurrence,
  customerItems,
  itemsOf,
  liquidItem,
  recommend,
} from './recommendations.js';

const viewed = (id: string | number, at = 0): Interaction => ({
  name: 'Product Viewed',
  timestamp: at,
  properties: { product_id: id },
});
const ordered = (ids: (string | null)[], at = 0): Interaction => ({
  name: 'Order Completed',
  timestamp: at,
  properties: { products: ids.map((product_id) => ({ product_id })) },
});
const item = (id: string, available = true): CatalogItem => ({
  id,
  name: id.toUpperCase(),
  url: null,
  imageUrl: null,
  price: 100,
  currency: null,
  category: null,
  available,
  extra: {},
  updatedAt: 0,
});

describe('interactions', () => {
  it('reads product ids from Product Viewed and Order Completed, ignoring malformed ones', () => {
    expect(itemsOf(viewed('a'))).toEqual([{ id: 'a', purchase: false }]);
    expect(itemsOf(viewed(12))).toEqual([{ id: '12', purchase: false }]);
    expect(itemsOf(viewed(''))).toEqual([]);
    expect(itemsOf(ordered(['a', null, 'b']))).toEqual([
      { id: 'a', purchase: true },
      { id: 'b', purchase: true },
    ]);
    expect(itemsOf({ name: 'Order Completed', timestamp: 0, properties: { products: 'a' } })).toEqual([]);
    expect(itemsOf({ name: 'Signed Up', timestamp: 0, properties: { product_id: 'a' } })).toEqual([]);
  });

  it('keeps the most recent distinct known items, weighted by the strongest interaction', () => {
    // newest first: c viewed, then a bought, b viewed, a viewed, z (not in the catalogue), d viewed
    const xs = [viewed('c'), ordered(['a']), viewed('b'), viewed('a'), viewed('z'), viewed('d')];
    const known = (id: string) => id !== 'z';
    expect([...customerItems(xs, { max: 3, known })]).toEqual([
      ['c', 1],
      ['a', 3],
      ['b', 1],
    ]);
    expect(customerItems(xs, { max: 10, known }).has('z')).toBe(false);
    expect(customerItems(xs, { max: 10 }).get('z')).toBe(1);
    expect([...boughtItems(xs)]).toEqual(['a']);
  });
});

describe('co-occurrence', () => {
  it('scores pairs by the cosine of weighted customer vectors, so a popular item does not dominate', () => {
    const co = new CoOccurrence();
    // Everybody buys "pop"; "tea" and "cup" go together.
    co.add(
      new Map([
        ['tea', 3],
        ['cup', 3],
        ['pop', 3],
      ]),
    );
    co.add(
      new Map([
        ['tea', 1],
        ['cup', 1],
        ['pop', 3],
      ]),
    );
    co.add(
      new Map([
        ['pop', 3],
        ['socks', 1],
      ]),
    );
    co.add(new Map([['pop', 3]]));
    co.add(new Map());
    expect(co.customers).toBe(4);
    expect(co.pairs).toBe(4);
    const s = co.similar(10);
    const tea = s.get('tea')!;
    expect(tea.map((x) => x.other)).toEqual(['cup', 'pop']);
    expect(tea[0]!.score).toBeCloseTo(1, 10); // identical vectors (3,1) and (3,1)
    // tea·pop = 9 + 3 = 12; |tea| = √10; |pop| = √36 = 6 → 12 / (6√10)
    expect(tea[1]!.score).toBeCloseTo(12 / (6 * Math.sqrt(10)), 10);
    // pop·cup = pop·tea = 12 / (6√10) ≈ 0.63 (ties by id); pop·socks = 3 / 6 = 0.5
    expect(s.get('pop')!.map((x) => x.other)).toEqual(['cup', 'tea', 'socks']);
    // Symmetric.
    expect(s.get('cup')!.find((x) => x.other === 'tea')!.score).toBeCloseTo(tea[0]!.score, 10);
  });

  it('keeps the top N per item, ties broken by id', () => {
    const co = new CoOccurrence();
    co.add(
      new Map([
        ['a', 1],
        ['d', 1],
        ['c', 1],
        ['b', 1],
      ]),
    );
    expect(co.similar(2).get('a')).toEqual([
      { other: 'b', score: 1 },
      { other: 'c', score: 1 },
    ]);
  });
});

describe('recommend', () => {
  const similar = new Map([
    [
      'tea',
      [
        { other: 'cup', score: 0.9 },
        { other: 'pot', score: 0.5 },
        { other: 'kettle', score: 0.4 },
      ],
    ],
    [
      'cake',
      [
        { other: 'pot', score: 0.3 },
        { other: 'plate', score: 0.8 },
        { other: 'gone', score: 0.9 },
      ],
    ],
  ]);
  const items = new Map(['cup', 'pot', 'kettle', 'plate', 'tea', 'cake'].map((id) => [id, item(id)]));
  items.set('kettle', item('kettle', false));

  it('sums similarity × weight over recent items, best first, without bought or unavailable items', () => {
    const r = recommend({
      recent: new Map([
        ['tea', 3],
        ['cake', 1],
      ]),
      similar,
      bought: new Set(['tea', 'cup']),
      items,
      limit: 10,
    });
    // pot = 3·0.5 + 1·0.3 = 1.8; plate = 0.8; cup bought; kettle unavailable; gone not in the catalogue
    expect(r.map((x) => [x.id, Number(x.score.toFixed(6))])).toEqual([
      ['pot', 1.8],
      ['plate', 0.8],
    ]);
    expect(r[0]!.name).toBe('POT');
  });

  it('honours the limit and answers nothing for a customer with no history', () => {
    const recent = new Map([['tea', 1]]);
    expect(recommend({ recent, similar, bought: new Set(), items, limit: 1 }).map((x) => x.id)).toEqual([
      'cup',
    ]);
    expect(recommend({ recent: new Map(), similar, bought: new Set(), items, limit: 5 })).toEqual([]);
  });

  it('shows templates snake_case fields and the score', () => {
    expect(liquidItem({ ...item('cup'), imageUrl: 'https://x/i.png', score: 0.5 })).toMatchObject({
      id: 'cup',
      image_url: 'https://x/i.png',
      score: 0.5,
    });
  });
});
