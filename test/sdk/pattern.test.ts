import { describe, expect, it } from 'vitest';
import { glob, matchesUrl } from '../../sdk/src/pattern.js';

describe('in-app urlPattern', () => {
  const loc = (href: string) => {
    const u = new URL(href);
    return { href: u.href, pathname: u.pathname, search: u.search };
  };
  it('matches path and query, with * for any run of characters', () => {
    expect(matchesUrl('/products/*', loc('https://shop.example/products/tea?x=1'))).toBe(true);
    expect(matchesUrl('/products/*', loc('https://shop.example/cart'))).toBe(false);
    expect(matchesUrl('/cart', loc('https://shop.example/cart'))).toBe(true);
    expect(matchesUrl('/cart', loc('https://shop.example/cart?step=2'))).toBe(false);
    expect(matchesUrl('*step=2', loc('https://shop.example/cart?step=2'))).toBe(true);
    expect(matchesUrl('*', loc('https://shop.example/'))).toBe(true);
  });
  it('matches the whole href when the pattern starts with http', () => {
    expect(matchesUrl('https://shop.example/*', loc('https://shop.example/a'))).toBe(true);
    expect(matchesUrl('https://other.example/*', loc('https://shop.example/a'))).toBe(false);
  });
  it('treats regular-expression characters literally and stays fast on many stars', () => {
    expect(glob('/a.b', '/axb')).toBe(false);
    expect(glob('/(x)+', '/(x)+')).toBe(true);
    const started = Date.now();
    expect(glob('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
