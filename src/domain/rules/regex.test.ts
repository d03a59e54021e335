import { describe, expect, it } from 'vitest';
import { SafeRegex } from './regex.js';
import { seededRandom } from './testing.js';

function ok(source: string, flags = ''): SafeRegex {
  const r = SafeRegex.compile(source, flags);
  if (typeof r === 'string') throw new Error(`expected ${source} to compile: ${r}`);
  return r;
}

describe('SafeRegex.compile refuses', () => {
  it.each([
    ['(a+)+', /nested quantifiers/],
    ['(a*)*', /nested quantifiers/],
    ['(a?)*b', /nested quantifiers/],
    ['(\\w+\\s?)+$', /nested quantifiers/],
    ['((ab)+c)*', /nested quantifiers/],
    ['(?:x{1,3}){2}', /nested quantifiers/],
    ['(a)\\1', /backreferences/],
    ['(?<n>a)\\k<n>', /backreferences/],
    ['a(?=b)', /lookahead and lookbehind/],
    ['a(?!b)', /lookahead and lookbehind/],
    ['(?<=a)b', /lookahead and lookbehind/],
    ['(?<!a)b', /lookahead and lookbehind/],
    ['(', /not a valid regular expression \(Unterminated group\)/],
    ['a{2,1}', /not a valid regular expression/],
    ['\\-', /not a valid regular expression/], // identity escapes are errors in Unicode mode
    ['a{401}', /too large/],
    ['(?:ab){150}c{150}', /too large/],
    ['(?:a{100}){5}', /too large/],
    ['a'.repeat(201), /longer than 200 characters/],
  ])('%s', (source, reason) => {
    const r = SafeRegex.compile(source);
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
  });

  it('flags other than "i"', () => {
    expect(SafeRegex.compile('a', 'g')).toBe('flags may only be "i" (case-insensitive)');
    expect(SafeRegex.compile('a', 'ii')).toMatch(/flags/);
  });
});

describe('SafeRegex accepts and matches', () => {
  it('everyday patterns', () => {
    const email = ok('^[a-z]+@example\\.com$');
    expect(email.test('alice@example.com')).toBe(true);
    expect(email.test('alice@example.org')).toBe(false);
    expect(email.test('Alice@example.com')).toBe(false);
    expect(ok('^[a-z]+@example\\.com$', 'i').test('Alice@EXAMPLE.com')).toBe(true);

    const alt = ok('(foo|bar)baz');
    expect(alt.test('xxbarbaz')).toBe(true);
    expect(alt.test('foobar')).toBe(false);

    const phone = ok('\\d{3}-\\d{4}');
    expect(phone.test('call 555-1234 now')).toBe(true);
    expect(phone.test('55-1234')).toBe(false);
    expect(ok('^\\d{3}-\\d{4}$').test('555-12345')).toBe(false);
  });

  it('fixed counts inside repeats, optional groups holding quantifiers, lazy quantifiers', () => {
    expect(ok('^(\\d{3}-)+$').test('123-456-')).toBe(true);
    expect(ok('^(a+)?b$').test('aaab')).toBe(true);
    expect(ok('^a+?b$').test('aab')).toBe(true);
    expect(ok('^(?:a|b){2,3}$').test('abab')).toBe(false);
  });

  it('word boundaries, anchors and the empty pattern', () => {
    expect(ok('\\bcat\\b').test('a cat sat')).toBe(true);
    expect(ok('\\bcat\\b').test('concatenate')).toBe(false);
    expect(ok('\\Bcat').test('concatenate')).toBe(true);
    expect(ok('').test('anything')).toBe(true);
    expect(ok('^$').test('')).toBe(true);
    expect(ok('^$').test('x')).toBe(false);
  });

  it('Unicode: astral characters are one character, property escapes, escaped surrogate pairs', () => {
    expect(ok('^.$').test('😀')).toBe(true);
    expect(ok('^\\p{Script=Hiragana}+$').test('きずな')).toBe(true);
    expect(ok('^\\uD83D\\uDE00$').test('😀')).toBe(true);
    expect(ok('^\\u{1F600}$').test('😀')).toBe(true);
    expect(ok('絆').test('顧客との絆')).toBe(true);
    expect(ok('^[^a-z]$').test('😀')).toBe(true);
  });

  it('looks only at the first 2,000 characters', () => {
    expect(ok('x').test(`${'a'.repeat(1999)}x`)).toBe(true);
    expect(ok('x').test(`${'a'.repeat(2000)}x`)).toBe(false);
  });

  it('runs in linear time on inputs that stall the native engine', () => {
    const started = performance.now();
    expect(ok('\\d+\\d+x').test('1'.repeat(5000))).toBe(false);
    expect(ok('.*a.*b').test('a'.repeat(5000))).toBe(false);
    expect(ok('^(a|a)+$').test(`${'a'.repeat(1990)}b`)).toBe(false);
    expect(ok('(x+x+)y').test('x'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('toString and toJSON show the pattern as a literal', () => {
    expect(String(ok('a.b', 'i'))).toBe('/a.b/i');
    expect(JSON.stringify({ regex: ok('^a$') })).toBe('{"regex":"/^a$/"}');
  });
});

/** Random patterns from a small grammar; compared with native RegExp on short inputs (where it is fast). */
function randomPattern(rand: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const atoms = ['a', 'b', 'c', '.', '\\d', '\\w', '[ab]', '[^a]', '\\s', 'é', '😀', '\\.', '\\b'];
  const quant = ['', '', '', '*', '+', '?', '{2}', '{1,2}', '{0,}', '*?'];
  const parts: string[] = [];
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    let atom: string;
    if (depth > 0 && rand() < 0.3) {
      const alts = [randomPattern(rand, depth - 1), randomPattern(rand, depth - 1)].slice(
        0,
        rand() < 0.5 ? 1 : 2,
      );
      atom = `(${rand() < 0.5 ? '?:' : ''}${alts.join('|')})`;
    } else atom = pick(atoms);
    parts.push(atom === '\\b' ? atom : atom + pick(quant));
  }
  const body = parts.join('');
  return `${rand() < 0.2 ? '^' : ''}${body}${rand() < 0.2 ? '$' : ''}`;
}

describe('SafeRegex agrees with native RegExp', () => {
  it('on 3,000 random accepted patterns and short inputs', () => {
    const rand = seededRandom(7);
    const alphabet = ['a', 'b', 'c', 'A', '1', ' ', '.', 'é', 'É', '😀', '\n'];
    let compared = 0;
    for (let k = 0; k < 3000; k++) {
      const source = randomPattern(rand, 2);
      const flags = rand() < 0.3 ? 'i' : '';
      const safe = SafeRegex.compile(source, flags);
      if (typeof safe === 'string') {
        expect(safe).toMatch(/nested quantifiers|too large|longer than 200/);
        continue;
      }
      const native = new RegExp(source, `u${flags}`);
      for (let t = 0; t < 8; t++) {
        const len = Math.floor(rand() * 8);
        let s = '';
        for (let c = 0; c < len; c++) s += alphabet[Math.floor(rand() * alphabet.length)]!;
        expect(safe.test(s), `${source} /${flags} on ${JSON.stringify(s)}`).toBe(native.test(s));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });
});
