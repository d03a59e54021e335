/**
 * Parses the regular-expression subset `SafeRegex` accepts into a small tree the linear-time matcher
 * (`regex-vm.ts`) compiles. The source has already been accepted by `new RegExp(source, 'u')`, so the
 * syntax is valid in Unicode mode; this parser only has to find the structure (atoms, groups,
 * alternation, quantifiers, assertions) and refuse the constructs `SafeRegex` forbids.
 *
 * Character classes, escapes and `.` are kept as source text and matched one code point at a time by a
 * native RegExp (`regex-vm.ts`), so their many spellings (`\p{L}`, `\u{1F600}`, `[^\d\s]`) need no
 * parser here beyond finding where they end.
 */

export type AssertKind = 'start' | 'end' | 'word' | 'nonword';

export type ReNode =
  /** one code point: `literal` for a plain character, otherwise `src` is matched natively. */
  | { readonly t: 'char'; readonly src: string; readonly literal: number | null }
  | { readonly t: 'cat'; readonly items: readonly ReNode[] }
  | { readonly t: 'alt'; readonly alts: readonly ReNode[] }
  | { readonly t: 'rep'; readonly body: ReNode; readonly min: number; readonly max: number }
  | { readonly t: 'assert'; readonly kind: AssertKind };

/** Thrown inside the parser only; `parseRegex` turns it into the returned error text. */
class Rejected extends Error {}

export const REJECT_BACKREFERENCE =
  'backreferences such as \\1 or \\k<name> are not allowed (they can take exponential time)';
export const REJECT_LOOKAROUND = 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not allowed';
export const REJECT_NESTED =
  'nested quantifiers such as (a+)+ are not allowed: a repeated group may not contain *, +, ? or {m,n} (they can take exponential time)';

/** The tree for `src`, or why it is refused. */
export function parseRegex(src: string): ReNode | string {
  const p = new Parser(src);
  try {
    const node = p.alternation();
    if (p.i < src.length) throw new Rejected(`unexpected "${src[p.i]}" at position ${p.i}`);
    checkNesting(node, false);
    return node;
  } catch (e) {
    if (e instanceof Rejected) return e.message;
    throw e;
  }
}

/**
 * Star height one: a group repeated more than once may not contain a variable quantifier. `(a+)+`,
 * `(a?)*` and `(a{1,3}){2}` are refused; `(ab)+`, `(a{3})+` and `(a+)?` are not (a fixed count or an
 * at-most-once outer quantifier cannot multiply the ways to match).
 */
function checkNesting(node: ReNode, insideRepeat: boolean): void {
  switch (node.t) {
    case 'rep':
      if (insideRepeat && node.min !== node.max) throw new Rejected(REJECT_NESTED);
      checkNesting(node.body, insideRepeat || node.max > 1);
      return;
    case 'cat':
      for (const n of node.items) checkNesting(n, insideRepeat);
      return;
    case 'alt':
      for (const n of node.alts) checkNesting(n, insideRepeat);
      return;
    case 'char':
    case 'assert':
      return;
  }
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  alternation(): ReNode {
    const alts = [this.sequence()];
    while (this.s[this.i] === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private sequence(): ReNode {
    const items: ReNode[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      items.push(this.quantified(this.atom()));
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private quantified(atom: ReNode): ReNode {
    const c = this.s[this.i];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
      if (!m) throw new Rejected(`malformed quantifier at position ${this.i}`);
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (this.s[this.i] === '?') this.i++; // lazy: irrelevant to whether a match exists
    return { t: 'rep', body: atom, min, max };
  }

  private atom(): ReNode {
    const s = this.s;
    const start = this.i;
    const c = s[start]!;
    switch (c) {
      case '(':
        return this.group();
      case '^':
        this.i++;
        return { t: 'assert', kind: 'start' };
      case '$':
        this.i++;
        return { t: 'assert', kind: 'end' };
      case '.':
        this.i++;
        return { t: 'char', src: '.', literal: null };
      case '[':
        return this.charClass();
      case '\\':
        return this.escape();
      default: {
        const cp = s.codePointAt(start)!;
        this.i += cp > 0xffff ? 2 : 1;
        return { t: 'char', src: s.slice(start, this.i), literal: cp };
      }
    }
  }

  private group(): ReNode {
    const s = this.s;
    this.i++;
    if (s[this.i] === '?') {
      const head = s.slice(this.i, this.i + 3);
      if (head.startsWith('?=') || head.startsWith('?!') || head === '?<=' || head === '?<!') {
        throw new Rejected(REJECT_LOOKAROUND);
      }
      if (head.startsWith('?:')) this.i += 2;
      else if (head.startsWith('?<')) this.i = s.indexOf('>', this.i) + 1;
      else throw new Rejected(`unsupported group syntax "(${head}" at position ${this.i - 1}`);
    }
    const body = this.alternation();
    if (s[this.i] !== ')') throw new Rejected('unterminated group');
    this.i++;
    return body;
  }

  /** `[...]` in Unicode mode: no nesting; `\` escapes the next character; `]` always closes. */
  private charClass(): ReNode {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    while (j < s.length && s[j] !== ']') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) throw new Rejected('unterminated character class');
    this.i = j + 1;
    return { t: 'char', src: s.slice(start, this.i), literal: null };
  }

  private escape(): ReNode {
    const s = this.s;
    const start = this.i;
    const c = s[start + 1] ?? '';
    if ((c >= '1' && c <= '9') || c === 'k') throw new Rejected(REJECT_BACKREFERENCE);
    if (c === 'b' || c === 'B') {
      this.i += 2;
      return { t: 'assert', kind: c === 'b' ? 'word' : 'nonword' };
    }
    let end = start + 2;
    if (c === 'p' || c === 'P' || (c === 'u' && s[start + 2] === '{')) end = s.indexOf('}', start) + 1;
    else if (c === 'x') end = start + 4;
    else if (c === 'c') end = start + 3;
    else if (c === 'u') {
      end = start + 6;
      // In Unicode mode an escaped surrogate pair (\uD83D\uDE00) is one code point.
      const hi = parseInt(s.slice(start + 2, end), 16);
      const lo = /^\\u([0-9a-fA-F]{4})/.exec(s.slice(end));
      if (
        hi >= 0xd800 &&
        hi <= 0xdbff &&
        lo &&
        parseInt(lo[1]!, 16) >= 0xdc00 &&
        parseInt(lo[1]!, 16) <= 0xdfff
      ) {
        end += 6;
      }
    }
    if (end <= start + 1) throw new Rejected(`malformed escape at position ${start}`);
    this.i = end;
    return { t: 'char', src: s.slice(start, end), literal: null };
  }
}
